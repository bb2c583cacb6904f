"""MSSP over agreement periods: the benchmark built from the ACO's simulated history, the
glide path, renewal and rebasing (the "ratchet"), the ACPT loss guardrail, the repayment
mechanism. Program ``mssp`` of `simsuite.contracts.programs`.

For each agreement period (agreements starting 2024 or later, 42 CFR 425.652):

* the historical benchmark by enrollment type from the simulated, truncated spending of
  the panel in BY1-BY3, risk-adjusted to BY3, trended to BY3 by the national-regional
  blend, weighted 10/30/60 in a first agreement and equally afterwards;
* plus the regional adjustment or the prior savings adjustment (425.652(a)(8), 425.656,
  425.658); a renewal's prior savings are the ACO's own simulated savings of the three
  performance years before it;
* updated to each performance year by two-thirds of the national-regional growth since
  BY3 and one-third of the ACPT fixed at the agreement's start (425.652(b)), times the
  capped risk ratio (425.605(a)(1));
* settled by the level's terms (`simsuite.contracts.shared_savings`), on the two-way
  benchmark where the ACPT loss guardrail applies (425.652(b)(5));
* with the repayment mechanism recalculated each two-sided year (425.204(f)(4)).

Each performance year is settled with the preset of its level for that year; years past
the latest year a preset covers use that year's terms, and the plan says so (current law
assumed to continue).

Rules read from the regulation text are High confidence; the glide path of a renewal
after the one-sided years of an agreement starting 2027 or later is an inference
(marked [INF]): the amended 425.600 text was not available.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.contracts.base import AgreementSetup, CapSpec, PanelHistory, PathSettlement, RuleFacts
from simsuite.contracts.contract import Contract, build_contract
from simsuite.contracts.mssp_benchmark import (
    BASIC_LEVELS,
    ONE_SIDED_LEVELS,
    acpt_guardrail,
    benchmark_adjustment,
    benchmark_year_weights,
    glide_levels,
    historical_benchmark,
    prior_savings_adjustment,
    regional_adjustment,
    trend_to_by3,
    two_way_growth,
    update_factor,
)
from simsuite.contracts.mssp_rules import (
    HALF_RATE_FIRST_AGREEMENT,
    alternative_standard_met,
    capped_risk_ratio,
    is_low_revenue,
    quality_standard_met,
    recalculated_repayment_mechanism,
    repayment_mechanism_amount,
)
from simsuite.contracts.presets import get_preset
from simsuite.contracts.programs import PathPlan, Program, register_program
from simsuite.contracts.shared_savings import SharedSavingsTerms, minimum_rates, settle_shared_savings, year_threshold
from simsuite.errors import FieldProblem

#: One-sided performance years allowed on the BASIC glide path: 7 for agreements starting
#: 2024-2026 (425.600(a)(4)(i)(C), (g)(1) [INF: 5 in Level A, then A and B in a second
#: glide-path agreement]); 5, in the first glide-path agreement, from 2027 (CY2026 PFS
#: final rule, CMS fact sheet [Med]).
ONE_SIDED_LIMIT_BEFORE_2027 = 7
ONE_SIDED_LIMIT_FROM_2027 = 5
#: The population (health equity) benchmark adjustment joins the choice of 425.652(a)(8) for
#: agreements from 2025, for ACOs with at least 15% of assigned beneficiaries dually eligible or
#: on the Part D LIS (CY2025 PFS final rule: NAHRI, Capline summaries [Med]); its formula is
#: not in the sources held, so an eligible ACO is refused.
POPULATION_ADJUSTMENT_FIRST_AGREEMENT = 2025
POPULATION_ADJUSTMENT_ELIGIBILITY = 0.15
#: MSSP truncation of per-beneficiary expenditure (425.652(a)(4)).
MSSP_CAP = CapSpec(percentile=0.99)
#: CMS cut the ACPT's weight to 1/6 for PY2024 (Milliman, "Under pressure: ACPT pushing
#: MSSP starters"; Coral Health Advisors summary of Health Affairs, Aug 2025) [Med].
ACPT_WEIGHT_BY_YEAR = {2024: 1.0 / 6.0}


class MsspPath(BaseModel):
    """An MSSP path (``contracts[i].path`` with ``program: mssp``).

    Attributes
    ----------
    program : "mssp"
    track : {"BASIC", "ENHANCED"}
    entry_level : {"A", "B", "C", "D", "E"}
        BASIC level of the first performance year; it advances one level a year
        (425.600(a)(4)(i)(C)(2)).
    stay_in_a : bool
        Elect to remain in Level A (425.600(a)(4)(i)(C)(3)); only entering at Level A.
    msr : "variable" or float or None
        The MSR/MLR election of two-sided years, fixed for the agreement
        (425.605(b)(2)): 0, 0.005, 0.01, 0.015, 0.02 or "variable"; None: the preset's.
    overrides : dict
        Terms changed in every year's contract (e.g. ``sharing_rate`` for a what-if).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
    program: Literal["mssp"] = "mssp"
    track: Literal["BASIC", "ENHANCED"] = "BASIC"
    entry_level: Literal["A", "B", "C", "D", "E"] = "A"
    stay_in_a: bool = False
    msr: Literal["variable"] | float | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> MsspPath:
        if self.stay_in_a and (self.track != "BASIC" or self.entry_level != "A"):
            raise FieldProblem(("stay_in_a",), "only a BASIC ACO entering at Level A may elect to remain in it "
                                               "(42 CFR 425.600(a)(4)(i)(C)(3))")
        if self.track == "ENHANCED" and "entry_level" in self.model_fields_set:
            raise FieldProblem(("entry_level",), "ENHANCED has no levels; remove entry_level")
        if isinstance(self.msr, float) and (not 0.0 <= self.msr <= 0.02
                                            or abs(self.msr * 200 - round(self.msr * 200)) > 1e-9):
            raise FieldProblem(("msr",), f"the MSR/MLR election is 0, 0.005, 0.01, 0.015, 0.02 or variable "
                                         f"(42 CFR 425.605(b)(2)(i)), not {self.msr}")
        return self


# ---- the plan: each performance year's level and terms ---------------------------------


def _levels(path: MsspPath, setup: AgreementSetup) -> list[str]:
    """The level of every performance year, across the simulated agreements."""
    if path.track == "ENHANCED":
        return ["ENHANCED"] * len(setup.performance_years)
    if setup.experienced and path.entry_level != "E":
        raise FieldProblem(("entry_level",), "an ACO experienced with performance-based risk enters BASIC "
                                             "Level E or ENHANCED (42 CFR 425.600(g)(2))")
    if setup.number >= 2 and path.entry_level in ONE_SIDED_LEVELS:
        raise FieldProblem(("entry_level",), "a renewing ACO's one-sided years depend on its earlier glide-path "
                                             "agreements, which the scenario does not give; enter at C, D or E "
                                             "(or ENHANCED)")
    levels: list[str] = []
    entry: str = path.entry_level
    stay = path.stay_in_a
    for k, (start, n) in enumerate(zip(setup.agreement_starts(), setup.lengths, strict=True)):
        used = sum(level in ONE_SIDED_LEVELS for level in levels)
        if start >= 2027:
            # CY2026 PFS final rule, for agreements beginning on or after 1 January 2027: at most
            # 5 one-sided PYs "during the ACO's first agreement period in the BASIC track's glide
            # path" -- none in a later one [Med, CMS fact sheet].
            left = ONE_SIDED_LIMIT_FROM_2027 - used if k == 0 and setup.number == 1 else 0
        else:
            left = ONE_SIDED_LIMIT_BEFORE_2027 - used
        years = glide_levels(entry, n, stay, left)
        levels += years
        # A renewal continues the glide from the level after the last one (the election
        # to stay in A is for a first agreement only, 425.600(a)(4)(i)(C)(3)(i)) [INF:
        # the amended 425.600 text for agreements from 2027 was not available].
        entry, stay = BASIC_LEVELS[min(BASIC_LEVELS.index(years[-1]) + 1, 4)], False
    return [f"BASIC {level}" for level in levels]


def _preset_id(level: str) -> str:
    return "mssp-enhanced" if level == "ENHANCED" else f"mssp-basic-{level[-1].lower()}"


def _year_for(preset_id: str, year: int) -> int:
    """The performance year whose terms settle ``year``: itself, or the latest published before it."""
    covered = get_preset(preset_id).performance_years
    if not covered or year in covered:
        return year
    earlier = [y for y in covered if y <= year]
    if not earlier:
        raise FieldProblem(("path",), f"preset '{preset_id}' starts in PY{covered[0]}; no terms for PY{year}")
    return max(earlier)


def plan_path(path: MsspPath, setup: AgreementSetup, name: str) -> PathPlan:
    """Resolve an MSSP path for ``setup``: each performance year's level and contract.

    Raises
    ------
    FieldProblem
        The path is not allowed (e.g. an experienced ACO at Level A), or a level's preset
        has no terms for a year.
    """
    if setup.start < 2024:
        raise FieldProblem(("program",), f"the mssp program simulates agreements starting 2024 or later (their "
                                         f"benchmark rules, 42 CFR 425.652); horizon.agreement_start is {setup.start}")
    levels = _levels(path, setup)
    contracts: list[Contract] = []
    carried: dict[int, list[int]] = {}  # terms year -> performance years settled under it
    for year, level in zip(setup.performance_years, levels):
        pid = _preset_id(level)
        terms_year = _year_for(pid, year)
        if terms_year != year:
            carried.setdefault(terms_year, []).append(year)
        overrides = dict(path.overrides)
        two_sided = level not in ("BASIC A", "BASIC B")
        if path.msr is not None and two_sided:
            overrides["msr"] = path.msr
        contracts.append(build_contract(pid, overrides, terms_year, f"{name} {year}"))
    notes = tuple(f"PY{min(ys)}-{max(ys)} settled under PY{y} terms (the latest published; current law "
                  f"assumed to continue)" for y, ys in sorted(carried.items()))
    if any(s >= POPULATION_ADJUSTMENT_FIRST_AGREEMENT for s in setup.agreement_starts()):
        notes += (f"no population (health equity) benchmark adjustment: {100 * setup.dual_lis_share:.0f}% of "
                  "beneficiaries dual or LIS, below the 15% that makes an ACO eligible",)
    # 425.204(f)(1)-(2): an ACO in a two-sided year must hold a repayment mechanism [High].
    rule = ("has two-sided years and must hold a repayment mechanism (42 CFR 425.204(f))"
            if any(level not in ("BASIC A", "BASIC B") for level in levels) else None)
    return PathPlan(years=tuple(setup.performance_years), levels=tuple(levels), contracts=tuple(contracts),
                    notes=notes, guarantee_rule=rule)


# ---- settlement over the years ---------------------------------------------------------------


def settle_path(plan: PathPlan, history: PanelHistory) -> PathSettlement:
    """Settle every performance year of an MSSP path on the simulated history.

    Returns
    -------
    PathSettlement
        Arrays ``(S, P)``: money to the ACO, the benchmark and expenditure compared
        (dollars), the repayment mechanism and where the ACPT guardrail applied.
    """
    setup = history.setup
    sims = history.truncated.shape[0]
    n_years = len(plan.years)
    n_by_type = history.person_years
    n_total = history.n_beneficiaries
    shares = n_by_type / n_by_type.sum()
    out = {k: np.zeros((sims, n_years)) for k in ("net", "benchmark", "expenditure", "rm")}
    gain = np.zeros((sims, n_years), dtype=bool)
    guard = np.zeros((sims, n_years), dtype=bool)
    nat = (history.national_per_capita * shares).sum(axis=-1)  # (S, Y) single values
    reg = (history.regional_per_capita * shares).sum(axis=-1)
    # Per capita savings of each reconciled year before the next agreement, oldest first:
    # the scenario's for the years before the first simulated agreement (a renewal), none
    # for a first agreement (no prior savings adjustment), then the simulated ones.
    savings = [] if setup.prior_savings is None else list(_initial_prior_savings(setup, history, shares).T)
    column = 0
    for k, start in enumerate(setup.agreement_starts()):
        number = setup.number + k
        by = [history.index(start - 3), history.index(start - 2), history.index(start - 1)]
        by3 = by[2]
        prior = None if number == 1 else _last_three(savings, sims)
        base = _benchmark_base(history, by, number, prior, nat, reg, shares)  # (S, E), HB + adjustment
        rm_existing = np.zeros(sims)
        for j in range(setup.lengths[k]):
            year = start + j
            t = history.index(year)
            contract = plan.contracts[column]
            terms = contract.terms
            tw = two_way_growth(history.aco_share, nat[:, t] / nat[:, by3], reg[:, t] / reg[:, by3])
            acpt = (1.0 + setup.acpt) ** (year - (start - 1))
            update = update_factor(tw, acpt, ACPT_WEIGHT_BY_YEAR.get(year, 1.0 / 3.0))
            ratio = capped_risk_ratio(start, np.full(shares.shape, history.hcc_ratio[t] / history.hcc_ratio[by3]),
                                      np.full(shares.shape, history.demographic_ratio[t] /
                                              history.demographic_ratio[by3]),
                                      base * n_by_type)
            benchmark = (base * ratio * n_by_type).sum(axis=-1) * update
            two_way = (base * ratio * n_by_type).sum(axis=-1) * tw
            spent = history.truncated[:, t, :].sum(axis=-1)
            _, mlr = minimum_rates(terms, n_total)
            guardrail = acpt_guardrail(benchmark, two_way, spent, float(np.asarray(mlr).reshape(-1)[0]))
            facts = setup.facts_in(history.facts, year)
            ratio_revenue = facts.participant_revenue_to_benchmark
            revenue = None if ratio_revenue is None else ratio_revenue * guardrail.benchmark
            settled = settle_shared_savings(terms, guardrail.benchmark, spent, n_total, history.quality[:, t],
                                            _quality_standard(terms, facts, history, t), participant_revenue=revenue,
                                            low_revenue=_low_revenue(facts, revenue, history.raw[:, t, :].sum(axis=-1)))
            out["net"][:, column] = np.where(guardrail.neither, 0.0, settled.net)
            gain[:, column] = ~guardrail.neither & (settled.earned_savings > 0)
            guard[:, column] = guardrail.applied | guardrail.neither
            out["benchmark"][:, column] = guardrail.benchmark
            out["expenditure"][:, column] = spent
            if terms.two_sided:
                out["rm"][:, column] = rm_existing = _repayment_mechanism(history, t, ratio_revenue, rm_existing)
            savings.append((guardrail.benchmark - spent) / n_total)
            column += 1
    return PathSettlement(years=plan.years, levels=plan.levels, net=out["net"], gain_shared=gain,
                          benchmark=out["benchmark"], expenditure=out["expenditure"],
                          repayment_mechanism=out["rm"], guardrail=guard)


def _quality_standard(terms: SharedSavingsTerms, facts: RuleFacts, history: PanelHistory, t: int
                      ) -> np.ndarray | str:
    """The quality standard each simulation meets in year ``t`` (425.512): the scenario's, or
    decided from the drawn score against the year's threshold (`shared_savings.year_threshold`;
    the load-time check refused years without one) and, from PY2023, the alternative standard."""
    if facts.quality_standard is not None:
        return facts.quality_standard
    threshold, _ = year_threshold(facts)
    assert threshold is not None  # `check_path` refused the scenario otherwise
    score = history.quality[:, t]
    alternative: np.ndarray | bool = False
    if terms.quality_sharing == "sliding":
        alternative = alternative_standard_met(history.alternative_draw[:, t],
                                               facts.alternative_standard_probability, score.shape)
    return quality_standard_met(score, threshold, alternative)


def _low_revenue(facts: RuleFacts, revenue: np.ndarray | None, spent: np.ndarray) -> np.ndarray | bool:
    """Low-revenue status in a year (425.20): the scenario's, else participant revenue below 35%
    of the assigned beneficiaries' spending of the year (unknown revenue: high revenue)."""
    if facts.agreement_start < HALF_RATE_FIRST_AGREEMENT:
        return False  # 425.605(h)(1)(iv): the half rate only for agreements from 2024
    if facts.low_revenue is not None:
        return facts.low_revenue
    return False if revenue is None else is_low_revenue(revenue, spent)


def check_path(plan: PathPlan, setup: AgreementSetup, facts: RuleFacts) -> None:
    """Refuse what any year of the path cannot settle: each year's contract checks the
    scenario's facts as that year reads them (`shared_savings.check`)."""
    for year, contract in zip(plan.years, plan.contracts, strict=True):
        contract.spec.check(contract.terms, setup.facts_in(facts, year))
    late = [s for s in setup.agreement_starts() if s >= POPULATION_ADJUSTMENT_FIRST_AGREEMENT]
    if late and setup.dual_lis_share >= POPULATION_ADJUSTMENT_ELIGIBILITY:
        raise FieldProblem(("region", "dual_lis_share"),
                           f"{100 * setup.dual_lis_share:.0f}% of beneficiaries dual or LIS: an agreement starting in "
                           f"{late[0]} may get the population (health equity) benchmark adjustment (CY2025 PFS final "
                           "rule, 15% or more), whose formula is not in any source simsuite holds; simsuite cannot "
                           "build this benchmark")


def _initial_prior_savings(setup: AgreementSetup, history: PanelHistory, shares: np.ndarray) -> np.ndarray:
    """Per capita savings of the three PYs before the first simulated agreement (renewals).

    The scenario gives them as savings rates ``r = (B - X) / B``; with ``X`` the simulated
    truncated spending per capita of the year (the benchmark years of the renewal, which
    include the ACO's saving), the savings are ``r B = r X / (1 - r)`` dollars [INF: the
    benchmarks of those years are not simulated].
    """
    assert setup.prior_savings is not None
    years = [history.index(setup.start - 3 + k) for k in range(3)]
    per_capita = history.truncated[:, years, :].sum(axis=-1) / history.person_years.sum()  # (S, 3)
    rates = np.asarray(setup.prior_savings)[None, :]
    return rates * per_capita / (1.0 - rates)


def _last_three(savings: list[np.ndarray], sims: int) -> np.ndarray:
    """The per capita savings of the last three years, (S, 3); a year with none counts 0
    ("set to zero ... if the ACO was not reconciled", 425.658(b)(1)(i))."""
    last = savings[-3:]
    return np.stack([np.zeros(sims)] * (3 - len(last)) + last, axis=1)


def _benchmark_base(history: PanelHistory, by: list[int], number: int, prior: np.ndarray | None,
                    nat: np.ndarray, reg: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Historical benchmark plus its adjustment, dollars per capita by type, shape (S, E)."""
    n_by_type = history.person_years
    by3 = by[2]
    spending = history.truncated[:, by, :] / n_by_type  # (S, 3, E) per capita
    # 425.652(a)(3): restate each benchmark year to BY3's risk (prospective HCC scores).
    risk = (history.hcc_ratio[by3] / history.hcc_ratio[by])[None, :, None]
    trend = trend_to_by3(history.aco_share, nat[:, by], reg[:, by])  # (S, 3)
    hb = historical_benchmark(spending * risk, trend[:, :, None], benchmark_year_weights(number))
    # 425.656(c)(4)(ii): the BY3 weighted average prospective HCC score, less 1 (the panel's
    # mean score stands for the expenditure-weighted average across types).
    offset = history.dual_share + (history.risk_score * history.hcc_ratio[by3] - 1.0)
    # 425.656(b)(3): regional spending risk-adjusted to the ACO's BY3 case mix (its HCC score).
    regional = history.regional_per_capita[:, by3, :] * history.hcc_ratio[by3]
    ra = regional_adjustment(hb, regional, history.national_per_capita[:, by3, :], shares, number, offset)
    if prior is None:
        psa, eligible = np.zeros(hb.shape[0]), np.zeros(hb.shape[0], dtype=bool)
    else:
        psa, eligible = prior_savings_adjustment(prior, nat[:, by3])
    return hb + benchmark_adjustment(ra, psa, eligible)


def _repayment_mechanism(history: PanelHistory, t: int, revenue_ratio: float | None,
                         existing: np.ndarray) -> np.ndarray:
    """The repayment mechanism required in year ``t`` (425.204(f)(4)(ii)-(iii)), dollars.

    The lesser of 0.5% of the assigned beneficiaries' expenditure and 1% of participant
    revenue, both of "the most recent calendar year for which 12 months of data are
    available", taken as the year before [INF: CMS may have only the year before that
    when it sets the amount]; the revenue is the scenario's ratio times that year's truncated
    spending (its benchmark is not known then) [INF]. From the second two-sided year on,
    raised only if the recalculated amount is at least $1,000,000 higher. Without
    participant revenue only the expenditure limb is known, and it is used (an upper bound).
    """
    expenditure = history.raw[:, t - 1, :].sum(axis=-1)
    amount = (0.005 * expenditure if revenue_ratio is None else
              repayment_mechanism_amount(expenditure, revenue_ratio * history.truncated[:, t - 1, :].sum(axis=-1)))
    first = ~(existing > 0)
    return np.where(first, amount, recalculated_repayment_mechanism(existing, amount))


PROGRAM = register_program(Program(
    name="mssp",
    title="Medicare Shared Savings Program over agreement periods (agreements from 2024)",
    spec=MsspPath,
    plan=plan_path,
    settle=settle_path,
    check=check_path,
    caps=(MSSP_CAP,),
))
