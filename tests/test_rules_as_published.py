"""Issue 16, contract rules exactly as published: hand-computed tests at the edges of each rule.

Each test cites the paragraph it implements; the arithmetic is in the comments. Research
notes with the quotes: ``notes/issue16-rules.md``. Tests of the same issue elsewhere: the
risk cap (``test_mssp_rules.py``, ``test_population_data.py``), own-data truncation
(``test_population_data.py``), LEAD/REACH and capitation (``test_contract_library.py``),
CJR PY6-8 (``test_episodes.py``), ``simsuite settle`` PY2021-2023 (``test_settle_puf.py``).

Money is dollars; positive = paid to the ACO.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from simsuite.cli.app import main
from simsuite.contracts import build_contract
from simsuite.contracts import mssp_rules as rules
from simsuite.contracts.base import PanelYear, RuleFacts
from simsuite.contracts.shared_savings import guarantee, settle_shared_savings
from simsuite.engines.exact import run_exact
from simsuite.engines.montecarlo import options_for, run, simulate
from simsuite.engines.settlement_inputs import SettlementInputs
from simsuite.errors import InputError
from simsuite.model.factors import alternative_draws, quality_scores
from simsuite.scenario.load import scenario_from_dict

B = 60_000_000.0  # benchmark of the hand-computed cases (5,000 beneficiaries x $12,000)
PY2026_STANDARD = 0.7385  # CMS PY2026 memo via R1: (77.73 + 74.54 + 69.27) / 3


def facts(year: int = 2026, **kw) -> RuleFacts:
    base = dict(performance_year=year, agreement_start=year, n_beneficiaries=5000, quality_score=0.85)
    return RuleFacts(**{**base, **kw})


def settle(preset: str, expenditure: float, q: float | list[float], year: int = 2026, draws=None,
           p_alternative: float | None = 0.5, **overrides) -> np.ndarray:
    """Settle through the family's `settle` (the engine's path), the standard decided from the score."""
    contract = build_contract(preset, overrides, year)
    q = np.atleast_1d(np.asarray(q, dtype=float))
    year_facts = facts(year, alternative_standard_probability=p_alternative, participant_revenue_to_benchmark=1.0)
    panel = PanelYear(5000, np.full(q.shape, B), np.full(q.shape, expenditure), q, quality_standard=None,
                      participant_revenue=B, low_revenue=False, facts=year_facts, assigned_expenditure=B,
                      alternative_draw=None if draws is None else np.asarray(draws, dtype=float))
    return np.asarray(contract.settle(panel).net)


def write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def scenario(n: int = 5000, year: int = 2026, contracts=("mssp-basic-e",), **assumptions) -> dict:
    return {"name": "t", "performance_year": year, "population": {"beneficiaries": n},
            "assumptions": {"participant_revenue_to_benchmark": 0.3, **assumptions},
            "contracts": [{"preset": c} for c in contracts], "run": {"simulations": 2000, "seed": 3}}


def refusal(capsys, tmp_path: Path, data: dict) -> str:
    """The one line `simsuite validate` prints for ``data`` (exit status 2)."""
    path = write(tmp_path, data)
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


# ---- item 2: the quality standard follows the drawn score (42 CFR 425.512, 425.605, 425.610) ----


def test_quality_standard_is_met_at_or_above_the_threshold():
    # 425.512(a)(5)(i): a score "equivalent to or higher than" the 40th percentile meets it.
    got = rules.quality_standard_met([0.7384, 0.7385, 0.7386], PY2026_STANDARD, [True, False, False])
    assert got.tolist() == ["alternative", "met", "met"]
    assert rules.quality_standard_met([0.7384], PY2026_STANDARD, False).tolist() == ["not_met"]


def test_alternative_standard_draws():
    # Met where the simulation's uniform is below the probability; without draws, the likelier outcome.
    assert rules.alternative_standard_met(np.array([0.2, 0.7, 0.5]), 0.5, (3,)).tolist() == [True, False, False]
    assert rules.alternative_standard_met(None, 0.5, (2,)).tolist() == [True, True]
    assert rules.alternative_standard_met(None, 0.49, (2,)).tolist() == [False, False]
    assert rules.alternative_standard_met(np.array([0.0]), None, (1,)).tolist() == [False]


def test_basic_e_sharing_rate_just_below_at_and_above_the_py2026_standard():
    # 425.605(d)(1)(v)(A)(4): 50% if the QPS is met; 50% x QS if only the alternative is met; else 0.
    # B = $60M, MSR 2%, savings 5% = $3M, sequestration 2%, cap 10% x B not binding.
    # QS 0.7384 (draw 0.2 < 0.5: alternative met): 3,000,000 x 0.5 x 0.7384 x 0.98 = 1,085,448
    # QS 0.7384 (draw 0.7: neither): 0
    # QS 0.7385 (met, whatever the draw): 3,000,000 x 0.5 x 0.98 = 1,470,000
    net = settle("mssp-basic-e", 0.95 * B, [0.7384, 0.7384, 0.7385, 0.7385], draws=[0.2, 0.7, 0.2, 0.7])
    np.testing.assert_allclose(net, [1_085_448.0, 0.0, 1_470_000.0, 1_470_000.0], rtol=1e-12)


@pytest.mark.parametrize("q, draw, owed", [
    # 425.610(f)(4): loss rate 1 - 0.75 x QS within [40%, 75%] if either standard is met, else 75%.
    # Loss 5% of B = $3M, MLR 0, cap 15% x B not binding.
    (0.80, 0.9, 1_200_000.0),     # met: 1 - 0.6 = 0.40 (the floor)
    (0.7385, 0.9, 1_338_375.0),   # met at the threshold: 1 - 0.553875 = 0.446125
    (0.50, 0.2, 1_875_000.0),     # alternative: 1 - 0.375 = 0.625
    (0.30, 0.2, 2_250_000.0),     # alternative: 1 - 0.225 = 0.775 -> ceiling 0.75
    (0.7384, 0.9, 2_250_000.0),   # neither: 75%
])
def test_enhanced_loss_rate_follows_the_standard_met(q, draw, owed):
    assert settle("mssp-enhanced", 1.05 * B, q, draws=[draw])[0] == pytest.approx(-owed, rel=1e-12)


def test_py2022_has_no_alternative_standard_below_its_threshold():
    # PY2022 (425.512(a)(4)(i), threshold 70.63): a gate; below it nothing, whatever the draw.
    net = settle("mssp-basic-e-py2021-2022", 0.95 * B, [0.7062, 0.7063], year=2022, draws=[0.0, 0.0])
    np.testing.assert_allclose(net, [0.0, 0.5 * 3e6 * 0.98], rtol=1e-12)


def test_engine_decides_each_simulations_standard_from_its_own_score():
    """Monte Carlo: every simulation settles as the rule says for its drawn score and draw."""
    data = scenario(contracts=("mssp-basic-e", "mssp-enhanced"), quality_score=0.76, quality_score_sd=0.06,
                    alternative_standard_probability=0.6, true_savings=0.02, low_revenue=False)
    sc = scenario_from_dict(data)
    opts = options_for(sc, sims=3000, seed=11)
    arrays = simulate(sc, opts)
    q = quality_scores(0.76, 0.06, 3000, 11)
    alt = alternative_draws(3000, 11) < 0.6
    standard = np.where(q >= PY2026_STANDARD, "met", np.where(alt, "alternative", "not_met"))
    # all three outcomes occur in this run
    assert {"met", "alternative", "not_met"} <= set(standard.tolist())
    inputs = SettlementInputs.of(sc)
    for i, contract in enumerate(sc.contracts):
        b = arrays.benchmark[i]
        expected = settle_shared_savings(contract.terms, b, arrays.expenditure[i], 5000, q, standard,
                                         participant_revenue=0.3 * inputs.benchmark(contract)).net
        np.testing.assert_allclose(arrays.net[i], expected, rtol=1e-12, atol=1e-6)


def test_explicit_quality_standard_overrides_the_score():
    data = scenario(quality_score=0.5, quality_standard="met", low_revenue=False)
    sc = scenario_from_dict(data)
    year = SettlementInputs.of(sc).expected_year(sc.contracts[0])
    assert year.quality_standard == "met"


def test_quality_refusals(capsys, tmp_path):
    # The score can fall below the standard: the alternative standard's probability is needed.
    err = refusal(capsys, tmp_path, scenario(quality_score=0.85, quality_score_sd=0.05))
    assert "assumptions.alternative_standard_probability: the quality score can fall below the PY2026 quality " \
           "performance standard (73.85)" in err
    # A fixed score below it too; at or above it, nothing is needed.
    assert "alternative_standard_probability" in refusal(capsys, tmp_path, scenario(quality_score=0.7384))
    assert main_ok(capsys, tmp_path, scenario(quality_score=0.7385))
    # PY2022 had no alternative standard (425.512(a)(4)(i)).
    err = refusal(capsys, tmp_path, scenario(year=2022, contracts=("mssp-basic-e-py2021-2022",),
                                             quality_standard="alternative"))
    assert "assumptions.quality_standard: no alternative quality performance standard exists in PY2022" in err
    err = refusal(capsys, tmp_path, scenario(year=2022, contracts=("mssp-basic-e-py2021-2022",),
                                             alternative_standard_probability=0.5))
    assert "assumptions.alternative_standard_probability: no alternative" in err
    # Threshold and standard together are contradictory.
    assert "give one of the two" in refusal(capsys, tmp_path, scenario(quality_standard="met",
                                                                       quality_threshold=0.7))


def main_ok(capsys, tmp_path: Path, data: dict) -> bool:
    with pytest.raises(SystemExit) as info:
        main(["validate", str(write(tmp_path, data, "ok.yaml"))])
    out, err = capsys.readouterr()
    return info.value.code == 0 and "OK" in out and err == ""


def test_exact_method_refuses_a_random_alternative_standard():
    sc = scenario_from_dict(scenario(quality_score=0.7, alternative_standard_probability=0.5))
    with pytest.raises(InputError, match="alternative_standard_probability: a random alternative quality standard"):
        run_exact(sc)


# ---- item 3: BASIC C-E loss limits need participant revenue (425.605(d)(1)(iii)-(v)(D)) ----------


@pytest.mark.parametrize("preset, revenue, loss, owed", [
    # B = $60M, MLR 2%, loss rate 30%; limit = min(rev% x revenue, ben% x B).
    ("mssp-basic-e", 12e6, 0.05, 900_000.0),     # 30% x 3.0M = 900k < min(8% x 12M = 960k, 4% x B = 2.4M)
    ("mssp-basic-e", 12e6, 0.055, 960_000.0),    # 30% x 3.3M = 990k > 960k: the revenue limit binds
    ("mssp-basic-e", 29e6, 0.14, 2_320_000.0),   # 30% x 8.4M = 2.52M; min(2.32M, 2.4M): revenue
    ("mssp-basic-e", 30e6, 0.14, 2_400_000.0),   # the two limits tie at 2.4M
    ("mssp-basic-e", 31e6, 0.14, 2_400_000.0),   # min(2.48M, 2.4M): benchmark
    ("mssp-basic-c", 25e6, 0.03, 500_000.0),     # 540k > min(2% x 25M = 500k, 1% x B = 600k)
    ("mssp-basic-d", 25e6, 0.03, 540_000.0),     # 540k < min(4% x 25M = 1M, 2% x B = 1.2M): not limited
])
def test_basic_loss_limit_is_the_lesser_of_revenue_and_benchmark_limits(preset, revenue, loss, owed):
    terms = build_contract(preset, None, 2026).terms
    out = settle_shared_savings(terms, B, B * (1 + loss), 5000, 0.9, "met", participant_revenue=revenue)
    assert float(out.net) == pytest.approx(-owed, rel=1e-12)


def test_two_sided_basic_without_revenue_is_refused(capsys, tmp_path):
    data = scenario()
    del data["assumptions"]["participant_revenue_to_benchmark"]
    err = refusal(capsys, tmp_path, data)
    assert err.endswith("assumptions.participant_revenue_to_benchmark: required by two-sided BASIC contracts: "
                        "their loss limit is the lesser of a share of participant revenue and of the benchmark "
                        "(42 CFR 425.605(d)(1)(iii)-(v)(D)); give participants' Parts A+B FFS revenue as a fraction "
                        "of the benchmark (e.g. 0.25) (contracts[0] 'mssp-basic-e')")
    # One-sided BASIC and ENHANCED run without it; the run header says what is assumed.
    data["contracts"] = [{"preset": "mssp-basic-a"}, {"preset": "mssp-enhanced"}]
    ds = run(scenario_from_dict(data), options_for(scenario_from_dict(data), sims=200))
    assert "MSSP low-revenue status unknown (no participant revenue given): treated as high revenue" in ds.attrs["rules"]
    assert "MSSP repayment mechanism at most" in ds.attrs["rules"]


def test_low_revenue_is_derived_by_the_35_percent_test():
    # 425.20: low revenue iff participant revenue < 35% of the assigned beneficiaries' expenditure
    # (the expected untruncated panel cost). The revenue ratio to the benchmark at the edge is
    # r* = 0.35 x E / B; just below it the ACO is low revenue and the half rate applies below the MSR.
    sc = scenario_from_dict(scenario(contracts=("mssp-basic-a",)))
    inputs = SettlementInputs.of(sc)
    b, e = inputs.benchmark(sc.contracts[0]), inputs.assigned_expenditure
    edge = 0.35 * e / b
    for ratio, low in ((edge * (1 - 1e-9), True), (edge * (1 + 1e-9), False)):
        sc = scenario_from_dict(scenario(contracts=("mssp-basic-a",), participant_revenue_to_benchmark=ratio))
        inputs = SettlementInputs.of(sc)
        year = inputs.expected_year(sc.contracts[0])
        # 1% savings, below the 3.9% MSR at 5,000: the half rate pays 0.2 x 0.98 x 1% of B only if low revenue.
        year = PanelYear(**{**year.__dict__, "expenditure": 0.99 * year.benchmark})
        net = float(sc.contracts[0].settle(year).net[0])
        assert net == pytest.approx(0.98 * 0.2 * 0.01 * float(year.benchmark[0]) if low else 0.0, rel=1e-12)
        kind = "low" if low else "high"
        assert any(line.startswith(f"MSSP {kind}-revenue ACO: participant revenue 35.0%") for line in inputs.rule_notes())


def test_half_rate_needs_an_agreement_from_2024():
    # 425.605(h)(1)(iv): agreement periods starting in 2024 or later; a 2023 agreement in PY2026 gets nothing.
    for start, paid in ((2024, True), (2023, False)):
        sc = scenario_from_dict(scenario(contracts=("mssp-basic-a",), participant_revenue_to_benchmark=0.1,
                                         agreement_start=start))
        year = SettlementInputs.of(sc).expected_year(sc.contracts[0])
        year = PanelYear(**{**year.__dict__, "expenditure": 0.99 * year.benchmark})
        assert (float(sc.contracts[0].settle(year).net[0]) > 0) == paid


# ---- item 4: MSSP in PY2027 (current law; the CY2026 final rule) ------------------------------


def test_py2027_current_law_and_the_proposed_basic_e():
    # 425.605(d)(1)(v)(A)(4) and 425.610(d)(4) have no end year. B = $60M, 3% savings = $1.8M, QPS met:
    # BASIC E 0.50 x 1.8M x 0.98 = 882,000; proposed 60%: 1,058,400 (+176,400); ENHANCED 0.75: 1,323,000.
    def paid(preset: str, **overrides) -> float:
        terms = build_contract(preset, overrides, 2027).terms
        return float(settle_shared_savings(terms, B, 0.97 * B, 5000, 0.9, "met", participant_revenue=B).net)

    assert paid("mssp-basic-e") == pytest.approx(882_000.0)
    assert paid("mssp-basic-e-2027-proposed") == pytest.approx(1_058_400.0)
    assert paid("mssp-enhanced") == pytest.approx(1_323_000.0)
    assert build_contract("mssp-basic-e-2027-proposed", None, 2027).status == "proposed"


def test_py2027_refuses_what_is_not_published(capsys, tmp_path):
    # The PY2027 quality performance standard is not published: refused unless given.
    err = refusal(capsys, tmp_path, scenario(year=2027))
    assert "assumptions.quality_threshold: the MSSP quality performance standard of PY2027 is not published" in err
    # Given, the scenario runs; an explicit standard does too.
    assert main_ok(capsys, tmp_path, scenario(year=2027, quality_threshold=0.74))
    assert main_ok(capsys, tmp_path, scenario(year=2027, quality_standard="met"))
    # CY2026 final rule: from 2027 agreements an ACO below 5,000 must be in BASIC with lower limits
    # whose values are not published: 4,999 refused, 5,000 runs; a 2026 agreement keeps today's rules.
    err = refusal(capsys, tmp_path, scenario(n=4999, year=2027, quality_threshold=0.74))
    assert "population.beneficiaries: an ACO below 5,000 assigned beneficiaries in an agreement starting in 2027 " \
           "must be in BASIC with lower savings and loss limits (CY2026 PFS final rule); their values are not " \
           "published in any source simsuite holds" in err
    assert main_ok(capsys, tmp_path, scenario(n=5000, year=2027, quality_threshold=0.74))
    assert main_ok(capsys, tmp_path, scenario(n=4999, year=2027, quality_threshold=0.74, agreement_start=2026))


def test_proposed_contract_is_labelled_in_the_run_header():
    data = scenario(year=2027, contracts=("mssp-basic-e", "mssp-basic-e-2027-proposed"), quality_threshold=0.74)
    ds = run(scenario_from_dict(data), options_for(scenario_from_dict(data), sims=200))
    assert "mssp-basic-e-2027-proposed: PROPOSED rules, not law" in ds.attrs["rules"]
    assert "MSSP PY2027 quality standard met at a score of 74.00 or more [assumptions.quality_threshold]" in \
        ds.attrs["rules"]


# ---- item 10: the repayment mechanism (425.204(f)(4)) ----------------------------------------


@pytest.mark.parametrize("spent, revenue, amount", [
    (60e6, 25e6, 250_000.0),      # A: min(0.5% x 60M = 300k, 1% x 25M = 250k)
    (240e6, 150e6, 1_200_000.0),  # B: min(0.5% x 240M = 1.2M, 1% x 150M = 1.5M)
    (60e6, 30e6, 300_000.0),      # the limbs tie at 300k
])
def test_repayment_mechanism_of_two_sided_contracts(spent, revenue, amount):
    year = PanelYear(5000, np.array([B]), np.array([B]), np.array([0.9]), participant_revenue=revenue,
                     assigned_expenditure=spent)
    assert guarantee(build_contract("mssp-basic-e", None, 2026).terms, year) == pytest.approx(amount)
    assert guarantee(build_contract("mssp-enhanced", None, 2026).terms, year) == pytest.approx(amount)
    assert guarantee(build_contract("mssp-basic-a", None, 2026).terms, year) is None  # one-sided: none


def test_repayment_mechanism_in_the_dataset_and_the_table(capsys, tmp_path):
    data = scenario(n=5000, contracts=("ffs", "mssp-basic-a", "mssp-basic-e", "mssp-enhanced"),
                    true_savings=-0.01, participant_revenue_to_benchmark=0.25)
    data["run"] = {"simulations": 3000, "seed": 9}
    sc = scenario_from_dict(data)
    ds = run(sc)
    inputs = SettlementInputs.of(sc)
    for name, contract in zip(ds["contract"].values, sc.contracts):
        g = float(ds["guarantee"].sel(contract=name))
        if not contract.terms.model_dump().get("two_sided"):
            assert np.isnan(g) and np.isnan(float(ds["p_owed_exceeds_guarantee"].sel(contract=name)))
            continue
        # lesser of 0.5% of the expected panel cost and 1% of (0.25 x benchmark)
        assert g == pytest.approx(min(0.005 * inputs.assigned_expenditure, 0.01 * 0.25 * inputs.benchmark(contract)))
        net = ds["net"].sel(contract=name).values  # no effort cost: the settlement itself
        p = float(ds["p_owed_exceeds_guarantee"].sel(contract=name))
        assert p == np.mean(-net > g) and 0.0 < p < 1.0
        assert float(ds["p_owed_exceeds_guarantee_se"].sel(contract=name)) == pytest.approx(
            np.sqrt(p * (1 - p) / 3000))
    path = write(tmp_path, data)
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "--out", str(tmp_path / "out")])
    out, _ = capsys.readouterr()
    assert info.value.code == 0
    assert "repayment mechanism" in out and "P(owed > RM)" in out


# ---- item 11: Primary Care First labelled an approximation -------------------------------------


def test_pcf_adjustment_is_labelled_an_approximation():
    data = scenario(contracts=())
    data["contracts"] = [{"preset": "pcf-general", "overrides": {"visits_per_beneficiary": 3.0,
                                                                  "ffs_displaced_pbpm": 20.0}}]
    ds = run(scenario_from_dict(data), options_for(scenario_from_dict(data), sims=200))
    assert "Primary Care First: the performance-based adjustment is an APPROXIMATION" in ds.attrs["rules"]


def test_report_sizes_leave_out_panels_the_rules_refuse():
    # PY2027 agreement, 6,000 beneficiaries: the report's 0.2x and 0.5x panels (1,200; 3,000) are
    # below 5,000, whose limits are not published: left out rather than failing the report.
    from simsuite.report.html import default_sizes

    sc = scenario_from_dict(scenario(n=6000, year=2027, quality_threshold=0.74))
    assert default_sizes(sc) == [6000, 12000, 24000]
    sc = scenario_from_dict(scenario(n=6000, year=2027, quality_threshold=0.74, agreement_start=2026))
    assert default_sizes(sc) == [1200, 3000, 6000, 12000, 24000]
