"""LEAD's rules at their edges, computed by hand (`simsuite.contracts.lead_rules` and the
PY2027 corridor presets it settles with).

LEAD rests on secondary sources; each test names its source and confidence:
R6 = notes citing the LEAD RFA, FAQs, PY2027 finance methodology and a PY2027 workbook
(notes/issue18-21-rules.md Part C, examples C-1 to C-9); WAK-FG, WAK-Q = Wakely;
MIL-LEADB = Milliman (Apr 2026); MEDINS = MedInsight webinar recap; INNOV = Innovaccer.
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import build_contract
from simsuite.contracts.base import PanelYear
from simsuite.contracts.lead_rules import (
    baseline_weights,
    financial_guarantee,
    global_discount,
    guarded_acpt,
    linear_discount_path,
    lower_spending,
    prior_savings_adjustment,
    regional_efficiency_adjustment,
)
from simsuite.contracts.mssp_benchmark import update_factor
from simsuite.contracts.mssp_rules import symmetric_risk_ratio

ONE = np.array([1.0])


def settle(preset: str, benchmark: float, expenditure: float, quality: float = 1.0, **overrides) -> float:
    contract = build_contract(preset, overrides, 2027)
    year = PanelYear(n_beneficiaries=10_000, benchmark=np.array([benchmark]), expenditure=np.array([expenditure]),
                     quality_score=np.array([quality]))
    return float(contract.settle(year).net[0])


# --- baseline weights (R6 [Low]) ---------------------------------------------------------------

def test_baseline_weights_renewing_and_new_entrant():
    assert baseline_weights(True) == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert baseline_weights(False) == pytest.approx([0.10, 0.30, 0.60])


# --- C-1 discount by spending class (R6; BENESCH; MIL-LEADB [Med]) ----------------------------

def test_discount_by_spending_class_and_year():
    linear = linear_discount_path()
    # the straight line 1.75% -> 3%: +0.25 points a year (an assumption the scenario chooses)
    assert linear == pytest.approx({2028: 0.02, 2029: 0.0225, 2030: 0.025, 2031: 0.0275})
    assert float(global_discount(2027, True, {})) == 0.03      # lower-spending: flat 3%
    assert float(global_discount(2036, True, {})) == 0.03
    assert float(global_discount(2027, False, {})) == 0.0175   # higher-spending PY2027
    assert float(global_discount(2032, False, {})) == 0.03     # "rising to 3% by PY2032"
    assert float(global_discount(2029, False, {2029: 0.022})) == 0.022
    with pytest.raises(ValueError, match="PY2030"):
        global_discount(2030, False, {2029: 0.022})             # not published, not assumed


def test_c1_pre_discount_benchmark_1000_pbpm():
    # C-1: 1,000 PBPM before discount; lower-spending Global x (1 - 3%) = 970; higher-spending
    # PY2027 x (1 - 1.75%) = 982.50 plus an add-on of 1.5% x 1,000 = 15 paid apart.
    # Expenditure = the discounted benchmark, QS = 1: no savings, so only the add-on is paid.
    assert settle("lead-global-2027", 1000.0, 970.0) == 0.0
    assert settle("lead-global-2027-higher-spending", 1000.0, 982.5) == pytest.approx(15.0, rel=1e-12)
    # one dollar below the discounted benchmark: +1 x 0.98 (+ add-on)
    assert settle("lead-global-2027", 1000.0, 969.0) == pytest.approx(0.98, rel=1e-12)
    assert settle("lead-global-2027-higher-spending", 1000.0, 981.5) == pytest.approx(15.98, rel=1e-12)


# --- C-2 Regional Efficiency Adjustment (R6; MEDINS; INNOV; MIL-LEADB [Med], 3% cap [Low]) -----

@pytest.mark.parametrize("regional, cap, eligible, expected", [
    (1100.0, 0.05, True, 50.0),     # 50% x 100 = 50 = 5% of 1,000: exactly at the 5% cap
    (1100.0, 0.03, True, 30.0),     # renewing ex-MSSP: capped at 3% of national = 30
    (1098.0, 0.05, True, 49.0),     # just below the cap
    (1102.0, 0.05, True, 50.0),     # just above: capped
    (1100.0, 0.05, False, 0.0),     # not eligible (Professional, or higher-spending)
    (950.0, 0.05, True, 0.0),       # a negative difference: floor 0 (MIL-LEADB)
])
def test_c2_regional_efficiency_adjustment(regional, cap, eligible, expected):
    rea = regional_efficiency_adjustment(np.array([1000.0]), np.array([regional]), np.array([1000.0]),
                                         np.array([1.0]), cap, eligible)
    assert float(rea.per_type[0]) == pytest.approx(expected, rel=1e-12)
    assert float(rea.single_value) == pytest.approx(expected, rel=1e-12)


def test_spending_class_is_weighted_by_by3_shares_and_equal_spending_is_not_lower():
    hb = np.array([[1000.0, 2000.0]])
    # type 1 is 100 below its region, type 2 is 300 above: weights 0.8/0.2 -> +80 - 60 = +20 > 0
    assert lower_spending(hb, np.array([[1100.0, 1700.0]]), np.array([0.8, 0.2])).tolist() == [True]
    # weights 0.7/0.3 -> +70 - 90 = -20: higher-spending
    assert lower_spending(hb, np.array([[1100.0, 1700.0]]), np.array([0.7, 0.3])).tolist() == [False]
    # exactly at the region: not lower-spending (no efficiency to reward)
    assert lower_spending(np.array([1000.0]), np.array([1000.0]), ONE).tolist() is False


def test_rea_per_type_vectorised_over_simulations():
    hb = np.array([[1000.0, 2000.0], [1000.0, 2000.0]])
    reg = np.array([[1080.0, 2300.0], [1000.0, 1900.0]])
    rea = regional_efficiency_adjustment(hb, reg, np.array([1000.0, 2000.0]), np.array([0.5, 0.5]), 0.05,
                                         np.array([True, False]))
    # sim 0: type 1 50% x 80 = 40; type 2 50% x 300 = 150 capped at 5% x 2,000 = 100; sim 1 not eligible
    assert rea.per_type.tolist() == [[40.0, 100.0], [0.0, 0.0]]
    assert rea.single_value.tolist() == [70.0, 0.0]


# --- prior savings adjustment (R6 [Low]: 50%, cap 5%; higher of REA or PSA [Med]) --------------

@pytest.mark.parametrize("savings, national, psa, eligible", [
    ([200.0, 300.0, 100.0], 10_000.0, 100.0, True),    # mean 200 -> 50% = 100 < 5% x 10,000 = 500
    ([200.0, 300.0, 100.0], 1_000.0, 50.0, True),      # cap 5% x 1,000 = 50 binds
    ([300.0, -300.0, 0.0], 10_000.0, 0.0, False),      # mean 0: not eligible (must be positive)
    ([300.0, -299.0, 0.0], 10_000.0, 1.0 / 6.0, True),  # mean 1/3 -> 1/6
])
def test_prior_savings_adjustment(savings, national, psa, eligible):
    got, ok = prior_savings_adjustment(np.array([savings]), np.array([national]))
    assert float(got[0]) == pytest.approx(psa, rel=1e-12)
    assert bool(ok[0]) is eligible


# --- C-3 risk-score caps (R6 [Low]: symmetric 3% against BY3) -----------------------------------

@pytest.mark.parametrize("ratio, capped", [(1.05, 1.03), (1.03, 1.03), (1.0299, 1.0299), (1.02, 1.02),
                                           (0.95, 0.97), (0.97, 0.97), (0.9701, 0.9701)])
def test_c3_symmetric_risk_cap(ratio, capped):
    assert float(symmetric_risk_ratio(np.array(ratio), 0.03)) == pytest.approx(capped, rel=1e-15)


# --- C-4 ACPT guardrails, PY2027 (R6 [Low]: +0.3% / -0.2% around the two-way trend) -------------

@pytest.mark.parametrize("acpt, expected", [(1.060, 1.053), (1.045, 1.048), (1.050, 1.050), (1.053, 1.053),
                                            (1.048, 1.048), (1.0531, 1.053)])
def test_c4_guardrails_2027(acpt, expected):
    assert float(guarded_acpt(acpt, 1.05, 0.003, 0.002)) == pytest.approx(expected, rel=1e-15)


def test_c4_update_two_thirds_two_way_one_third_guarded_acpt():
    # U = (2/3)(1.05) + (1/3)(1.053) = 0.70000 + 0.35100 = 1.05100
    u = update_factor(1.05, guarded_acpt(1.06, 1.05, 0.003, 0.002))
    assert float(u) == pytest.approx(1.051, rel=1e-14)
    # no guardrail after 2027 ("none"): the ACPT in full: (2/3)(1.05) + (1/3)(1.06) = 1.05333...
    assert float(update_factor(1.05, guarded_acpt(1.06, 1.05, None, None))) == pytest.approx(1.0533333333333, 1e-12)


# --- C-5, C-6 corridors and sequestration (R6 [Low]) ---------------------------------------------
# Benchmark $100M (discount 0 here, to read the bands on $100M), QS = 1.

@pytest.mark.parametrize("base, expected", [
    ("shared", 17_500_000.0 * 0.98),                 # 15M x 100% + 5M x 50% = 17.5M; 2% of it
    ("gross", 17_500_000.0 - 0.02 * 20_000_000.0),   # the workbook: 2% of the gross 20M = 0.4M
])
def test_c5_global_savings_of_20_percent(base, expected):
    got = settle("lead-global-2027", 100e6, 80e6, discount=0.0, sequestration_base=base)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("base, expected", [
    # a loss equal to the benchmark: 15 + 20 x 0.5 + 15 x 0.25 + 50 x 0.1 = 33.75% of it
    ("shared", -33_750_000.0 * 1.02),
    ("gross", -33_750_000.0 - 0.02 * 100_000_000.0),
])
def test_c6_global_loss_equal_to_the_benchmark(base, expected):
    got = settle("lead-global-2027", 100e6, 200e6, discount=0.0, sequestration_base=base)
    assert got == pytest.approx(expected, rel=1e-12)


def test_sequestration_bases_agree_inside_the_first_corridor():
    # 10% savings: all in the 100% corridor: 2% of the shared amount = 2% of the gross.
    shared = settle("lead-global-2027", 100e6, 90e6, discount=0.0)
    gross = settle("lead-global-2027", 100e6, 90e6, discount=0.0, sequestration_base="gross")
    assert shared == pytest.approx(gross, rel=1e-12) == pytest.approx(9_800_000.0, rel=1e-12)


# --- C-7 Professional sharing (R6 [Low]; "up to 60% of savings") --------------------------------

def test_c7_professional_savings_of_12_percent():
    # 10% x 0.60 + 2% x 0.35 = 6.0 + 0.7 = 6.7% of the benchmark; losses: bands stated (50%)
    got = settle("lead-professional-2027", 100e6, 88e6, loss_bands=[[0.0, None, 0.5]])
    assert got == pytest.approx(6_700_000.0 * 0.98, rel=1e-12)


# --- C-8 quality withhold (R6; WAK-Q [Med]: 3%; earn-back linear [INF]) --------------------------

def test_c8_quality_withhold_on_the_discounted_benchmark():
    # 1,000 -> discount 3% -> 970; withhold 3% of 970 = 29.1; QS = 0.8 earns back 23.28, loses
    # 5.82: the effective benchmark is 964.18. Spending 964.18 settles at zero; 963.18 gains 1.
    assert settle("lead-global-2027", 1000.0, 964.18, quality=0.8) == pytest.approx(0.0, abs=1e-9)
    assert settle("lead-global-2027", 1000.0, 963.18, quality=0.8) == pytest.approx(0.98, rel=1e-9)
    # Professional (no discount): 1,000 -> withhold 30, QS 0.8 -> 994 (C-8 as written)
    assert settle("lead-professional-2027", 1000.0, 994.0, quality=0.8,
                  loss_bands=[[0.0, None, 0.5]]) == pytest.approx(0.0, abs=1e-9)


# --- C-9 financial guarantee (R6 [Low] 4% of BY3; WAK-FG [Med] 2-4%) -----------------------------

def test_c9_financial_guarantee():
    assert float(financial_guarantee(100e6, 0.04)) == pytest.approx(4_000_000.0, rel=1e-15)
    assert float(financial_guarantee(100e6, 0.02)) == pytest.approx(2_000_000.0, rel=1e-15)


def test_gross_sequestration_vectorised_matches_the_scalar_reference():
    from simsuite.contracts import corridors

    rng = np.random.default_rng(3)
    b, x, q = 100e6, 100e6 * rng.uniform(0.3, 1.7, 2000), rng.uniform(0.0, 1.0, 2000)
    for preset, extra in (("lead-global-2027-higher-spending", {}),
                          ("lead-professional-2027", {"loss_bands": [[0.0, None, 0.5]]}),
                          ("reach-global-2026", {})):  # REACH: losses not sequestered, either basis
        contract = build_contract(preset, {"sequestration_base": "gross", **extra},
                                  2026 if preset.startswith("reach") else 2027)
        year = PanelYear(n_beneficiaries=10_000, benchmark=np.full(x.size, b), expenditure=x, quality_score=q)
        ref = [corridors.reference_settlement(contract.terms, b, x[i], q[i]) for i in range(x.size)]
        np.testing.assert_allclose(contract.settle(year).net, ref, rtol=1e-12, atol=1e-6)
