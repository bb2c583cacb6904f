"""Runs on a Dask cluster equal the single-process run bit for bit (issue 8).

One local cluster of 2 worker processes on 127.0.0.1 serves the whole module; the
tests that kill a worker wait for its nanny to bring a new one up before returning.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import simsuite.engines.distributed as dist
from simsuite.analysis.sweep import sweep
from simsuite.analysis.sweep_cluster import sweep_on_cluster
from simsuite.cli.options import cluster_options
from simsuite.engines.distributed import DistributedRunError, chunk_ranges, default_chunk_sims, run_on_cluster
from simsuite.engines.montecarlo import options_for, run
from simsuite.errors import InputError
from simsuite.kernels._cache import _MARKER, drop_stale_cache, kernel_sources_digest
from simsuite.scenario.load import load_scenario

pytestmark = pytest.mark.slow  # Dask clusters and several processes

ROOT = Path(__file__).parent.parent
SIM_VARS = ("net", "gain_shared", "expenditure", "savings_rate", "panel_cost", "quality_score")


@pytest.fixture(scope="module")
def menu():
    # Four contract families (FFS, MSSP, REACH corridors, capitation with stop-loss, PCMH
    # hybrid) and an uncertain quality score: every per-simulation path is exercised.
    return load_scenario(ROOT / "scenarios" / "aco-contract-menu.yaml")


@pytest.fixture(scope="module")
def reference(menu):
    opts = options_for(menu, sims=2400, seed=11)
    return opts, run(menu, opts)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as lc, Client(lc, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield lc, client


def _kill_busy_worker(lc, client, deadline: float) -> str:
    """SIGKILL the process of a worker that is running a task now; its address."""
    while time.monotonic() < deadline:
        busy = [address for address, keys in client.processing().items() if keys]
        for nanny in lc.workers.values():
            if nanny.worker_address in busy and nanny.process is not None and nanny.pid:
                os.kill(nanny.pid, signal.SIGKILL)
                return nanny.worker_address
        time.sleep(0.005)
    raise AssertionError("no worker was busy before the deadline")


def _run_and_kill(lc, client, scenario, opts, **kwargs):
    """Run in a thread, kill a busy worker once 3 chunks are done; (result or error, alive at kill)."""
    done, out = [], {}

    def target():
        try:
            out["ds"] = run_on_cluster(scenario, opts, scheduler=lc.scheduler_address,
                                       progress=done.append, **kwargs)
        except BaseException as exc:  # handed to the test thread
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while len(done) < 3 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert thread.is_alive(), "the run ended before a worker could be killed"
    _kill_busy_worker(lc, client, deadline)
    killed_mid_run = thread.is_alive()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the run did not end after a worker was killed"
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker for the next tests
    return out, killed_mid_run, sum(done)


def test_cluster_run_equals_single_process_for_any_chunk_size(menu, reference, cluster):
    opts, ref = reference
    lc, _ = cluster
    for chunk in (opts.simulations, 700, 333):  # one chunk, even chunks, odd chunks and a tail
        ds = run_on_cluster(menu, opts, scheduler=lc.scheduler_address, chunk_sims=chunk)
        assert ds.identical(ref), chunk
        for name in SIM_VARS:  # identical() plus exact bits, NaN included
            assert np.array_equal(ds[name].values, ref[name].values, equal_nan=True), (chunk, name)


def test_a_multi_year_run_on_the_cluster_equals_the_single_process_run(cluster):
    """The years of an agreement (persistent beneficiaries, trend and performance shocks,
    rebasing at renewal) draw each simulation from its global index too."""
    sc = load_scenario(ROOT / "scenarios" / "aco-renewal.yaml")
    opts = options_for(sc, sims=300, seed=4)
    ref = run(sc, opts)
    lc, _ = cluster
    for chunk in (300, 77):
        ds = run_on_cluster(sc, opts, scheduler=lc.scheduler_address, chunk_sims=chunk)
        assert ds.identical(ref), chunk
        for name in ("net", "net_by_year", "benchmark_by_year", "repayment_mechanism"):
            assert np.array_equal(ds[name].values, ref[name].values, equal_nan=True), (chunk, name)


def test_a_killed_worker_has_its_chunks_redone_and_the_result_is_identical(menu, cluster):
    lc, client = cluster
    opts = options_for(menu, sims=9000, seed=3)
    out, killed_mid_run, reported = _run_and_kill(lc, client, menu, opts, chunk_sims=150)
    assert killed_mid_run
    assert "error" not in out, out.get("error")
    assert reported == opts.simulations  # every chunk counted once, retries included
    assert out["ds"].identical(run(menu, opts))


def test_a_run_that_cannot_complete_fails_in_one_line_and_leaves_nothing(menu, cluster, tmp_path):
    lc, client = cluster
    opts = options_for(menu, sims=9000, seed=4)
    store = tmp_path / "failed.zarr"

    def set_allowed_failures(n):
        def apply(dask_scheduler):
            dask_scheduler.allowed_failures = n
        client.run_on_scheduler(apply)

    set_allowed_failures(0)  # the first worker death fails the chunk (KilledWorker)
    try:
        out, _, _ = _run_and_kill(lc, client, menu, opts, chunk_sims=150, zarr=store)
    finally:
        set_allowed_failures(3)
    assert "ds" not in out
    error = out["error"]
    assert isinstance(error, DistributedRunError)
    assert str(error).startswith("distributed run failed: KilledWorker")
    assert "\n" not in str(error)
    assert list(tmp_path.iterdir()) == []  # neither the store nor its temporary


def test_zarr_store_round_trip_equals_the_in_memory_result(menu, reference, cluster, tmp_path):
    import zarr

    opts, ref = reference
    lc, _ = cluster
    store = tmp_path / "results.zarr"
    ds = run_on_cluster(menu, opts, scheduler=lc.scheduler_address, chunk_sims=500, zarr=store)
    assert zarr.open_group(str(store), mode="r")["net"].chunks == (1, 500)  # chunked along sim
    for name in (*SIM_VARS, "summary", "summary_se"):
        assert ds[name].identical(ref[name]), name
    # Benchmark: per-chunk sums in simulation order, within rounding of numpy's mean.
    np.testing.assert_allclose(ds["benchmark"].values, ref["benchmark"].values, rtol=1e-13)
    assert ds.attrs == ref.attrs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.zarr"]  # no temporary left

    # In-process chunks (no cluster) write the same store; an earlier store is replaced.
    again = run_on_cluster(menu, opts, chunk_sims=1000, zarr=store)
    assert again["summary"].identical(ref["summary"])
    assert again["net"].identical(ref["net"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.zarr"]


def test_zarr_never_replaces_something_that_is_not_a_store(menu, tmp_path):
    opts = options_for(menu, sims=200, seed=1)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    (tmp_path / "file.zarr").write_text("mine")
    for target in (tmp_path / "notes", tmp_path / "file.zarr", tmp_path / "missing" / "x.zarr"):
        with pytest.raises(InputError, match="--zarr"):
            run_on_cluster(menu, opts, zarr=target)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_sweep_on_cluster_equals_sweep(menu, cluster):
    lc, _ = cluster
    opts = options_for(menu, sims=600, seed=2)
    values = [2000, 5000]
    done = []
    ds = sweep_on_cluster(menu, "population.beneficiaries", values, opts, scheduler=lc.scheduler_address,
                          chunk_sims=250, progress=done.append)
    assert ds.identical(sweep(menu, "population.beneficiaries", values, opts))
    assert sum(done) == len(values) * opts.simulations


def test_unreachable_scheduler_is_one_line(menu, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(dist, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(DistributedRunError, match=r"^distributed run failed: cannot start or reach tcp://127\.0\.0\.1"):
        run_on_cluster(menu, options_for(menu, sims=200), scheduler=f"tcp://127.0.0.1:{port}")
    with pytest.raises(InputError, match="not both"):
        run_on_cluster(menu, options_for(menu, sims=200), scheduler="tcp://127.0.0.1:1", workers=2)


def test_cluster_options_map_failures_to_one_line_and_status_1():
    @click.command()
    @cluster_options
    def cmd(scheduler, workers, chunk_sims, zarr):
        assert (workers, chunk_sims, zarr) == (2, 100, Path("x.zarr"))
        raise DistributedRunError("distributed run failed: KilledWorker: all workers died")

    # standalone_mode=False as in simsuite.cli.main, where click's own Exit would be lost.
    result = CliRunner().invoke(cmd, ["--workers", "2", "--chunk-sims", "100", "--zarr", "x.zarr"],
                                standalone_mode=False)
    assert result.exit_code == 1
    assert result.output.strip() == "simsuite: distributed run failed: KilledWorker: all workers died"

    @click.command()
    @cluster_options(zarr=False)
    def cmd2(scheduler, workers, chunk_sims):
        click.echo(f"{scheduler} {workers} {chunk_sims}")

    result = CliRunner().invoke(cmd2, ["--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 0 and result.output.strip() == "tcp://127.0.0.1:8786 None None"
    assert CliRunner().invoke(cmd2, ["--zarr", "x"]).exit_code == 2  # no --zarr on sweeps


def test_simsuite_imports_without_dask_and_names_the_extra():
    code = textwrap.dedent("""
        import sys
        for name in ("dask", "distributed", "zarr"):  # as if not installed: import fails, find_spec is None
            sys.modules[name] = None
        import simsuite, simsuite.cli.app, simsuite.engines.distributed
        from simsuite.engines.distributed import require_dask
        from simsuite.engines.montecarlo import options_for
        sc = simsuite.load_scenario(sys.argv[1])
        try:
            simsuite.engines.distributed.run_on_cluster(sc, options_for(sc, sims=200), workers=2)
        except simsuite.engines.distributed.DistributedUnavailable as exc:
            print(exc)
        assert not [m for m, mod in sys.modules.items() if mod is not None and m.split(".")[0] in ("dask", "distributed", "zarr")]
    """)
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "scenarios" / "aco-5000.yaml")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '--workers needs dask.distributed and zarr (dask is not installed): pip install "simsuite[distributed]"'


def test_chunks_cover_the_run_and_default_to_whole_kernel_units(menu):
    assert chunk_ranges(10, 4) == [(0, 4), (4, 4), (8, 2)]
    for sims, workers in ((100, 2), (1_000_000, 2), (10_000_000, 64), (1, 1)):
        chunk = default_chunk_sims(menu, sims, workers)
        assert 1 <= chunk <= sims
        assert chunk % 64 == 0 or chunk == sims
        if sims >= 1_000_000:  # enough chunks for every worker, each about DRAWS_PER_TASK draws at most
            assert len(chunk_ranges(sims, chunk)) >= dist.CHUNKS_PER_WORKER * workers
            assert chunk * menu.spec.population.beneficiaries <= dist.DRAWS_PER_TASK + 64 * 10_000


# ---- Numba's cache when worker processes import the kernels at the same time ----


def _stale_package(tmp_path: Path, n_stale: int = 200) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "panel.py").write_text("def f(): pass\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    for i in range(n_stale):
        (cache / f"panel.f-{i}.py311.nbi").write_text("index")
        (cache / f"panel.f-{i}.py311.1.nbc").write_text("code")
    (cache / _MARKER).write_text("an older digest")
    return tmp_path


def test_a_file_deleted_by_another_process_does_not_stop_the_clean_up(tmp_path, monkeypatch):
    package = _stale_package(tmp_path)
    real_glob = Path.glob

    def glob_with_a_vanished_file(self, pattern):  # another process deleted it after listing
        found = list(real_glob(self, pattern))
        return [self / "gone.py311.nbi", *found] if pattern == "*.nbi" else found

    monkeypatch.setattr(Path, "glob", glob_with_a_vanished_file)
    assert drop_stale_cache(package)
    monkeypatch.undo()
    assert not list((package / "__pycache__").glob("*.nb?"))
    assert (package / "__pycache__" / _MARKER).read_text() == kernel_sources_digest(package)


_DROP_AT_ONCE = """
import sys, time
from pathlib import Path
from simsuite.kernels._cache import drop_stale_cache

go = Path(sys.argv[2])
deadline = time.monotonic() + 30
while not go.exists() and time.monotonic() < deadline:  # start together
    time.sleep(0.001)
dropped = drop_stale_cache(Path(sys.argv[1]))
# What this process would load next: any stale kernel still there would be used.
print(dropped, len(list((Path(sys.argv[1]) / "__pycache__").glob("*.nb?"))))
"""


def test_processes_dropping_the_cache_at_once_drop_it_once_and_completely(tmp_path):
    package = _stale_package(tmp_path / "kernels_pkg", n_stale=1000)  # a deletion long enough to overlap
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _DROP_AT_ONCE, str(package), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    time.sleep(0.3)  # let them start and wait
    go.touch()
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outcomes.append(out.strip())
    # Whenever drop_stale_cache returned, in any process, no stale kernel was left to load.
    assert all(o.split()[1] == "0" for o in outcomes), outcomes
    assert [o.split()[0] for o in outcomes].count("True") == 1, outcomes  # dropped once, under the lock
    cache = package / "__pycache__"
    assert not list(cache.glob("*.nb?"))
    assert (cache / _MARKER).read_text() == kernel_sources_digest(package)
    assert not list(cache.glob("*.partial"))
