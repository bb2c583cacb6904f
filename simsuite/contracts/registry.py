"""The contract-family registry: the one place the rest of simsuite learns what a family is.

Each family module calls `register_family` once, at import, with everything other code
needs to know about it: its name, its terms schema, the per-beneficiary caps and the
inputs its settlement reads, how the exact method handles it, and its scalar reference
settlement. Nothing outside a family's own module names the family: engines, figures,
the exact method and the tests all ask the registry.

Adding a family is one module that registers itself plus (optionally) one preset file;
`ARCHITECTURE.md` lists the steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from pydantic import BaseModel

from simsuite.contracts.base import CapSpec, HighCostCap, PanelTotal, PanelYear, RiskGrowth, RuleFacts, Settlement

T = TypeVar("T", bound=BaseModel)

#: What a settlement may read from its `PanelYear`:
#: ``panel`` = the benchmark and the panel sums under the family's caps (and its size);
#: ``episodes`` = the simulated episodes (`PanelYear.episodes`);
#: ``quality`` = the quality score of each simulation.
Input = Literal["panel", "episodes", "quality"]

#: How the exact (FFT) method computes a family:
#: ``panel_total`` = settlement is a function of one panel total (`Family.exact_total`);
#: ``episodes`` = settlement of independent episode categories, conditioned on counts;
#: ``constant`` = settlement reads no random cost (a point mass, given a fixed quality score);
#: ``none`` = not computable exactly (`Family.exact_refusal` says why).
ExactKind = Literal["panel_total", "episodes", "constant", "none"]


def _no_problem(terms: Any, *args: Any) -> str | None:
    return None


def _no_check(terms: Any, facts: RuleFacts) -> None:
    return None


def _no_notes(terms: Any, year: PanelYear) -> tuple[str, ...]:
    return ()


def _no_guarantee(terms: Any, year: PanelYear) -> float | None:
    return None


@dataclass(frozen=True)
class Family(Generic[T]):
    """A payment family and what every stage needs to know about it.

    Attributes
    ----------
    name : str
        The family's name in scenario files (``family: corridor``) and preset files.
    title : str
        One line for listings (``simsuite contracts families``).
    terms : type of pydantic model
        The terms schema.
    settle : callable
        ``settle(terms, panel_year) -> Settlement``, vectorised over simulations.
    caps : callable
        ``caps(terms) -> tuple of CapSpec``: the per-beneficiary caps whose panel sums the
        settlement reads; the first sets the benchmark and the expenditure. Empty: the
        contract has no benchmark (FFS, episode contracts).
    reads : frozenset of str
        The `Input` kinds the settlement reads.
    exact : str
        How the exact method computes it (`ExactKind`).
    exact_total : callable or None
        For ``exact == "panel_total"``: ``exact_total(terms) -> PanelTotal``, the one
        total the settlement depends on.
    exact_refusal : callable
        ``exact_refusal(terms) -> str or None``: why these terms cannot be computed
        exactly although the family can (e.g. uncapped episode costs).
    reference : callable
        The slow, obviously correct scalar settlement the tests check ``settle`` against
        (its signature is the family's own).
    panel_problem : callable
        ``panel_problem(terms, n_beneficiaries) -> str or None``: why the terms cannot
        settle a panel of that size.
    episode_cap : callable or None
        For families that read ``episodes``: ``episode_cap(terms) -> HighCostCap or None``,
        the cap on each episode's cost whose sums the settlement reads.
    prices_episode : callable or None
        For families that read ``episodes``: ``prices_episode(terms, category, group)``,
        whether the contract reconciles that episode category.
    episode_names : callable or None
        For families that read ``episodes``: the categories and groups the terms name
        (for "did you mean" messages).
    risk_ratio : callable or None
        ``risk_ratio(terms, growth) -> ndarray``: the risk ratio (performance year over base
        year, by group of `RiskGrowth`) the benchmark follows under the family's cap on
        risk-score growth. None: the benchmark follows the panel's risk in full (no cap).
    check : callable
        ``check(terms, facts)``: raises `simsuite.errors.FieldProblem` (located from the
        scenario's root, e.g. ``("assumptions", "quality_threshold")``) when the scenario
        does not state what the rules need, or states what they forbid.
    notes : callable
        ``notes(terms, year) -> tuple of str``: the rules in effect that a reader of the
        results must know (a stated default, a threshold and its source, an approximation),
        one line each; ``year`` is the `PanelYear` at the expected totals.
    guarantee : callable
        ``guarantee(terms, year) -> float or None``: the financial guarantee the contract
        requires the organisation to hold (MSSP repayment mechanism), dollars; None: none.
    """

    name: str
    title: str
    terms: type[T]
    settle: Callable[[T, PanelYear], Settlement]
    caps: Callable[[T], tuple[CapSpec, ...]]
    reads: frozenset[str]
    exact: ExactKind
    reference: Callable[..., float]
    exact_total: Callable[[T], PanelTotal] | None = None
    exact_refusal: Callable[[T], str | None] = field(default=_no_problem)
    panel_problem: Callable[[T, int], str | None] = field(default=_no_problem)
    episode_cap: Callable[[T], HighCostCap | None] | None = None
    prices_episode: Callable[[T, str, str | None], bool] | None = None
    episode_names: Callable[[T], tuple[str, ...]] | None = None
    risk_ratio: Callable[[T, RiskGrowth], np.ndarray] | None = None
    check: Callable[[T, RuleFacts], None] = field(default=_no_check)
    notes: Callable[[T, PanelYear], tuple[str, ...]] = field(default=_no_notes)
    guarantee: Callable[[T, PanelYear], float | None] = field(default=_no_guarantee)


FAMILIES: dict[str, Family[Any]] = {}


def register_family(family: Family[Any]) -> Family[Any]:
    """Add ``family`` to `FAMILIES` (called once by each family module at import).

    Raises
    ------
    ValueError
        Another family already has the name, or the declaration is inconsistent.
    """
    if family.name in FAMILIES and FAMILIES[family.name] is not family:
        raise ValueError(f"contract family '{family.name}' is registered twice")
    unknown = set(family.reads) - {"panel", "episodes", "quality"}
    if unknown:
        raise ValueError(f"family '{family.name}' reads unknown inputs {sorted(unknown)}")
    if (family.exact == "panel_total") != (family.exact_total is not None):
        raise ValueError(f"family '{family.name}': exact_total goes with exact='panel_total' (and only with it)")
    hooks = (family.episode_cap, family.prices_episode, family.episode_names)
    if ("episodes" in family.reads) != all(h is not None for h in hooks):
        raise ValueError(f"family '{family.name}': episode_cap, prices_episode and episode_names "
                         "go with reads 'episodes'")
    FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family (for tests that register a family of their own)."""
    FAMILIES.pop(name, None)
