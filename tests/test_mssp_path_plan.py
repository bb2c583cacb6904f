"""MSSP paths over agreement periods: each performance year's level and terms, by hand from
42 CFR 425.600 (glide path), 425.605(b)(2) (the MSR/MLR election) and the CY2026 PFS final rule
(one-sided years), and the paths the rules refuse."""

from __future__ import annotations

import pytest

from simsuite.contracts.base import AgreementSetup
from simsuite.contracts.programs import build_path_contract
from simsuite.errors import FieldProblem


def setup(start=2027, number=1, agreements=1, years=5, experienced=False, prior=None) -> AgreementSetup:
    return AgreementSetup(start=start, number=number, agreements=agreements, years_per_agreement=years,
                          prior_savings=prior, experienced=experienced, acpt=0.04, last_agreement_years=5)


def levels(path: dict, s: AgreementSetup) -> list[str]:
    return list(build_path_contract(path, s, "p").plan.levels)


def test_automatic_advance_from_level_a():
    # 425.600(a)(4)(i)(C)(2): one level up at the start of each performance year.
    assert levels({"track": "BASIC", "entry_level": "A"}, setup()) == [
        "BASIC A", "BASIC B", "BASIC C", "BASIC D", "BASIC E"]
    assert levels({"track": "BASIC", "entry_level": "C"}, setup()) == [
        "BASIC C", "BASIC D", "BASIC E", "BASIC E", "BASIC E"]


def test_election_to_remain_in_a_and_the_renewal_after_it():
    # (C)(3): remain in A for the whole first agreement. A 2027 start may spend at most 5
    # PYs one-sided (CY2026 PFS final rule, fact sheet [Med]): its renewal starts two-sided,
    # at C, and advances [INF].
    assert levels({"track": "BASIC", "entry_level": "A", "stay_in_a": True}, setup(agreements=2)) == (
        ["BASIC A"] * 5 + ["BASIC C", "BASIC D", "BASIC E", "BASIC E", "BASIC E"])
    # A 2024 start renewing in 2029: the renewal begins after 1 January 2027, so the CY2026
    # rule leaves it no one-sided year (only the first glide-path agreement may have them).
    assert levels({"track": "BASIC", "entry_level": "A", "stay_in_a": True}, setup(start=2024, agreements=2)) == (
        ["BASIC A"] * 5 + ["BASIC C", "BASIC D", "BASIC E", "BASIC E", "BASIC E"])
    # Renewing early in 2026 (before 2027): up to 7 one-sided PYs in all [INF], so the glide
    # continues at B.
    assert levels({"track": "BASIC", "entry_level": "A", "stay_in_a": True},
                  setup(start=2024, agreements=2, years=2)) == (
        ["BASIC A"] * 2 + ["BASIC B", "BASIC C", "BASIC D", "BASIC E", "BASIC E"])


def test_early_renewal_continues_the_glide():
    # Renewal after 3 PYs (horizon.early_renewal_after): A, B, C, then the next agreement --
    # the last simulated, so it runs its 5 years -- continues from D [INF].
    assert levels({"track": "BASIC", "entry_level": "A"}, setup(agreements=2, years=3)) == [
        "BASIC A", "BASIC B", "BASIC C", "BASIC D", "BASIC E", "BASIC E", "BASIC E", "BASIC E"]


def test_enhanced_every_year():
    assert levels({"track": "ENHANCED"}, setup(agreements=2)) == ["ENHANCED"] * 10


def test_the_msr_election_holds_for_every_two_sided_year_of_the_agreement():
    # 425.605(b)(2): chosen before entering two-sided risk, for the rest of the agreement.
    plan = build_path_contract({"track": "BASIC", "entry_level": "A", "msr": 0.01}, setup(), "p").plan
    msr = [c.terms.msr for c in plan.contracts]
    assert msr[:2] == ["variable", "variable"]  # A and B: the one-sided size table (425.605(b)(1))
    assert msr[2:] == [0.01, 0.01, 0.01]


def test_years_after_the_latest_published_terms_use_them_and_say_so():
    plan = build_path_contract({"track": "ENHANCED"}, setup(), "p").plan
    assert [c.spec.name for c in plan.contracts] == ["shared_savings"] * 5
    assert plan.notes[0] == ("PY2028-2031 settled under PY2027 terms (the latest published; current law "
                             "assumed to continue)")


def test_population_adjustment_said_or_refused():
    # CY2025 PFS final rule [Med]: from 2025 an ACO with >= 15% dual/LIS beneficiaries may get a
    # population adjustment whose formula simsuite does not hold.
    plan = build_path_contract({"track": "ENHANCED"}, setup(), "p")
    assert plan.plan.notes[-1].startswith("no population (health equity) benchmark adjustment: 0% of beneficiaries")
    from dataclasses import replace

    from simsuite.contracts.base import RuleFacts

    facts = RuleFacts(performance_year=2027, agreement_start=2027, n_beneficiaries=8000, quality_score=0.9,
                      quality_standard="met")
    eligible = build_path_contract({"track": "ENHANCED"}, replace(setup(), dual_lis_share=0.15), "p")
    with pytest.raises(FieldProblem) as info:
        eligible.check(facts)
    assert info.value.loc == ("region", "dual_lis_share") and "15% of beneficiaries dual or LIS" in info.value.problem
    build_path_contract({"track": "ENHANCED"}, replace(setup(), dual_lis_share=0.149), "p").check(facts)
    # Agreements starting 2024 have no such adjustment.
    build_path_contract({"track": "ENHANCED"}, replace(setup(start=2024), dual_lis_share=0.3), "p").check(
        replace(facts, performance_year=2024, agreement_start=2024))


@pytest.mark.parametrize(("path", "s", "field", "words"), [
    ({"track": "BASIC", "entry_level": "A"}, setup(experienced=True), "entry_level", "425.600(g)(2)"),
    ({"track": "BASIC", "entry_level": "B"}, setup(number=2, prior=(0.01, 0.01, 0.01)), "entry_level",
     "enter at C, D or E"),
    ({"track": "ENHANCED", "entry_level": "C"}, setup(), "entry_level", "ENHANCED has no levels"),
    ({"track": "BASIC", "entry_level": "E", "msr": 0.012}, setup(), "msr", "425.605(b)(2)(i)"),
    ({"track": "BASIC", "entry_level": "A", "leve": "B"}, setup(), "leve", "unknown field"),
])
def test_paths_the_rules_refuse(path, s, field, words):
    with pytest.raises(FieldProblem) as info:
        build_path_contract(path, s, "p")
    assert info.value.loc[0] == field and words in info.value.problem
