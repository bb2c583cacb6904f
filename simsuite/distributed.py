"""Run a scenario or a sweep on a Dask cluster, with results identical to one process.

A run's simulations are split into chunks; a chunk is a `RunOptions` with its own
``first_sim`` and ``simulations``. Each chunk runs `simsuite.engine.simulate` (the
Numba kernels and the settlement) on a worker, and only its per-simulation arrays
(`SimulationArrays`) travel back. Because every draw is keyed by (seed, stream,
global simulation index), the chunks joined with `SimulationArrays.concatenate` are
bit for bit the single-process run, whatever the number of workers or the chunk size.

Where the work runs:

* ``scheduler="tcp://HOST:8786"``: an existing cluster (``dask scheduler`` and
  ``dask worker`` started by you); workers need simsuite installed at the same version;
* ``workers=N``: a `distributed.LocalCluster` of N worker processes on loopback,
  closed when the run ends;
* neither: chunks run one after another in this process (useful with ``zarr``).

Threads: each worker process runs one chunk at a time (a process-wide lock; Numba's
default "workqueue" threading layer aborts the process if two threads launch parallel
kernels at once) and gives that chunk ``cores // worker processes on its host`` Numba
threads, so a host is never oversubscribed whatever ``--nthreads`` its workers have.
A local cluster is started with one Dask thread per worker process for that reason.

Failures: chunks are submitted with ``retries`` (an exception in a task is retried);
a worker that dies has its running chunks, and the finished chunks it still held,
recomputed by the scheduler (up to ``distributed.scheduler.allowed-failures`` deaths
per chunk). A run either returns the complete result or raises `DistributedRunError`
with a one-line message; the Zarr store, if any, is only renamed into place when
complete.

Dask, distributed and zarr are optional (``pip install "simsuite[distributed]"``):
this module imports them only when a run needs them.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import threading
import uuid
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence
from urllib.parse import urlparse

import click

from simsuite.errors import InputError, SimsuiteError, one_line

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.engine import RunOptions, SimulationArrays
    from simsuite.scenario import Scenario

INSTALL_HINT = 'pip install "simsuite[distributed]"'

#: Automatic retries of a chunk whose task raised (worker deaths are counted separately
#: by the scheduler, see ``distributed.scheduler.allowed-failures``).
RETRIES = 2
#: Patient draws per chunk by default: about half a second of one core, so the
#: scheduler's per-task cost (about a millisecond) is negligible and a lost chunk is
#: cheap to redo.
DRAWS_PER_TASK = 50_000_000
#: Chunks per worker process at least, by default, so that uneven workers finish together.
CHUNKS_PER_WORKER = 4
#: Chunks in flight per worker process: enough to keep every worker busy while the
#: client collects results, few enough that the results waiting on workers (and, with
#: Zarr, in this process) stay bounded whatever the number of simulations.
IN_FLIGHT_PER_WORKER = 2
#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = "10s"

# Per-simulation variables of the results Dataset, written to Zarr chunk by chunk.
_SIM_VARS = ("net", "gain_shared", "expenditure", "savings_rate", "panel_cost", "quality_score")


class DistributedRunError(RuntimeError):
    """A distributed run did not complete; ``str()`` is one line for the user.

    No partial result is returned and no partial Zarr store is left in place.
    """


class DistributedUnavailable(SimsuiteError):
    """An option needs the ``distributed`` extra, which is not installed."""


def require_dask(option: str = "--workers") -> None:
    """Raise `DistributedUnavailable` unless dask.distributed and zarr can be imported.

    Parameters
    ----------
    option : str
        The option that needs them, named in the message.
    """
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
        import zarr  # noqa: F401
    except ImportError as exc:
        raise DistributedUnavailable(
            f"{option} needs dask.distributed and zarr ({exc.name} is not installed): {INSTALL_HINT}"
        ) from None


# ---------------------------------------------------------------------------------------
# chunks


def chunk_ranges(simulations: int, chunk_sims: int) -> list[tuple[int, int]]:
    """``(offset, count)`` of consecutive chunks covering ``range(simulations)``."""
    if chunk_sims < 1:
        raise ValueError(f"chunk_sims must be at least 1 (got {chunk_sims})")
    return [(start, min(chunk_sims, simulations - start)) for start in range(0, simulations, chunk_sims)]


def default_chunk_sims(scenario: "Scenario", simulations: int, workers: int) -> int:
    """Simulations per chunk when none is given: the smaller of about `DRAWS_PER_TASK`
    patient draws and an even share giving `CHUNKS_PER_WORKER` chunks per worker.

    Rounded up to whole kernel units (4 blocks of simulations) so that no chunk ends in
    a partial block; the chunk size never changes results, only speed.
    """
    from simsuite.kernels.panel import BLOCK

    unit = 4 * BLOCK
    per_task = max(unit, DRAWS_PER_TASK // max(1, scenario.spec.population.beneficiaries))
    balanced = math.ceil(simulations / (CHUNKS_PER_WORKER * max(1, workers)))
    chunk = math.ceil(min(per_task, balanced) / unit) * unit
    return max(1, min(chunk, simulations))


# One chunk at a time per worker process: Numba's workqueue threading layer terminates
# the process if two threads launch parallel kernels concurrently, and a remote worker
# may well run several Dask threads.
_KERNEL_LOCK = threading.Lock()


def _simulate_chunk(scenario: "Scenario", options: "RunOptions",
                    processes_per_host: dict[str, int]) -> "SimulationArrays":
    """Task run on a worker: simulate one chunk with a fair share of the host's cores."""
    from simsuite.engine import simulate

    threads = options.threads
    if threads is None:
        threads = _fair_threads(processes_per_host)
    with _KERNEL_LOCK:
        return simulate(scenario, replace(options, threads=threads))


def _fair_threads(processes_per_host: dict[str, int]) -> int:
    """``usable cores // simsuite worker processes on this host``, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        from distributed import get_worker

        host = urlparse(get_worker().address).hostname
    except (ImportError, ValueError):  # not inside a worker
        return cores
    return max(1, cores // max(1, processes_per_host.get(host, 1)))


def _summarize_point(scenario: "Scenario", options: "RunOptions", *parts: "SimulationArrays") -> "xr.Dataset":
    """Task run on a worker: join one sweep point's chunks and keep its summary."""
    from simsuite.engine import SimulationArrays
    from simsuite.results import assemble

    ds = assemble(scenario, options, SimulationArrays.concatenate(list(parts)))
    return ds[["summary", "summary_se", "benchmark"]]


# ---------------------------------------------------------------------------------------
# clusters


class _Cluster:
    """A connected client (and the local cluster it owns, if any)."""

    def __init__(self, scheduler: str | None, workers: int | None):
        import logging

        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler is not None:
            self.client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        else:
            # Loopback only; one Dask thread per process (see the module docstring);
            # no dashboard (it would open another port and needs bokeh).
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None,
                                        silence_logs=logging.ERROR)
            self.client = Client(self.cluster, set_as_default=False)
        # An existing scheduler may have no workers yet; fail rather than wait forever.
        self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)

    def processes_per_host(self) -> dict[str, int]:
        """Worker processes per host name, as the scheduler sees them now."""
        counts: dict[str, int] = {}
        for address in self.client.scheduler_info(n_workers=-1)["workers"]:
            host = urlparse(address).hostname or address
            counts[host] = counts.get(host, 0) + 1
        return counts

    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _cluster_or_none(scheduler: str | None, workers: int | None) -> "_Cluster | None":
    if scheduler is not None and workers is not None:
        raise InputError("--scheduler", "", "give either --scheduler (an existing cluster) or --workers (a local one), not both")
    if scheduler is None and workers is None:
        return None
    require_dask("--scheduler" if scheduler is not None else "--workers")
    if workers is not None and workers < 1:
        raise InputError("--workers", "", f"need at least 1 worker (got {workers})")
    try:
        return _Cluster(scheduler, workers)
    except Exception as exc:
        where = scheduler or f"a local cluster of {workers} workers"
        raise DistributedRunError(one_line(f"distributed run failed: cannot start or reach {where}: {_describe(exc)}")) from exc


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _progress_callback(progress: bool | Callable[[int], None], total: int, label: str):
    """A context manager yielding ``progress(n)`` or None (see `decision_cli.progress_bar`)."""
    from contextlib import nullcontext

    if callable(progress):
        return nullcontext(progress)
    if not progress:
        return nullcontext(None)
    from simsuite.decision_cli import progress_bar

    return progress_bar(total, label)


def _windowed(client: Any, tasks: Iterator[tuple[Callable, tuple, str]], window: int) -> Iterator[Any]:
    """Submit ``(function, args, key)`` tasks keeping at most ``window`` in flight; yield
    each finished future (in completion order)."""
    from distributed import as_completed

    done = as_completed(loop=client.loop)
    in_flight = 0
    for function, args, key in tasks:
        done.add(client.submit(function, *args, key=key, retries=RETRIES))
        in_flight += 1
        if in_flight >= window:
            yield next(done)
            in_flight -= 1
    for future in done:
        yield future


# ---------------------------------------------------------------------------------------
# Zarr


class ZarrResults:
    """Writes a run's per-simulation results into a Zarr store chunk by chunk.

    The store is built under a temporary name beside ``path`` and renamed onto it by
    `finish` once every chunk is in and the summary is written; `abort` removes it.
    Its layout is the results Dataset of `simsuite.results.assemble` (``xr.open_zarr``
    opens it), chunked ``(1 contract, chunk_sims)``.

    Memory: one chunk's arrays while writing; at `finish`, one contract's ``net``
    (8 bytes per simulation) and ``gain_shared`` (1 byte) plus what
    `simsuite.risk.summarize` allocates for them (a negated and a sorted copy and a
    temporary: 32 bytes per simulation, measured with tracemalloc): about 41 bytes
    per simulation, 0.4 GB for 10^7 simulations, whatever the number of contracts.
    The ``sim`` index (8 bytes per simulation) is held once, when the store is created.

    The summary is `simsuite.risk.summarize` of each whole column, so it is exactly the
    in-memory run's; streamed sums would give the mean and sd in another summation
    order (different last bits, and dependent on the order chunks finish), and VaR
    needs the whole column anyway.
    """

    def __init__(self, path: str | Path, scenario: "Scenario", options: "RunOptions", chunk_sims: int):
        self.path = Path(path)
        check_zarr_target(self.path)
        self.scenario, self.options, self.chunk_sims = scenario, options, chunk_sims
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
        self.group: Any = None
        self.written = 0
        self.benchmark_sums: dict[int, Any] = {}

    def write(self, arrays: "SimulationArrays") -> None:
        """Write one chunk (any order); keep its benchmark sums for the mean."""
        from simsuite.results import assemble

        n = arrays.net.shape[1]
        # The chunk's Dataset gives the per-simulation variables exactly as an in-memory
        # run would (dtypes, savings rate); its summary of the chunk alone is discarded.
        part = assemble(self.scenario, replace(self.options, simulations=n, first_sim=arrays.first_sim), arrays)
        if self.group is None:
            self._create(part)
        start = arrays.first_sim - self.options.first_sim
        for name in _SIM_VARS:
            self.group[name][..., start:start + n] = part[name].values
        self.benchmark_sums[arrays.first_sim] = arrays.benchmark.sum(axis=1)
        self.written += n

    def _create(self, part: "xr.Dataset") -> None:
        import dask.array as da
        import numpy as np
        import zarr

        S, first = self.options.simulations, self.options.first_sim
        template = part.drop_vars([*_SIM_VARS, "sim"])
        for name in _SIM_VARS:
            var = part[name]
            shape = tuple(S if d == "sim" else part.sizes[d] for d in var.dims)
            chunks = tuple(self.chunk_sims if d == "sim" else 1 for d in var.dims)
            # Lazy placeholders: only metadata is written now, the data chunk by chunk.
            template[name] = (var.dims, da.empty(shape, chunks=chunks, dtype=var.dtype), var.attrs)
        template = template.assign_coords(sim=np.arange(first, first + S, dtype=np.int64))
        template["summary"][:] = np.nan
        template["summary_se"][:] = np.nan
        template["benchmark"][:] = np.nan
        template.attrs["simulations"] = S
        with warnings.catch_warnings():
            # zarr format 3 warns that consolidated metadata and string codecs are not
            # yet in its specification; xarray reads both.
            warnings.simplefilter("ignore")
            template.to_zarr(self.tmp, mode="w-", compute=False)
        self.group = zarr.open_group(str(self.tmp), mode="r+")

    def finish(self) -> "xr.Dataset":
        """Summarise from the store, rename it into place and open it (lazily)."""
        import numpy as np
        import xarray as xr

        from simsuite.risk import MEASURES, summarize

        if self.group is None or self.written != self.options.simulations:
            raise DistributedRunError(
                f"distributed run failed: {self.written:,} of {self.options.simulations:,} simulations reached the Zarr store")
        n_contracts = len(self.scenario.contracts)
        values = np.empty((n_contracts, len(MEASURES)))
        errors = np.empty_like(values)
        for i in range(n_contracts):
            # One contract at a time: the O(S) column is the memory bound of the summary.
            v, e = summarize(self.group["net"][i, :], self.group["gain_shared"][i, :])
            values[i] = [v[m] for m in MEASURES]
            errors[i] = [e[m] for m in MEASURES]
        self.group["summary"][...] = values
        self.group["summary_se"][...] = errors
        # Benchmark mean from per-chunk sums added in simulation order (not completion
        # order), so it does not depend on scheduling; it may differ from the in-memory
        # mean (numpy's pairwise sum) in the last bit.
        total = sum(self.benchmark_sums[k] for k in sorted(self.benchmark_sums))
        self.group["benchmark"][...] = total / self.options.simulations
        self._rename_into_place()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return xr.open_zarr(self.path, chunks=None)

    def _rename_into_place(self) -> None:
        check_zarr_target(self.path)
        old = None
        if self.path.exists():
            # A directory cannot be renamed onto a non-empty one: move the old store
            # aside first, so the path never holds a mix of the two.
            old = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.old")
            os.replace(self.path, old)
        os.replace(self.tmp, self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove the temporary store (after a failure or an interruption)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def check_zarr_target(path: Path) -> None:
    """Refuse to replace anything at ``path`` but an earlier Zarr store.

    Raises
    ------
    InputError
        ``--zarr``: the path is a file or a folder that is not a Zarr store, or its
        folder does not exist.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError("--zarr", "", f"folder {path.parent} does not exist")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise InputError("--zarr", "", f"{path} exists and is not a Zarr store; remove it or choose another path")
    if path.is_dir() and any(path.iterdir()) and not ((path / "zarr.json").exists() or (path / ".zgroup").exists()):
        raise InputError("--zarr", "", f"{path} is a folder that is not a Zarr store; remove it or choose another path")


# ---------------------------------------------------------------------------------------
# runs


def run_on_cluster(scenario: "Scenario", options: "RunOptions | None" = None, scheduler: str | None = None,
                   workers: int | None = None, chunk_sims: int | None = None, zarr: str | Path | None = None,
                   progress: bool | Callable[[int], None] = True) -> "xr.Dataset":
    """Run ``scenario`` in chunks on a Dask cluster; the result equals `simsuite.run`'s.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario; it is pickled to the workers (they never read its file).
    options : RunOptions, optional
        Simulations, seed, threads (Numba threads per worker process; by default the
        host's cores shared between its worker processes); the scenario's by default.
    scheduler : str, optional
        Address of an existing scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    workers : int, optional
        Start a local cluster of this many worker processes on 127.0.0.1 instead.
        With neither, the chunks run one after another in this process.
    chunk_sims : int, optional
        Simulations per chunk (also the Zarr chunk along ``sim``); `default_chunk_sims`
        by default. Never changes results.
    zarr : path, optional
        Write the per-simulation results to this Zarr store, chunk by chunk, and return
        it opened lazily; the summary is computed from the store one contract at a time
        (see `ZarrResults` for the memory bound). Otherwise the result is in memory.
    progress : bool or callable
        True: a progress bar on stderr when it is a terminal; or a function called
        with the number of simulations finished after each chunk.

    Returns
    -------
    xarray.Dataset
        As `simsuite.results.assemble`; identical to ``simsuite.run(scenario, options)``
        (with ``zarr``: the same values, the benchmark mean up to the last bit).

    Raises
    ------
    DistributedRunError
        The cluster could not be reached or the run failed (one line); no partial result.
    DistributedUnavailable
        ``scheduler``, ``workers`` or ``zarr`` without the ``distributed`` extra.
    InputError
        Both ``scheduler`` and ``workers``, or a ``zarr`` path that must not be replaced.
    """
    from simsuite.engine import SimulationArrays, options_for
    from simsuite.results import assemble

    options = options or options_for(scenario)
    if zarr is not None:
        require_dask("--zarr")
        check_zarr_target(Path(zarr))
    if chunk_sims is not None and chunk_sims < 1:
        raise InputError("--chunk-sims", "", f"need at least 1 simulation per chunk (got {chunk_sims})")
    cluster = _cluster_or_none(scheduler, workers)
    try:
        n_workers = cluster.n_workers() if cluster is not None else 1
        chunk = chunk_sims or default_chunk_sims(scenario, options.simulations, n_workers)
        writer = ZarrResults(zarr, scenario, options, chunk) if zarr is not None else None
        parts: list[SimulationArrays] = []
        try:
            with _progress_callback(progress, options.simulations, "simulating") as tick:
                for arrays in _chunk_results(cluster, scenario, options, chunk, n_workers):
                    if writer is not None:
                        writer.write(arrays)  # and drop it: never all chunks at once
                    else:
                        parts.append(arrays)
                    if tick is not None:
                        tick(arrays.net.shape[1])
            if writer is not None:
                return writer.finish()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        return assemble(scenario, options, SimulationArrays.concatenate(parts))
    except (DistributedRunError, SimsuiteError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise DistributedRunError(one_line(f"distributed run failed: {_describe(exc)}")) from exc
    finally:
        if cluster is not None:
            cluster.close()


def _chunk_results(cluster: "_Cluster | None", scenario: "Scenario", options: "RunOptions",
                   chunk: int, n_workers: int) -> Iterator["SimulationArrays"]:
    """Each chunk's arrays as it finishes (on the cluster, or here one after another)."""
    from simsuite.entry import raise_if_interrupted

    ranges = chunk_ranges(options.simulations, chunk)

    def chunk_options(offset: int, count: int) -> "RunOptions":
        return replace(options, first_sim=options.first_sim + offset, simulations=count)

    if cluster is None:
        from simsuite.engine import simulate

        for offset, count in ranges:
            raise_if_interrupted()
            yield simulate(scenario, chunk_options(offset, count))
        return
    per_host = cluster.processes_per_host()
    run_id = uuid.uuid4().hex[:12]
    tasks = ((_simulate_chunk, (scenario, chunk_options(offset, count), per_host),
              f"simsuite-chunk-{run_id}-{options.first_sim + offset}") for offset, count in ranges)
    for future in _windowed(cluster.client, tasks, IN_FLIGHT_PER_WORKER * n_workers):
        raise_if_interrupted()
        arrays = future.result()  # a task's exception, or KilledWorker, is raised here
        future.release()
        yield arrays


def sweep_on_cluster(scenario: "Scenario", param_path: str, values: Sequence[Any],
                     options: "RunOptions | None" = None, scheduler: str | None = None,
                     workers: int | None = None, chunk_sims: int | None = None,
                     progress: bool | Callable[[int], None] = True) -> "xr.Dataset":
    """`simsuite.sweep.sweep` with every point's chunks spread over a Dask cluster.

    Each point is split into chunks like a run (`run_on_cluster`); a last task per point
    joins its chunks and summarises them on a worker, so only summaries come back.

    Parameters
    ----------
    scenario, param_path, values, options
        As `simsuite.sweep.sweep`.
    scheduler, workers, chunk_sims, progress
        As `run_on_cluster`; with neither ``scheduler`` nor ``workers`` this is
        `simsuite.sweep.sweep`.

    Returns
    -------
    xarray.Dataset
        Identical to ``simsuite.sweep.sweep(scenario, param_path, values, options)``.

    Raises
    ------
    DistributedRunError, DistributedUnavailable, InputError
        As `run_on_cluster`; bad paths or values as `simsuite.sweep.sweep`.
    """
    from simsuite.engine import options_for
    from simsuite.sweep import scenario_with
    from simsuite.sweep import sweep as sweep_here

    base = options or options_for(scenario)
    if scheduler is None and workers is None:
        with _progress_callback(progress, len(values) * base.simulations, f"sweeping {param_path}") as tick:
            return sweep_here(scenario, param_path, values, base, tick)
    if len(values) == 0:
        raise InputError("--values", "", "give at least one value")
    if chunk_sims is not None and chunk_sims < 1:
        raise InputError("--chunk-sims", "", f"need at least 1 simulation per chunk (got {chunk_sims})")
    scenarios = [scenario_with(scenario, param_path, v) for v in values]  # validate all before running
    cluster = _cluster_or_none(scheduler, workers)
    try:
        from distributed import as_completed

        from simsuite.entry import raise_if_interrupted

        client, per_host, n_workers = cluster.client, cluster.processes_per_host(), cluster.n_workers()
        run_id = uuid.uuid4().hex[:12]
        point_futures, chunk_futures, sims_of = [], [], {}
        for i, sc in enumerate(scenarios):
            # The same options per point as `simsuite.sweep.sweep`.
            opts = options_for(sc, sims=base.simulations, seed=base.seed, threads=base.threads)
            chunk = chunk_sims or default_chunk_sims(sc, opts.simulations, n_workers)
            futures = []
            for offset, count in chunk_ranges(opts.simulations, chunk):
                key = f"simsuite-sweep-{run_id}-{i}-{offset}"
                futures.append(client.submit(_simulate_chunk, sc, replace(opts, first_sim=opts.first_sim + offset, simulations=count),
                                             per_host, key=key, retries=RETRIES))
                sims_of[key] = count
            point_futures.append(client.submit(_summarize_point, sc, opts, *futures,
                                               key=f"simsuite-point-{run_id}-{i}", retries=RETRIES))
            chunk_futures += futures
        # Chunk futures are watched only for progress: each is released once counted, and
        # its data is kept by the scheduler until its point's summary task has used it.
        finished = as_completed(point_futures + chunk_futures, loop=client.loop)
        del chunk_futures, futures
        with _progress_callback(progress, len(values) * base.simulations, f"sweeping {param_path}") as tick:
            for future in finished:
                raise_if_interrupted()
                if future.status == "error":
                    future.result()  # fail fast, with the task's own exception
                if future.key in sims_of:
                    if tick is not None:
                        tick(sims_of[future.key])
                    future.release()
                del future
        points = [f.result() for f in point_futures]
    except (DistributedRunError, SimsuiteError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise DistributedRunError(one_line(f"distributed run failed: {_describe(exc)}")) from exc
    finally:
        cluster.close()
    from simsuite.sweep import combine_points

    return combine_points(scenario, param_path, values, base, points)


# ---------------------------------------------------------------------------------------
# command line


def uses_cluster(scheduler: str | None, workers: int | None, zarr: Any = None) -> bool:
    """Whether the cluster options ask for `run_on_cluster` rather than the plain run."""
    return scheduler is not None or workers is not None or zarr is not None


def cluster_options(f: Callable | None = None, *, zarr: bool = True) -> Callable:
    """Add ``--scheduler``, ``--workers``, ``--chunk-sims`` (and ``--zarr``) to a click command.

    The command receives ``scheduler``, ``workers``, ``chunk_sims`` (and ``zarr``) and
    passes them to `run_on_cluster` / `sweep_on_cluster`. A `DistributedRunError`
    raised inside the command is printed as one line
    ``simsuite: distributed run failed: ...`` and the command exits with status 1.

    Use ``@cluster_options`` on ``run`` and ``@cluster_options(zarr=False)`` on ``sweep``.
    """
    if f is None:
        return functools.partial(cluster_options, zarr=zarr)

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except DistributedRunError as exc:
            click.echo(f"simsuite: {one_line(str(exc))}", err=True)
            # SystemExit, not click's Exit: the CLI runs click with standalone_mode=False,
            # where click turns Exit into a return value and the status would be lost.
            raise SystemExit(1) from None

    command = click.option("--scheduler", default=None, metavar="ADDRESS",
                           help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (needs simsuite[distributed]).")(command)
    command = click.option("--workers", type=click.IntRange(min=1), default=None,
                           help="Run on a local Dask cluster of N worker processes (127.0.0.1).")(command)
    command = click.option("--chunk-sims", type=click.IntRange(min=1), default=None,
                           help="Simulations per task on the cluster (default: about 0.5 s of work); never changes results.")(command)
    if zarr:
        command = click.option("--zarr", "zarr", type=click.Path(path_type=Path), default=None,
                               help="Write per-simulation results to this Zarr store, chunk by chunk (for very large runs).")(command)
    return command
