"""Cash flows by month (`simsuite.results.cashflow`): a two-year path computed by hand with its
dates, net present value against closed forms, the MSSP advance payment rules at their edges
(42 CFR 425.630, 425.640), the repayment mechanism's fee (425.204(f)(6)), and the refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsuite.contracts.mssp_cash import (
    MSSP_TIMING,
    aip_ineligibility,
    aip_quarterly_amount,
    prepaid_ineligibility,
    prepaid_multiplier,
    recouped,
)
from simsuite.errors import InputError
from simsuite.results.cashflow import ITEMS, ContractCash, cash_items, contract_cash, grid_for
from simsuite.scenario.finance import Finance


def _contract(settlement, *, effort=None, rm=None, years=(2027, 2028), starts=None, aip=None, static=(),
              savings=None, national=None, person_years=1000.0, participates=True, timing=MSSP_TIMING):
    settlement = np.atleast_2d(np.asarray(settlement, dtype=float))
    shape = settlement.shape
    return ContractCash(
        name="path", years=tuple(years), agreement_starts=tuple(starts or (years[0],)), settlement=settlement, effort=None if effort is None else np.atleast_2d(np.asarray(effort, dtype=float)),
        repayment_mechanism=np.zeros(shape) if rm is None else np.atleast_2d(np.asarray(rm, dtype=float)),
        per_capita_savings=np.zeros(shape) if savings is None else np.atleast_2d(np.asarray(savings, dtype=float)),
        national_per_capita=None if national is None else np.full(shape, float(national)),
        person_years=person_years, timing=timing, participates=participates, aip_quarterly=aip,
        prepaid_static=tuple(static))


def _schedule(c, finance):
    grid = grid_for(c.years, finance, [c.timing])
    items = cash_items(c, finance, grid)
    return grid, items


def _at(grid, items, item, label, sim=0):
    """The amount of ``item`` in month ``label`` ("2028-11")."""
    year, month = map(int, label.split("-"))
    m = 12 * (year - grid.first_year) + month - 1
    return float(items[list(ITEMS).index(item), sim, grid.index(m)])


# ---- the hand-checked example ------------------------------------------------------------------

FINANCE = Finance.model_validate({
    "discount_rate": 0.05,
    "startup": {"amount": 60_000.0, "months": 3},
    "operating_costs": {"staff": 120_000.0},
    "repayment_mechanism_fee": 0.01,
    "reserve": {"amount": 50_000.0},
})


@pytest.fixture
def two_years():
    """PY2027 earns $600,000 of shared savings, PY2028 owes $200,000 of shared losses; the
    effort costs $2,000 a month; a $100,000 repayment mechanism in 2028; advance investment
    payments of $250,000 + 8 x $45,000 (1,000 beneficiaries at $45, 425.630(f)(2)(iii))."""
    c = _contract([600_000.0, -200_000.0], effort=[-24_000.0, -24_000.0], rm=[0.0, 100_000.0], aip=45_000.0)
    return c, *_schedule(c, FINANCE)


def test_aip_quarterly_amount_of_the_example():
    # 1,000 beneficiaries scored 85-100 are paid $45 each a quarter.
    assert aip_quarterly_amount([0, 0, 0, 0, 0, 0, 0, 1000]) == 45_000.0


def test_two_year_example_dates_by_hand(two_years):
    c, grid, items = two_years
    assert (grid.label(grid.start), grid.label(grid.stop - 1)) == ("2026-01", "2029-12")  # whole calendar years
    # Start-up: $60,000 over the 3 months before 2027.
    for month in ("2026-10", "2026-11", "2026-12"):
        assert _at(grid, items, "startup", month) == -20_000.0
    # Staff $10,000 and the effort $2,000 every month of 2027-2028, nothing after.
    for month in ("2027-01", "2027-12", "2028-06", "2028-12"):
        assert _at(grid, items, "staff", month) == pytest.approx(-10_000.0, abs=1e-9)
        assert _at(grid, items, "effort", month) == pytest.approx(-2_000.0, abs=1e-9)
    assert _at(grid, items, "staff", "2029-01") == 0.0
    # AIP: $250,000 + $45,000 in January 2027, then $45,000 each quarter to October 2028.
    assert _at(grid, items, "aip", "2027-01") == 295_000.0
    for month in ("2027-04", "2027-07", "2027-10", "2028-01", "2028-04", "2028-07", "2028-10"):
        assert _at(grid, items, "aip", month) == 45_000.0
    # PY2027: notice August 2028; by then $250,000 + 7 x $45,000 = $565,000 of AIP was paid,
    # all recouped from the $600,000 earned; paid in November 2028 (11 months after PY end).
    assert _at(grid, items, "savings", "2028-11") == 600_000.0
    assert _at(grid, items, "aip_recouped", "2028-11") == -565_000.0
    # PY2028: a loss, nothing recouped; due 90 days after the August 2029 notice: November 2029.
    assert _at(grid, items, "losses", "2029-11") == -200_000.0
    # Repayment mechanism fee: 1% of $100,000 in January 2028 and for the 12 months after.
    assert _at(grid, items, "rm_fee", "2028-01") == -1_000.0
    assert _at(grid, items, "rm_fee", "2029-01") == -1_000.0
    assert _at(grid, items, "rm_fee", "2027-01") == 0.0
    # Every item's total, by hand: -60 -240 -48 +610 +600 -565 -200 -2 = +95 (thousands).
    totals = {name: float(items[k].sum()) for k, name in enumerate(ITEMS)}
    expected = {"startup": -60_000, "staff": -240_000, "effort": -48_000, "aip": 610_000, "savings": 600_000,
                "aip_recouped": -565_000, "losses": -200_000, "rm_fee": -2_000}
    for name, value in totals.items():
        assert value == pytest.approx(expected.get(name, 0.0), abs=1e-6), name


# The example's net cash by month, written out by hand (thousands of dollars).
HAND = {"2026-10": -20, "2026-11": -20, "2026-12": -20,
        "2027-01": 283, "2027-02": -12, "2027-03": -12, "2027-04": 33, "2027-05": -12, "2027-06": -12,
        "2027-07": 33, "2027-08": -12, "2027-09": -12, "2027-10": 33, "2027-11": -12, "2027-12": -12,
        "2028-01": 32, "2028-02": -12, "2028-03": -12, "2028-04": 33, "2028-05": -12, "2028-06": -12,
        "2028-07": 33, "2028-08": -12, "2028-09": -12, "2028-10": 33, "2028-11": 23, "2028-12": -12,
        "2029-01": -1, "2029-11": -200}


def test_two_year_example_value_and_liquidity(two_years):
    c, grid, items = two_years
    cash = items.sum(axis=0)[0]
    for m in range(grid.start, grid.stop):
        assert cash[grid.index(m)] == pytest.approx(1000.0 * HAND.get(grid.label(m), 0), abs=1e-6), grid.label(m)
    result = contract_cash(c, FINANCE, grid)
    # Money of month m moves at its end: t = (m + 1) / 12 years after 1 January 2027.
    npv = 0.0
    for label, thousands in HAND.items():
        year, month = map(int, label.split("-"))
        m = 12 * (year - 2027) + month - 1
        npv += 1000.0 * thousands * 1.05 ** (-(m + 1) / 12)
    assert result.npv[0] == pytest.approx(npv, rel=1e-12)
    assert result.total[0] == pytest.approx(95_000.0, abs=1e-6)
    # Lowest balance -$60,000 at the end of 2026; above zero from January 2027: payback 2027.
    assert result.low[0] == pytest.approx(-60_000.0, abs=1e-6)
    assert result.payback[0] == 2027
    # By calendar year: 2026 -60, 2027 +286, 2028 +70, 2029 -201 (thousands).
    assert list(grid.calendar_years) == [2026, 2027, 2028, 2029]
    assert result.by_year[0] == pytest.approx([-60_000.0, 286_000.0, 70_000.0, -201_000.0], abs=1e-6)
    # The $50,000 reserve runs out in 2026 only (-$60,000), never after.
    assert result.below_reserve[0].tolist() == [True, False, False, False]
    # $45,000 of AIP is still owed: carried forward, not repaid (425.630(g)(1), (g)(3)).
    assert result.aip_outstanding[0] == pytest.approx(45_000.0, abs=1e-6)


def test_distributing_savings_lowers_the_reserve_not_the_value(two_years):
    c, grid, _ = two_years
    kept = contract_cash(c, FINANCE, grid)
    paid_out = Finance.model_validate({**FINANCE.model_dump(), "reserve": {"amount": 0.0, "retained_share": 0.0}})
    out = contract_cash(c, paid_out, grid)
    assert out.npv[0] == kept.npv[0]
    # Without a reserve the 2026 start-up is a breach; the $35,000 received in November 2028
    # (after recoupment) is distributed, which leaves the balance at 95 - 35 = $60,000 at the end.
    assert out.below_reserve[0].tolist() == [True, False, False, False]


def test_payback_never_within_the_horizon():
    c = _contract([0.0, 0.0])
    finance = Finance.model_validate({"discount_rate": 0.05, "operating_costs": {"staff": 12_000.0}})
    grid = grid_for(c.years, finance, [c.timing])
    result = contract_cash(c, finance, grid)
    assert math.isnan(result.payback[0]) and result.low[0] == pytest.approx(-24_000.0)


# ---- net present value against closed forms ------------------------------------------------------

@pytest.mark.parametrize("rate", [0.0, 0.05, 0.12])
def test_npv_of_level_monthly_costs_closed_form(rate):
    """$120,000 a year paid monthly for 5 years: -10,000 sum_{k=1..60} v^(k/12)."""
    c = _contract(np.zeros(5), years=range(2027, 2032))
    finance = Finance.model_validate({"discount_rate": rate, "operating_costs": {"staff": 120_000.0}})
    grid = grid_for(c.years, finance, [c.timing])
    npv = contract_cash(c, finance, grid).npv[0]
    if rate == 0.0:
        assert npv == pytest.approx(-600_000.0, rel=1e-12)
        return
    v = 1.0 / (1.0 + rate)
    closed = -10_000.0 * v ** (1 / 12) * (1.0 - v ** 5) / (1.0 - v ** (1 / 12))
    assert npv == pytest.approx(closed, rel=1e-12)


def test_npv_of_growing_costs_closed_form():
    """Costs growing 3% a year: the year's monthly annuity times a geometric series in (1+g) v."""
    rate, g = 0.08, 0.03
    c = _contract(np.zeros(5), years=range(2027, 2032))
    finance = Finance.model_validate({"discount_rate": rate, "operating_costs": {"technology": 240_000.0,
                                                                                 "growth": g}})
    grid = grid_for(c.years, finance, [c.timing])
    v = 1.0 / (1.0 + rate)
    first_year = -20_000.0 * v ** (1 / 12) * (1.0 - v) / (1.0 - v ** (1 / 12))
    q = (1.0 + g) * v
    closed = first_year * (1.0 - q ** 5) / (1.0 - q)
    assert contract_cash(c, finance, grid).npv[0] == pytest.approx(closed, rel=1e-12)


def test_settlement_npv_is_the_payment_month_discount():
    """$1M of shared savings for PY2027 is paid in November 2028 (month 22): t = 23/12."""
    c = _contract([1_000_000.0, 0.0])
    finance = Finance.model_validate({"discount_rate": 0.1})
    grid = grid_for(c.years, finance, [c.timing])
    assert contract_cash(c, finance, grid).npv[0] == pytest.approx(1e6 * 1.1 ** (-23 / 12), rel=1e-12)


def test_blocks_of_simulations_do_not_change_results(monkeypatch, two_years):
    import simsuite.results.cashflow as cf

    rng = np.random.default_rng(5)
    settlement = rng.normal(0.0, 5e5, size=(50, 2))
    c = _contract(settlement, effort=np.full((50, 2), -24_000.0), rm=np.tile([0.0, 1e5], (50, 1)), aip=45_000.0)
    grid = grid_for(c.years, FINANCE, [c.timing])
    whole = contract_cash(c, FINANCE, grid)
    monkeypatch.setattr(cf, "BLOCK", 7)
    pieces = contract_cash(c, FINANCE, grid)
    for name in ("npv", "total", "low", "payback", "by_year", "below_reserve", "aip_outstanding"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(pieces, name), err_msg=name)


# ---- advance investment payments (425.630) ------------------------------------------------------

def test_aip_quarterly_amount_b1_1():
    # 1,500 at $45, 2,000 at $40 (ADI 80), 1,500 at $28 (ADI 50), 1,000 at $0 (ADI 10):
    # 67,500 + 80,000 + 42,000 = $189,500 a quarter (notes B1-1).
    assert aip_quarterly_amount([1000, 0, 0, 1500, 0, 0, 2000, 1500]) == 189_500.0


def test_aip_counts_the_10000_highest_scores_b1_2():
    # 3,000 at $45, 5,000 at $40, 4,000 at $24: the top 10,000 take 2,000 of the $24 band:
    # 135,000 + 200,000 + 48,000 = $383,000 (notes B1-2).
    assert aip_quarterly_amount([0, 0, 4000, 0, 0, 0, 5000, 3000]) == 383_000.0
    assert aip_quarterly_amount([0, 0, 0, 0, 0, 0, 0, 10_000]) == aip_quarterly_amount([0] * 7 + [10_001])


def test_aip_recoupment_path_b1_3():
    """Balance $1,766,000; shared savings 0, $500,000, $2,000,000: recouped 0, 500,000,
    1,266,000; the ACO is paid $734,000 for PY3 (notes B1-3)."""
    c = _contract([0.0, 500_000.0, 2_000_000.0], years=(2027, 2028, 2029), aip=189_500.0)
    finance = Finance.model_validate({"discount_rate": 0.0})
    grid, items = _schedule(c, finance)
    assert float(items[list(ITEMS).index("aip")].sum()) == 1_766_000.0
    assert _at(grid, items, "aip_recouped", "2028-11") == 0.0
    assert _at(grid, items, "aip_recouped", "2029-11") == -500_000.0
    assert _at(grid, items, "aip_recouped", "2030-11") == -1_266_000.0
    assert _at(grid, items, "savings", "2030-11") + _at(grid, items, "aip_recouped", "2030-11") == 734_000.0


def test_recoupment_never_exceeds_the_year_or_the_balance():
    # 425.630(g)(3): never more than the year's savings; a loss year recoups nothing.
    np.testing.assert_array_equal(recouped(np.array([100.0, -50.0, 500.0, 0.0]), np.array([300.0, 300.0, 300.0, 10.0])),
                                  [100.0, 0.0, 300.0, 0.0])


@pytest.mark.parametrize(("args", "reason"), [
    (("lead", ["BASIC A"] * 5, 1, False, True), "MSSP option"),
    (("mssp", ["BASIC A"] * 5, 2, False, True), "renewing or re-entering"),
    (("mssp", ["BASIC A"] * 5, 1, True, True), "experienced"),
    (("mssp", ["BASIC B", "BASIC C", "BASIC D", "BASIC E", "BASIC E"], 1, False, True), "PY1 must be BASIC Level A"),
    (("mssp", ["BASIC A", "BASIC C", "BASIC D", "BASIC E", "BASIC E"], 1, False, True), "PY2 must be BASIC Level A or B"),
    (("mssp", ["ENHANCED"] * 5, 1, False, True), "PY1 must be"),
    (("mssp", ["BASIC A"] * 5, 1, False, None), "low-revenue status unknown"),
    (("mssp", ["BASIC A"] * 5, 1, False, False), "not a low-revenue ACO"),
])
def test_aip_eligibility_edges(args, reason):
    assert reason in aip_ineligibility(*args)


@pytest.mark.parametrize("levels", [["BASIC A"] * 5, ["BASIC A", "BASIC B", "BASIC C", "BASIC D", "BASIC E"],
                                    ["BASIC A", "BASIC A", "BASIC B", "BASIC C", "BASIC D"]])
def test_aip_eligible_paths(levels):
    assert aip_ineligibility("mssp", levels, 1, False, True) is None


# ---- prepaid shared savings (425.640) -------------------------------------------------------------

def test_prepaid_multiplier_b2():
    # Per capita savings 600 and 400: 500 x 0.5 x 2/3 = 166.67 (notes B2-1); pi = 0.9: 150 (B2-2).
    assert prepaid_multiplier(np.array(600.0), np.array(400.0), np.array(12_000.0)) == pytest.approx(500 / 3)
    assert prepaid_multiplier(np.array(600.0), np.array(400.0), np.array(12_000.0), 0.9) == pytest.approx(150.0)
    # 5% of national $2,000 = $100 binds; losses give nothing to prepay.
    assert prepaid_multiplier(np.array(600.0), np.array(400.0), np.array(2_000.0)) == pytest.approx(100.0)
    assert prepaid_multiplier(np.array(-600.0), np.array(400.0), np.array(12_000.0)) == 0.0
    # Quarterly maximum with 20,000 person-years: 166.67 / 4 x 20,000 = $833,333 (B2-1).
    assert 500 / 3 / 4 * 20_000 == pytest.approx(833_333.33, abs=0.01)


@pytest.mark.parametrize(("args", "reason"), [
    (("lead", ["ENHANCED"] * 5, 2029, 2), "MSSP option"),
    (("mssp", ["ENHANCED"] * 5, 2029, 1), "only a renewing ACO"),
    (("mssp", ["ENHANCED"] * 5, 2025, 2), "only agreements from 2026"),
    (("mssp", ["BASIC B", "BASIC C", "BASIC D", "BASIC E", "BASIC E"], 2029, 2), "BASIC B is not BASIC C-E"),
])
def test_prepaid_eligibility_edges(args, reason):
    assert reason in prepaid_ineligibility(*args)
    assert prepaid_ineligibility("mssp", ["BASIC C", "BASIC D", "BASIC E"], 2026, 2) is None


def test_prepaid_in_a_renewal_by_hand():
    """Agreements 2026-2028 and 2029-2031 (renewal). Sim 0 earned savings in 2027 (BY2) and its
    per capita savings 300, 500, 400 average above zero: multiplier 2/3 x 0.5 x (300 + 500) / 2
    = 133.33, quarterly 133.33 / 4 x 1,000 = $33,333.33, 12 quarters = $400,000 from January 2029.
    Sim 1 earned nothing in 2027 ((b)(2)); sim 2's average is negative ((b)(3)): neither is paid."""
    years = tuple(range(2026, 2032))
    settlement = [[200_000.0, 300_000.0, 250_000.0, 150_000.0, -50_000.0, 100_000.0],
                  [200_000.0, 0.0, 250_000.0, 150_000.0, 0.0, 0.0],
                  [0.0, 100_000.0, 0.0, 0.0, 0.0, 0.0]]
    savings = [[300.0, 500.0, 400.0, 0, 0, 0], [300.0, 500.0, 400.0, 0, 0, 0], [-900.0, 100.0, 100.0, 0, 0, 0]]
    c = _contract(settlement, years=years, starts=(2026, 2029), savings=savings, national=12_000.0,
                  static=("only a renewing ACO is eligible", None))
    finance = Finance.model_validate({"discount_rate": 0.0, "prepaid_shared_savings": {}})
    grid, items = _schedule(c, finance)
    prepaid = items[list(ITEMS).index("prepaid")]
    assert prepaid[0].sum() == pytest.approx(400_000.0)
    assert _at(grid, items, "prepaid", "2029-01") == pytest.approx(100_000.0 / 3)
    assert _at(grid, items, "prepaid", "2031-10") == pytest.approx(100_000.0 / 3)
    assert prepaid[1].sum() == 0.0 and prepaid[2].sum() == 0.0
    # PY2028 (the first agreement's) savings do not recoup the 2029 prepayments.
    assert _at(grid, items, "savings", "2029-11") == 250_000.0
    assert _at(grid, items, "prepaid_recouped", "2029-11") == 0.0
    # PY2029: $150,000 earned, all recouped (7 quarters, $233,333, paid by the August 2030 notice).
    assert _at(grid, items, "prepaid_recouped", "2030-11") == pytest.approx(-150_000.0)
    # PY2030 a loss: nothing recouped. PY2031: $100,000 recouped; the $150,000 left is repaid
    # 90 days after the August 2032 notice (425.640(g)(3)).
    assert _at(grid, items, "prepaid_recouped", "2031-11") == 0.0
    assert _at(grid, items, "prepaid_recouped", "2032-11") == pytest.approx(-100_000.0)
    assert _at(grid, items, "prepaid_repaid", "2032-11") == pytest.approx(-150_000.0)


# ---- the repayment mechanism's fee, and refusals --------------------------------------------------

def test_repayment_mechanism_fee_each_year_held_and_12_months_after():
    c = _contract(np.zeros(5), rm=[0.0, 0.0, 50_000.0, 60_000.0, 60_000.0], years=range(2027, 2032))
    finance = Finance.model_validate({"discount_rate": 0.0, "repayment_mechanism_fee": 0.02})
    grid, items = _schedule(c, finance)
    fees = {grid.label(m): float(items[list(ITEMS).index("rm_fee"), 0, grid.index(m)])
            for m in range(grid.start, grid.stop)}
    assert {k: v for k, v in fees.items() if v} == {"2029-01": -1_000.0, "2030-01": -1_200.0, "2031-01": -1_200.0,
                                                    "2032-01": -1_200.0}


def test_a_guarantee_without_its_fee_is_refused():
    c = _contract([0.0, 0.0], rm=[0.0, 1e5])
    finance = Finance.model_validate({"discount_rate": 0.05})
    with pytest.raises(InputError, match="repayment_mechanism_fee"):
        _schedule(c, finance)


def test_fee_for_service_pays_no_costs_of_taking_part():
    c = _contract([0.0, 0.0], effort=[-12_000.0, -12_000.0], participates=False, timing=None)
    grid, items = _schedule(c, FINANCE)
    assert items.sum() == pytest.approx(-24_000.0)  # the effort only


# ---- the reserve at its edges -----------------------------------------------------------------------

@pytest.mark.parametrize("amount, retained, below", [
    # PY2027 earns $100,000, paid November 2028; PY2028 owes $150,000, noticed August 2029 and due
    # 90 days later, November 2029 (425.605(e)(3)). Balance = amount + cash - distributed savings.
    (60_000.0, 1.0, [False, False, False]),   # 100% kept: 160k in 2028, 10k in 2029
    (60_000.0, 0.5, [False, False, True]),    # 50k distributed: 110k in 2028, -40k in 2029
    (60_000.0, 0.0, [False, False, True]),    # all distributed: 60k in 2028, -90k in 2029
    (150_000.0, 0.0, [False, False, False]),  # all distributed, but 150k held: 0 in 2029 (not below)
    (0.0, 1.0, [False, False, True]),         # nothing held: -50k in 2029
])
def test_reserve_kept_distributed_and_run_out_by_hand(amount, retained, below):
    c = _contract([100_000.0, -150_000.0])
    finance = Finance.model_validate({"discount_rate": 0.05, "reserve": {"amount": amount, "retained_share": retained}})
    grid = grid_for(c.years, finance, [c.timing])
    result = contract_cash(c, finance, grid)
    assert list(grid.calendar_years) == [2027, 2028, 2029]
    assert result.below_reserve[0].tolist() == below
    # What is distributed is the organisation's: the value and the lowest balance do not move.
    assert result.npv[0] == pytest.approx(100_000.0 * 1.05 ** -(23 / 12) - 150_000.0 * 1.05 ** -(35 / 12),
                                          rel=1e-12)
    assert result.low[0] == pytest.approx(-50_000.0, abs=1e-6)
    assert result.by_year[0] == pytest.approx([0.0, 100_000.0, -150_000.0], abs=1e-6)


def test_fee_for_service_moves_no_cash_and_never_breaches_the_reserve():
    # The reference point: no settlement, no costs of taking part; paid back from the start.
    c = _contract([0.0, 0.0], participates=False, timing=None)
    finance = Finance.model_validate({"discount_rate": 0.05, "operating_costs": {"staff": 120_000.0},
                                      "reserve": {"amount": 0.0}})
    result = contract_cash(c, finance, grid_for(c.years, finance, [c.timing]))
    assert result.npv[0] == 0.0 and result.total[0] == 0.0 and result.low[0] == 0.0
    assert not result.below_reserve.any() and result.payback[0] == 2027
