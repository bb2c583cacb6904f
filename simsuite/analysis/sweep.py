"""Sweeps: the risk summary of every contract as one scenario field takes several values.

`sweep` re-validates the scenario with the field set to each value (so a bad value
gets the same checks as in a file) and runs it with the same seed: every point of a
sweep uses the same random streams (common random numbers), so the curves are smooth
and their differences are not noise. `sensitivity` is a small one-at-a-time sweep of
the uncertain assumptions, for the tornado chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from simsuite.engines.montecarlo import RunOptions, options_for
from simsuite.engines.montecarlo import run as run_scenario
from simsuite.errors import InputError
from simsuite.results.dataset import sweep_dataset
from simsuite.scenario.edit import scenario_data, scenario_with
from simsuite.scenario.load import Scenario
from simsuite.scenario.schema import RiskAppetite, ScenarioSpec

#: One-at-a-time deltas of the tornado chart: (field path, delta, what it means).
SENSITIVITY_DELTAS: tuple[tuple[str, float, str], ...] = (
    ("assumptions.true_savings", 0.01, "true savings ±1 point"),
    ("assumptions.benchmark_margin", 0.01, "benchmark margin ±1 point"),
    ("assumptions.quality_score", 0.05, "quality score ±5 points"),
    ("population.risk_score.cv", 0.2, "risk-score CV ±0.2"),
    ("cost_model.tail_weight", 0.02, "high-cost share ±2 points"),
    ("cost_model.annual_trend", 0.01, "annual cost trend ±1 point"),
)


@dataclass(frozen=True)
class Crossing:
    """Where a measure of one contract crosses a limit along a sweep.

    ``at`` is linearly interpolated between the sweep values either side
    (``between``); ``direction`` says how the measure moves across the limit as the
    swept value grows ("falls below" / "rises above").
    """

    contract: str
    measure: str
    limit: float
    at: float
    between: tuple[float, float]
    direction: str


def sweep(scenario: Scenario, param_path: str, values: Sequence[Any], options: RunOptions | None = None,
          progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Run ``scenario`` once per value of the field ``param_path``.

    Parameters
    ----------
    scenario : Scenario
        The base scenario.
    param_path : str
        Dotted field path, e.g. ``population.beneficiaries``, ``assumptions.true_savings``,
        ``contracts.2.overrides.msr``.
    values : sequence
        Values of the field (validated as in a scenario file).
    options : RunOptions, optional
        Simulations, seed and threads (the scenario's by default); the chunk size is
        re-derived per point (it depends on the panel size and never changes results).
    progress : callable, optional
        Called with the number of simulations finished, summed over all points.

    Returns
    -------
    xarray.Dataset
        ``summary(sweep, contract, measure)`` and ``summary_se`` (as in
        `simsuite.results.dataset`), ``benchmark(sweep, contract)`` in dollars; coordinate
        ``sweep`` holds the values, attribute ``param`` the path (`sweep_dataset`).

    Raises
    ------
    InputError
        A bad path or value (one line naming ``--param``).
    """
    if len(values) == 0:
        raise InputError("--values", "", "give at least one value")
    scenarios = [scenario_with(scenario, param_path, v) for v in values]  # validate all before running
    base = options or options_for(scenario)
    points = []
    for sc in scenarios:
        opts = options_for(sc, sims=base.simulations, seed=base.seed, threads=base.threads)
        ds = run_scenario(sc, opts, progress)
        points.append(ds[["summary", "summary_se", "benchmark"]])
    return sweep_dataset(scenario, param_path, values, base.seed, base.simulations, points)


def crossings(ds: xr.Dataset, appetite: RiskAppetite) -> list[Crossing]:
    """Every place where a contract's measure crosses one of ``appetite``'s limits.

    Needs a numeric ``sweep`` coordinate. Linear interpolation between the two sweep
    values either side of the crossing; a measure equal to the limit at a sweep value
    counts as crossing there.
    """
    x = np.asarray(ds["sweep"].values)
    if not np.issubdtype(x.dtype, np.number):
        return []
    order = np.argsort(x)
    x = x[order].astype(float)
    found = []
    for lim in appetite.limits():
        for name in ds["contract"].values:
            y = ds["summary"].sel(contract=name, measure=lim.measure).values[order]
            d = y - lim.value
            for i in range(len(x) - 1):
                if d[i] == 0 or d[i] * d[i + 1] < 0 or (d[i + 1] == 0 and i == len(x) - 2):
                    if d[i] == d[i + 1]:
                        continue
                    at = x[i] + (x[i + 1] - x[i]) * (0.0 - d[i]) / (d[i + 1] - d[i])
                    direction = "rises above" if d[i + 1] > d[i] else "falls below"
                    found.append(Crossing(str(name), lim.measure, lim.value, float(at), (float(x[i]), float(x[i + 1])), direction))
    return found


def sensitivity(scenario: Scenario, options: RunOptions | None = None,
                deltas: Sequence[tuple[str, float, str]] = SENSITIVITY_DELTAS,
                progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """One-at-a-time sensitivity of every measure to each uncertain assumption.

    Each field is moved by ``-delta`` and ``+delta`` from the scenario's value (clipped
    to its valid range, e.g. a quality score stays in [0, 1]), all else fixed, with
    the same seed as the base run.

    Returns
    -------
    xarray.Dataset
        ``summary(factor, side, contract, measure)`` with ``side`` = ``low``/``high``,
        ``base(contract, measure)`` (the unchanged scenario), ``summary_se`` and
        ``base_se``; coordinates ``label(factor)``, ``low_value(factor)`` and
        ``high_value(factor)``.
    """
    options = options or options_for(scenario)
    spec = ScenarioSpec.model_validate(scenario_data(scenario))  # defaults filled in
    base_ds = run_scenario(scenario, options, progress)
    rows, rows_se, lows, highs = [], [], [], []
    for path, delta, _ in deltas:
        if path == "assumptions.true_savings" and not isinstance(spec.assumptions.true_savings, (int, float)):
            path += ".mean"  # uncertain savings ({mean, sd}): move the mean
        current = _get(spec, path)
        lo, hi = _clipped(path, current - delta), _clipped(path, current + delta)
        lows.append(lo)
        highs.append(hi)
        sides = [sweep(scenario, path, [v], options, progress).isel(sweep=0) for v in (lo, hi)]
        rows.append(xr.concat([s["summary"] for s in sides], dim="side"))
        rows_se.append(xr.concat([s["summary_se"] for s in sides], dim="side"))
    factors = [p for p, _, _ in deltas]
    return xr.Dataset(
        {
            "summary": xr.concat(rows, dim="factor").drop_vars("sweep", errors="ignore"),
            "summary_se": xr.concat(rows_se, dim="factor").drop_vars("sweep", errors="ignore"),
            "base": base_ds["summary"],
            "base_se": base_ds["summary_se"],
        },
        coords={
            "factor": factors,
            "side": ["low", "high"],
            "label": ("factor", [lab for _, _, lab in deltas]),
            "low_value": ("factor", lows),
            "high_value": ("factor", highs),
        },
        attrs={"title": scenario.spec.name, "simulations": options.simulations, "seed": options.seed,
               "beneficiaries": scenario.spec.population.beneficiaries},
    )


def _get(spec: ScenarioSpec, path: str) -> float:
    node: Any = spec
    for part in path.split("."):
        node = getattr(node, part)
    return float(node)


# Valid ranges of the sensitivity fields (open bounds nudged inwards), from `simsuite.scenario.schema`.
_RANGES = {
    "assumptions.true_savings": (-0.499, 0.499),
    "assumptions.true_savings.mean": (-0.499, 0.499),
    "assumptions.benchmark_margin": (-0.499, 0.499),
    "assumptions.quality_score": (0.0, 1.0),
    "population.risk_score.cv": (0.0, 5.0),
    "cost_model.tail_weight": (0.0, 0.999),
    "cost_model.annual_trend": (-0.499, 0.499),
}


def _clipped(path: str, value: float) -> float:
    lo, hi = _RANGES.get(path, (-np.inf, np.inf))
    return float(np.clip(value, lo, hi))
