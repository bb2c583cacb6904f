"""MSSP settlement with a minimum loss rate below the MSR, and the outputs of ``settle`` nobody read before.

Hand-computed cases (42 CFR 425.605(b), (d)(1)(v), (h)) that kill mutations the suite used to
miss (``shared/reviews/test-audit.md`` M2, M10, M11, M13): the MLR forced equal to the MSR,
the ``mlr`` column of ``settle`` ignored, and its ``gross_savings`` and ``sharing_rate`` outputs
computed wrongly. BASIC E, PY2024: sharing rate 0.50, loss rate 0.30, sequestration 2 %,
loss limits 8 % of revenue and 4 % of the benchmark, half rate below the MSR for low-revenue
ACOs with at least 5,000 beneficiaries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simsuite.contracts import build_contract
from simsuite.contracts.shared_savings import settle_shared_savings
from simsuite.tools.settle import read_settle_csv, settle_rows

B = 100_000_000.0  # benchmark, dollars


def basic_e():
    return build_contract("mssp-basic-e", None, 2024).terms


def test_loss_past_an_mlr_below_the_msr_is_shared():
    # MSR 2 %, MLR 1 %; spending $101.5M: loss = 1.5 % of B >= MLR 1 %, so the whole loss is
    # shared at 30 %: 0.30 x 1,500,000 = $450,000 owed (below both limits: 4 % x B = $4M).
    out = settle_shared_savings(basic_e(), B, 101_500_000.0, 10_000, 0.9, "met", msr=0.02, mlr=0.01)
    assert float(out.net) == -450_000.0
    assert float(out.gross) == -1_500_000.0
    assert float(out.mlr) == 0.01 and float(out.msr) == 0.02


def test_loss_below_the_mlr_is_not_shared_even_when_a_larger_msr_would_also_spare_it():
    # MLR 2 % (the MSR): a 1.5 % loss is below it, nothing is owed and nothing passes.
    out = settle_shared_savings(basic_e(), B, 101_500_000.0, 10_000, 0.9, "met", msr=0.02, mlr=0.02)
    assert float(out.net) == 0.0 and float(out.gross) == 0.0


def test_savings_between_the_mlr_and_the_msr_are_not_shared():
    # The MLR does not lower the savings threshold: 1.5 % savings < MSR 2 % earns nothing.
    out = settle_shared_savings(basic_e(), B, 98_500_000.0, 10_000, 0.9, "met", msr=0.02, mlr=0.01)
    assert float(out.net) == 0.0 and float(out.gross) == 0.0


HEADER = ("aco_id,performance_year,track,beneficiaries,benchmark,expenditure,quality_score,"
          "quality_standard,msr,mlr,low_revenue\n")
ROWS = {
    "loss past mlr": "2024,BASIC E,10000,100000000,101500000,0.9,met,0.02,0.01,false",
    "loss below msr-as-mlr": "2024,BASIC E,10000,100000000,101500000,0.9,met,0.02,,false",
    "half rate": "2024,BASIC E,10000,100000000,99000000,0.9,met,0.02,,true",
    "below msr": "2024,BASIC E,10000,100000000,99000000,0.9,met,0.02,,false",
    "above msr": "2024,BASIC E,10000,100000000,97000000,0.9,met,0.02,,false",
}


@pytest.fixture(scope="module")
def settled(tmp_path_factory) -> dict[str, dict[str, float]]:
    path: Path = tmp_path_factory.mktemp("settle") / "rows.csv"
    path.write_text(HEADER + "".join(f"{k},{v}\n" for k, v in ROWS.items()))
    out = settle_rows(read_settle_csv(path))
    names = list(ROWS)
    return {name: {col: out[col][i] for col in ("net", "gross_savings", "sharing_rate", "mlr", "msr")}
            for i, name in enumerate(names)}


def test_settle_reads_the_mlr_column(settled):
    # 1.5 % loss >= MLR 1 %: 0.30 x $1.5M = $450,000 owed; the whole loss is gross.
    r = settled["loss past mlr"]
    assert r["net"] == -450_000.0 and r["gross_savings"] == -1_500_000.0 and r["mlr"] == 0.01
    # Blank mlr = the MSR (2 %): the same loss passes nothing.
    r = settled["loss below msr-as-mlr"]
    assert r["net"] == 0.0 and r["gross_savings"] == 0.0 and r["mlr"] == 0.02


def test_settle_reports_the_half_rate_as_the_sharing_rate(settled):
    # Low revenue, 10,000 >= 5,000 beneficiaries, 1 % savings below the 2 % MSR:
    # rate = 0.5 x 0.50 = 0.25; earned = 0.98 x 0.25 x $1M = $245,000; gross = the $1M saving.
    r = settled["half rate"]
    assert r["sharing_rate"] == 0.25
    assert r["gross_savings"] == 1_000_000.0
    assert r["net"] == pytest.approx(245_000.0, abs=1e-6)


def test_settle_gross_savings_is_zero_below_the_msr_and_the_saving_above_it(settled):
    # Not low revenue: 1 % < MSR 2 % earns nothing, and nothing passed the MSR (gross 0);
    # the sharing rate reported is still the quality-met rate, 0.50.
    r = settled["below msr"]
    assert r["gross_savings"] == 0.0 and r["net"] == 0.0 and r["sharing_rate"] == 0.5
    # 3 % >= 2 %: gross $3M, earned 0.98 x 0.50 x $3M = $1,470,000.
    r = settled["above msr"]
    assert r["gross_savings"] == 3_000_000.0 and r["sharing_rate"] == 0.5
    assert r["net"] == pytest.approx(1_470_000.0, abs=1e-6)


def test_reference_transcription_defaults_are_quality_met_and_not_low_revenue():
    from simsuite.contracts.shared_savings import reference_settlement

    # Defaults: standard met, not low revenue. 3 % savings >= MSR 2 %: 0.98 x 0.50 x $3M = $1,470,000.
    assert reference_settlement(basic_e(), B, 97_000_000.0, 10_000, 0.9) == pytest.approx(1_470_000.0, rel=1e-12)
    # 1 % savings below the MSR: nothing unless low revenue is said (then 0.98 x 0.25 x $1M = $245,000).
    assert reference_settlement(basic_e(), B, 99_000_000.0, 10_000, 0.9) == 0.0
    assert reference_settlement(basic_e(), B, 99_000_000.0, 10_000, 0.9, low_revenue=True) == pytest.approx(
        245_000.0, rel=1e-12)


# --- the contract-level pieces of shared_savings: settle's gain flag, panel size, caps, guarantee ----

def _panel(expenditure: list[float], **extra):
    import numpy as np

    from simsuite.contracts.base import PanelYear

    x = np.array(expenditure)
    return PanelYear(n_beneficiaries=10_000, benchmark=np.full(x.size, B), expenditure=x,
                     quality_score=np.full(x.size, 0.9), quality_standard="met", low_revenue=False,
                     raw=x, capped={}, expected={}, **extra)


def test_settle_flags_a_shared_gain_only_when_savings_are_earned():
    # BASIC E (MSR = MLR = 2 %), quality standard met: the full rate 0.50 (the sliding scale
    # applies only under the alternative standard; `quality_sharing` "sliding", PY2023 on).
    # $99M: 1 % savings < MSR, nothing earned; $97M: 3 %, 0.98 x 0.50 x $3M = $1,470,000;
    # $101.5M: a 1.5 % loss < MLR, nothing owed.
    out = build_contract("mssp-basic-e", None, 2024).settle(_panel([99e6, 97e6, 101.5e6]))
    assert out.net.tolist() == [0.0, pytest.approx(1_470_000.0, rel=1e-12), 0.0]
    assert out.gain_shared.tolist() == [False, True, False]
    # MSR elected at 0: savings of $1 earn 0.98 x 0.50 x $1 = $0.49 (a shared gain, if small);
    # spending exactly the benchmark earns nothing.
    out = build_contract("mssp-basic-e", {"msr": 0.0}, 2024).settle(_panel([B - 1.0, B]))
    assert out.net.tolist() == [pytest.approx(0.49, rel=1e-9), 0.0]
    assert out.gain_shared.tolist() == [True, False]


def test_panel_problem_only_below_the_start_of_the_msr_table():
    from simsuite.contracts.shared_savings import panel_problem

    # The MSR table of 425.604(b) starts at 500 beneficiaries.
    variable = build_contract("mssp-basic-e", {"msr": "variable"}, 2024).terms
    assert panel_problem(variable, 499) == (
        "the variable MSR needs at least 500 beneficiaries (the MSSP table starts there), not 499; elect a "
        "fixed MSR under overrides (e.g. msr: 0.02) or use a larger panel")
    assert panel_problem(variable, 500) is None
    assert panel_problem(basic_e(), 100) is None  # a fixed MSR settles any panel


def test_caps_truncate_at_the_percentile_unless_it_is_one():
    from simsuite.contracts.base import UNCAPPED, CapSpec
    from simsuite.contracts.shared_savings import caps

    assert caps(basic_e()) == (CapSpec(percentile=0.99),)
    assert caps(basic_e().model_copy(update={"truncation_percentile": 1.0})) == (UNCAPPED,)


def test_guarantee_without_revenue_is_half_a_percent_of_expenditure():
    from simsuite.contracts.shared_savings import guarantee

    # 0.5 % x $80M assigned expenditure = $400,000 (the expenditure limb; revenue unknown).
    year = _panel([B], assigned_expenditure=80_000_000.0)
    assert guarantee(basic_e(), year) == pytest.approx(400_000.0, rel=1e-12)
    # One-sided (BASIC A): no repayment mechanism.
    assert guarantee(build_contract("mssp-basic-a", None, 2024).terms, year) is None


def test_risk_ratio_follows_the_cap_of_the_agreement_year():
    import numpy as np

    from simsuite.contracts.base import RiskGrowth
    from simsuite.contracts.shared_savings import risk_ratio

    # Two equally weighted types, HCC ratios 1.10 and 1.00: aggregate growth 5 %.
    h, w = np.array([1.10, 1.00]), np.array([1.0, 1.0])
    # Agreement from 2024 with demographic ratios 1.01: cap 1 % + 3 % = 4 % < 5 % -> each type at most 1.04.
    got = risk_ratio(basic_e(), RiskGrowth(2024, h, w, demographic_ratio=np.array([1.01, 1.01])))
    np.testing.assert_allclose(got, [1.04, 1.00], rtol=1e-12)
    # Demographic ratios 1.03: cap 6 % >= 5 % -> unchanged.
    got = risk_ratio(basic_e(), RiskGrowth(2024, h, w, demographic_ratio=np.array([1.03, 1.03])))
    np.testing.assert_allclose(got, [1.10, 1.00], rtol=1e-12)
    # Agreement from 2024 without a demographic ratio: refused (`check` asks the scenario for it).
    with pytest.raises(ValueError, match="demographic ratio is needed"):
        risk_ratio(basic_e(), RiskGrowth(2024, h, w))
    # Agreement from 2023 without one: the flat 3 % cap per type, 1.10 -> 1.03.
    got = risk_ratio(basic_e(), RiskGrowth(2023, h, w))
    np.testing.assert_allclose(got, [1.03, 1.00], rtol=1e-12)


def test_a_rate_not_given_comes_from_the_terms_and_a_given_one_is_kept():
    # BASIC E's own MSR and MLR are 2 %. MSR given as 3 %, MLR not: savings of 2.5 % earn nothing
    # (below 3 %); a loss of 2.5 % passes the terms' 2 % MLR: 0.30 x $2.5M = $750,000 owed.
    out = settle_shared_savings(basic_e(), B, [97_500_000.0, 102_500_000.0], 10_000, 0.9, "met", msr=0.03)
    assert out.net.tolist() == [0.0, -750_000.0]
    # MLR given as 1 %, MSR not: a 1.5 % loss is shared (0.30 x $1.5M = $450,000); 1.5 % savings are
    # below the terms' 2 % MSR.
    out = settle_shared_savings(basic_e(), B, [101_500_000.0, 98_500_000.0], 10_000, 0.9, "met", mlr=0.01)
    assert out.net.tolist() == [-450_000.0, 0.0]


def test_half_rate_below_the_msr_from_the_first_cent_and_not_at_zero():
    # Low-revenue BASIC E ACO with 10,000 beneficiaries (>= 5,000), MSR 2 %: savings of $0.50 are below
    # the MSR, shared at half the rate: 0.98 x 0.25 x 0.50 = $0.1225, flagged as reduced, rate 0.25.
    # Spending exactly the benchmark: nothing, not reduced, the reported rate is the full 0.50.
    out = settle_shared_savings(basic_e(), B, [B - 0.5, B], 10_000, 0.9, "met", low_revenue=True)
    assert out.net.tolist() == [pytest.approx(0.1225, rel=1e-9), 0.0]
    assert out.reduced_below_msr.tolist() == [True, False]
    assert out.sharing_rate.tolist() == [0.25, 0.5]
    # Gross savings: the $0.50 (shared, at the half rate) and $0.
    assert out.gross.tolist() == [0.5, 0.0]


def test_quality_standard_met_by_default_and_a_zero_score_under_the_gate():
    from simsuite.contracts.shared_savings import final_sharing_rate

    # settle_shared_savings without a standard: met. 3 % savings: 0.98 x 0.50 x $3M = $1,470,000.
    assert float(settle_shared_savings(basic_e(), B, 97_000_000.0, 10_000, 0.9).net) == 1_470_000.0
    # PY2021-2022 ("gate"): the full rate if the standard is met, whatever the score, even 0.
    gate = basic_e().model_copy(update={"quality_sharing": "gate"})
    assert final_sharing_rate(gate, np.array([0.0, 0.4]), "met").tolist() == [0.5, 0.5]
    assert final_sharing_rate(gate, np.array([0.0, 0.4]), "not_met").tolist() == [0.0, 0.0]


def test_a_share_below_the_msr_of_zero_pays_nothing():
    # Terms whose low-revenue share below the MSR is 0 (not None): the reduced branch applies, at 0.
    t = basic_e().model_copy(update={"low_revenue_share_below_msr": 0.0})
    out = settle_shared_savings(t, B, 99_000_000.0, 10_000, 0.9, "met", low_revenue=True)
    assert float(out.net) == 0.0 and bool(out.reduced_below_msr) and float(out.sharing_rate) == 0.0
