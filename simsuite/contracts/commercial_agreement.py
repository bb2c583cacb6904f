"""Commercial and Medicare Advantage shared risk over several contract years: program
``commercial`` of `simsuite.contracts.programs`.

Each contract year is settled by the `simsuite.contracts.shared_risk` terms of its place in
the ``schedule`` (a glide, e.g. one upside-only year, two of shared risk, then capitation),
against a target set from the panel's own simulated, untruncated spending:

* ``target.basis: rebased`` -- each year's target is the weighted average per capita cost of
  the previous ``lookback`` (1-3) years, each trended to the year: "these targets are based on
  historical performance, usually 1-3 years" (Sg2) and re-set annually ("Target rebasing,
  the approach often used to develop the annual cost target", Milliman, "Five common
  pitfalls in commercial ACO shared risk arrangements", 2016) [Low];
* ``target.basis: fixed`` -- the first year's target, set the same way, then grown by the
  trend each year and never rebased (a fixed target with a trend guarantee) [INF: no
  commercial source; LEAD's fixed baseline with a prospective trend is the nearest
  published analogue];
* ``target.trend`` -- a fixed annual rate (the trend the payer applies, or guarantees) or
  ``market`` (the region's simulated growth);
* ``target.discount`` -- the target "discounted by an assumed savings factor" (Deloitte) [Low];
* ``deficit_carry_forward`` -- a deficit the provider did not pay (all of it in an
  upside-only year, the payer's part in a shared-risk year) is carried into later years
  and recovered from their savings before any surplus is shared [INF: the option is common
  in MA risk pools (reference multiyear.md §3, [MEM]); no source gives its arithmetic].

The target is not risk-adjusted (a percent-of-premium MA target would move with risk
scores and county benchmarks; not modelled). Money is dollars; positive = to the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.contracts.base import UNCAPPED, AgreementSetup, PanelHistory, PathSettlement
from simsuite.contracts.contract import Contract, build_custom_contract
from simsuite.contracts.mssp_agreement import MSSP_CAP
from simsuite.contracts.programs import PathPlan, Program, register_program
from simsuite.contracts.shared_risk import SharedRiskTerms, shared_result
from simsuite.errors import FieldProblem

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
#: Readable names of the arrangements (the years table's "level" column).
LEVELS = {"upside_only": "upside-only", "shared_risk": "shared risk", "capitation": "capitation"}


class TargetRule(BaseModel):
    """How each contract year's target is set (``path.target``).

    Attributes
    ----------
    basis : {"rebased", "fixed"}
        Re-set every year from the previous years' cost, or set once and trended.
    lookback : int
        Years of history the target averages (1-3).
    weights : list of float or None
        Their weights, oldest first, summing to 1 (default: equal).
    trend : float or "market"
        Annual growth applied to past cost (rebased) or guaranteed to the target (fixed),
        or the region's simulated growth.
    discount : float
        Fraction taken off the target (an assumed savings factor).
    """

    model_config = _STRICT
    basis: Literal["rebased", "fixed"]
    lookback: Annotated[int, Field(ge=1, le=3)]
    weights: list[Annotated[float, Field(ge=0.0, le=1.0)]] | None = None
    trend: Literal["market"] | Annotated[float, Field(gt=-0.2, lt=0.3)]
    discount: Annotated[float, Field(ge=0.0, lt=0.2)] = 0.0

    @model_validator(mode="after")
    def _weights(self) -> TargetRule:
        if self.weights is not None:
            if len(self.weights) != self.lookback:
                raise FieldProblem(("weights",), f"give {self.lookback} weights (one per lookback year, oldest first)")
            if abs(sum(self.weights) - 1.0) > 1e-9:
                raise FieldProblem(("weights",), f"the weights must sum to 1 (they sum to {sum(self.weights):g})")
        return self

    def year_weights(self) -> np.ndarray:
        """Weights of the ``lookback`` years, oldest first."""
        return np.full(self.lookback, 1.0 / self.lookback) if self.weights is None else np.array(self.weights)


class ScheduleEntry(SharedRiskTerms):
    """Consecutive contract years under the same terms (``path.schedule[k]``): `SharedRiskTerms`
    and ``years``, how many."""

    years: Annotated[int, Field(ge=1, le=50)]


class CommercialPath(BaseModel):
    """A commercial or MA shared-risk path (``contracts[i].path`` with ``program: commercial``).

    Attributes
    ----------
    program : "commercial"
    target : TargetRule
    schedule : list of ScheduleEntry
        The contract years in order; they must cover the horizon's performance years.
    deficit_carry_forward : bool
        Carry deficits the provider did not pay into later years' savings.
    """

    model_config = _STRICT
    program: Literal["commercial"] = "commercial"
    target: TargetRule
    schedule: Annotated[list[ScheduleEntry], Field(min_length=1)]
    deficit_carry_forward: bool = False


@dataclass(frozen=True)
class CommercialPlan(PathPlan):
    """A commercial path resolved for a horizon: `PathPlan` (each year's `shared_risk`
    contract) plus its target rule and carry-forward."""

    target: TargetRule | None = None
    carry_forward: bool = False


def plan_path(path: CommercialPath, setup: AgreementSetup, name: str) -> CommercialPlan:
    """Each performance year's terms from the schedule.

    Raises
    ------
    FieldProblem
        The schedule covers fewer years than the horizon simulates.
    """
    years = setup.performance_years
    terms: list[ScheduleEntry] = [entry for entry in path.schedule for _ in range(entry.years)]
    if len(terms) < len(years):
        raise FieldProblem(("schedule",), f"the schedule covers {len(terms)} contract years but the horizon "
                                          f"simulates {len(years)} ({years[0]}-{years[-1]}); add years or "
                                          f"shorten the horizon")
    contracts: list[Contract] = []
    for year, entry in zip(years, terms):
        fields = entry.model_dump(exclude={"years"}, exclude_defaults=True)
        contracts.append(build_custom_contract("shared_risk", fields, f"{name} {year}"))
    notes = [f"{name}: target {_describe(path.target)}; not risk-adjusted"]
    if len(terms) > len(years):
        notes.append(f"{name}: the schedule's last {len(terms) - len(years)} contract years are beyond the horizon")
    if path.deficit_carry_forward:
        notes.append(f"{name}: deficits the provider did not pay are recovered from later savings before any "
                     f"surplus is shared (arithmetic assumed: no published rule)")
    return CommercialPlan(years=tuple(years), levels=tuple(LEVELS[t.arrangement] for t in terms[:len(years)]),
                          contracts=tuple(contracts), notes=tuple(notes), target=path.target,
                          carry_forward=path.deficit_carry_forward, rebased_at=(years[0],),
                          no_ratchet=("the target is re-set every contract year from the previous years' cost: "
                                      "its cost is the effective share of savings "
                                      "(simsuite.analysis.effective_share), not an agreement's ratchet"
                                      if path.target.basis == "rebased" else
                                      "the target is set once and grown by the guaranteed trend, never rebased"))


def _describe(rule: TargetRule) -> str:
    trend = "the region's growth" if rule.trend == "market" else f"{100 * rule.trend:g}% a year"
    years = "the previous year's" if rule.lookback == 1 else f"the previous {rule.lookback} years'"
    how = (f"re-set every year from {years} cost trended at {trend}" if rule.basis == "rebased"
           else f"fixed from {years} cost, grown at {trend} (never rebased)")
    return how + (f", less {100 * rule.discount:g}%" if rule.discount else "")


# ---- rules ---------------------------------------------------------------------------------------


def growth(rule: TargetRule, regional: np.ndarray, t_from: int, t_to: int) -> np.ndarray | float:
    """Growth factor of cost from year index ``t_from`` to ``t_to`` under the target's trend:
    ``(1 + trend)^(t_to - t_from)``, or the region's per capita ratio (``regional``, (S, Y))."""
    if rule.trend == "market":
        return regional[:, t_to] / regional[:, t_from]
    return (1.0 + rule.trend) ** (t_to - t_from)


def target_per_capita(rule: TargetRule, actual: np.ndarray, regional: np.ndarray, t: int, t_start: int
                      ) -> np.ndarray:
    """The target per capita of year index ``t`` (first contract year ``t_start``), dollars.

    * rebased: ``(1 - discount) sum_j w_j A_{t-j} g(t-j, t)`` over the ``lookback`` years before ``t``;
    * fixed: the same at ``t_start``, then ``x g(t_start, t)``.

    ``actual`` is the per capita cost of each simulation and year, (S, Y); ``g`` is `growth`.
    """
    anchor = t if rule.basis == "rebased" else t_start
    w = rule.year_weights()
    k = rule.lookback
    base = sum(w[i] * actual[:, anchor - k + i] * growth(rule, regional, anchor - k + i, anchor) for i in range(k))
    return (1.0 - rule.discount) * base * growth(rule, regional, anchor, t)


def settle_with_carry_forward(terms: SharedRiskTerms, target: np.ndarray, result: np.ndarray,
                              deficit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One year's payment and the deficit carried out of it.

    ``deficit`` (<= 0) is what earlier years left unrecovered. A year with savings
    (``S >= 0``) settles the pool ``S + deficit`` if positive (its threshold measured on the
    pool), else pays nothing and carries the pool; a year with a loss settles ``S`` alone and
    carries what the provider did not pay, ``S - payment`` [INF, see the module docstring].

    Returns
    -------
    payment, deficit : ndarray
        Money to the provider, and the deficit carried into the next year (<= 0), dollars.
    """
    pool = result + deficit
    gain_year = result >= 0.0
    paid_gain = np.where(pool > 0.0, shared_result(terms, target, np.maximum(pool, 0.0)), 0.0)
    paid_loss = shared_result(terms, target, np.minimum(result, 0.0))
    payment = np.where(gain_year, paid_gain, paid_loss)
    carried = np.where(gain_year, np.minimum(pool, 0.0), deficit + result - paid_loss)
    return payment, carried


def settle_path(plan: PathPlan, history: PanelHistory) -> PathSettlement:
    """Settle every contract year on the simulated history.

    Returns
    -------
    PathSettlement
        Arrays ``(S, P)``: money to the provider, the target and the untruncated cost
        compared, dollars; no guarantee, no guardrail.
    """
    assert isinstance(plan, CommercialPlan) and plan.target is not None
    n = history.person_years
    people = n.sum()
    shares = n / people
    actual = history.raw.sum(axis=-1) / people
    regional = (history.regional_per_capita * shares).sum(axis=-1)
    t_start = history.index(plan.years[0])
    sims, n_years = actual.shape[0], len(plan.years)
    out = {k: np.zeros((sims, n_years)) for k in ("net", "benchmark", "expenditure")}
    deficit = np.zeros(sims)
    for p, year in enumerate(plan.years):
        t = history.index(year)
        target = target_per_capita(plan.target, actual, regional, t, t_start) * people
        spent = history.raw[:, t, :].sum(axis=-1)
        terms = plan.contracts[p].terms
        if plan.carry_forward:
            out["net"][:, p], deficit = settle_with_carry_forward(terms, target, target - spent, deficit)
        else:
            out["net"][:, p] = shared_result(terms, target, target - spent)
        out["benchmark"][:, p], out["expenditure"][:, p] = target, spent
    zeros = np.zeros((sims, n_years))
    return PathSettlement(years=plan.years, levels=plan.levels, net=out["net"], gain_shared=out["net"] > 0.0,
                          benchmark=out["benchmark"], expenditure=out["expenditure"], repayment_mechanism=zeros,
                          guardrail=zeros.astype(bool))


PROGRAM = register_program(Program(
    name="commercial",
    title="commercial / Medicare Advantage shared risk by contract year (rebased or fixed target, glide, "
          "deficit carry-forward)",
    spec=CommercialPath,
    plan=plan_path,
    settle=settle_path,
    # Untruncated cost; the engine's history also needs MSSP's truncated sums.
    caps=(UNCAPPED, MSSP_CAP),
))
