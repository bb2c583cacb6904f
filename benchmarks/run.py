"""Benchmarks of the patient-level kernel (issue 7): one entry point, one markdown table.

Run from the repository root::

    python benchmarks/run.py            # full run, about 5 minutes on 2 cores
    python benchmarks/run.py --quick    # smaller sizes, skips the 10^10-draw run

Everything is measured in this one process (or in child processes it starts) on
the same machine, side by side; each figure is the median of several runs after a
warm-up, unless the table says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from baselines import floor_totals, numpy_panel_totals, scalar_floor_totals  # noqa: E402

from simsuite.engines.montecarlo import RunOptions, simulate_totals
from simsuite.kernels import stream_key  # noqa: E402
from simsuite.model.population import build_panel
from simsuite.scenario.load import scenario_from_dict

SEED = 2026


def median_time(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs (after one untimed warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def interleaved_medians(contenders: dict) -> dict:
    """Median seconds of each ``{name: (fn, repeats)}``, timed round-robin after a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for fn, _ in contenders.values():
        fn()
    for rep in range(max(r for _, r in contenders.values())):
        for name, (fn, repeats) in contenders.items():
            if rep < repeats:
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    return {name: float(np.median(v)) for name, v in times.items()}


def default_panel(n: int):
    """The default cost model with MSSP truncation (caps: none, 99th national percentile)."""
    sc = scenario_from_dict({
        "name": "benchmark",
        "population": {"beneficiaries": n},
        "contracts": [{"preset": "mssp-basic-a"}],
    })
    panel = build_panel(sc.spec)
    caps = np.vstack([panel.caps_at(None), panel.caps_at(0.99)])
    return panel, caps


def kernel_run(panel, caps, sims: int, threads: int) -> np.ndarray:
    return simulate_totals(panel, caps, 1.0, RunOptions(simulations=sims, seed=SEED, threads=threads,
                                                        chunk=max(16, 20_000_000 // panel.size)))


def with_threads(threads: int, fn):
    def call():
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            return fn()
        finally:
            numba.set_num_threads(previous)
    return call


# --- child processes: start-up, end to end, 10^10 draws ---------------------------------

# Runs the real CLI in a child process, through the console entry point, with the kernel
# wrapped to record when it is first entered and last left, and how long all calls took;
# an atexit handler writes them as JSON to argv[1] as the command exits. Loading the
# compiled kernel from Numba's cache (or compiling it) happens on the first call; it is
# timed apart and counted as start-up, not as kernel time.
_CLI_WRAPPER = textwrap.dedent("""
    import atexit, json, sys, time
    t_import = time.monotonic()
    import numba
    import simsuite.engines.montecarlo as engine
    kernel = engine.panel_totals
    stats = {"first_enter": None, "first_exit": None, "last_exit": None, "kernel_s": 0.0,
             "load_s": 0.0, "calls": 0}
    def timed(*args):
        t = time.monotonic()
        if stats["first_enter"] is None:
            stats["first_enter"] = t
            kernel.compile(tuple(numba.typeof(a) for a in args))
            stats["load_s"] = time.monotonic() - t
            t = time.monotonic()
        kernel(*args)
        e = time.monotonic()
        if stats["first_exit"] is None:
            stats["first_exit"] = e
        stats["last_exit"] = e
        stats["kernel_s"] += e - t
        stats["calls"] += 1
    engine.panel_totals = timed
    stats_path = sys.argv[1]
    def write_stats():
        stats["t_import"] = t_import
        stats["end"] = time.monotonic()
        with open(stats_path, "w") as fh:
            json.dump(stats, fh)
    atexit.register(write_stats)
    sys.argv = ["simsuite", *sys.argv[2:]]
    from simsuite.cli.entry import main
    main()  # leaves the way the `simsuite` command does
""")


def run_cli(args: list[str], env_extra: dict[str, str] | None = None) -> dict:
    """Run ``simsuite`` in a child process; times relative to just before the child starts."""
    env = dict(os.environ, **(env_extra or {}))
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = Path(tmp) / "stats.json"
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", _CLI_WRAPPER, str(stats_path), *args],
                              env=env, capture_output=True, text=True, cwd=ROOT)
        wall = time.monotonic() - t0
        if proc.returncode != 0 or not stats_path.exists():
            raise RuntimeError(f"simsuite {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        stats = json.loads(stats_path.read_text())
    return {
        "wall": wall,
        "first_enter": stats["first_enter"] - t0,
        "first_exit": stats["first_exit"] - t0,
        "after_last": stats["end"] - stats["last_exit"],
        "exit_s": wall - (stats["end"] - t0),
        "kernel_s": stats["kernel_s"],
        "load_s": stats["load_s"],
        "calls": stats["calls"],
        "stdout": proc.stdout,
    }


# What any `simsuite run` pays before doing anything: a fresh interpreter importing the
# libraries the run path uses (ours excluded).
_IMPORT_FLOOR = ("import numpy, click, numba, scipy.special, pydantic, yaml, xarray, netCDF4, "
                 "matplotlib.figure, matplotlib.backends.backend_agg")


def import_floor() -> float:
    """Seconds for a fresh interpreter to start and import the third-party stack of a run."""
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", _IMPORT_FLOOR], check=True, cwd=ROOT)
    return time.monotonic() - t0


_SCALE_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from run import default_panel, kernel_run
    n, s = int(sys.argv[2]), int(sys.argv[3])
    panel, caps = default_panel(n)
    kernel_run(panel, caps, 64, 2)  # load the compiled kernel before timing
    t = time.perf_counter()
    totals = kernel_run(panel, caps, s, 2)
    dt = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": dt, "peak_mb": peak_kb / 1024, "finite": bool(np.isfinite(totals).all()),
                      "mean": float(totals[:, 0].mean())}))
""")


def scale_run(n: int, s: int) -> dict:
    """One run of N x S draws in a fresh process: seconds and peak resident memory."""
    proc = subprocess.run([sys.executable, "-c", _SCALE_CHILD, str(HERE), str(n), str(s)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def all_mssp_scenario(path: Path, sims: int) -> list[str]:
    """Write the 20,000-beneficiary ACO scenario with every current MSSP track and every
    ACO REACH preset for its performance year; return the preset ids used."""
    from simsuite.contracts.presets import all_presets

    base = (ROOT / "scenarios" / "aco-20000.yaml").read_text()
    year = int(next(line.split(":")[1] for line in base.splitlines() if line.startswith("performance_year")))
    ids = [pid for pid, p in all_presets().items()
           if p.status == "current" and year in p.performance_years
           and (pid.startswith("mssp-") or pid.startswith("reach-"))]
    head = base.split("\ncontracts:")[0]
    contracts = "\ncontracts:\n  - preset: ffs\n" + "".join(f"  - preset: {pid}\n" for pid in ids)
    path.write_text(head + contracts + f"\nrun:\n  simulations: {sims}\n  seed: 7\n")
    return ids


def fit_exponent(sizes, seconds) -> float:
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes; skip the 10^10-draw run")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per kernel figure (median)")
    args = ap.parse_args()
    quick, reps = args.quick, args.repeats
    n_threads = min(2, numba.config.NUMBA_NUM_THREADS)
    load_start = os.getloadavg()
    rows: list[tuple[str, str, str, str]] = []  # measure, value, target, met

    def row(measure, value, target="", met=None):
        rows.append((measure, value, target, "" if met is None else ("yes" if met else "**no**")))
        print(f"  {measure}: {value}", file=sys.stderr, flush=True)

    # --- throughput at N = S = 10,000 ----------------------------------------------------
    n, s = (10_000, 2_000) if quick else (10_000, 10_000)
    draws = n * s
    panel, caps = default_panel(n)
    print(f"throughput, N={n:,} S={s:,}", file=sys.stderr)
    key = np.uint64(stream_key(np.uint64(SEED), np.uint64(1)))
    fout = np.empty(s)
    # Interleaved: every repetition times each contender in turn, so a burst of load
    # from other processes hits all of them alike instead of one contender's runs.
    contenders = {
        "k2": (lambda: kernel_run(panel, caps, s, n_threads), reps),
        "f2": (with_threads(n_threads, lambda: floor_totals(key, n, fout)), reps),
        "k1": (lambda: kernel_run(panel, caps, s, 1), reps),
        "f1": (with_threads(1, lambda: floor_totals(key, n, fout)), reps),
        "sf2": (with_threads(n_threads, lambda: scalar_floor_totals(key, n, fout)), 3),
        "npy1": (lambda: numpy_panel_totals(panel, caps, s, SEED, threads=1), 3),
        "npy2": (lambda: numpy_panel_totals(panel, caps, s, SEED, threads=n_threads), 3),
    }
    t = interleaved_medians(contenders)
    k2, f2, k1, f1, sf2, npy1, npy2 = (t[k] for k in ("k2", "f2", "k1", "f1", "sf2", "npy1", "npy2"))

    m = lambda t: draws / t / 1e6  # noqa: E731  (M draws/s)
    row(f"kernel, {n_threads} threads", f"{m(k2):.0f} M draws/s ({k2:.3f} s)", ">= 150 M/s", m(k2) >= 150)
    row("kernel, 1 thread", f"{m(k1):.0f} M draws/s ({k1:.3f} s)")
    row(f"speed-up 1 -> {n_threads} threads", f"{k1 / k2:.2f}x", ">= 1.8x", k1 / k2 >= 1.8)
    row("numpy Generator baseline, 1 thread", f"{m(npy1):.1f} M draws/s ({npy1:.2f} s)")
    row(f"numpy Generator baseline, {n_threads} threads (thread pool over chunks)",
        f"{m(npy2):.1f} M draws/s ({npy2:.2f} s)")
    # The baseline is idiomatic vectorised numpy: one process, chunked (numpy's
    # Generator runs on one core). The thread-pool variant goes further than a user
    # usually would; it is shown too, without a target.
    row("kernel vs idiomatic numpy (chunked, one process)", f"{npy1 / k2:.1f}x faster", ">= 5x", npy1 / k2 >= 5)
    row(f"kernel vs numpy with a {n_threads}-thread pool over chunks", f"{npy2 / k2:.1f}x faster")
    row(f"floor (hash->uniform->ndtri->exp->sum, same primitives), {n_threads} threads",
        f"{m(f2):.0f} M draws/s ({f2:.3f} s)")
    row("floor, 1 thread", f"{m(f1):.0f} M draws/s ({f1:.3f} s)")
    row(f"scalar floor (math.exp, branchy AS 241), {n_threads} threads", f"{m(sf2):.0f} M draws/s")
    row(f"kernel time / floor time, {n_threads} threads", f"{k2 / f2:.2f}x", "<= 1.3x", k2 / f2 <= 1.3)
    row("kernel time / floor time, 1 thread", f"{k1 / f1:.2f}x", "<= 1.3x", k1 / f1 <= 1.3)

    # Same model, same results in distribution: means agree within Monte Carlo error.
    a = kernel_run(panel, caps, s, n_threads)
    b = numpy_panel_totals(panel, caps, s, SEED + 1, threads=n_threads)
    zs = [(a[:, k].mean() - b[:, k].mean()) / np.sqrt(a[:, k].var() / s + b[:, k].var() / s)
          for k in range(caps.shape[0])]
    row("kernel vs numpy means (uncapped, capped), z-scores", ", ".join(f"{z:+.2f}" for z in zs),
        "|z| < 4", all(abs(z) < 4 for z in zs))

    # --- scale -----------------------------------------------------------------------------
    print("scale", file=sys.stderr)
    base_n, base_s = (10_000, 2_000) if quick else (10_000, 10_000)
    ns = [base_n, 3 * base_n, 10 * base_n]
    ss = [base_s, 3 * base_s, 10 * base_s]
    # Sizes interleaved within each repetition, so a burst of load hits every size alike.
    runs_n = [[scale_run(x, base_s)["seconds"] for x in ns] for _ in range(3)]
    runs_s = [[scale_run(base_n, x)["seconds"] for x in ss] for _ in range(3)]
    t_n = [float(v) for v in np.median(runs_n, axis=0)]
    t_s = [float(v) for v in np.median(runs_s, axis=0)]
    print(f"  N sizes {ns}: {t_n}; S sizes {ss}: {t_s}", file=sys.stderr)
    row(f"time exponent in N (N = {ns[0]:,}..{ns[-1]:,}, S = {base_s:,})", f"{fit_exponent(ns, t_n):.3f}",
        "~1", abs(fit_exponent(ns, t_n) - 1) < 0.1)
    row(f"time exponent in S (S = {ss[0]:,}..{ss[-1]:,}, N = {base_n:,})", f"{fit_exponent(ss, t_s):.3f}",
        "~1", abs(fit_exponent(ss, t_s) - 1) < 0.1)
    if not quick:
        big = scale_run(100_000, 100_000)
        row("N = 100,000 x S = 100,000 (10^10 draws, 1 run)",
            f"{big['seconds']:.1f} s = {1e10 / big['seconds'] / 1e6:.0f} M draws/s; "
            f"peak RSS {big['peak_mb']:.0f} MB (whole process); finite: {big['finite']}",
            "< 1 GB", big["peak_mb"] < 1024 and big["finite"])

    # --- start-up --------------------------------------------------------------------------
    print("start-up", file=sys.stderr)
    scenario = str(ROOT / "scenarios" / "aco-20000.yaml")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        cli = ["run", scenario, "--sims", "2000", "--out", out]
        cold = run_cli(cli, {"NUMBA_CACHE_DIR": cache})
        warm = [run_cli(cli, {"NUMBA_CACHE_DIR": cache}) for _ in range(3)]
    w_exit = float(np.median([w["first_exit"] for w in warm]))
    w_enter = float(np.median([w["first_enter"] for w in warm]))
    row("start-up, cached kernels: process start -> first chunk of sims done", f"{w_exit:.2f} s "
        f"(kernel first entered at {w_enter:.2f} s)", "< 2 s", w_exit < 2)
    row("first-ever compile (empty NUMBA_CACHE_DIR, 1 run): process start -> first chunk done",
        f"{cold['first_exit']:.1f} s (whole run {cold['wall']:.1f} s)")

    # --- end to end ------------------------------------------------------------------------
    print("end to end", file=sys.stderr)
    e2e_sims = 20_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aco-20000-all-mssp.yaml"
        ids = all_mssp_scenario(path, e2e_sims)
        runs = [run_cli(["run", str(path), "--out", str(Path(tmp) / "out")]) for _ in range(1 if quick else 3)]
        floors = [import_floor() for _ in range(3)]
    # Every end-to-end figure comes from the run with the median wall time, so the phases add up.
    mid = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
    wall, kern, floor = mid["wall"], mid["kernel_s"], float(np.median(floors))
    outside = 1 - kern / wall
    between = wall - kern - mid["first_enter"] - mid["load_s"] - mid["after_last"] - mid["exit_s"]
    reach = [i for i in ids if i.startswith("reach")]
    row(f"end to end: `simsuite run`, 20,000 beneficiaries, {e2e_sims:,} sims, "
        f"{len(ids)} contracts + FFS ({', '.join(ids)}){'' if reach else '; no REACH preset in the registry'}",
        f"{wall:.1f} s wall ({kern:.1f} s in the kernel; the run with the median wall time of {len(runs)})")
    row("end to end: share of wall time outside the kernel", f"{outside:.1%}", "< 10%", outside < 0.10)
    row("end to end: time outside the kernel, by phase",
        f"{wall - kern:.2f} s = {mid['first_enter']:.2f} s before the first chunk + {mid['load_s']:.2f} s "
        f"loading the cached kernel + {mid['after_last']:.2f} s after the last chunk (settlement, summary, "
        f"outputs) + {mid['exit_s']:.2f} s interpreter exit + {between:.2f} s between chunks")
    row("end to end: import floor (fresh interpreter importing numpy, click, numba, scipy.special, pydantic, "
        "PyYAML, xarray, netCDF4, matplotlib; median of 3)", f"{floor:.2f} s = {floor / wall:.1%} of the run's wall time")

    load_end = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"\n## simsuite kernel benchmarks{' (--quick)' if quick else ''}\n")
    print(f"Machine: {os.cpu_count()} cores ({cpu}); numba {numba.__version__} "
          f"(threading layer {numba.threading_layer()}), numpy {np.__version__}, Python {platform.python_version()}. "
          f"Load average (1 min) {load_start[0]:.2f} at start, {load_end[0]:.2f} at end. "
          f"Medians of {reps} interleaved runs for kernel and floor, 3 for numpy, scalar floor, scale and start-up.\n")
    print("| measure | value | target | met |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
