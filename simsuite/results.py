"""The results Dataset: per-simulation figures, the risk summary, and provenance.

Layout (dims ``contract``, ``sim``, ``measure``):

* ``net(contract, sim)``: money to the provider, dollars per year (loss < 0);
* ``gain_shared(contract, sim)``: 1 if shared savings were paid;
* ``expenditure(contract, sim)``: panel cost the contract settles on (truncated as
  it requires), dollars;
* ``benchmark(contract)``: the benchmark the contract compares with, dollars, averaged over
  simulations where it varies (NaN for FFS; for episode contracts the sum of target
  prices);
* ``savings_rate(contract, sim)``: ``(benchmark - expenditure) / benchmark`` with each
  simulation's own benchmark;
* ``panel_cost(sim)``: untruncated panel cost, dollars;
* ``quality_score(sim)``: the quality score of each simulation (fraction);
* ``summary(contract, measure)`` and ``summary_se(contract, measure)``: the measures of
  `simsuite.risk.MEASURES` and their Monte Carlo standard errors.

Attributes hold the scenario text, the seed, the number of simulations and the
simsuite version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from simsuite import __version__
from simsuite.risk import MEASURES, summarize

if TYPE_CHECKING:
    from simsuite.engine import RunOptions, SimulationArrays
    from simsuite.scenario import Scenario


def assemble(scenario: "Scenario", options: "RunOptions", arrays: "SimulationArrays") -> xr.Dataset:
    """Build the results Dataset from the per-simulation arrays of a run."""
    net, gain_shared, expenditure = arrays.net, arrays.gain_shared, arrays.expenditure
    benchmark, panel_cost, quality_score = arrays.benchmark, arrays.panel_cost, arrays.quality_score
    names = [c.name for c in scenario.contracts]
    values = np.empty((len(names), len(MEASURES)))
    errors = np.empty_like(values)
    for i in range(len(names)):
        v, e = summarize(net[i], gain_shared[i])
        values[i] = [v[m] for m in MEASURES]
        errors[i] = [e[m] for m in MEASURES]
    with np.errstate(invalid="ignore", divide="ignore"):
        savings_rate = (benchmark - expenditure) / benchmark

    ds = xr.Dataset(
        data_vars={
            "net": (("contract", "sim"), net, {"units": "USD", "long_name": "money to the provider (loss < 0)"}),
            "gain_shared": (("contract", "sim"), gain_shared.astype(np.int8), {"long_name": "shared savings paid (1) or not (0)"}),
            "expenditure": (("contract", "sim"), expenditure, {"units": "USD", "long_name": "panel expenditure the contract settles on"}),
            "benchmark": (("contract",), benchmark.mean(axis=1), {"units": "USD", "long_name": "benchmark the contract compares with (mean over simulations)"}),
            "savings_rate": (("contract", "sim"), savings_rate, {"units": "1", "long_name": "(benchmark - expenditure) / benchmark"}),
            "panel_cost": (("sim",), panel_cost, {"units": "USD", "long_name": "untruncated panel cost"}),
            "quality_score": (("sim",), quality_score, {"units": "1", "long_name": "quality score"}),
            "summary": (("contract", "measure"), values, {"long_name": "risk summary (money in USD, probabilities as fractions)"}),
            "summary_se": (("contract", "measure"), errors, {"long_name": "Monte Carlo standard error of summary"}),
        },
        coords={
            "contract": names,
            "sim": np.arange(arrays.first_sim, arrays.first_sim + net.shape[1], dtype=np.int64),
            "measure": list(MEASURES),
            "preset": ("contract", [c.preset for c in scenario.contracts]),
            "family": ("contract", [c.family for c in scenario.contracts]),
            "status": ("contract", [c.status for c in scenario.contracts]),
        },
        attrs={
            "title": scenario.spec.name,
            "scenario_source": scenario.source,
            "scenario": scenario.text,
            "performance_year": scenario.spec.performance_year,
            "beneficiaries": scenario.spec.population.beneficiaries,
            "panel": panel_description(scenario),
            "seed": options.seed,
            "simulations": net.shape[1],
            "simsuite_version": __version__,
            "sign_convention": "positive = money to the provider; risk measures on loss = -net",
        },
    )
    return ds


def panel_description(scenario: "Scenario") -> str:
    """What the contracts settle on, in words: beneficiaries, episodes, or both."""
    parts = []
    if any(c.has_benchmark and not c.uses_episodes for c in scenario.contracts):
        parts.append(f"{scenario.spec.population.beneficiaries:,} beneficiaries")
    if any(c.uses_episodes for c in scenario.contracts):
        volumes = ", ".join(f"{e.category} {e.annual_volume:g}/yr" for e in scenario.spec.episodes)
        parts.append(f"episodes: {volumes}")
    return "; ".join(parts) or f"{scenario.spec.population.beneficiaries:,} beneficiaries"


def write_netcdf(ds: xr.Dataset, path: str | Path) -> None:
    """Write ``ds`` to ``path`` (netCDF-4). Callers make it atomic (`simsuite.output`)."""
    ds.to_netcdf(path, engine="netcdf4")
