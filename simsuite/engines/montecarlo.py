"""The Monte Carlo engine: scenario -> kernel draws -> settlement of every contract -> Dataset.

Every contract is settled on the same draws (common random numbers), so differences
between contracts are not noise. What each contract settles on is built by
`simsuite.engines.settlement_inputs`; this module only draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simsuite.contracts.base import UNCAPPED, EpisodeTotals
from simsuite.engines.settlement_inputs import SettlementInputs, primary_cap
from simsuite.kernels import panel_totals, stream_key
from simsuite.kernels.episodes import episode_totals
from simsuite.kernels.panel import BLOCK
from simsuite.kernels.resample import bootstrap_totals
from simsuite.kernels.streams import Stream
from simsuite.kernels.threads import numba_threads
from simsuite.model.episode_costs import EpisodePricing
from simsuite.model.factors import alternative_draws, effort_cost, quality_scores, simulation_factors
from simsuite.model.population import PanelArrays
from simsuite.model.resampled_costs import BootstrapPanel
from simsuite.model.variance import spread_note, systemic_sd
from simsuite.results.arrays import AgreementArrays, SimulationArrays
from simsuite.scenario.load import Scenario

if TYPE_CHECKING:  # xarray (and pandas) load only when results are built
    import xarray as xr

# The kernels hand out blocks of BLOCK simulations to threads: a chunk of whole blocks, in
# a number divisible by 4, keeps 1, 2 or 4 threads evenly loaded and leaves no partial
# block. Results do not depend on the chunk size.
BLOCK_UNIT = 4 * BLOCK
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
        chunk=chunk or int(np.clip(DRAWS_PER_CHUNK // scenario.n_beneficiaries, 16, 65_536)),
    )


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
    key = np.uint64(stream_key(np.uint64(options.seed), np.uint64(Stream.COST)))
    factor = np.broadcast_to(np.asarray(cost_factor, dtype=float), (options.simulations,))
    # The parametric kernel adds a per-simulation log shift to every patient's log-mean.
    log_shift = np.log(factor)
    totals = np.empty((options.simulations, caps.shape[0]))
    chunk = max(BLOCK_UNIT, -(-options.chunk // BLOCK_UNIT) * BLOCK_UNIT)
    severity = None if bootstrap is not None else panel.severity  # built on each access
    with numba_threads(options.threads):
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
    return totals


def draw_episodes(pricing: EpisodePricing, seed: int, simulations: int, sim_start: int = 0,
                  threads: int | None = None, chunk: int | None = None,
                  stream: int = Stream.EPISODES) -> EpisodeTotals:
    """Draw episode totals for simulations ``sim_start .. sim_start + simulations - 1``.

    Parameters
    ----------
    pricing : EpisodePricing
        The categories, their cost models and the caps whose sums are needed.
    seed : int
        Random seed.
    stream : int
        The random stream of the draws (`Stream.EPISODES`; a year's own stream in a
        multi-year run, `simsuite.kernels.streams.episode_stream`).
    simulations, sim_start : int
        How many simulations, and the global index of the first.
    threads : int, optional
        Numba threads (the result does not depend on it).
    chunk : int, optional
        Simulations per kernel call (the result does not depend on it); all at once by default.
    """
    n_cat, n_caps = len(pricing.specs), len(pricing.caps)
    count_start, count_cdf, count_len = pricing.count_tables()
    arrays = [np.array([getattr(m, f) for m in pricing.models], dtype=np.float64)
              for f in ("mu_body", "sigma_body", "p", "mu_extra", "sigma_extra")]
    count = np.zeros((simulations, n_cat), dtype=np.int64)
    raw = np.zeros((simulations, n_cat))
    capped = np.zeros((simulations, n_cat, n_caps))
    # A typed uint64 key: Numba types a Python int as int64, and int64 + uint64 is float64.
    key = np.uint64(stream_key(np.uint64(seed), np.uint64(stream)))
    step = chunk or max(simulations, 1)
    with numba_threads(threads):
        if n_cat:
            for start in range(0, simulations, step):
                stop = min(start + step, simulations)
                episode_totals(key, np.int64(sim_start + start), count_start, count_cdf, count_len, *arrays,
                               pricing.effort_factors, pricing.cap_dollars, count[start:stop], raw[start:stop],
                               capped[start:stop])
    return pricing.totals(count, raw, capped)


def simulate(scenario: Scenario, options: RunOptions,
             progress: Callable[[int], None] | None = None) -> SimulationArrays | AgreementArrays:
    """Draw and settle simulations ``first_sim .. first_sim + simulations - 1``.

    The result of each simulation depends only on the scenario, the seed and its global
    index, so ranges computed separately (other processes, other machines) and joined with
    ``concatenate`` equal one run over the whole range, bit for bit. A scenario with a
    horizon runs the years of its agreements (`simsuite.engines.agreement`).
    """
    if scenario.spec.horizon is not None:
        from simsuite.engines.agreement import simulate_agreement  # it builds on this module

        return simulate_agreement(scenario, options, progress)
    return simulate_year(scenario, options, progress)


def simulate_year(scenario: Scenario, options: RunOptions,
                  progress: Callable[[int], None] | None = None) -> SimulationArrays:
    """Draw and settle simulations of a one-year scenario (see `simulate`)."""
    assumptions = scenario.spec.assumptions
    inputs = SettlementInputs.of(scenario)
    panel = inputs.panel
    factors = simulation_factors(assumptions, options.simulations, options.seed, options.first_sim,
                                 systemic_sd(scenario.spec, panel.size))
    totals = simulate_totals(panel, inputs.caps, factors.cost_factor, options, progress, bootstrap=inputs.bootstrap)
    # The systemic factor scales the panel's spending under every cap alike (after the caps:
    # it is the panel's result beyond its claims, `simsuite.model.variance`).
    totals *= factors.systemic[:, None]
    sums = inputs.sums(totals)
    effort = None
    if assumptions.care_management_pmpm > 0.0 or assumptions.ffs_margin_lost > 0.0:
        effort = effort_cost(assumptions, 12 * panel.size, sums[UNCAPPED], factors.savings)
    quality = quality_scores(assumptions.quality_score, assumptions.quality_score_sd, options.simulations,
                             options.seed, first_sim=options.first_sim)
    alternative = alternative_draws(options.simulations, options.seed, first_sim=options.first_sim)
    episodes = None
    if inputs.episodes is not None:
        episodes = draw_episodes(inputs.episodes, options.seed, options.simulations, sim_start=options.first_sim,
                                 threads=options.threads, chunk=options.chunk)

    contracts = scenario.single_year_contracts
    nets, gains, expenditures, benchmarks, exceeds = [], [], [], [], []
    guarantees = np.full(len(contracts), np.nan)
    for i, contract in enumerate(contracts):
        year = inputs.panel_year(contract, sums, quality, factors.benchmark, episodes, alternative)
        result = contract.settle(year)
        guarantee = inputs.guarantee(contract)
        if guarantee is not None:
            guarantees[i] = guarantee
        # What the organisation owes under the contract (its settlement's loss, before the
        # effort's cost, which is not owed to the payer) against the guarantee it holds.
        exceeds.append(np.zeros(options.simulations, dtype=bool) if guarantee is None
                       else -np.asarray(result.net) > guarantee)
        nets.append(result.net if effort is None else result.net + effort)
        gains.append(result.gain_shared)
        expenditures.append(sums[primary_cap(contract)] if result.expenditure is None else result.expenditure)
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
        panel_cost=sums[UNCAPPED],
        quality_score=quality,
        exceeds_guarantee=np.vstack(exceeds),
        guarantee=guarantees,
        rules=inputs.rule_notes() + _spread(scenario, panel.size),
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
        See `simsuite.results.dataset.assemble` (one year) and `assemble_years` (a horizon).
    """
    options = options or options_for(scenario)
    arrays = simulate(scenario, options, progress)
    from simsuite.results.dataset import assemble_any  # xarray loads after the simulation, not before

    return assemble_any(scenario, options.seed, arrays)


def _spread(scenario: Scenario, beneficiaries: int) -> tuple[str, ...]:
    note = spread_note(scenario.spec, beneficiaries)
    return () if note is None else (note,)
