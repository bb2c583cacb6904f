"""What every contract family shares: the per-simulation inputs it settles on and its output.

These are the types two stages exchange: the engines (Monte Carlo, exact) build a
`PanelYear` and hand it to a family's ``settle``, which returns a `Settlement`.
`simsuite.engines.settlement_inputs` is the one place that builds `PanelYear`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts._types import STRICT
from simsuite.errors import FieldProblem


@dataclass(frozen=True)
class CapSpec:
    """A per-beneficiary cap whose panel sum a contract needs.

    Attributes
    ----------
    percentile : float or None
        Cap each beneficiary's annual cost at this national percentile of its
        enrollment type (MSSP truncation: 0.99).
    dollars : float or None
        Cap each beneficiary's annual cost at a flat amount, dollars (a specific
        stop-loss attachment point).

    ``CapSpec()`` (neither set) means uncapped.
    """

    percentile: float | None = None
    dollars: float | None = None


UNCAPPED = CapSpec()


@dataclass(frozen=True)
class PanelTotal:
    """One panel total a settlement may depend on: ``sum_i min(C_i, cap) + coins (C_i - cap)+``.

    ``cap`` is a per-beneficiary cap (`UNCAPPED` = the raw cost) and ``coins`` the share
    of cost above it that still counts (0 = a hard cap; specific stop-loss coinsurance).
    The exact method computes the distribution of one such total per contract.
    """

    cap: CapSpec
    coins: float = 0.0


class HighCostCap(BaseModel):
    """How each episode's cost is capped before reconciliation (and in the benchmark).

    Attributes
    ----------
    kind : {"percentile", "sd_above_mean"}
        ``percentile``: cap at the ``value`` quantile of the benchmark episode-cost
        distribution (0.99 for TEAM, BPCI Advanced); ``sd_above_mean``: cap at its mean
        plus ``value`` standard deviations (2 for CJR).
    value : float
        The percentile as a fraction in (0.5, 1), or the number of standard deviations.
    """

    model_config = STRICT
    kind: Literal["percentile", "sd_above_mean"]
    value: Annotated[float, Field(gt=0.0, le=10.0)]

    @model_validator(mode="after")
    def _in_range(self) -> HighCostCap:
        if self.kind == "percentile" and not 0.5 < self.value < 1.0:
            raise FieldProblem(("value",), f"a percentile cap must be a fraction in (0.5, 1) (got {self.value})")
        return self


@dataclass(frozen=True)
class EpisodeTotals:
    """Per-simulation episode totals of every category, and what they are priced against.

    Attributes
    ----------
    categories : tuple of str
        Category of each row of the scenario's ``episodes:`` (``C`` of them).
    groups : tuple of (str or None)
        Pricing group of each category (``medical`` / ``surgical`` / None).
    caps : tuple of HighCostCap
        The caps some contract needs, in the order of the last axis of ``capped``.
    cap_dollars : ndarray, shape (K, C)
        Each cap in dollars per episode, from the benchmark distribution ``X0``.
    expected_capped : ndarray, shape (K, C)
        Benchmark price per episode ``E[min(X0, cap)]``, dollars (closed form).
    expected_raw : ndarray, shape (C,)
        ``E[X0]`` = ``mean_cost``, dollars.
    count : ndarray of int64, shape (S, C)
        Episodes in each simulation.
    raw : ndarray, shape (S, C)
        Sum of episode costs, dollars.
    capped : ndarray, shape (S, C, K)
        Sum of episode costs capped at ``cap_dollars[k]``, dollars.
    """

    categories: tuple[str, ...]
    groups: tuple[str | None, ...]
    caps: tuple[HighCostCap, ...]
    cap_dollars: np.ndarray
    expected_capped: np.ndarray
    expected_raw: np.ndarray
    count: np.ndarray
    raw: np.ndarray
    capped: np.ndarray

    def sums(self, cap: HighCostCap | None) -> np.ndarray:
        """Per-simulation, per-category cost sums under ``cap`` (None = raw), dollars, (S, C)."""
        return self.raw if cap is None else self.capped[:, :, self.caps.index(cap)]

    def benchmark_per_episode(self, cap: HighCostCap | None) -> np.ndarray:
        """Benchmark price per episode under ``cap`` (None = uncapped), dollars, shape (C,)."""
        return self.expected_raw if cap is None else self.expected_capped[self.caps.index(cap)]




@dataclass(frozen=True)
class RuleFacts:
    """What a year's rules read about the organisation and its choices, besides the draws.

    One per scenario (`simsuite.scenario.load.Scenario.facts`), from its header and
    ``assumptions``; a family checks it when the scenario is loaded (`Family.check`) and
    reads it when it settles (`PanelYear.facts`). ``None`` means the scenario did not say.

    Attributes
    ----------
    performance_year : int
        The performance year settled.
    agreement_start : int
        Calendar year the agreement period started (MSSP rules differ by it: the risk-score
        cap, the low-revenue half rate, the rules for ACOs below 5,000 beneficiaries).
    agreement_start_given : bool
        Whether the scenario stated it (otherwise it is the performance year: a new agreement).
    n_beneficiaries : int
        Assigned (or attributed) beneficiaries.
    quality_score, quality_score_sd : float
        Mean and sd of the simulated quality score (fractions).
    quality_standard : str or None
        An explicit ``met`` / ``alternative`` / ``not_met`` for every simulation; None = decided
        per simulation from the drawn score.
    quality_threshold : float or None
        The score (fraction) at which the quality standard is met, when the scenario gives it.
    alternative_standard_probability : float or None
        Probability that the alternative quality standard is met when the score misses the
        threshold.
    participant_revenue_to_benchmark : float or None
        Participants' Parts A and B FFS revenue as a multiple of the benchmark.
    low_revenue : bool or None
        Explicit low-revenue status; None = derived from the revenue where a rule needs it.
    benchmark_risk_score, demographic_risk_growth, risk_score_2019 : bool
        Whether the scenario states the base-year risk score, the demographic risk-score growth
        and the 2019 risk score (what the families' risk-score caps read).
    """

    performance_year: int
    agreement_start: int
    n_beneficiaries: int
    quality_score: float
    quality_score_sd: float = 0.0
    agreement_start_given: bool = False
    quality_standard: str | None = None
    quality_threshold: float | None = None
    alternative_standard_probability: float | None = None
    participant_revenue_to_benchmark: float | None = None
    low_revenue: bool | None = None
    benchmark_risk_score: bool = False
    demographic_risk_growth: bool = False
    risk_score_2019: bool = False


@dataclass(frozen=True)
class RiskGrowth:
    """The panel's risk-score growth since the benchmark's base year, by group of beneficiaries.

    A group is an enrollment type (or the whole panel when the scenario gives one base-year
    score). Arrays have shape ``(T,)``, one value per group; ratios are dimensionless.

    Attributes
    ----------
    agreement_start : int
        Calendar year the agreement period started.
    hcc_ratio : ndarray
        Performance-year over base-year HCC risk score.
    demographic_ratio : ndarray or None
        Performance-year over base-year demographic risk score (None: not given).
    weights : ndarray
        Aggregation weights, dollars: each group's benchmark at base-year risk (its expected
        cost over its HCC ratio), i.e. per-capita benchmark times person-years.
    ratio_since_2019 : ndarray or None
        Performance-year over 2019 HCC risk score (None: not given).
    """

    agreement_start: int
    hcc_ratio: np.ndarray
    weights: np.ndarray
    demographic_ratio: np.ndarray | None = None
    ratio_since_2019: np.ndarray | None = None


@dataclass(frozen=True)
class PanelYear:
    """Per-simulation totals of one performance year, as a contract sees them.

    All money is in dollars for the whole panel and the whole year. Arrays have
    shape ``(S,)``, one value per simulation.

    Attributes
    ----------
    n_beneficiaries : int
        Assigned (or attributed) beneficiaries; sets size-based rules such as the MSR.
    benchmark : ndarray
        Updated, risk-adjusted benchmark total, dollars (before any contract discount).
    expenditure : ndarray
        Actual Parts A and B expenditure, truncated per beneficiary as the contract
        requires, dollars.
    quality_score : ndarray
        Quality score as a fraction in [0, 1].
    quality_standard : str, ndarray of str or None
        ``"met"``, ``"alternative"`` (alternative quality standard met) or ``"not_met"``,
        for every simulation or per simulation; ``None``: the contract decides it from the
        score and ``facts`` (`simsuite.contracts.mssp_rules.quality_standard_met`).
    participant_revenue : float or None
        ACO participants' total Parts A and B FFS revenue, dollars; ``None`` if unknown
        (then revenue-based loss limits are not applied).
    low_revenue : bool or None
        Whether the ACO is low-revenue in the MSSP sense (eligible for reduced savings
        below the MSR); ``None``: derived from ``participant_revenue`` and
        ``assigned_expenditure`` (42 CFR 425.20).
    raw : ndarray or None
        Untruncated panel cost, dollars, shape ``(S,)``.
    capped : mapping of CapSpec to ndarray
        Panel sums of per-beneficiary costs under every cap the contract asked for.
    episodes : EpisodeTotals or None
        Per-simulation episode totals for episode-payment contracts.
    expected : mapping of CapSpec to float
        Expected panel sum under each cap without the organisation's savings effort,
        dollars (what an insurer would price on).
    facts : RuleFacts or None
        The scenario's facts the rules read (performance year, agreement start, quality
        threshold...); None outside a scenario (tests of the formulas).
    assigned_expenditure : float or None
        The assigned beneficiaries' total (untruncated) Parts A and B expenditure of a
        recent year, dollars: the expected panel cost without the effort. Sets the
        low-revenue test and the MSSP repayment mechanism.
    alternative_draw : ndarray or None
        One uniform in [0, 1) per simulation: the alternative quality standard is met when
        it is below ``facts.alternative_standard_probability``. None without simulations
        (exact method, payoff figure): then the more likely outcome is used.
    """

    n_beneficiaries: int
    benchmark: np.ndarray
    expenditure: np.ndarray
    quality_score: np.ndarray
    quality_standard: str | np.ndarray | None = "met"
    participant_revenue: float | None = None
    low_revenue: bool | None = False
    raw: np.ndarray | None = None
    capped: Mapping[CapSpec, np.ndarray] = field(default_factory=dict)
    episodes: EpisodeTotals | None = None
    expected: Mapping[CapSpec, float] = field(default_factory=dict)
    facts: RuleFacts | None = None
    assigned_expenditure: float | None = None
    alternative_draw: np.ndarray | None = None

    @property
    def member_months(self) -> int:
        """Beneficiary-months in the year (12 per beneficiary)."""
        return 12 * self.n_beneficiaries


@dataclass(frozen=True)
class Settlement:
    """Result of settling one contract on every simulation.

    Attributes
    ----------
    net : ndarray
        Money to the provider, dollars per year (positive = paid to the provider,
        negative = owed by it), shape ``(S,)``.
    gain_shared : ndarray of bool
        Whether the contract paid any shared savings (or positive reconciliation) in
        that simulation, shape ``(S,)``.
    benchmark, expenditure : ndarray or None
        What the contract actually compared, dollars, shape ``(S,)``, when it is not the
        panel's benchmark and expenditure (e.g. episode target prices and spending).
    """

    net: np.ndarray
    gain_shared: np.ndarray
    benchmark: np.ndarray | None = None
    expenditure: np.ndarray | None = None


#: Performance years of an MSSP agreement period since July 2019 (42 CFR 425.200(b)(3)).
AGREEMENT_YEARS = 5


@dataclass(frozen=True)
class AgreementSetup:
    """The agreement periods a multi-year contract runs through (a scenario's ``horizon``).

    Attributes
    ----------
    start : int
        First performance year of the first agreement.
    number : int
        That agreement's number for the organisation (1 = its first).
    agreements : int
        Agreement periods, one after another.
    years_per_agreement : int
        Performance years of each agreement but the last: 5, fewer when it is renewed early.
    last_agreement_years : int or None
        Performance years of the last simulated agreement (a scenario's horizon: its full
        `AGREEMENT_YEARS`); None: ``years_per_agreement``.
    prior_savings : tuple of 3 floats or None
        Savings rates of the three performance years before ``start`` (renewals).
    experienced : bool
        Experienced with performance-based risk.
    acpt : float
        Projected annual growth fixed at each agreement's start (ACPT), fraction.
    dual_lis_share : float
        Share of assigned beneficiaries dually eligible or on the Part D low-income subsidy.
    """

    start: int
    number: int
    agreements: int
    years_per_agreement: int
    prior_savings: tuple[float, ...] | None
    experienced: bool
    acpt: float
    dual_lis_share: float = 0.0
    last_agreement_years: int | None = None

    @property
    def lengths(self) -> list[int]:
        """Performance years of each agreement: early renewal shortens all but the last."""
        last = self.years_per_agreement if self.last_agreement_years is None else self.last_agreement_years
        return [self.years_per_agreement] * (self.agreements - 1) + [last]

    @property
    def performance_years(self) -> list[int]:
        """Calendar years of every performance year, in order."""
        return list(range(self.start, self.start + sum(self.lengths)))

    def agreement_starts(self) -> list[int]:
        """First performance year of each agreement."""
        return [self.start + sum(self.lengths[:k]) for k in range(self.agreements)]

    def agreement_start_of(self, year: int) -> int:
        """First performance year of the agreement ``year`` belongs to (the first one for earlier years)."""
        return max([s for s in self.agreement_starts() if s <= year], default=self.start)

    def facts_in(self, facts: RuleFacts, year: int) -> RuleFacts:
        """``facts`` as the rules of performance year ``year`` of these agreements read them."""
        return replace(facts, performance_year=year, agreement_start=self.agreement_start_of(year),
                       agreement_start_given=True)


@dataclass(frozen=True)
class PanelHistory:
    """Per-simulation spending of a panel over calendar years, as a multi-year contract reads it.

    Arrays are indexed by simulation ``S``, calendar year ``Y`` (``years``: the first
    agreement's three benchmark years, then every performance year) and enrollment type
    ``E``. Money is dollars; per capita amounts are per person-year.

    Attributes
    ----------
    years : ndarray of int, shape (Y,)
        Calendar years.
    person_years : ndarray, shape (E,)
        Assigned person-years by enrollment type (the same every year).
    truncated, raw : ndarray, shape (S, Y, E)
        Panel spending by type, each beneficiary truncated at the national 99th percentile
        of the year (MSSP, 42 CFR 425.652(a)(4)), and untruncated.
    regional_per_capita, national_per_capita : ndarray, shape (S, Y, E)
        Per capita spending of the ACO's region and of the nation by type, risk-adjusted to
        the ACO's case mix of the first year: their growth is risk-neutral (multiply the
        region by ``hcc_ratio`` of a year for its spending at the ACO's case mix of that year).
    hcc_ratio, demographic_ratio : ndarray, shape (Y,)
        The panel's average prospective HCC and demographic risk scores relative to the
        first year.
    risk_score : float
        The panel's average prospective HCC risk score in the first year (default 1).
    quality : ndarray, shape (S, Y)
        Quality score of each simulation and year (fraction).
    alternative_draw : ndarray, shape (S, Y)
        One uniform per simulation and year deciding whether the alternative quality
        standard is met (`simsuite.contracts.mssp_rules.alternative_standard_met`).
    facts : RuleFacts
        The scenario's facts (quality standard or threshold, participant revenue,
        low-revenue status); `AgreementSetup.facts_in` gives a year's.
    aco_share : float
        Share of the region's assignable beneficiaries assigned to the ACO (``wN``).
    dual_share : float
        Share of assigned beneficiaries dually eligible (BY3).
    setup : AgreementSetup
        The agreement periods.
    untruncated_ratio : ndarray, shape (Y, E), or None
        Expected untruncated over expected truncated per capita spending of the panel by
        year and type (without the organisation's effort): puts ``regional_per_capita`` and
        ``national_per_capita`` on the untruncated basis of programs that settle on
        untruncated spending (LEAD, commercial). None: not known (taken as 1).
    """

    years: np.ndarray
    person_years: np.ndarray
    truncated: np.ndarray
    raw: np.ndarray
    regional_per_capita: np.ndarray
    national_per_capita: np.ndarray
    hcc_ratio: np.ndarray
    demographic_ratio: np.ndarray
    quality: np.ndarray
    alternative_draw: np.ndarray
    facts: RuleFacts
    aco_share: float
    dual_share: float
    setup: AgreementSetup
    untruncated_ratio: np.ndarray | None = None
    risk_score: float = 1.0

    def index(self, year: int) -> int:
        """Position of calendar ``year`` on the ``Y`` axis."""
        return int(year - self.years[0])

    @property
    def n_beneficiaries(self) -> int:
        """Assigned beneficiaries (person-years of a year)."""
        return int(round(float(self.person_years.sum())))

    def untruncated(self, per_capita: np.ndarray) -> np.ndarray:
        """Regional or national per capita spending ``(S, Y, E)`` on the untruncated basis."""
        return per_capita if self.untruncated_ratio is None else per_capita * self.untruncated_ratio[None, :, :]


@dataclass(frozen=True)
class PathSettlement:
    """What a contract path settled in each performance year, arrays of shape ``(S, P)``.

    Attributes
    ----------
    years : tuple of int
        The ``P`` performance years.
    levels : tuple of str
        The track or level of each (e.g. ``"BASIC A"``, ``"ENHANCED"``).
    net : ndarray
        Money to the provider, dollars (positive = paid to it).
    gain_shared : ndarray of bool
        Whether shared savings were paid.
    benchmark, expenditure : ndarray
        What was compared, dollars.
    repayment_mechanism : ndarray
        The repayment mechanism required in the year, dollars (0 in one-sided years).
    guardrail : ndarray of bool
        Where the ACPT loss guardrail's benchmark was used (or neither savings nor losses).
    """

    years: tuple[int, ...]
    levels: tuple[str, ...]
    net: np.ndarray
    gain_shared: np.ndarray
    benchmark: np.ndarray
    expenditure: np.ndarray
    repayment_mechanism: np.ndarray
    guardrail: np.ndarray
