"""The Monte Carlo engine: scenario -> kernel draws -> settlement of every contract -> Dataset.

Every contract is settled on the same draws (common random numbers), so differences
between contracts are not noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numba
import numpy as np

from simsuite.adjustments import effort_cost, risk_cap_factors, simulation_factors
from simsuite.bootstrap import BootstrapPanel
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear
from simsuite.kernels import panel_totals, stream_key
from simsuite.kernels.bootstrap import bootstrap_totals
from simsuite.population import PanelArrays, build_panel
from simsuite.quality import quality_scores
from simsuite.scenario import Scenario

if TYPE_CHECKING:  # xarray (and pandas) load only when results are built
    import xarray as xr

COST_STREAM = 1  # random stream of patient costs; other streams are reserved for other draws
# About 5e6 patient draws per chunk (~0.05-0.1 s): short enough for Ctrl-C and progress to
# respond quickly, long enough that per-chunk overhead is negligible.
DRAWS_PER_CHUNK = 5_000_000


@dataclass(frozen=True)
class RunOptions:
    """Run settings after command-line overrides (the scenario's ``run`` section otherwise)."""

    simulations: int
    seed: int
    threads: int | None = None
    chunk: int = 4096
    first_sim: int = 0  # global index of the first simulation (a chunk of a larger run)


def options_for(scenario: Scenario, sims: int | None = None, seed: int | None = None,
                threads: int | None = None, chunk: int | None = None) -> RunOptions:
    """Merge command-line overrides into the scenario's run settings."""
    run = scenario.spec.run
    return RunOptions(
        simulations=sims if sims is not None else run.simulations,
        seed=seed if seed is not None else run.seed,
        threads=threads if threads is not None else run.threads,
        chunk=chunk or int(np.clip(DRAWS_PER_CHUNK // scenario.spec.population.beneficiaries, 16, 65_536)),
    )


def cap_specs(scenario: Scenario) -> list[CapSpec]:
    """Every distinct per-beneficiary cap some contract needs; the uncapped sum first."""
    specs = [UNCAPPED]
    for contract in scenario.contracts:
        specs += [c for c in contract.caps if c not in specs]
    return specs


def simulate_totals(panel: PanelArrays, caps: np.ndarray, cost_factor: float | np.ndarray, options: RunOptions,
                    progress: Callable[[int], None] | None = None,
                    bootstrap: BootstrapPanel | None = None) -> np.ndarray:
    """Per-simulation panel totals, shape ``(S, K)``, dollars; computed in chunks of sims.

    Simulation ``s`` draws the same numbers whatever the chunk size or thread count.

    Parameters
    ----------
    cost_factor : float or float64[S]
        Multiplier of every beneficiary's cost, one for the run or one per simulation
        (savings effort x systemic trend), applied before the caps.
    bootstrap : BootstrapPanel, optional
        Resample costs from the organisation's history instead of the parametric model.
    """
    # A typed uint64 key: Numba would type a plain Python int above 2**63 as overflow.
    key = np.uint64(stream_key(np.uint64(options.seed), np.uint64(COST_STREAM)))
    factor = np.broadcast_to(np.asarray(cost_factor, dtype=float), (options.simulations,))
    # The parametric kernel adds a per-simulation log shift to every patient's log-mean.
    log_shift = np.log(factor)
    totals = np.empty((options.simulations, caps.shape[0]))
    from simsuite.kernels.panel import BLOCK

    # The kernel hands out blocks of BLOCK simulations to threads: a chunk of whole
    # blocks, in a number divisible by 4, keeps 1, 2 or 4 threads evenly loaded and
    # leaves no partial block. Results do not depend on the chunk size.
    unit = 4 * BLOCK
    chunk = max(unit, -(-options.chunk // unit) * unit)
    severity = None if bootstrap is not None else panel.severity  # built on each access
    previous_threads = numba.get_num_threads()
    if options.threads is not None:
        numba.set_num_threads(min(options.threads, numba.config.NUMBA_NUM_THREADS))
    try:
        for start in range(0, options.simulations, chunk):
            stop = min(start + chunk, options.simulations)
            if bootstrap is not None:
                bootstrap_totals(key, options.first_sim + start, np.ascontiguousarray(factor[start:stop]),
                                 bootstrap.scale, bootstrap.cohort_start, bootstrap.row_start,
                                 bootstrap.costs, caps, totals[start:stop])
            else:
                panel_totals(key, options.first_sim + start, panel.log_mean_expected,
                             np.ascontiguousarray(log_shift[start:stop]), panel.cohort_start,
                             panel.zero_share, severity, caps, totals[start:stop])
            if progress is not None:
                progress(stop - start)
    finally:
        numba.set_num_threads(previous_threads)
    return totals


@dataclass(frozen=True)
class SimulationArrays:
    """Per-simulation results of a range of simulations, before any summary.

    Arrays have shape ``(C, S)`` (one row per contract) or ``(S,)``; money in dollars per
    year, positive = to the provider.
    """

    first_sim: int
    net: np.ndarray
    gain_shared: np.ndarray
    expenditure: np.ndarray
    benchmark: np.ndarray
    panel_cost: np.ndarray
    quality_score: np.ndarray

    @staticmethod
    def concatenate(parts: list["SimulationArrays"]) -> "SimulationArrays":
        """Join consecutive ranges of simulations (in order) into one."""
        parts = sorted(parts, key=lambda p: p.first_sim)
        joined = {
            name: np.concatenate([getattr(p, name) for p in parts], axis=-1)
            for name in ("net", "gain_shared", "expenditure", "benchmark", "panel_cost", "quality_score")
        }
        return SimulationArrays(first_sim=parts[0].first_sim, **joined)


def simulate(scenario: Scenario, options: RunOptions,
             progress: Callable[[int], None] | None = None) -> SimulationArrays:
    """Draw and settle simulations ``first_sim .. first_sim + simulations - 1``.

    The result of each simulation depends only on the scenario, the seed and its global
    index, so ranges computed separately (other processes, other machines) and joined with
    `SimulationArrays.concatenate` equal one run over the whole range, bit for bit.
    """
    spec = scenario.spec
    a = spec.assumptions
    panel = build_panel(spec, scenario.patients)
    boot = (None if scenario.cost_history is None else
            BootstrapPanel.build(panel.cohorts, panel.cohort_start, panel.risk_score, scenario.cost_history))
    costs = panel if boot is None else boot  # what the caps and the expected totals come from
    specs = cap_specs(scenario)
    caps = np.vstack([costs.caps_for(c) for c in specs])
    factors = simulation_factors(a, options.simulations, options.seed, options.first_sim)
    totals = simulate_totals(panel, caps, factors.cost_factor, options, progress, bootstrap=boot)
    column = {c: totals[:, k] for k, c in enumerate(specs)}
    expected = {c: costs.expected_total(caps[k]) for k, c in enumerate(specs)}
    # MSSP caps the benchmark's risk-score growth over the base year at 3%.
    risk_cap = risk_cap_factors(panel.cohort_start, panel.risk_score, panel.cohorts, a.benchmark_risk_score)
    effort = None
    if a.care_management_pmpm > 0.0 or a.ffs_margin_lost > 0.0:
        effort = effort_cost(a, 12 * panel.size, column[UNCAPPED], factors.savings)
    quality = quality_scores(a.quality_score, a.quality_score_sd, options.simulations, options.seed,
                             first_sim=options.first_sim)
    episodes = None
    if any(c.uses_episodes for c in scenario.contracts):
        from simsuite.episodes import simulate_episodes

        episodes = simulate_episodes(scenario, options)

    nets, gains, expenditures, benchmarks = [], [], [], []
    for contract in scenario.contracts:
        primary = contract.caps[0] if contract.caps else UNCAPPED
        # The benchmark is what the panel's own beneficiaries would be expected to cost,
        # capped as the contract caps, without the organisation's savings effort.
        # The MSSP risk cap scales each cohort's part of it; the update trend, the whole.
        expected_primary = (expected[primary] if a.benchmark_risk_score is None else
                            float(np.sum(costs.expected_by_cohort(caps[specs.index(primary)]) * risk_cap)))
        benchmark = expected_primary * (1.0 + a.benchmark_margin)
        revenue = (None if a.participant_revenue_to_benchmark is None
                   else a.participant_revenue_to_benchmark * benchmark)
        year = PanelYear(
            n_beneficiaries=panel.size,
            benchmark=benchmark * factors.benchmark,
            expenditure=column[primary],
            quality_score=quality,
            quality_standard=a.quality_standard,
            participant_revenue=revenue,
            low_revenue=a.low_revenue,
            raw=column[UNCAPPED],
            capped=column,
            episodes=episodes,
            expected=expected,
        )
        result = contract.settle(year)
        nets.append(result.net if effort is None else result.net + effort)
        gains.append(result.gain_shared)
        expenditures.append(column[primary] if result.expenditure is None else result.expenditure)
        if result.benchmark is not None:
            benchmarks.append(result.benchmark)
        else:
            benchmarks.append(year.benchmark if contract.has_benchmark else np.full(options.simulations, np.nan))
    return SimulationArrays(
        first_sim=options.first_sim,
        net=np.vstack(nets),
        gain_shared=np.vstack(gains),
        expenditure=np.vstack(expenditures),
        benchmark=np.vstack(benchmarks),
        panel_cost=column[UNCAPPED],
        quality_score=quality,
    )


def run(scenario: Scenario, options: RunOptions | None = None,
        progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Simulate a scenario and settle all its contracts.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (`simsuite.load_scenario`).
    options : RunOptions, optional
        Simulations, seed, threads and chunk size; the scenario's ``run`` section by default.
    progress : callable, optional
        Called with the number of simulations finished after each chunk.

    Returns
    -------
    xarray.Dataset
        See `simsuite.results.assemble`.
    """
    options = options or options_for(scenario)
    arrays = simulate(scenario, options, progress)
    from simsuite.results import assemble  # xarray loads after the simulation, not before

    return assemble(scenario, options, arrays)
