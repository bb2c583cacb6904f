"""LEAD over its ten performance years (2027-2036): one fixed baseline, never rebased.
Program ``lead`` of `simsuite.contracts.programs`.

For an ACO entering LEAD in 2027 (rules in `simsuite.contracts.lead_rules`, each with its
source and confidence; LEAD rests on secondary sources, none of them the RFA):

* the baseline by enrollment type from the simulated, untruncated spending of the panel in
  2024-2026 (REACH-style benchmarks are not truncated; its optional stop-loss is not
  modelled), risk-adjusted and trended to BY3 as MSSP does, weighted 1/3 each for a
  renewing ACO (from REACH or MSSP) and 10/30/60 for a new entrant; fixed for the ten
  years ("Critical: No Rebasing", WAK-LEAD citing RFA §VIII.A);
* the spending class against the region, set at entry; a lower-spending Global ACO's
  Regional Efficiency Adjustment, or the prior savings adjustment, whichever is higher;
* updated to each performance year by two-thirds of the national-regional growth since
  BY3 and one-third of the ACPT held within guardrails around it, times the panel's risk
  ratio held within +-3% of BY3;
* settled by the year's corridor contract (`simsuite.contracts.corridors`, presets
  ``lead-global-2027``, ``lead-global-2027-higher-spending``, ``lead-professional-2027``):
  the discount by spending class and year (Global), the 3% quality withhold earned back
  in proportion to the quality score, the corridors, sequestration on savings and losses,
  the higher-spending administrative add-on;
* the financial guarantee, a rate of the BY3 expenditure (reported where MSSP reports its
  repayment mechanism).

What no source gives, the path must state: the higher-spending discount in PY2028-2031
(``higher_spending_discounts``), the ACPT guardrails after PY2027
(``acpt_guardrails_after_2027``), the financial guarantee rate (``financial_guarantee``)
and, for Professional, the loss bands (``overrides.loss_bands``). PY2028-2036 otherwise
keep the PY2027 terms, and the run header says so.

The horizon: LEAD plans one ten-year agreement over the horizon's performance years,
whatever its MSSP agreement structure (``agreements: 2`` from 2027 covers 2027-2036 for
both programs; a shorter horizon settles LEAD's first years only). The horizon's
``agreement_number``, ``prior_savings`` and ``experienced`` are MSSP's; LEAD's path has its
own ``entry`` and ``prior_savings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.contracts.base import (
    UNCAPPED,
    AgreementSetup,
    PanelHistory,
    PanelYear,
    PathSettlement,
    RuleFacts,
)
from simsuite.contracts.contract import Contract, build_contract
from simsuite.contracts.lead_rules import (
    ADMINISTRATIVE_ADD_ON,
    FIRST_YEAR,
    GUARANTEE_RANGE,
    GUARDRAIL_2027,
    HIGHER_SPENDING_FIRST_DISCOUNT,
    HIGHER_SPENDING_FULL_DISCOUNT,
    HIGHER_SPENDING_FULL_YEAR,
    LAST_YEAR,
    MIN_BENEFICIARIES,
    MIN_BENEFICIARIES_NEW_ENTRANT,
    REA_CAP_FORMER_MSSP,
    REA_CAP_OTHER,
    RISK_CAP,
    baseline_weights,
    financial_guarantee,
    global_discount,
    guarded_acpt,
    linear_discount_path,
    lower_spending,
    prior_savings_adjustment,
    regional_efficiency_adjustment,
)
from simsuite.contracts.mssp_agreement import MSSP_CAP
from simsuite.contracts.mssp_benchmark import (
    benchmark_adjustment,
    historical_benchmark,
    trend_to_by3,
    two_way_growth,
    update_factor,
)
from simsuite.contracts.mssp_rules import symmetric_risk_ratio
from simsuite.contracts.programs import PathPlan, Program, register_program
from simsuite.errors import FieldProblem

#: The PY2027 corridor presets each track and spending class settles under.
PRESETS = {("Global", True): "lead-global-2027", ("Global", False): "lead-global-2027-higher-spending",
           ("Professional", True): "lead-professional-2027", ("Professional", False): "lead-professional-2027"}

Rate3 = Annotated[float, Field(gt=-0.5, lt=0.5)]


class LeadPath(BaseModel):
    """A LEAD path (``contracts[i].path`` with ``program: lead``).

    Attributes
    ----------
    program : "lead"
    track : {"Global", "Professional"}
        The risk option: Global (up to 100% of savings and losses, a discount) or
        Professional (no discount, partial sharing).
    entry : {"reach", "mssp", "new"}
        Where the ACO comes from: a renewing ACO from ACO REACH or from MSSP (baseline years
        weighted 1/3 each; the REA capped at 5% of national spending for an ex-REACH ACO,
        3% for an ex-MSSP one), or a newly entering ACO (10/30/60; 5%).
    prior_savings : list of 3 floats or None
        Savings rates of the three performance years before 2027 (fractions of the
        benchmark, losses negative), for the prior savings adjustment; None: no adjustment.
    higher_spending_discounts : "linear" or mapping of year to rate or None
        The Global discount of a higher-spending ACO in PY2028-2031 (not published: "1.75%
        in PY2027, rising to 3% by PY2032"); ``linear`` assumes the straight line.
    acpt_guardrails_after_2027 : [above, below] or "none" or None
        The ACPT's bounds around the two-way trend after PY2027 (cumulative growth, e.g.
        ``[0.005, 0.004]``); not published ("widening in later years"); ``none``: unbounded.
    financial_guarantee : float or None
        The guarantee as a fraction of the BY3 Parts A and B expenditure, within the 2%-4% the
        sources give (the rule choosing the rate was not found); required.
    acpt : float or None
        The annual growth of the Accountable Care Prospective Trend CMS sets for LEAD at
        PY2027 (assumed held for the ten years [INF]); not published in any source simsuite
        holds, so required. The ACPT enters a third of the update, held within the guardrails.
    sequestration_base : {"shared", "gross"}
        Sequestration as 2% of the shared amount (R6 column notes) or of the gross savings or
        losses (R6 workbook); the same within the first corridor.
    overrides : dict
        Terms changed in every year's corridor contract (``loss_bands`` for Professional).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
    program: Literal["lead"] = "lead"
    track: Literal["Global", "Professional"] | None = None
    entry: Literal["reach", "mssp", "new"] | None = None
    prior_savings: Annotated[list[Rate3], Field(min_length=3, max_length=3)] | None = None
    higher_spending_discounts: Literal["linear"] | dict[int, Annotated[float, Field(ge=0.0, lt=0.5)]] | None = None
    acpt_guardrails_after_2027: (Literal["none"] | Annotated[list[Annotated[float, Field(ge=0.0, lt=0.5)]],
                                                           Field(min_length=2, max_length=2)] | None) = None
    financial_guarantee: float | None = None
    acpt: Annotated[float, Field(gt=-0.2, lt=0.3)] | None = None
    sequestration_base: Literal["shared", "gross"] = "shared"
    overrides: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _stated(self) -> LeadPath:
        if self.track is None:
            raise FieldProblem(("track",), "choose LEAD's risk option: Global or Professional")
        if self.track == "Professional" and self.higher_spending_discounts is not None:
            raise FieldProblem(("higher_spending_discounts",), "LEAD Professional has no benchmark discount; remove it")
        if self.entry is None:
            raise FieldProblem(("entry",), "say where the ACO comes from: reach, mssp (renewing ACOs: baseline "
                                           "years weighted 1/3 each) or new (10/30/60), as LEAD's rules differ")
        if self.financial_guarantee is None:
            raise FieldProblem(("financial_guarantee",),
                               "LEAD's financial guarantee is 2% to 4% of prior Parts A and B expenditures (Wakely; "
                               "a PY2027 workbook uses 4% of BY3) and the rule setting the rate is not published; "
                               "give the rate, e.g. 0.04")
        low, high = GUARANTEE_RANGE
        if not low <= self.financial_guarantee <= high:
            raise FieldProblem(("financial_guarantee",),
                               f"{self.financial_guarantee:g} is outside the {100 * low:g}%-{100 * high:g}% of BY3 Parts A "
                               f"and B expenditure the sources give (Wakely; a PY2027 workbook: 4%); give a rate "
                               f"from {low:g} to {high:g}")
        if self.acpt is None:
            raise FieldProblem(("acpt",), "LEAD's Accountable Care Prospective Trend for PY2027 is set by CMS and not "
                                          "published in any source simsuite holds; give the annual growth you assume, "
                                          "e.g. 0.04 (it is held within the PY2027 guardrails of the two-way trend)")
        return self


@dataclass(frozen=True)
class LeadPlan(PathPlan):
    """A LEAD path resolved for a horizon: `PathPlan` (``contracts``: each year's corridor
    contract of a lower-spending ACO) plus what the settlement needs.

    Attributes
    ----------
    higher : tuple of Contract
        Each year's corridor contract of a higher-spending ACO.
    track : str
        ``Global`` or ``Professional``.
    renewing : bool
        A renewing ACO (baseline weights 1/3 each).
    rea_cap : float
        Cap of the REA, fraction of national per capita spending.
    prior_savings : tuple of 3 floats or None
        Savings rates of the three years before 2027.
    guardrails : tuple of (float or None, float or None)
        Each year's ACPT bounds (above, below) around the two-way trend.
    guarantee_rate : float
        The financial guarantee's fraction of BY3 expenditure.
    acpt : float
        The ACPT's annual growth (the path's ``acpt``).
    """

    higher: tuple[Contract, ...] = ()
    track: str = "Global"
    renewing: bool = True
    rea_cap: float = REA_CAP_OTHER
    prior_savings: tuple[float, ...] | None = None
    guardrails: tuple[tuple[float | None, float | None], ...] = ()
    guarantee_rate: float = float("nan")  # always the path's (required); NaN would show a missing one
    acpt: float = float("nan")

    def variants(self) -> tuple[tuple[str, tuple[Contract, ...]], ...]:
        """The lower-spending class's yearly contracts and the higher-spending class's (its
        discount path, the administrative add-on): each simulation's class is set at entry."""
        return (("lower-spending", self.contracts), ("higher-spending", self.higher))


# ---- the plan ---------------------------------------------------------------------------------


def _discount_path(path: LeadPath, years: list[int]) -> dict[int, float]:
    """The higher-spending Global discounts assumed for the simulated years of PY2028-2031."""
    needed = [y for y in years if FIRST_YEAR < y < HIGHER_SPENDING_FULL_YEAR]
    if path.track != "Global" or not needed:
        return {}
    given = path.higher_spending_discounts
    if given is None:
        raise FieldProblem(("higher_spending_discounts",),
                           f"a higher-spending Global ACO's discount is published only for PY2027 (1.75%) and from "
                           f"PY2032 (3%: '1.75% in PY2027, rising to 3% by PY2032'); give your assumption for "
                           f"PY{needed[0]}-{needed[-1]}, e.g. linear or {{2028: 0.02, ...}}")
    assumed = linear_discount_path() if given == "linear" else dict(given)
    for year in assumed:
        if not FIRST_YEAR < year < HIGHER_SPENDING_FULL_YEAR:
            raise FieldProblem(("higher_spending_discounts", year), "only PY2028-2031 are not published")
    missing = [y for y in needed if y not in assumed]
    if missing:
        raise FieldProblem(("higher_spending_discounts",), f"no discount for PY{missing[0]}")
    path_rates = [HIGHER_SPENDING_FIRST_DISCOUNT] + [assumed[y] for y in sorted(assumed)] + \
        [HIGHER_SPENDING_FULL_DISCOUNT]
    if any(b < a for a, b in zip(path_rates, path_rates[1:])):
        raise FieldProblem(("higher_spending_discounts",), "the discount rises from 1.75% (PY2027) to 3% (PY2032); "
                                                           "give rates in that range, never falling")
    return assumed


def _guardrails(path: LeadPath, years: list[int]) -> tuple[tuple[float | None, float | None], ...]:
    """Each year's ACPT bounds: PY2027's (R6), then the path's assumption."""
    later = [y for y in years if y > FIRST_YEAR]
    given = path.acpt_guardrails_after_2027
    if later and given is None:
        raise FieldProblem(("acpt_guardrails_after_2027",),
                           "LEAD's ACPT guardrails are published only for PY2027 (+0.3%/-0.2% around the two-way "
                           "trend, 'widening in later years'); give [above, below] for later years, or none")
    out: list[tuple[float | None, float | None]] = []
    for year in years:
        if year == FIRST_YEAR:
            out.append(GUARDRAIL_2027)
        elif given == "none":
            out.append((None, None))
        else:
            assert isinstance(given, list)
            out.append((given[0], given[1]))
    return tuple(out)


def _year_contract(path: LeadPath, lower: bool, year: int, discounts: dict[int, float], name: str) -> Contract:
    """The corridor contract settling ``year`` for a spending class (PY2027's preset terms)."""
    assert path.track is not None  # the schema requires it
    terms: dict[str, Any] = {"sequestration_base": path.sequestration_base}
    if path.track == "Global" and not lower:
        discount = global_discount(year, False, discounts)
        terms["discount"] = float(discount)
    if path.track == "Professional" and not lower:
        terms["administrative_add_on"] = ADMINISTRATIVE_ADD_ON
    return build_contract(PRESETS[(path.track, lower)], {**terms, **path.overrides}, FIRST_YEAR, f"{name} {year}")


def plan_path(path: LeadPath, setup: AgreementSetup, name: str) -> LeadPlan:
    """Resolve a LEAD path for ``setup``: each year's corridor contracts and assumptions.

    Raises
    ------
    FieldProblem
        Years outside 2027-2036, or a value the sources do not give and the path does not
        state.
    """
    years = setup.performance_years
    if setup.start != FIRST_YEAR:
        raise FieldProblem(("program",), f"LEAD's published terms are those of ACOs starting in {FIRST_YEAR} "
                                         f"(its first cohort); horizon.agreement_start is {setup.start}")
    if years[-1] > LAST_YEAR:
        raise FieldProblem(("program",), f"LEAD ends on 31 Dec {LAST_YEAR}; the horizon runs to {years[-1]} "
                                         f"(agreements: 2 from 2027 covers its ten years)")
    assert path.track is not None and path.entry is not None
    assert path.financial_guarantee is not None and path.acpt is not None
    discounts = _discount_path(path, years)
    guardrails = _guardrails(path, years)
    lower = tuple(_year_contract(path, True, y, discounts, name) for y in years)
    higher = tuple(_year_contract(path, False, y, discounts, name) for y in years)
    # One line shared by every LEAD path (identical lines are shown once), one with this
    # path's assumptions.
    later = f"PY{years[1]}-{years[-1]} under the PY2027 terms except as assumed; " if len(years) > 1 else ""
    notes = [f"LEAD is ANNOUNCED: terms from secondary sources, not its RFA (docs/lead-and-commercial.md); "
             f"{later}quality withhold earned back in proportion to the quality score (formula not found)",
             "LEAD, not found and taken as follows [INF]: baseline years trended to 2026 by MSSP's national-regional "
             "blend; spending class by MSSP's BY3-share weighting, fixed at entry; prior savings proration 1; "
             "an ex-REACH ACO's REA cap 5% (R6's literal reading); the guarantee held 12 months after the last "
             "year, as MSSP's repayment mechanism"]
    assumed = [f"financial guarantee {100 * path.financial_guarantee:g}% of BY3 spending (sources: "
               f"{100 * GUARANTEE_RANGE[0]:g}-{100 * GUARANTEE_RANGE[1]:g}%)",
               f"ACPT {100 * path.acpt:g}% a year"]
    if discounts:
        shown = "/".join(f"{100 * discounts[y]:g}" for y in sorted(discounts) if y in years)
        assumed.append(f"higher-spending discount {shown}% in PY2028-2031")
    if any(y > FIRST_YEAR for y in years):
        given = path.acpt_guardrails_after_2027
        assumed.append("no ACPT guardrails after PY2027" if given == "none" else
                       f"ACPT guardrails +{100 * given[0]:g}%/-{100 * given[1]:g}% after PY2027")  # type: ignore[index]
    if path.track == "Professional":
        assumed.append("the loss bands given")
    if path.prior_savings is None:
        assumed.append("no prior savings adjustment")
    assumed.append(f"sequestration of the {path.sequestration_base} amount")
    notes.append(f"{name} assumes (not published): {'; '.join(assumed)}")
    return LeadPlan(years=tuple(years), levels=(f"LEAD {path.track}",) * len(years), contracts=lower,
                    notes=tuple(notes), higher=higher,
                    guarantee_rule="must post LEAD's financial guarantee (R6 [Low]; WAK-FG [Med])",
                    rebased_at=(years[0],),
                    assumed_terms=frozenset(("higher-spending", y, "discount") for y in discounts if y in years),
                    no_ratchet=f"LEAD's baseline is set once from {years[0] - 3}-{years[0] - 1} and never rebased "
                               f"over its performance years (WAK-LEAD citing RFA §VIII.A; MONDAQ) [Med]: a lasting "
                               f"saving keeps counting in every year, so there is no ratchet",
                    track=path.track, renewing=path.entry != "new",
                    rea_cap=REA_CAP_FORMER_MSSP if path.entry == "mssp" else REA_CAP_OTHER,
                    prior_savings=None if path.prior_savings is None else tuple(path.prior_savings),
                    guardrails=guardrails, guarantee_rate=path.financial_guarantee, acpt=path.acpt)


def check_path(plan: PathPlan, setup: AgreementSetup, facts: RuleFacts) -> None:
    """Refuse a panel below LEAD's minimum: 5,000 aligned beneficiaries in PY1 (1,000 for a
    newly entering ACO) (CMS LEAD model page) [Med]."""
    assert isinstance(plan, LeadPlan)
    minimum = MIN_BENEFICIARIES if plan.renewing else MIN_BENEFICIARIES_NEW_ENTRANT
    if facts.n_beneficiaries < minimum:
        who = "an ACO" if plan.renewing else "a newly entering ACO"
        raise FieldProblem(("population", "beneficiaries"),
                           f"LEAD requires {minimum:,} aligned beneficiaries in its first performance year for {who} "
                           f"(CMS LEAD model page); the panel has {facts.n_beneficiaries:,}")


# ---- settlement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadBaseline:
    """The fixed baseline of each simulation and what it was built from.

    Attributes
    ----------
    per_capita : ndarray, shape (S, E)
        Baseline plus its adjustment (REA or PSA), dollars per capita by type.
    historical : ndarray, shape (S, E)
        The baseline before the adjustment.
    lower : ndarray of bool, shape (S,)
        Lower-spending at entry.
    """

    per_capita: np.ndarray
    historical: np.ndarray
    lower: np.ndarray


def baseline(plan: LeadPlan, history: PanelHistory) -> LeadBaseline:
    """The baseline fixed at entry: BY2024-2026 untruncated spending, risk-adjusted and
    trended to BY3, weighted, plus the higher of the REA and the PSA (`lead_rules`)."""
    n = history.person_years
    shares = n / n.sum()
    start = plan.years[0]
    by = [history.index(start - 3), history.index(start - 2), history.index(start - 1)]
    by3 = by[2]
    reg = history.untruncated(history.regional_per_capita)
    nat = history.untruncated(history.national_per_capita)
    reg1, nat1 = (reg * shares).sum(axis=-1), (nat * shares).sum(axis=-1)
    spending = history.raw[:, by, :] / n
    risk = (history.hcc_ratio[by3] / history.hcc_ratio[by])[None, :, None]
    trend = trend_to_by3(history.aco_share, nat1[:, by], reg1[:, by])
    hb = historical_benchmark(spending * risk, trend[:, :, None], baseline_weights(plan.renewing))
    # The region risk-adjusted to the ACO's BY3 case mix (its HCC score), as MSSP's regional
    # adjustment does (425.656(b)(3)) [INF for LEAD]: the history's regional series is risk-neutral.
    regional = reg[:, by3, :] * history.hcc_ratio[by3]
    lower = lower_spending(hb, regional, shares)
    rea = regional_efficiency_adjustment(hb, regional, nat[:, by3, :], shares, plan.rea_cap,
                                         lower & (plan.track == "Global"))
    sims = hb.shape[0]
    if plan.prior_savings is None:
        psa, eligible = np.zeros(sims), np.zeros(sims, dtype=bool)
    else:
        # Savings rates r = (B - X) / B in dollars, r X / (1 - r), against each year's simulated
        # spending per capita (those years' benchmarks are not simulated) [INF], as MSSP's renewal does.
        per_capita = history.raw[:, by, :].sum(axis=-1) / n.sum()
        rates = np.asarray(plan.prior_savings)[None, :]
        savings = rates * per_capita / (1.0 - rates)
        psa, eligible = prior_savings_adjustment(savings, nat1[:, by3])
    return LeadBaseline(per_capita=hb + benchmark_adjustment(rea, psa, eligible), historical=hb, lower=lower)


def settle_path(plan: PathPlan, history: PanelHistory) -> PathSettlement:
    """Settle every performance year of a LEAD path on the simulated history.

    Returns
    -------
    PathSettlement
        Arrays ``(S, P)``: money to the ACO, the discounted benchmark and the untruncated
        expenditure compared (dollars), the financial guarantee (as ``repayment_mechanism``);
        ``guardrail`` is False (LEAD's guardrails bound the ACPT, not losses).
    """
    assert isinstance(plan, LeadPlan)
    n = history.person_years
    shares = n / n.sum()
    start = plan.years[0]
    by3 = history.index(start - 1)
    fixed = baseline(plan, history)
    reg1 = (history.untruncated(history.regional_per_capita) * shares).sum(axis=-1)
    nat1 = (history.untruncated(history.national_per_capita) * shares).sum(axis=-1)
    # The guarantee: the path's rate x BY3 Parts A and B spending (R6 [Low]; WAK-FG range [Med]).
    guarantee = financial_guarantee(history.raw[:, by3, :].sum(axis=-1), plan.guarantee_rate)
    sims, n_years = history.raw.shape[0], len(plan.years)
    out = {k: np.zeros((sims, n_years)) for k in ("net", "benchmark", "expenditure", "guarantee")}
    gain = np.zeros((sims, n_years), dtype=bool)
    base_total = (fixed.per_capita * n).sum(axis=-1)
    for p, year in enumerate(plan.years):
        t = history.index(year)
        # The update: 2/3 the two-way national-regional growth since BY3 + 1/3 the ACPT held
        # within the guardrails (R6; MONDAQ for the existence) [Med]; the two-way blend's
        # weighting by the ACO's regional share is MSSP's (425.652(b)) [INF for LEAD].
        tw = two_way_growth(history.aco_share, nat1[:, t] / nat1[:, by3], reg1[:, t] / reg1[:, by3])
        above, below = plan.guardrails[p]
        # The ACPT is the path's (not published; MSSP's horizon.acpt is MSSP's), compounded from BY3.
        acpt = guarded_acpt((1.0 + plan.acpt) ** (year - (start - 1)), tw, above, below)
        # Risk ratio to BY3 held within +-3% (R6 workbook 0.97-1.03) [Low].
        ratio = float(symmetric_risk_ratio(history.hcc_ratio[t] / history.hcc_ratio[by3], RISK_CAP))
        benchmark = base_total * ratio * update_factor(tw, acpt)
        # Untruncated spending, as REACH-style benchmarks (R6) [Low]; the optional stop-loss is not modelled.
        spent = history.raw[:, t, :].sum(axis=-1)
        year_panel = PanelYear(n_beneficiaries=history.n_beneficiaries, benchmark=benchmark, expenditure=spent,
                               quality_score=history.quality[:, t])
        low, high = plan.contracts[p], plan.higher[p]
        settled_low, settled_high = low.settle(year_panel), high.settle(year_panel)
        out["net"][:, p] = np.where(fixed.lower, settled_low.net, settled_high.net)
        gain[:, p] = np.where(fixed.lower, settled_low.gain_shared, settled_high.gain_shared)
        discount = np.where(fixed.lower, low.terms.discount, high.terms.discount)
        out["benchmark"][:, p] = benchmark * (1.0 - discount)
        out["expenditure"][:, p] = spent
        out["guarantee"][:, p] = guarantee
    return PathSettlement(years=plan.years, levels=plan.levels, net=out["net"], gain_shared=gain,
                          benchmark=out["benchmark"], expenditure=out["expenditure"],
                          repayment_mechanism=out["guarantee"], guardrail=np.zeros((sims, n_years), dtype=bool))


PROGRAM = register_program(Program(
    name="lead",
    title="LEAD (Long-term Enhanced ACO Design), ten years from 2027 on a fixed baseline (ANNOUNCED)",
    spec=LeadPath,
    plan=plan_path,
    settle=settle_path,
    check=check_path,
    # LEAD settles on untruncated spending; the engine's history also needs MSSP's truncated sums.
    caps=(UNCAPPED, MSSP_CAP),
))
