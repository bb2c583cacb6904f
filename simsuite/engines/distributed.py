"""Run a scenario on a Dask cluster, with results identical to one process.

A run's simulations are split into chunks; a chunk is a `RunOptions` with its own
``first_sim`` and ``simulations``. Each chunk runs `simsuite.engines.montecarlo.simulate` (the
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

import math
import os
import shutil
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from simsuite.errors import InputError, SimsuiteError, one_line

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.engines.montecarlo import RunOptions
    from simsuite.results.arrays import SimulationArrays
    from simsuite.scenario.load import Scenario

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


def default_chunk_sims(scenario: Scenario, simulations: int, workers: int) -> int:
    """Simulations per chunk when none is given: the smaller of about `DRAWS_PER_TASK`
    patient draws and an even share giving `CHUNKS_PER_WORKER` chunks per worker.

    Rounded up to whole kernel units (4 blocks of simulations) so that no chunk ends in
    a partial block; the chunk size never changes results, only speed.
    """
    from simsuite.kernels.panel import BLOCK

    unit = 4 * BLOCK
    per_task = max(unit, DRAWS_PER_TASK // max(1, scenario.n_beneficiaries))
    balanced = math.ceil(simulations / (CHUNKS_PER_WORKER * max(1, workers)))
    chunk = math.ceil(min(per_task, balanced) / unit) * unit
    return max(1, min(chunk, simulations))


# One chunk at a time per worker process: Numba's workqueue threading layer terminates
# the process if two threads launch parallel kernels concurrently, and a remote worker
# may well run several Dask threads.
_KERNEL_LOCK = threading.Lock()


def simulate_chunk(scenario: Scenario, options: RunOptions,
                    processes_per_host: dict[str, int]) -> Any:
    """Task run on a worker: simulate one chunk with a fair share of the host's cores."""
    from simsuite.engines.montecarlo import simulate

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
    return max(1, cores // max(1, processes_per_host.get(host or "", 1)))


def summarize_point(scenario: Scenario, options: RunOptions, *parts: Any) -> xr.Dataset:
    """Task run on a worker: join one sweep point's chunks and keep its summary."""
    from simsuite.results.dataset import assemble_any

    ds = assemble_any(scenario, options.seed, join(list(parts)))
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
        self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)  # type: ignore[arg-type]  # dask parses "10s"

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


def cluster_or_none(scheduler: str | None, workers: int | None) -> _Cluster | None:
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
        raise DistributedRunError(one_line(f"distributed run failed: cannot start or reach {where}: {describe(exc)}")) from exc


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


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
    yield from done


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
    `simsuite.results.risk.summarize` allocates for them (a negated and a sorted copy and a
    temporary: 32 bytes per simulation, measured with tracemalloc): about 41 bytes
    per simulation, 0.4 GB for 10^7 simulations, whatever the number of contracts.
    The ``sim`` index (8 bytes per simulation) is held once, when the store is created.

    The summary is `simsuite.results.risk.summarize` of each whole column, so it is exactly the
    in-memory run's; streamed sums would give the mean and sd in another summation
    order (different last bits, and dependent on the order chunks finish), and VaR
    needs the whole column anyway.
    """

    def __init__(self, path: str | Path, scenario: Scenario, options: RunOptions, chunk_sims: int):
        self.path = Path(path)
        check_zarr_target(self.path)
        self.scenario, self.options, self.chunk_sims = scenario, options, chunk_sims
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
        self.group: Any = None
        self.written = 0
        self.benchmark_sums: dict[int, Any] = {}
        self.exceed_counts: dict[int, Any] = {}
        self.guarantee: Any = None

    def write(self, arrays: SimulationArrays) -> None:
        """Write one chunk (any order); keep its benchmark sums for the mean."""
        from simsuite.results.dataset import assemble

        n = arrays.net.shape[1]
        # The chunk's Dataset gives the per-simulation variables exactly as an in-memory
        # run would (dtypes, savings rate); its summary of the chunk alone is discarded.
        part = assemble(self.scenario, self.options.seed, arrays)
        if self.group is None:
            self._create(part)
        start = arrays.first_sim - self.options.first_sim
        for name in _SIM_VARS:
            self.group[name][..., start:start + n] = part[name].values
        self.benchmark_sums[arrays.first_sim] = arrays.benchmark.sum(axis=1)
        # Integer counts: their total does not depend on the order chunks finish.
        self.exceed_counts[arrays.first_sim] = arrays.exceeds_guarantee.sum(axis=1)
        self.guarantee = arrays.guarantee
        self.written += n

    def _create(self, part: xr.Dataset) -> None:
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
        template["p_owed_exceeds_guarantee"][:] = np.nan
        template["p_owed_exceeds_guarantee_se"][:] = np.nan
        template.attrs["simulations"] = S
        with warnings.catch_warnings():
            # zarr format 3 warns that consolidated metadata and string codecs are not
            # yet in its specification; xarray reads both.
            warnings.simplefilter("ignore")
            template.to_zarr(self.tmp, mode="w-", compute=False)
        self.group = zarr.open_group(str(self.tmp), mode="r+")

    def finish(self) -> xr.Dataset:
        """Summarise from the store, rename it into place and open it (lazily)."""
        import numpy as np
        import xarray as xr

        from simsuite.results.dataset import check_finite, exceedance
        from simsuite.results.risk import MEASURES, summarize

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
        # The guard every engine applies (the caller removes the temporary store).
        check_finite(xr.Dataset({"summary": (("contract", "measure"), values),
                                 "summary_se": (("contract", "measure"), errors)},
                                coords={"contract": [c.name for c in self.scenario.contracts], "measure": list(MEASURES)},
                                attrs={"scenario_source": self.scenario.source}))
        self.group["summary"][...] = values
        self.group["summary_se"][...] = errors
        # Benchmark mean from per-chunk sums added in simulation order (not completion
        # order), so it does not depend on scheduling; it may differ from the in-memory
        # mean (numpy's pairwise sum) in the last bit.
        total = sum(self.benchmark_sums[k] for k in sorted(self.benchmark_sums))
        self.group["benchmark"][...] = total / self.options.simulations
        counts = sum(self.exceed_counts[k] for k in sorted(self.exceed_counts))
        p, se = exceedance(counts, self.guarantee, self.options.simulations)
        self.group["p_owed_exceeds_guarantee"][...] = p
        self.group["p_owed_exceeds_guarantee_se"][...] = se
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


def run_on_cluster(scenario: Scenario, options: RunOptions | None = None, scheduler: str | None = None,
                   workers: int | None = None, chunk_sims: int | None = None, zarr: str | Path | None = None,
                   progress: Callable[[int], None] | None = None) -> xr.Dataset:
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
    progress : callable, optional
        Called with the number of simulations finished after each chunk.

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
    from simsuite.engines.montecarlo import options_for
    from simsuite.results.dataset import assemble_any

    options = options or options_for(scenario)
    if zarr is not None and scenario.spec.horizon is not None:
        raise InputError("--zarr", str(zarr), "per-simulation Zarr output is for one-year scenarios; "
                                              "a scenario with a horizon keeps its results in memory")
    if zarr is not None:
        require_dask("--zarr")
        check_zarr_target(Path(zarr))
    if chunk_sims is not None and chunk_sims < 1:
        raise InputError("--chunk-sims", "", f"need at least 1 simulation per chunk (got {chunk_sims})")
    cluster = cluster_or_none(scheduler, workers)
    try:
        n_workers = cluster.n_workers() if cluster is not None else 1
        chunk = chunk_sims or default_chunk_sims(scenario, options.simulations, n_workers)
        writer = ZarrResults(zarr, scenario, options, chunk) if zarr is not None else None
        parts: list[Any] = []
        try:
            for arrays in _chunk_results(cluster, scenario, options, chunk, n_workers):
                if writer is not None:
                    writer.write(arrays)  # and drop it: never all chunks at once
                else:
                    parts.append(arrays)
                if progress is not None:
                    progress(arrays.net.shape[1])
            if writer is not None:
                return writer.finish()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        return assemble_any(scenario, options.seed, join(parts))
    except (DistributedRunError, SimsuiteError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise DistributedRunError(one_line(f"distributed run failed: {describe(exc)}")) from exc
    finally:
        if cluster is not None:
            cluster.close()


def _chunk_results(cluster: _Cluster | None, scenario: Scenario, options: RunOptions,
                   chunk: int, n_workers: int) -> Iterator[Any]:
    """Each chunk's arrays as it finishes (on the cluster, or here one after another)."""
    from simsuite.interrupt import raise_if_interrupted

    ranges = chunk_ranges(options.simulations, chunk)

    def chunk_options(offset: int, count: int) -> RunOptions:
        return replace(options, first_sim=options.first_sim + offset, simulations=count)

    if cluster is None:
        from simsuite.engines.montecarlo import simulate

        for offset, count in ranges:
            raise_if_interrupted()
            yield simulate(scenario, chunk_options(offset, count))
        return
    per_host = cluster.processes_per_host()
    run_id = uuid.uuid4().hex[:12]
    tasks = ((simulate_chunk, (scenario, chunk_options(offset, count), per_host),
              f"simsuite-chunk-{run_id}-{options.first_sim + offset}") for offset, count in ranges)
    for future in _windowed(cluster.client, tasks, IN_FLIGHT_PER_WORKER * n_workers):
        raise_if_interrupted()
        arrays = future.result()  # a task's exception, or KilledWorker, is raised here
        future.release()
        yield arrays


def uses_cluster(scheduler: str | None, workers: int | None, zarr: Any = None) -> bool:
    """Whether the cluster options ask for `run_on_cluster` rather than the plain run."""
    return scheduler is not None or workers is not None or zarr is not None


def join(parts: list[Any]) -> Any:
    """Consecutive chunks' arrays joined into one (`SimulationArrays` or `AgreementArrays`)."""
    return type(parts[0]).concatenate(parts)
