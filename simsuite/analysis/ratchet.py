"""The ratchet: how much of a lasting saving still counts once the benchmark is rebased.

At renewal a program that rebases (MSSP, 42 CFR 425.652(c)) builds the next benchmark from
the organisation's own recent spending, so a saving made in one agreement lowers the next
agreement's benchmark; the regional or prior savings adjustment gives part of it back
(``shared/reference/multiyear.md`` §1.7: about half for MSSP).

`ratchet_report` measures it by simulation, for every path that runs through more than one
agreement, whatever its program: the scenario is run twice on the same random draws, as
written and with no saving (``assumptions.true_savings`` = 0). Per agreement ``k``:

* the spending the saving removed, ``D_k = sum_t E[X0_t - X1_t]`` over its years;
* the part of it the benchmark still credits, ``C_k = sum_t E[(B1_t - X1_t) - (B0_t - X0_t)]``;
* the share credited ``rho_k = C_k / D_k`` (1 where the benchmark does not move; what
  survives rebasing in a renewal), and ``rho_k / rho_1``, the share of the first
  agreement's credit that survives into agreement ``k``;
* the money the saving brings under the contract, ``G_k = sum_t E[N1_t - N0_t]`` (its
  settlements, the effort's cost excluded), and ``G_k / D_k``.

``X`` is the expenditure the contract settles on, ``B`` its benchmark, ``N`` its settlement;
1 = as written, 0 = without the saving. Standard errors are the delta method's on the
paired simulations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simsuite.contracts import PathContract
from simsuite.engines.montecarlo import RunOptions, options_for
from simsuite.engines.montecarlo import run as run_scenario
from simsuite.formatting import money
from simsuite.scenario.edit import scenario_with

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.scenario.load import Scenario


@dataclass(frozen=True)
class RatchetRow:
    """One agreement of one path (money in dollars a year, averaged over its years)."""

    contract: str
    agreement: int
    years: tuple[int, int]
    spending_removed: float
    credited: float
    share_credited: float
    share_credited_se: float
    survives: float
    survives_se: float
    settlement_gain: float
    settlement_gain_se: float


@dataclass(frozen=True)
class RatchetReport:
    """`RatchetRow` for every agreement of every path with more than one; ``skipped``: the
    other paths, each with why there is nothing to ratchet (one agreement within the horizon,
    or a program that never rebases, such as LEAD)."""

    rows: tuple[RatchetRow, ...]
    skipped: tuple[tuple[str, str], ...]
    simulations: int

    def text(self) -> str:
        """One sentence per path, in plain words."""
        out = []
        for name in dict.fromkeys(r.contract for r in self.rows):
            rows = [r for r in self.rows if r.contract == name]
            first, last = rows[0], rows[-1]
            out.append(
                f"{name}: the saving removes {money(first.spending_removed)} of spending a year in "
                f"{first.years[0]}-{first.years[1]}, of which the benchmark credits {100 * first.share_credited:.0f}%; "
                f"after rebasing, in {last.years[0]}-{last.years[1]}, it credits {100 * last.share_credited:.1f}% "
                f"± {100 * last.share_credited_se:.1f} of {money(last.spending_removed)}: "
                f"{100 * last.survives:.0f}% of the first agreement's credit survives the ratchet, and the saving "
                f"brings {money(last.settlement_gain)} a year under the contract against {money(first.settlement_gain)}.")
        out += [f"{name}: {why}." for name, why in self.skipped]
        return "\n".join(out)


def _ratio(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``mean(a) / mean(b)`` and its delta-method standard error (paired samples)."""
    mb = float(b.mean())
    if mb == 0.0:
        return math.nan, math.nan
    r = float(a.mean()) / mb
    resid = a - r * b
    se = float(resid.std(ddof=1) / (math.sqrt(a.size) * abs(mb))) if a.size > 1 else 0.0
    return r, se


def _ratio_of_ratios(c: np.ndarray, d: np.ndarray, c1: np.ndarray, d1: np.ndarray) -> tuple[float, float]:
    """``(mean(c) / mean(d)) / (mean(c1) / mean(d1))`` and its delta-method standard error
    (all four paired by simulation)."""
    means = [float(x.mean()) for x in (c, d, c1, d1)]
    if 0.0 in means:
        return math.nan, math.nan
    r = (means[0] / means[1]) / (means[2] / means[3])
    z = c / means[0] - d / means[1] - c1 / means[2] + d1 / means[3]
    se = abs(r) * float(z.std(ddof=1)) / math.sqrt(c.size) if c.size > 1 else 0.0
    return r, se


def _settlement(ds: xr.Dataset, name: str) -> np.ndarray:
    """Money under contract ``name`` by simulation and year, the effort's cost excluded."""
    net = ds["net_by_year"].sel(contract=name).values
    return net - ds["effort_by_year"].values if "effort_by_year" in ds else net


def ratchet_report(scenario: Scenario, options: RunOptions | None = None, results: xr.Dataset | None = None,
                   progress: Callable[[int], None] | None = None) -> RatchetReport:
    """The share of a lasting saving each agreement's benchmark credits (module docstring).

    Parameters
    ----------
    scenario : Scenario
        A multi-year scenario; its ``assumptions.true_savings`` is the saving.
    options : RunOptions, optional
        Simulations and seed of both runs (the scenario's by default).
    results : xarray.Dataset, optional
        The run of ``scenario`` with ``options``, if already made (saves one run).
    progress : callable, optional
        Called with the number of simulations finished (two runs of ``options.simulations``).
    """
    options = options or options_for(scenario)
    paths = [c for c in scenario.contracts if isinstance(c, PathContract)]
    several = [c for c in paths if c.plan.no_ratchet is None and len(c.agreement_starts) > 1]
    skipped = tuple((c.name, c.plan.no_ratchet or "one agreement in the horizon, no rebasing to measure")
                    for c in paths if c not in several)
    if not several:
        return RatchetReport((), skipped, options.simulations)
    with_saving = results if results is not None else run_scenario(scenario, options, progress)
    without = run_scenario(scenario_with(scenario, "assumptions.true_savings", 0.0), options, progress)
    rows = measure_ratchet(with_saving, without, {c.name: c.agreement_starts for c in several})
    return RatchetReport(rows, skipped, options.simulations)


def measure_ratchet(with_saving: xr.Dataset, without: xr.Dataset, agreements: dict[str, list[int]]
                    ) -> tuple[RatchetRow, ...]:
    """`RatchetRow` of each agreement of each named path, from two runs on the same draws
    (``net_by_year``, ``benchmark_by_year``, ``expenditure_by_year`` and, if any,
    ``effort_by_year``); ``agreements`` gives each path's agreements' first years."""
    years = [int(y) for y in with_saving["year"].values]
    rows: list[RatchetRow] = []
    for name, first_years in agreements.items():
        b1 = with_saving["benchmark_by_year"].sel(contract=name).values
        x1 = with_saving["expenditure_by_year"].sel(contract=name).values
        b0 = without["benchmark_by_year"].sel(contract=name).values
        x0 = without["expenditure_by_year"].sel(contract=name).values
        gain = _settlement(with_saving, name) - _settlement(without, name)
        starts = list(first_years) + [years[-1] + 1]
        first: tuple[np.ndarray, np.ndarray] | None = None
        for k in range(len(starts) - 1):
            cols = [years.index(y) for y in range(starts[k], starts[k + 1])]
            removed = (x0[:, cols] - x1[:, cols]).sum(axis=1)
            credited = ((b1[:, cols] - x1[:, cols]) - (b0[:, cols] - x0[:, cols])).sum(axis=1)
            g = gain[:, cols].sum(axis=1)
            share, share_se = _ratio(credited, removed)
            if first is None:
                first = (credited, removed)
            survives, survives_se = _ratio_of_ratios(credited, removed, *first)
            n_years = len(cols)
            rows.append(RatchetRow(
                contract=name, agreement=k + 1, years=(starts[k], starts[k + 1] - 1),
                spending_removed=float(removed.mean()) / n_years, credited=float(credited.mean()) / n_years,
                share_credited=share, share_credited_se=share_se, survives=survives, survives_se=survives_se,
                settlement_gain=float(g.mean()) / n_years,
                settlement_gain_se=float(g.std(ddof=1) / math.sqrt(g.size)) / n_years if g.size > 1 else 0.0))
    return tuple(rows)
