"""Cash flows by month of every contract of a multi-year run, and what they are worth.

A scenario's ``finance`` section (`simsuite.scenario.finance`) turns each contract's
per-year results (`simsuite.results.arrays.AgreementArrays`) into money on dates:

* each performance year's settlement on its program's dates
  (`simsuite.contracts.settlement_timing`): shared savings on the payment month, shared
  losses on the month they are due;
* advance investment payments (42 CFR 425.630) and prepaid shared savings (425.640) on
  their quarters, recouped from later shared savings (`simsuite.contracts.mssp_cash`);
  a prepaid balance left after an agreement's last year is repaid 90 days after its notice;
* the repayment mechanism's yearly fee, from its first two-sided year to 12 months after
  the last (425.204(f)(6));
* the effort's cost (``assumptions``) over the months of each performance year, under
  every contract; start-up and operating costs under every contract that settles.

Conventions: months are counted from January of the first performance year (month 0;
start-up months are negative); all money of a month moves at its end, ``t = (m + 1) / 12``
years after 1 January of the first performance year, where it is discounted to:
``NPV = sum_m cash_m (1 + r)^(-t_m)``. Signs: positive = money to the organisation.

What it gives per simulation: the cash of each calendar year, the net present value, the
undiscounted total, the lowest cumulative cash balance (at month ends, starting from 0),
the payback year (the year of the month from which the cumulative balance stays at or
above zero; NaN if it ends below), and whether the reserve (``finance.reserve``: opening
cash, less distributions of shared savings) ran out in each year. `cash_variables` adds
them to the run's Dataset with their summaries and Monte Carlo standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from simsuite.contracts import PathContract
from simsuite.contracts.mssp_cash import (
    AIP_ONE_TIME,
    AIP_QUARTERS,
    PREPAID_PROPOSED_NOTE,
    PREPAID_REPAY_MONTHS_AFTER_NOTICE,
    RM_TAIL_MONTHS,
    aip_ineligibility,
    aip_quarterly_amount,
    prepaid_ineligibility,
    prepaid_multiplier,
    recouped,
)
from simsuite.contracts.mssp_rules import is_low_revenue
from simsuite.contracts.settlement_timing import Timing, settles, timing_key, timing_of
from simsuite.errors import InputError
from simsuite.formatting import money
from simsuite.results.arrays import AgreementArrays
from simsuite.results.risk import summarize, var_standard_error
from simsuite.scenario.finance import SCORE_BANDS, Finance
from simsuite.scenario.load import Scenario
from simsuite.scenario.schema import split_counts

#: Cash items, in the order of the workbook, and what each is.
ITEMS: dict[str, str] = {
    "savings": "shared savings earned (paid on the payment month)",
    "losses": "shared losses paid",
    "aip": "advance investment payments received (42 CFR 425.630)",
    "aip_recouped": "advance investment payments recouped from shared savings",
    "prepaid": "prepaid shared savings received (42 CFR 425.640)",
    "prepaid_recouped": "prepaid shared savings recouped from shared savings",
    "prepaid_repaid": "prepaid shared savings repaid after an agreement's last year",
    "effort": "the effort's cost: care management, FFS margin lost (assumptions)",
    "startup": "start-up cost",
    "staff": "staff",
    "technology": "technology",
    "other": "other operating costs",
    "rm_fee": "repayment mechanism fee",
}
ITEM_INDEX = {name: k for k, name in enumerate(ITEMS)}
#: Measures of `cash_variables`' ``finance_summary``.
FINANCE_MEASURES: tuple[str, ...] = (
    "npv", "npv_sd", "p_npv_negative", "cumulative", "p_cumulative_loss", "cumulative_VaR95", "cumulative_TVaR95",
    "cash_low", "cash_low_1in20", "p_cash_below_reserve", "payback_year", "p_payback", "aip_received",
    "aip_outstanding", "prepaid_received", "p_prepaid",
)
#: Simulations per block of the monthly arrays (bounds memory: items x block x months).
BLOCK = 2048


@dataclass(frozen=True)
class MonthGrid:
    """Months ``start .. stop - 1`` counted from January of ``first_year`` (month 0)."""

    first_year: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    def index(self, month: int) -> int:
        """Column of ``month`` in arrays over the grid."""
        return month - self.start

    @property
    def months(self) -> np.ndarray:
        return np.arange(self.start, self.stop)

    @property
    def years(self) -> np.ndarray:
        """Calendar year of each month."""
        return self.first_year + np.floor_divide(self.months, 12)

    @property
    def calendar_years(self) -> np.ndarray:
        """The calendar years the grid covers."""
        return np.unique(self.years)

    def discount(self, rate: float) -> np.ndarray:
        """Discount factor of each month's end to 1 January of ``first_year``."""
        return (1.0 + rate) ** (-(self.months + 1) / 12.0)

    def label(self, month: int) -> str:
        """``"2028-11"`` for a month."""
        return f"{self.first_year + month // 12}-{month % 12 + 1:02d}"


@dataclass(frozen=True)
class ContractCash:
    """What one contract's cash flows are made of (arrays ``(S, P)``: simulation, performance year).

    Attributes
    ----------
    name : str
    years : tuple of int
        The performance years.
    agreement_starts : tuple of int
        First performance year of each simulated agreement.
    settlement : ndarray
        Money under the contract each year, the effort's cost excluded, dollars.
    effort : ndarray or None
        The effort's cost each year (never positive), dollars.
    repayment_mechanism : ndarray
        The repayment mechanism required each year, dollars (0: none).
    per_capita_savings : ndarray
        Benchmark minus expenditure per person-year (prepaid shared savings read it).
    national_per_capita : ndarray or None
        National per capita A+B spending of each year (the prepaid multiplier's cap).
    person_years : float
        Assigned beneficiary person-years a year.
    timing : Timing or None
        When its settlements are paid (None: it settles nothing).
    participates : bool
        Whether it pays the costs of taking part (all but fee-for-service).
    aip_quarterly : float or None
        Quarterly advance investment payment, dollars; None: none.
    prepaid_static : tuple of (str or None)
        Per agreement: why it cannot receive prepaid shared savings on its terms alone, or
        None (eligible on its terms; the results decide per simulation).
    notes : tuple of str
        What the cash flows assumed for this contract (advance payments granted or not, why).
    """

    name: str
    years: tuple[int, ...]
    agreement_starts: tuple[int, ...]
    settlement: np.ndarray
    effort: np.ndarray | None
    repayment_mechanism: np.ndarray
    per_capita_savings: np.ndarray
    national_per_capita: np.ndarray | None
    person_years: float
    timing: Timing | None
    participates: bool
    aip_quarterly: float | None = None
    prepaid_static: tuple[str | None, ...] = ()
    notes: tuple[str, ...] = ()


def month_of_year_end(years: Sequence[int], p: int) -> int:
    """Month index of December of performance year ``p``."""
    return 12 * (years[p] - years[0]) + 11


def grid_for(years: Sequence[int], finance: Finance, timings: Sequence[Timing | None]) -> MonthGrid:
    """Whole calendar years from the first start-up payment to the last month money moves:
    the last year's settlement (or a prepaid balance repaid after its notice), or the
    repayment mechanism's fee in the January after the last year."""
    start = -finance.startup.months if finance.startup is not None else 0
    lags = [max(t.savings_paid_months, t.loss_paid_months, t.notice_months + PREPAID_REPAY_MONTHS_AFTER_NOTICE)
            for t in timings if t is not None]
    end = month_of_year_end(years, len(years) - 1) + max(lags + [1])
    return MonthGrid(first_year=years[0], start=12 * (start // 12), stop=12 * (end // 12 + 1))


def cash_items(c: ContractCash, finance: Finance, grid: MonthGrid) -> np.ndarray:
    """Every item of `ITEMS` by month, array ``(len(ITEMS), S, months)``, dollars.

    Raises
    ------
    InputError
        A repayment mechanism is required and ``finance.repayment_mechanism_fee`` is not given.
    """
    sims = c.settlement.shape[0]
    out = np.zeros((len(ITEMS), sims, grid.size))

    def put(item: str, month: int, amount: np.ndarray | float) -> None:
        out[ITEM_INDEX[item], :, grid.index(month)] += amount

    years = c.years
    for p in range(len(years)):
        january = 12 * (years[p] - years[0])
        if c.effort is not None:
            for m in range(january, january + 12):
                put("effort", m, c.effort[:, p] / 12.0)
        if c.participates:
            costs = finance.operating_costs
            grown = (1.0 + costs.growth) ** p
            for item in ("staff", "technology", "other"):
                yearly = getattr(costs, item) * grown
                if yearly:
                    for m in range(january, january + 12):
                        put(item, m, -yearly / 12.0)
    if c.participates and finance.startup is not None and finance.startup.amount:
        months = finance.startup.months
        for m in (range(-months, 0) if months else (0,)):
            put("startup", m, -finance.startup.amount / max(months, 1))
    _repayment_mechanism_fees(c, finance, put)
    if c.timing is not None:
        _settlements(c, finance, put)
    return out


def _repayment_mechanism_fees(c: ContractCash, finance: Finance, put: Any) -> None:
    """The fee on the repayment mechanism, paid each January it is held: every year one is
    required, and once more for the 12 months after the last year (425.204(f)(6))."""
    rm = c.repayment_mechanism
    if not (rm > 0).any():
        return
    if finance.repayment_mechanism_fee is None:
        raise InputError("finance", "repayment_mechanism_fee",
                         f"'{c.name}' must hold a financial guarantee; give its yearly cost as a fraction of its amount")
    rate = finance.repayment_mechanism_fee
    for p in range(len(c.years)):
        put("rm_fee", 12 * (c.years[p] - c.years[0]), -rate * rm[:, p])
    last = len(c.years) - 1
    put("rm_fee", 12 * (c.years[last] - c.years[0]) + 12, -rate * rm[:, last] * (RM_TAIL_MONTHS / 12.0))


def _settlements(c: ContractCash, finance: Finance, put: Any) -> None:
    """Each year's settlement on its dates, with advance payments and their recoupment."""
    assert c.timing is not None
    timing, years = c.timing, c.years
    sims = c.settlement.shape[0]
    # Advance payments: (month paid, agreement, amount); what is recouped so far.
    advances: dict[str, list[tuple[int, int, np.ndarray]]] = {"aip": [], "prepaid": []}
    taken = {"aip": np.zeros(sims), "prepaid": np.zeros(sims)}

    def received(kind: str, month: int, agreement: int) -> np.ndarray:
        """Paid by ``month`` in agreements up to ``agreement``: a year's savings recoup the
        advances of its own agreement and earlier ones (425.630(g)(1), 425.640(g)(1): carried
        forward to subsequent years [INF: not back to the year before an agreement's advances])."""
        return sum((a for m, k, a in advances[kind] if m <= month and k <= agreement), np.zeros(sims))

    def pay(kind: str, month: int, agreement: int, amount: np.ndarray | float) -> None:
        paid = np.broadcast_to(np.asarray(amount, dtype=float), (sims,)).copy()
        advances[kind].append((month, agreement, paid))
        put(kind, month, paid)

    if c.aip_quarterly is not None:
        pay("aip", 0, 0, AIP_ONE_TIME)  # 425.630(f)(1): at the beginning of PY1
        for q in range(AIP_QUARTERS):  # each quarter of PY1-PY2 [INF: paid in the quarter's first month]
            pay("aip", 3 * q, 0, c.aip_quarterly)
    # Each agreement's prepaid shared savings are decided on the results reconciled before
    # it starts: right after its BY2's reconciliation (at once for the first agreement).
    decided_after = {years.index(s) - 2: k for k, s in enumerate(c.agreement_starts)}
    for k in [k for p, k in decided_after.items() if p < 0]:
        _prepaid_payments(c, finance, k, taken, received, pay)
    ends = {years.index(s) + _agreement_length(c, k) - 1: k for k, s in enumerate(c.agreement_starts)}
    for p in range(len(years)):
        notice = month_of_year_end(years, p) + timing.notice_months
        agreement = max(k for k, s in enumerate(c.agreement_starts) if s <= years[p])
        earned = np.maximum(c.settlement[:, p], 0.0)
        from_aip = recouped(earned, received("aip", notice, agreement) - taken["aip"])
        from_prepaid = recouped(earned - from_aip, received("prepaid", notice, agreement) - taken["prepaid"])
        taken["aip"] += from_aip
        taken["prepaid"] += from_prepaid
        paid = month_of_year_end(years, p) + timing.savings_paid_months
        put("savings", paid, earned)
        put("aip_recouped", paid, -from_aip)
        put("prepaid_recouped", paid, -from_prepaid)
        put("losses", notice + timing.loss_months_after_notice, np.minimum(c.settlement[:, p], 0.0))
        if p in ends and advances["prepaid"]:
            # 425.640(g)(3): a balance left after the final year's reconciliation is due
            # within 90 days of the notice.
            left = received("prepaid", notice, agreement) - taken["prepaid"]
            taken["prepaid"] += left
            put("prepaid_repaid", notice + PREPAID_REPAY_MONTHS_AFTER_NOTICE, -left)
        if p in decided_after:
            _prepaid_payments(c, finance, decided_after[p], taken, received, pay)


def _agreement_length(c: ContractCash, k: int) -> int:
    starts = list(c.agreement_starts) + [c.years[-1] + 1]
    return starts[k + 1] - starts[k]


def _prepaid_payments(c: ContractCash, finance: Finance, k: int, taken: dict[str, np.ndarray],
                      received: Any, pay: Any) -> None:
    """Schedule agreement ``k``'s quarterly prepaid shared savings (425.640(f)) in the
    simulations where the ACO is eligible ((b)(2)-(5) read from the simulated years)."""
    prepaid = finance.prepaid_shared_savings
    if prepaid is None or not c.prepaid_static or c.prepaid_static[k] is not None:
        return
    years = c.years
    s = years.index(c.agreement_starts[k])
    sims = c.settlement.shape[0]
    if s == 0:  # a renewal before the simulated years: the scenario's multiplier, eligibility taken as stated
        assert prepaid.first_agreement_multiplier is not None  # `check_finance` asks for it
        multiplier = np.full(sims, prepaid.first_agreement_multiplier)
        eligible = np.ones(sims, dtype=bool)
    else:
        def savings(i: int) -> np.ndarray:  # a year not simulated as a performance year counts zero ((f)(2)(i))
            return c.per_capita_savings[:, i] if i >= 0 else np.zeros(sims)

        reconciled = s - 2  # the last year reconciled before the agreement starts (BY2) [INF]
        if reconciled < 0 or c.national_per_capita is None:
            return
        eligible = c.settlement[:, reconciled] > 0  # (b)(2): shared savings for that year
        eligible &= (savings(s - 3) + savings(s - 2) + savings(s - 1)) > 0  # (b)(3): a positive PSA (425.658)
        notice = month_of_year_end(years, reconciled) + c.timing.notice_months if c.timing else 0
        for kind in ("aip", "prepaid"):  # (b)(4)-(5): nothing outstanding after that reconciliation
            eligible &= (received(kind, notice, k - 1) - taken[kind]) <= 1e-6
        multiplier = prepaid_multiplier(savings(s - 3), savings(s - 2), c.national_per_capita[:, reconciled],
                                        prepaid.proration_factor)
    quarterly = np.where(eligible, prepaid.share_of_maximum * multiplier / 4.0 * c.person_years, 0.0)
    first = 12 * (c.agreement_starts[k] - years[0])
    for q in range(4 * _agreement_length(c, k)):  # (f)(1)(i): every quarter of the agreement
        pay("prepaid", first + 3 * q, k, quarterly)


# ---- the contracts of a run ------------------------------------------------------------------


def contract_inputs(scenario: Scenario, arrays: AgreementArrays) -> list[ContractCash]:
    """Each contract's `ContractCash` from a multi-year run's arrays."""
    spec = scenario.spec
    finance, horizon = spec.finance, spec.horizon
    assert finance is not None and horizon is not None
    n = float(scenario.n_beneficiaries)
    years = tuple(arrays.years)
    setup = scenario.agreement
    assert setup is not None
    starts = tuple(setup.agreement_starts())
    numbers = tuple(setup.number + k for k in range(len(starts)))
    stated = _stated(finance)
    out = []
    for i, contract in enumerate(scenario.contracts):
        effort = arrays.effort
        settlement = arrays.net[i] - (effort if effort is not None else 0.0)
        with np.errstate(invalid="ignore"):
            per_capita = np.nan_to_num((arrays.benchmark[i] - arrays.expenditure[i]) / n)
        notes: list[str] = []
        aip = None
        if finance.advance_investment_payments is not None and isinstance(contract, PathContract):
            aip, why = _aip_for(scenario, contract, arrays, i)
            notes.append(f"no advance investment payments: {why}" if aip is None else
                         f"advance investment payments {money(AIP_ONE_TIME)} + {AIP_QUARTERS} quarterly "
                         f"{money(aip)} (42 CFR 425.630(f))")
        static: tuple[str | None, ...] = ()
        if finance.prepaid_shared_savings is not None and isinstance(contract, PathContract):
            static = _prepaid_static(contract, arrays.levels[i], starts, numbers)
            for start, why in zip(starts, static):
                notes.append(f"agreement from {start}: prepaid shared savings where the simulated results allow "
                             "(42 CFR 425.640(b)(2)-(5)); (b)(7)-(8) (repayment mechanism, quality in the prior "
                             "agreement) assumed met" if why is None else
                             f"agreement from {start}: no prepaid shared savings: {why}")
        out.append(ContractCash(
            name=contract.name, years=years, agreement_starts=starts, settlement=settlement, effort=effort,
            repayment_mechanism=arrays.repayment_mechanism[i], per_capita_savings=per_capita,
            national_per_capita=arrays.national_per_capita, person_years=n,
            timing=timing_of(contract, stated.get(timing_key(contract))) if settles(contract) else None, participates=settles(contract),
            aip_quarterly=aip, prepaid_static=static, notes=tuple(notes)))
    return out


def _stated(finance: Finance) -> dict[str, Timing]:
    """The settlement dates the scenario states, by program or family."""
    return {key: Timing(notice_months=s.notice_months, savings_paid_months=s.savings_paid_months,
                        loss_months_after_notice=3,
                        source=f"finance.settlement.{key}: notice {s.notice_months} and shared savings paid "
                               f"{s.savings_paid_months} months after the year ends; shared losses due 90 days "
                               "after the notice (as 42 CFR 425.605(e)(3) for MSSP [INF for other programs])")
            for key, s in (finance.settlement or {}).items()}


def _aip_for(scenario: Scenario, contract: PathContract, arrays: AgreementArrays, i: int
             ) -> tuple[float | None, str | None]:
    """The quarterly advance investment payment of contract ``i``, or None and why not."""
    finance = scenario.spec.finance
    assert finance is not None and finance.advance_investment_payments is not None
    setup = contract.setup
    a = scenario.spec.assumptions
    low: bool | None = a.low_revenue
    if low is None and a.participant_revenue_to_benchmark is not None:
        # 425.20's 35% test at the first year's expected revenue and spending [INF: CMS
        # decides at application, on the most recent full year].
        revenue = a.participant_revenue_to_benchmark * float(np.mean(arrays.benchmark[i, :, 0]))
        low = bool(is_low_revenue(revenue, float(np.mean(arrays.panel_cost[:, 0]))))
    why = aip_ineligibility(contract.program, contract.plan.levels[:setup.years_per_agreement], setup.number,
                            setup.experienced, low)
    if why is not None:
        return None, why
    shares = finance.advance_investment_payments.score_shares
    counts = split_counts(scenario.n_beneficiaries, {b: shares.get(b, 0.0) for b in SCORE_BANDS})
    return aip_quarterly_amount([counts[b] for b in SCORE_BANDS]), None


def _prepaid_static(contract: PathContract, levels: tuple[str, ...], starts: tuple[int, ...],
                    numbers: tuple[int, ...]) -> tuple[str | None, ...]:
    n = contract.setup.years_per_agreement
    return tuple(prepaid_ineligibility(contract.program, levels[k * n:(k + 1) * n], start, number)
                 for k, (start, number) in enumerate(zip(starts, numbers)))


# ---- what the cash is worth -------------------------------------------------------------------


@dataclass(frozen=True)
class CashResult:
    """One contract's cash flows reduced to what the Dataset keeps (``S`` simulations,
    ``Y`` calendar years of the grid)."""

    by_year: np.ndarray          # (S, Y) cash of each calendar year
    items_by_year: np.ndarray    # (K, Y) mean of each item in each calendar year
    npv: np.ndarray              # (S,)
    total: np.ndarray            # (S,) undiscounted
    low: np.ndarray              # (S,) lowest cumulative balance (<= 0)
    payback: np.ndarray          # (S,) calendar year, NaN = not within the grid
    below_reserve: np.ndarray    # (S, Y) the reserve ran out in the year
    aip_outstanding: np.ndarray  # (S,) advance investment payments not yet recouped at the end
    prepaid_in: np.ndarray       # (S,) prepaid shared savings received


def contract_cash(c: ContractCash, finance: Finance, grid: MonthGrid) -> CashResult:
    """Cash flows of one contract by month (in blocks of simulations), reduced (`CashResult`)."""
    sims = c.settlement.shape[0]
    years = grid.calendar_years
    year_of = grid.years
    columns = [np.flatnonzero(year_of == y) for y in years]
    discount = grid.discount(finance.discount_rate)
    reserve = finance.reserve
    opening = reserve.amount if reserve is not None else 0.0
    distributed = 1.0 - (reserve.retained_share if reserve is not None else 1.0)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("by_year", "npv", "total", "low", "payback", "below",
                                                          "aip_out", "prepaid_in")}
    item_sums = np.zeros((len(ITEMS), len(years)))
    for lo in range(0, sims, BLOCK):
        block = _block(c, lo, min(lo + BLOCK, sims))
        items = cash_items(block, finance, grid)            # (K, s, M)
        cash = items.sum(axis=0)                             # (s, M)
        cumulative = np.cumsum(cash, axis=1)
        item_sums += np.stack([items[:, :, col].sum(axis=(1, 2)) for col in columns], axis=1)
        parts["by_year"].append(np.stack([cash[:, col].sum(axis=1) for col in columns], axis=1))
        # Row by row (not a BLAS product, whose rounding depends on the block and its threads).
        parts["npv"].append((cash * discount).sum(axis=1))
        parts["total"].append(cumulative[:, -1])
        parts["low"].append(np.minimum(cumulative.min(axis=1), 0.0))
        parts["payback"].append(_payback(cumulative, year_of, grid.first_year))
        # The reserve: opening cash plus every flow, less the distributed share of shared
        # savings received (after recoupment).
        received = (items[ITEM_INDEX["savings"]] + items[ITEM_INDEX["aip_recouped"]]
                    + items[ITEM_INDEX["prepaid_recouped"]])
        balance = opening + np.cumsum(cash - distributed * np.maximum(received, 0.0), axis=1)
        parts["below"].append(np.stack([(balance[:, col] < -1e-6).any(axis=1) for col in columns], axis=1))
        aip_in = items[ITEM_INDEX["aip"]].sum(axis=1)
        parts["aip_out"].append(aip_in + items[ITEM_INDEX["aip_recouped"]].sum(axis=1))
        parts["prepaid_in"].append(items[ITEM_INDEX["prepaid"]].sum(axis=1))
    joined = {k: np.concatenate(v, axis=0) for k, v in parts.items()}
    return CashResult(by_year=joined["by_year"], items_by_year=item_sums / sims, npv=joined["npv"],
                      total=joined["total"], low=joined["low"], payback=joined["payback"],
                      below_reserve=joined["below"], aip_outstanding=joined["aip_out"],
                      prepaid_in=joined["prepaid_in"])


def _block(c: ContractCash, lo: int, hi: int) -> ContractCash:
    """``c`` restricted to simulations ``lo .. hi - 1``."""
    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[lo:hi]

    return replace(c, settlement=c.settlement[lo:hi], effort=cut(c.effort),
                   repayment_mechanism=c.repayment_mechanism[lo:hi], per_capita_savings=c.per_capita_savings[lo:hi],
                   national_per_capita=cut(c.national_per_capita))


def _payback(cumulative: np.ndarray, year_of: np.ndarray, first_year: int) -> np.ndarray:
    """Calendar year of the month from which each row's cumulative balance stays >= 0
    (``first_year`` if it never falls below: nothing to pay back); NaN if the last month is
    below zero."""
    below = cumulative < -1e-6
    months = cumulative.shape[1]
    # Index of the last month below zero (-1 if none), then the month after it.
    last = np.where(below.any(axis=1), months - 1 - np.argmax(below[:, ::-1], axis=1), -1)
    after = last + 1
    out = np.full(cumulative.shape[0], np.nan)
    ok = after < months
    out[ok] = year_of[after[ok]]
    out[last < 0] = first_year
    return out


def _finance_row(r: CashResult) -> tuple[list[float], list[float]]:
    """The `FINANCE_MEASURES` of one contract and their Monte Carlo standard errors."""
    n = r.npv.size
    no_gain = np.zeros(n, dtype=bool)
    npv, npv_se = summarize(r.npv, no_gain)
    total, total_se = summarize(r.total, no_gain)
    low, low_se = summarize(r.low, no_gain)

    def mean(x: np.ndarray) -> tuple[float, float]:
        return float(x.mean()), float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0

    def prob(x: Any) -> tuple[float, float]:
        p = float(np.mean(x))
        return p, math.sqrt(p * (1.0 - p) / n)

    paid_back = ~np.isnan(r.payback)
    years = np.sort(np.where(paid_back, r.payback, np.inf))
    median = float(np.quantile(years, 0.5, method="inverted_cdf"))
    finite = np.where(np.isfinite(years), years, years[np.isfinite(years)].max() + 100 if paid_back.any() else 0)
    median_se = var_standard_error(finite, 0.5) if math.isfinite(median) else math.nan
    aip_in = r.items_by_year[ITEM_INDEX["aip"]].sum()
    rows = {
        "npv": (npv["mean"], npv_se["mean"]),
        "npv_sd": (npv["sd"], npv_se["sd"]),
        "p_npv_negative": (npv["p_loss"], npv_se["p_loss"]),
        "cumulative": (total["mean"], total_se["mean"]),
        "p_cumulative_loss": (total["p_loss"], total_se["p_loss"]),
        "cumulative_VaR95": (total["VaR95"], total_se["VaR95"]),
        "cumulative_TVaR95": (total["TVaR95"], total_se["TVaR95"]),
        "cash_low": (low["mean"], low_se["mean"]),
        "cash_low_1in20": (-low["VaR95"] + 0.0, low_se["VaR95"]),
        "p_cash_below_reserve": prob(r.below_reserve.any(axis=1)),
        "payback_year": (median if math.isfinite(median) else math.nan, median_se),
        "p_payback": prob(paid_back),
        "aip_received": (float(aip_in), 0.0),
        "aip_outstanding": mean(r.aip_outstanding),
        "prepaid_received": mean(r.prepaid_in),
        "p_prepaid": prob(r.prepaid_in > 0),
    }
    return [rows[m][0] for m in FINANCE_MEASURES], [rows[m][1] for m in FINANCE_MEASURES]


def cash_variables(scenario: Scenario, arrays: AgreementArrays) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The Dataset variables, coordinates and attributes of a run's cash flows.

    Variables (dims ``contract``, ``sim``, ``cash_year``, ``cash_item``, ``finance_measure``):
    ``cash_by_year``, ``cash_items`` (mean of each item by year), ``npv``, ``cash_total``,
    ``cash_low``, ``payback_year``, ``p_cash_below_reserve`` (by year) with ``_se``,
    ``finance_summary`` and ``finance_summary_se`` (`FINANCE_MEASURES`), ``aip_outstanding``;
    attributes ``discount_rate``, ``valuation_date``, ``reserve``, ``finance_notes``.
    """
    finance = scenario.spec.finance
    assert finance is not None
    inputs = contract_inputs(scenario, arrays)
    grid = grid_for(arrays.years, finance, [c.timing for c in inputs])
    results = [contract_cash(c, finance, grid) for c in inputs]
    n = arrays.net.shape[1]
    rows = [_finance_row(r) for r in results]
    below = np.stack([r.below_reserve.mean(axis=0) for r in results])
    usd = {"units": "USD"}
    data_vars = {
        "cash_by_year": (("contract", "sim", "cash_year"), np.stack([r.by_year for r in results]),
                         {**usd, "long_name": "cash to the organisation in the calendar year (all items)"}),
        "cash_items": (("contract", "cash_item", "cash_year"), np.stack([r.items_by_year for r in results]),
                       {**usd, "long_name": "mean cash of each item in the calendar year"}),
        "npv": (("contract", "sim"), np.stack([r.npv for r in results]),
                {**usd, "long_name": f"net present value at {finance.discount_rate:.2%} a year"}),
        "cash_total": (("contract", "sim"), np.stack([r.total for r in results]),
                       {**usd, "long_name": "all the cash over the horizon, undiscounted"}),
        "cash_low": (("contract", "sim"), np.stack([r.low for r in results]),
                     {**usd, "long_name": "lowest cumulative cash balance (month ends, from 0)"}),
        "payback_year": (("contract", "sim"), np.stack([r.payback for r in results]),
                         {"long_name": "year from which the cumulative cash balance stays >= 0 (NaN: not within the "
                                       "horizon)"}),
        "aip_outstanding": (("contract", "sim"), np.stack([r.aip_outstanding for r in results]),
                            {**usd, "long_name": "advance investment payments not recouped by the end (carried "
                                                 "forward to later agreements, 42 CFR 425.630(g)(1))"}),
        "p_cash_below_reserve": (("contract", "cash_year"), below,
                                 {"units": "1", "long_name": "P(the reserve runs out during the year)"}),
        "p_cash_below_reserve_se": (("contract", "cash_year"), np.sqrt(below * (1.0 - below) / n), {}),
        "finance_summary": (("contract", "finance_measure"), np.array([r[0] for r in rows]),
                            {"long_name": "value and liquidity over the horizon (money in USD)"}),
        "finance_summary_se": (("contract", "finance_measure"), np.array([r[1] for r in rows]),
                               {"long_name": "Monte Carlo standard error of finance_summary"}),
        "aip_status": (("contract",), np.array([_status(c, "advance investment payments") for c in inputs])),
    }
    coords = {"cash_year": grid.calendar_years.astype(np.int64), "cash_item": list(ITEMS),
              "finance_measure": list(FINANCE_MEASURES)}
    attrs = {
        "discount_rate": finance.discount_rate,
        "valuation_date": f"{grid.first_year}-01-01",
        "reserve": finance.reserve.amount if finance.reserve is not None else 0.0,
        "finance_notes": "\n".join(finance_notes(scenario, inputs, grid)),
    }
    return data_vars, coords, attrs


def _status(c: ContractCash, what: str) -> str:
    for note in c.notes:
        if what in note:
            return note
    return f"no {what}"


def finance_notes(scenario: Scenario, inputs: list[ContractCash], grid: MonthGrid) -> list[str]:
    """The lines a reader of the cash flows must know: conventions, dates and their sources,
    costs and who pays them, advance payments by contract."""
    finance = scenario.spec.finance
    assert finance is not None
    lines = [f"money of a month moves at its end; net present value at {finance.discount_rate:.2%} a year to "
             f"1 January {grid.first_year}; months {grid.label(grid.start)} to {grid.label(grid.stop - 1)}; cash of "
             "years before the horizon (a renewing ACO's earlier settlements) not counted"]
    lines += list(dict.fromkeys(c.timing.source for c in inputs if c.timing is not None))
    lines.append("the effort's cost (assumptions.care_management_pmpm, ffs_margin_lost) under every contract, "
                 "fee-for-service included; start-up, operating costs and the repayment mechanism's fee under every "
                 "contract that settles; operating costs stop after the last performance year")
    if finance.repayment_mechanism_fee is not None:
        lines.append(f"repayment mechanism or financial guarantee: {finance.repayment_mechanism_fee:.2%} of its "
                     "amount a year, paid each January it is held, to 12 months after the last year that needs it "
                     "(MSSP: 42 CFR 425.204(f)(6); LEAD's guarantee taken the same [INF]) "
                     "[finance.repayment_mechanism_fee]")
    if finance.advance_investment_payments is not None:
        lines.append("advance investment payments: $250,000 at the start of PY1 and 8 quarterly payments in PY1-2 "
                     "(paid in each quarter's first month [INF]), recouped from shared savings, never more than a "
                     "year's savings; a balance left at the end is carried to later agreements, not repaid "
                     "(42 CFR 425.630(f), (g)(1), (g)(3)); early termination is not simulated")
    if finance.prepaid_shared_savings is not None:
        lines.append("prepaid shared savings: quarterly for the whole agreement, multiplier from the per capita "
                     "savings of BY1-BY2, recouped from shared savings, a balance repaid 90 days after the last "
                     "year's notice (42 CFR 425.640(f), (g)); the last year reconciled before the agreement is "
                     "taken to be BY2 [INF]; " + PREPAID_PROPOSED_NOTE)
    if finance.reserve is not None:
        lines.append(f"reserve: {money(finance.reserve.amount)} at the start; "
                     f"{finance.reserve.retained_share:.0%} of each shared savings payment kept in it")
    for c in inputs:
        lines += [f"{c.name}: {note}" for note in c.notes]
    return lines
