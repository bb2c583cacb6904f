"""MSSP-style shared savings and losses (BASIC A-E, ENHANCED, and the older tracks).

Rules (42 CFR 425.604/.605/.610; see ``shared/reference/payment-rules.md`` §1.4):

* savings rate ``s = (B - X) / B`` of the updated benchmark ``B`` and the truncated
  expenditure ``X``;
* savings are shared on a first-dollar basis once ``s >= MSR``, at the final sharing
  rate (quality-dependent), reduced by sequestration, then capped at a share of ``B``;
* losses (two-sided only) are shared on the whole loss once ``-s >= MLR``, at the loss
  rate, capped at the lesser of a share of participant revenue and a share of ``B``,
  then reduced by any extreme-and-uncontrollable-circumstances (EUC) relief. Shared
  losses are not sequestered (PUF-2024: A5193 owes exactly 0.30 x its loss).

In a scenario (`settle`) the year's rules are read from `simsuite.contracts.base.RuleFacts`
with the functions of `simsuite.contracts.mssp_rules`: which quality standard each
simulation meets (from its drawn score, 425.512), the low-revenue status (425.20) and the
half rate's agreement-period condition (425.605(h)), the risk-score cap on the benchmark
(425.605(a)(1), 425.610(a)(2)) and the repayment mechanism (425.204(f)(4)). `check`
refuses a scenario that does not state what these need.

All money is dollars for the panel and the year; positive = paid to the ACO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts import mssp_rules as rules
from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal, PanelYear, RiskGrowth, RuleFacts, Settlement
from simsuite.contracts.registry import Family, register_family
from simsuite.contracts.tables import msr_by_beneficiaries, msr_table_start, quality_performance_standard
from simsuite.errors import FieldProblem
from simsuite.formatting import money

QualityStandard = Literal["met", "alternative", "not_met"]


class SharedSavingsTerms(BaseModel):
    """Terms of an MSSP-style shared savings contract. Rates are fractions.

    Attributes
    ----------
    two_sided : bool
        Whether the ACO shares losses.
    sharing_rate : float
        Maximum final sharing rate (BASIC A/B 0.40, C-E 0.50, ENHANCED 0.75).
    quality_sharing : {"scaled", "gate", "sliding"}
        How quality sets the final sharing rate: ``scaled`` = max rate x quality
        score (PY2012-2020); ``gate`` = max rate if the quality standard is met,
        else 0 (PY2021-2022: no alternative standard exists); ``sliding`` = max rate if
        met, max rate x quality score if only the alternative standard is met, else 0
        (PY2023 and later). Only ``sliding`` years have an alternative standard.
    savings_cap : float
        Cap on earned savings, fraction of the updated benchmark.
    msr : "variable" or float
        Minimum savings rate: ``"variable"`` uses the size-based table; a number is a
        fixed (elected) rate. For two-sided contracts the MLR equals the MSR.
    loss_rate, loss_rate_quality_slope, loss_rate_floor, loss_rate_ceiling : float
        Shared loss rate ``clip(loss_rate - slope * q, floor, ceiling)`` where ``q`` is
        the quality score, or 0 if no quality standard was met.
    loss_cap_revenue, loss_cap_benchmark : float or None
        Loss limits as fractions of participant FFS revenue and of the benchmark;
        the lesser applies; ``None`` = no such limit.
    sequestration : float
        Reduction of earned savings before the cap (0.02; 0 in PY2019-2020).
    low_revenue_share_below_msr : float or None
        For low-revenue BASIC ACOs with >= 5,000 beneficiaries and savings above 0 but
        below the MSR: fraction of the sharing rate paid (0.5). ``None`` = no such rule.
    truncation_percentile : float
        Per-beneficiary expenditure is truncated at this national percentile (0.99);
        1.0 means no truncation.
    """

    model_config = STRICT

    two_sided: bool
    sharing_rate: Rate
    quality_sharing: Literal["scaled", "gate", "sliding"]
    savings_cap: Rate
    msr: Literal["variable"] | Annotated[float, Field(ge=0.0, lt=1.0)]
    loss_rate: Rate | None = None
    loss_rate_quality_slope: Rate = 0.0
    loss_rate_floor: Rate = 0.0
    loss_rate_ceiling: Rate = 1.0
    loss_cap_revenue: Rate | None = None
    loss_cap_benchmark: Rate | None = None
    sequestration: Rate = 0.0
    low_revenue_share_below_msr: Rate | None = None
    truncation_percentile: Annotated[float, Field(gt=0.5, le=1.0)] = 0.99

    @model_validator(mode="after")
    def _consistent(self) -> SharedSavingsTerms:
        if self.loss_rate_floor > self.loss_rate_ceiling:
            raise FieldProblem(
                ("loss_rate_floor",),
                f"{self.loss_rate_floor} is above loss_rate_ceiling {self.loss_rate_ceiling}",
            )
        if self.two_sided and self.loss_rate is None:
            raise FieldProblem(("loss_rate",), "a two-sided contract needs a loss_rate")
        return self


def minimum_rates(terms: SharedSavingsTerms, n_beneficiaries: int | np.ndarray) -> tuple:
    """Minimum savings and loss rates (fractions) for a panel size.

    Returns
    -------
    msr, mlr : ndarray
        ``mlr`` is ``inf`` for one-sided contracts (losses are never shared).
    """
    if terms.msr == "variable":
        msr = msr_by_beneficiaries(n_beneficiaries)
    else:
        msr = np.full(np.shape(n_beneficiaries), float(terms.msr))
    mlr = msr if terms.two_sided else np.full(np.shape(msr), np.inf)
    return msr, mlr


def final_sharing_rate(
    terms: SharedSavingsTerms, quality_score: np.ndarray | float, quality_standard: np.ndarray | str
) -> np.ndarray:
    """Final sharing rate (fraction) from the quality score and standard."""
    q = np.asarray(quality_score, dtype=float)
    std = np.asarray(quality_standard)
    met, alt = std == "met", std == "alternative"
    r = terms.sharing_rate
    if terms.quality_sharing == "scaled":
        return np.where(met | alt, r * q, 0.0)
    if terms.quality_sharing == "gate":
        return np.where(met, r, 0.0) + 0.0 * q
    return np.where(met, r, np.where(alt, r * q, 0.0))


def shared_loss_rate(
    terms: SharedSavingsTerms, quality_score: np.ndarray | float, quality_standard: np.ndarray | str
) -> np.ndarray:
    """Shared loss rate (fraction); quality counts only if a standard was met."""
    if terms.loss_rate is None:
        return np.zeros(np.shape(quality_score))
    q = np.asarray(quality_score, dtype=float)
    std = np.asarray(quality_standard)
    q_eff = np.where((std == "met") | (std == "alternative"), q, 0.0)
    rate = terms.loss_rate - terms.loss_rate_quality_slope * q_eff
    return np.clip(rate, terms.loss_rate_floor, terms.loss_rate_ceiling)


@dataclass(frozen=True)
class SharedSavingsOutcome:
    """Every intermediate figure of a shared-savings settlement (arrays, dollars or fractions)."""

    savings_rate: np.ndarray  # (B - X) / B
    msr: np.ndarray
    mlr: np.ndarray
    gross: np.ndarray  # savings (+) or losses (-) that passed the MSR/MLR, else 0
    sharing_rate: np.ndarray  # final sharing rate applied to gross savings
    loss_rate: np.ndarray
    earned_savings: np.ndarray  # >= 0, after sequestration and cap
    shared_losses: np.ndarray  # >= 0, owed by the ACO, after cap and EUC relief
    savings_cap_bound: np.ndarray  # bool
    loss_cap_bound: np.ndarray  # bool
    reduced_below_msr: np.ndarray  # bool: low-revenue half-rate sharing applied

    @property
    def net(self) -> np.ndarray:
        """Money to the ACO, dollars (earned savings minus shared losses)."""
        return self.earned_savings - self.shared_losses


def settle_shared_savings(
    terms: SharedSavingsTerms,
    benchmark: np.ndarray,
    expenditure: np.ndarray,
    n_beneficiaries: int | np.ndarray,
    quality_score: np.ndarray | float,
    quality_standard: np.ndarray | str = "met",
    participant_revenue: np.ndarray | float | None = None,
    low_revenue: np.ndarray | bool = False,
    euc_loss_relief: np.ndarray | float = 0.0,
    msr: np.ndarray | float | None = None,
    mlr: np.ndarray | float | None = None,
    euc_loss_adjustment: np.ndarray | float = 0.0,
) -> SharedSavingsOutcome:
    """Settle shared savings or losses, vectorised over simulations or ACO-years.

    Parameters
    ----------
    terms : SharedSavingsTerms
        Contract terms.
    benchmark, expenditure : array_like
        Updated benchmark and truncated expenditure totals, dollars (> 0).
    n_beneficiaries : int or array_like
        Assigned beneficiaries (sets the variable MSR and the low-revenue rule).
    quality_score : array_like
        Quality score, fraction in [0, 1].
    quality_standard : str or array_like of str
        ``"met"``, ``"alternative"`` or ``"not_met"``.
    participant_revenue : array_like or None
        ACO participants' Parts A and B FFS revenue, dollars; ``None`` or NaN = unknown,
        so only the benchmark-based loss limit applies.
    low_revenue : bool or array_like
        Low-revenue ACO (eligible for reduced savings below the MSR).
    euc_loss_relief : array_like
        Fraction of shared losses forgiven for extreme and uncontrollable
        circumstances, in [0, 1].
    euc_loss_adjustment : array_like
        Dollars of shared losses forgiven for extreme and uncontrollable circumstances
        (>= 0), as CMS reports them (the PUF's ``DisAdj`` with its sign dropped).
        Subtracted after the loss cap and the fractional relief; never makes the
        result a payment to the ACO.
    msr, mlr : array_like, optional
        Override the minimum savings / loss rates (fractions), e.g. the values CMS
        published; by default they follow ``terms`` and ``n_beneficiaries``.

    Returns
    -------
    SharedSavingsOutcome
    """
    b = np.asarray(benchmark, dtype=float)
    x = np.asarray(expenditure, dtype=float)
    b, x = np.broadcast_arrays(b, x)
    n = np.asarray(n_beneficiaries)
    # The size table is consulted only when a rate is not given, so a caller that
    # supplies both rates may settle panels smaller than the table's first band.
    if msr is None or mlr is None:
        default_msr, default_mlr = minimum_rates(terms, n)
        msr = default_msr if msr is None else msr
        mlr = default_mlr if mlr is None else mlr
    msr_ = np.broadcast_to(np.asarray(msr, float), b.shape)
    mlr_ = np.broadcast_to(np.asarray(mlr, float), b.shape)
    if not terms.two_sided:
        mlr_ = np.full(b.shape, np.inf)

    diff = b - x
    s = diff / b
    fsr = np.broadcast_to(final_sharing_rate(terms, quality_score, quality_standard), b.shape)
    lr = np.broadcast_to(shared_loss_rate(terms, quality_score, quality_standard), b.shape)

    passes_msr = (diff > 0) & (s >= msr_)
    reduced = np.zeros(b.shape, dtype=bool)
    if terms.low_revenue_share_below_msr is not None:
        reduced = (
            np.broadcast_to(np.asarray(low_revenue, dtype=bool), b.shape)
            & (n >= rules.HALF_RATE_MIN_BENEFICIARIES)
            & (diff > 0)
            & ~passes_msr
        )
    rate_on_savings = np.where(
        passes_msr, fsr, np.where(reduced, fsr * (terms.low_revenue_share_below_msr or 0.0), 0.0)
    )
    uncapped = (1.0 - terms.sequestration) * rate_on_savings * np.where(passes_msr | reduced, diff, 0.0)
    savings_cap = terms.savings_cap * b
    earned = np.minimum(uncapped, savings_cap)
    savings_cap_bound = uncapped > savings_cap

    passes_mlr = (diff < 0) & (-s >= mlr_)
    loss_owed = np.where(passes_mlr, lr * -diff, 0.0)
    loss_cap = np.full(b.shape, np.inf)
    if terms.loss_cap_benchmark is not None:
        loss_cap = np.minimum(loss_cap, terms.loss_cap_benchmark * b)
    if terms.loss_cap_revenue is not None and participant_revenue is not None:
        rev = np.broadcast_to(np.asarray(participant_revenue, dtype=float), b.shape)
        loss_cap = np.where(np.isnan(rev), loss_cap, np.minimum(loss_cap, terms.loss_cap_revenue * rev))
    loss_cap_bound = loss_owed > loss_cap
    relief = np.broadcast_to(np.asarray(euc_loss_relief, dtype=float), b.shape)
    adjustment = np.broadcast_to(np.asarray(euc_loss_adjustment, dtype=float), b.shape)
    # CMS reports disaster relief in dollars; clamping at 0 keeps relief from turning
    # a loss into a payment when the forgiven amount equals the whole loss.
    shared_losses = np.maximum(np.minimum(loss_owed, loss_cap) * (1.0 - relief) - adjustment, 0.0)

    gross = np.where(passes_msr | reduced, diff, np.where(passes_mlr, diff, 0.0))
    return SharedSavingsOutcome(
        savings_rate=s,
        msr=msr_,
        mlr=mlr_,
        gross=gross,
        sharing_rate=np.where(reduced, rate_on_savings, fsr),
        loss_rate=lr if terms.two_sided else np.zeros(b.shape),
        earned_savings=earned,
        shared_losses=shared_losses,
        savings_cap_bound=savings_cap_bound,
        loss_cap_bound=loss_cap_bound,
        reduced_below_msr=reduced,
    )


def panel_problem(terms: SharedSavingsTerms, n_beneficiaries: int) -> str | None:
    """Why these terms cannot settle a panel of this size, or None."""
    smallest = msr_table_start()
    if terms.msr == "variable" and n_beneficiaries < smallest:
        return (
            f"the variable MSR needs at least {smallest:,} beneficiaries (the MSSP table starts there), "
            f"not {n_beneficiaries:,}; elect a fixed MSR under overrides (e.g. msr: 0.02) or use a larger panel"
        )
    return None


def caps(terms: SharedSavingsTerms) -> tuple[CapSpec, ...]:
    """MSSP settles on expenditure truncated at a national percentile by enrollment type."""
    if terms.truncation_percentile >= 1.0:
        return (UNCAPPED,)
    return (CapSpec(percentile=terms.truncation_percentile),)


def year_threshold(facts: RuleFacts) -> tuple[float | None, str]:
    """The quality score (fraction) at which the year's quality standard is met, and where it comes from.

    The scenario's ``quality_threshold`` if given, else the table of
    ``simsuite/presets/mssp.yaml`` (``None`` where the year is not published or not listed).
    """
    if facts.quality_threshold is not None:
        return facts.quality_threshold, "assumptions.quality_threshold"
    entry = quality_performance_standard(facts.performance_year)
    if entry is None:
        return None, "not listed"
    value, confidence, source = entry
    return value, f"{confidence}: {source}"


def year_quality_standard(terms: SharedSavingsTerms, panel: PanelYear) -> np.ndarray | str:
    """Which quality standard each simulation of ``panel`` meets.

    An explicit ``panel.quality_standard`` holds; otherwise it is decided from each drawn
    score (`mssp_rules.quality_standard_met`) against the year's threshold, the alternative
    standard (``sliding`` years only, i.e. PY2023 and later) being met with the scenario's
    probability (`mssp_rules.alternative_standard_met`).
    """
    if panel.quality_standard is not None:
        return panel.quality_standard
    facts = panel.facts
    if facts is None:
        raise ValueError("a PanelYear without a quality standard needs the scenario's facts")
    threshold, _ = year_threshold(facts)
    if threshold is None:  # `check` refused the scenario already
        raise ValueError(f"no quality performance standard for PY{facts.performance_year}")
    q = np.asarray(panel.quality_score, dtype=float)
    alternative: np.ndarray | bool = False
    if terms.quality_sharing == "sliding":
        alternative = rules.alternative_standard_met(panel.alternative_draw, facts.alternative_standard_probability,
                                                     q.shape)
    return rules.quality_standard_met(q, threshold, alternative)


def year_low_revenue(terms: SharedSavingsTerms, panel: PanelYear) -> bool:
    """Whether the half rate below the MSR may apply: a low-revenue ACO in an agreement from 2024.

    The low-revenue status is ``panel.low_revenue`` if given, else the 35% test of 425.20
    (participant revenue against the assigned beneficiaries' expenditure); unknown revenue
    counts as not low revenue (said in the run header, `notes`). 425.605(h)(1)(iv): only
    agreement periods starting in 2024 or later.
    """
    low = panel.low_revenue
    if low is None:
        rev, spent = panel.participant_revenue, panel.assigned_expenditure
        low = bool(rev is not None and spent is not None and rules.is_low_revenue(rev, spent))
    if panel.facts is not None and panel.facts.agreement_start < rules.HALF_RATE_FIRST_AGREEMENT:
        return False
    return bool(low)


def settle(terms: SharedSavingsTerms, panel: PanelYear) -> Settlement:
    """Settle every simulation of a panel year (the Monte Carlo engine's entry point)."""
    out = settle_shared_savings(
        terms,
        panel.benchmark,
        panel.expenditure,
        panel.n_beneficiaries,
        panel.quality_score,
        year_quality_standard(terms, panel),
        participant_revenue=panel.participant_revenue,
        low_revenue=year_low_revenue(terms, panel),
    )
    return Settlement(net=out.net, gain_shared=out.earned_savings > 0)


def risk_ratio(terms: SharedSavingsTerms, growth: RiskGrowth) -> np.ndarray:
    """The HCC risk ratio the MSSP benchmark follows (`mssp_rules.capped_risk_ratio`):
    demographic growth + 3 points, triggered by aggregate growth, for agreements from 2024
    (425.605(a)(1)(ii), 425.610(a)(2)(ii)); a flat 3% per type before."""
    demographic = growth.demographic_ratio
    if demographic is None:
        if growth.agreement_start >= 2024:  # `check` asks the scenario for it
            raise ValueError("agreements from 2024 cap risk growth at demographic growth + 3 points: "
                             "the demographic ratio is needed")
        demographic = np.ones_like(growth.hcc_ratio)
    return rules.capped_risk_ratio(growth.agreement_start, growth.hcc_ratio, demographic, growth.weights)


def check(terms: SharedSavingsTerms, facts: RuleFacts) -> None:
    """Refuse (`FieldProblem`, located from the scenario's root) what the year's rules cannot settle."""
    year = facts.performance_year
    sliding = terms.quality_sharing == "sliding"
    if not sliding and facts.quality_standard == "alternative":
        raise FieldProblem(("assumptions", "quality_standard"),
                           f"no alternative quality performance standard exists in PY{year} (it starts in "
                           f"PY{rules.FIRST_ALTERNATIVE_STANDARD_YEAR}, 42 CFR 425.512(a)(4)(ii)); use met or not_met")
    if not sliding and facts.alternative_standard_probability is not None:
        raise FieldProblem(("assumptions", "alternative_standard_probability"),
                           f"no alternative quality performance standard exists in PY{year} (it starts in "
                           f"PY{rules.FIRST_ALTERNATIVE_STANDARD_YEAR}, 42 CFR 425.512(a)(4)(ii)); remove it")
    if facts.quality_standard is None:
        threshold, _ = year_threshold(facts)
        if threshold is None:
            raise FieldProblem(("assumptions", "quality_threshold"),
                               f"the MSSP quality performance standard of PY{year} is not published in any source "
                               "simsuite holds; give it as a quality score (fraction, e.g. 0.74), or set "
                               "assumptions.quality_standard")
        below = facts.quality_score_sd > 0.0 or facts.quality_score < threshold
        if sliding and below and facts.alternative_standard_probability is None:
            raise FieldProblem(("assumptions", "alternative_standard_probability"),
                               f"the quality score can fall below the PY{year} quality performance standard "
                               f"({100 * threshold:.2f}); give the probability (fraction) that the ACO then meets the "
                               "alternative standard (10th percentile on an outcome measure, 42 CFR 425.512(a)(5)(ii); "
                               "in PY2024 all 29 ACOs below the standard met it), or set quality_standard")
    if terms.loss_cap_revenue is not None and facts.participant_revenue_to_benchmark is None:
        raise FieldProblem(("assumptions", "participant_revenue_to_benchmark"),
                           "required by two-sided BASIC contracts: their loss limit is the lesser of a share of "
                           "participant revenue and of the benchmark (42 CFR 425.605(d)(1)(iii)-(v)(D)); give "
                           "participants' Parts A+B FFS revenue as a fraction of the benchmark (e.g. 0.25)")
    if facts.benchmark_risk_score and facts.agreement_start >= 2024 and not facts.demographic_risk_growth:
        raise FieldProblem(("assumptions", "demographic_risk_growth"),
                           f"an MSSP agreement starting in {facts.agreement_start} caps risk-score growth at the "
                           "ACO's demographic risk-score growth plus 3 points (42 CFR 425.605(a)(1)(ii)); give that "
                           "growth since the base year as a fraction (e.g. 0.01), overall or by enrollment type")
    if (facts.agreement_start >= rules.SMALL_ACO_RULES_FIRST_AGREEMENT
            and facts.n_beneficiaries < rules.SMALL_ACO_BENEFICIARIES):
        raise FieldProblem(("population", "beneficiaries"),
                           f"an ACO below {rules.SMALL_ACO_BENEFICIARIES:,} assigned beneficiaries in an agreement "
                           f"starting in {facts.agreement_start} must be in BASIC with lower savings and loss limits "
                           "(CY2026 PFS final rule); their values are not published in any source simsuite holds")


def notes(terms: SharedSavingsTerms, year: PanelYear) -> tuple[str, ...]:
    """The MSSP rules in effect that the results depend on, one line each (for the run header)."""
    facts = year.facts
    if facts is None:
        return ()
    out = []
    if facts.quality_standard is not None:
        out.append(f"MSSP quality standard '{facts.quality_standard}' in every simulation (assumptions.quality_standard)")
    else:
        threshold, source = year_threshold(facts)
        assert threshold is not None  # `check` refused the scenario otherwise
        line = f"MSSP PY{facts.performance_year} quality standard met at a score of {100 * threshold:.2f} or more [{source}]"
        if terms.quality_sharing != "sliding":
            line += "; no alternative standard that year"
        elif facts.alternative_standard_probability is not None:
            line += (f"; below it the alternative standard is met with probability "
                     f"{facts.alternative_standard_probability:g} (assumptions)")
        out.append(line)
    start = f"MSSP agreement period starting {facts.agreement_start}"
    if not facts.agreement_start_given:
        start += " (assumptions.agreement_start not given: the performance year)"
    out.append(start)
    if facts.low_revenue is None and terms.low_revenue_share_below_msr is not None:
        rev, spent = year.participant_revenue, year.assigned_expenditure
        if rev is None or spent is None:
            out.append("MSSP low-revenue status unknown (no participant revenue given): treated as high revenue, "
                       "no half rate below the MSR (42 CFR 425.605(h))")
        else:
            kind = "low" if rules.is_low_revenue(rev, spent) else "high"
            out.append(f"MSSP {kind}-revenue ACO: participant revenue {100 * rev / spent:.1f}% of assigned "
                       f"beneficiaries' expenditure (35% test, 42 CFR 425.20)")
    if terms.two_sided and year.participant_revenue is None and year.assigned_expenditure is not None:
        out.append(f"MSSP repayment mechanism at most {money(rules.RM_SHARE_OF_EXPENDITURE * year.assigned_expenditure)}"
                   " (participant revenue not given; 42 CFR 425.204(f)(4)(ii))")
    return tuple(out)


def guarantee(terms: SharedSavingsTerms, year: PanelYear) -> float | None:
    """The repayment mechanism a two-sided ACO must hold, dollars (425.204(f)(4)(ii)): the lesser of
    0.5% of the assigned beneficiaries' expenditure and 1% of participant revenue; without
    revenue, the expenditure limb (an upper bound, said in `notes`)."""
    if not terms.two_sided or year.assigned_expenditure is None:
        return None
    if year.participant_revenue is None:
        return rules.RM_SHARE_OF_EXPENDITURE * year.assigned_expenditure
    return float(rules.repayment_mechanism_amount(year.assigned_expenditure, year.participant_revenue))


def reference_settlement(
    terms: SharedSavingsTerms,
    benchmark: float,
    expenditure: float,
    n_beneficiaries: int,
    quality_score: float,
    quality_standard: str = "met",
    participant_revenue: float | None = None,
    low_revenue: bool = False,
    euc_loss_relief: float = 0.0,
    euc_loss_adjustment: float = 0.0,
    msr: float | None = None,
    mlr: float | None = None,
) -> float:
    """Slow, scalar transcription of the rules, for tests. Returns dollars to the ACO.

    Arguments mean what they mean in `settle_shared_savings`; ``msr``/``mlr`` override
    the terms' minimum rates (fractions) and ``euc_loss_adjustment`` is dollars >= 0.
    """
    if msr is None:
        if terms.msr == "variable":
            msr = float(msr_by_beneficiaries(n_beneficiaries))
        else:
            msr = float(terms.msr)
    if mlr is None:
        mlr = msr
    if participant_revenue is not None and participant_revenue != participant_revenue:
        participant_revenue = None  # NaN means unknown, as in the vectorised version
    savings = benchmark - expenditure
    rate = savings / benchmark
    quality_ok = quality_standard in ("met", "alternative")

    if terms.quality_sharing == "scaled":
        fsr = terms.sharing_rate * quality_score if quality_ok else 0.0
    elif terms.quality_sharing == "gate":
        fsr = terms.sharing_rate if quality_standard == "met" else 0.0
    elif quality_standard == "met":
        fsr = terms.sharing_rate
    elif quality_standard == "alternative":
        fsr = terms.sharing_rate * quality_score
    else:
        fsr = 0.0

    if savings > 0:
        if rate >= msr:
            share = fsr
        elif (
            terms.low_revenue_share_below_msr is not None
            and low_revenue
            and n_beneficiaries >= rules.HALF_RATE_MIN_BENEFICIARIES
        ):
            share = fsr * terms.low_revenue_share_below_msr
        else:
            return 0.0
        paid = (1.0 - terms.sequestration) * share * savings
        return min(paid, terms.savings_cap * benchmark)

    if savings < 0 and terms.two_sided and -rate >= mlr:
        assert terms.loss_rate is not None  # a two-sided contract has one (checked by the terms)
        q = quality_score if quality_ok else 0.0
        loss_rate = terms.loss_rate - terms.loss_rate_quality_slope * q
        loss_rate = max(terms.loss_rate_floor, min(terms.loss_rate_ceiling, loss_rate))
        owed = loss_rate * -savings
        limits = []
        if terms.loss_cap_benchmark is not None:
            limits.append(terms.loss_cap_benchmark * benchmark)
        if terms.loss_cap_revenue is not None and participant_revenue is not None:
            limits.append(terms.loss_cap_revenue * participant_revenue)
        if limits:
            owed = min(owed, min(limits))
        owed = max(owed * (1.0 - euc_loss_relief) - euc_loss_adjustment, 0.0)
        return -owed
    return 0.0


FAMILY = register_family(Family(
    name="shared_savings",
    title="MSSP-style shared savings and losses (BASIC A-E, ENHANCED, earlier tracks)",
    terms=SharedSavingsTerms, settle=settle, caps=caps, reads=frozenset({"panel", "quality"}),
    exact="panel_total", exact_total=lambda terms: PanelTotal(caps(terms)[0]),
    reference=reference_settlement, panel_problem=panel_problem,
    risk_ratio=risk_ratio, check=check, notes=notes, guarantee=guarantee,
))
