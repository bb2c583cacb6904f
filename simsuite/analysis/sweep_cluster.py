"""Sweeps on a Dask cluster: every point's chunks spread over the workers, results identical.

Each point of a sweep (`simsuite.analysis.sweep.sweep`) is split into chunks like a run
(`simsuite.engines.distributed.run_on_cluster`); a last task per point joins its chunks
and summarises them on a worker, so only summaries come back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from simsuite.analysis.sweep import sweep as sweep_here
from simsuite.engines.distributed import (
    RETRIES,
    DistributedRunError,
    chunk_ranges,
    cluster_or_none,
    default_chunk_sims,
    describe,
    simulate_chunk,
    summarize_point,
)
from simsuite.engines.montecarlo import RunOptions, options_for
from simsuite.errors import InputError, SimsuiteError, one_line
from simsuite.interrupt import raise_if_interrupted
from simsuite.results.dataset import sweep_dataset
from simsuite.scenario.edit import scenario_with
from simsuite.scenario.load import Scenario

if TYPE_CHECKING:
    import xarray as xr


def sweep_on_cluster(scenario: Scenario, param_path: str, values: Sequence[Any],
                     options: RunOptions | None = None, scheduler: str | None = None,
                     workers: int | None = None, chunk_sims: int | None = None,
                     progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """`simsuite.analysis.sweep.sweep` with every point's chunks spread over a Dask cluster.

    Each point is split into chunks like a run (`simsuite.engines.distributed.run_on_cluster`); a last task per point
    joins its chunks and summarises them on a worker, so only summaries come back.

    Parameters
    ----------
    scenario, param_path, values, options
        As `simsuite.analysis.sweep.sweep`.
    scheduler, workers, chunk_sims, progress
        As `run_on_cluster`; with neither ``scheduler`` nor ``workers`` this is
        `simsuite.analysis.sweep.sweep`.

    Returns
    -------
    xarray.Dataset
        Identical to ``simsuite.sweep(scenario, param_path, values, options)``.

    Raises
    ------
    DistributedRunError, DistributedUnavailable, InputError
        As `run_on_cluster`; bad paths or values as `simsuite.analysis.sweep.sweep`.
    """
    base = options or options_for(scenario)
    if scheduler is None and workers is None:
        return sweep_here(scenario, param_path, values, base, progress)
    if len(values) == 0:
        raise InputError("--values", "", "give at least one value")
    if chunk_sims is not None and chunk_sims < 1:
        raise InputError("--chunk-sims", "", f"need at least 1 simulation per chunk (got {chunk_sims})")
    scenarios = [scenario_with(scenario, param_path, v) for v in values]  # validate all before running
    cluster = cluster_or_none(scheduler, workers)
    assert cluster is not None  # a scheduler or a worker count was given (checked above)
    try:
        from distributed import as_completed

        client, per_host, n_workers = cluster.client, cluster.processes_per_host(), cluster.n_workers()
        run_id = uuid.uuid4().hex[:12]
        point_futures, chunk_futures, sims_of = [], [], {}
        for i, sc in enumerate(scenarios):
            # The same options per point as `simsuite.analysis.sweep.sweep`.
            opts = options_for(sc, sims=base.simulations, seed=base.seed, threads=base.threads)
            chunk = chunk_sims or default_chunk_sims(sc, opts.simulations, n_workers)
            futures = []
            for offset, count in chunk_ranges(opts.simulations, chunk):
                key = f"simsuite-sweep-{run_id}-{i}-{offset}"
                futures.append(client.submit(simulate_chunk, sc, replace(opts, first_sim=opts.first_sim + offset, simulations=count),
                                             per_host, key=key, retries=RETRIES))
                sims_of[key] = count
            point_futures.append(client.submit(summarize_point, sc, opts, *futures,
                                               key=f"simsuite-point-{run_id}-{i}", retries=RETRIES))
            chunk_futures += futures
        # Chunk futures are watched only for progress: each is released once counted, and
        # its data is kept by the scheduler until its point's summary task has used it.
        finished = as_completed(point_futures + chunk_futures, loop=client.loop)
        del chunk_futures, futures
        for future in finished:
            raise_if_interrupted()
            if future.status == "error":
                future.result()  # fail fast, with the task's own exception
            if future.key in sims_of:
                if progress is not None:
                    progress(sims_of[future.key])
                future.release()
            del future
        points = [f.result() for f in point_futures]
    except (DistributedRunError, SimsuiteError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise DistributedRunError(one_line(f"distributed run failed: {describe(exc)}")) from exc
    finally:
        cluster.close()
    return sweep_dataset(scenario, param_path, values, base.seed, base.simulations, points)
