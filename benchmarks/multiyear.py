"""Benchmarks of the multi-year engine (issue 18): one entry point, one markdown table.

Run from the repository root::

    python benchmarks/multiyear.py           # about 3-4 minutes on 2 cores
    python benchmarks/multiyear.py --quick   # smaller sizes, about 1 minute

Measured side by side in this process (or in the child processes it starts):

* the multi-year kernel's throughput per patient-year draw against the one-year kernel's
  per patient draw, on the same panel and caps, 1 and 2 threads, interleaved round-robin
  (target: at least 0.75x);
* a whole multi-year run through the engine -- 20,000 beneficiaries, 8 calendar years
  (3 benchmark years + 5 performance years), 20,000 simulations, every path of the 2027
  new-entrant example -- in a fresh process: wall time and peak resident memory, next to
  the same process doing a one-year run of the same panel and simulations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import default_panel, interleaved_medians  # noqa: E402

from simsuite.engines.montecarlo import RunOptions, simulate_totals  # noqa: E402
from simsuite.kernels import stream_key  # noqa: E402
from simsuite.kernels.panel_years import panel_year_totals  # noqa: E402
from simsuite.kernels.threads import numba_threads  # noqa: E402

SEED = 2027


def one_year(panel, caps, sims: int, threads: int) -> np.ndarray:
    return simulate_totals(panel, caps, 1.0, RunOptions(simulations=sims, seed=SEED, threads=threads,
                                                        chunk=sims))


def multi_year(panel, caps, sims: int, years: int, threads: int) -> np.ndarray:
    out = np.empty((sims, years, caps.shape[0], len(panel.cohorts)))
    caps_y = np.ascontiguousarray(np.broadcast_to(caps[None, :, :], (years,) + caps.shape))
    shift = np.zeros((sims, years))
    with numba_threads(threads):
        panel_year_totals(np.uint64(stream_key(np.uint64(SEED), np.uint64(6))), 0, 24, 64, panel.log_mean_expected, shift,
                          panel.cohort_start, panel.zero_share, panel.severity, caps_y, 0.5, 10.0, out)
    return out


CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from simsuite.engines.montecarlo import RunOptions, run
    from simsuite.scenario.load import load_scenario, scenario_from_dict
    kind, n, sims = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sc = load_scenario("scenarios/aco-2027-new-entrant.yaml")
    spec = sc.spec.model_dump(exclude_none=True)
    spec["population"]["beneficiaries"] = n
    if kind == "one-year":  # the same panel and contracts' first year, no horizon
        for key in ("horizon", "dynamics", "organisation", "region", "risk_growth", "trends", "finance", "risk_appetite"):
            spec.pop(key, None)
        spec["performance_year"] = 2027
        spec["contracts"] = [{"preset": "mssp-basic-a"}, {"preset": "mssp-basic-e"}, {"preset": "mssp-enhanced"}]
    sc = scenario_from_dict(spec)
    run(sc, RunOptions(simulations=200, seed=1))  # compile / load the kernels outside the timing
    t = time.perf_counter()
    ds = run(sc, RunOptions(simulations=sims, seed=7))
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "peak_mb": peak}))
""")


def child(kind: str, n: int, sims: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(n), str(sims)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, sims, years = (2_000, 2_000, 8) if args.quick else (10_000, 4_000, 8)
    big_n, big_sims = (5_000, 5_000) if args.quick else (20_000, 20_000)
    load0 = os.getloadavg()[0]
    panel, caps = default_panel(n)
    rows = []
    for threads in (1, 2):
        print(f"kernels, {threads} thread(s) ...", file=sys.stderr)
        times = interleaved_medians({
            "one": (lambda t=threads: one_year(panel, caps, sims * years, t), args.repeats),
            "multi": (lambda t=threads: multi_year(panel, caps, sims, years, t), args.repeats),
        })
        draws = n * sims * years
        one_rate, multi_rate = draws / times["one"], draws / times["multi"]
        rows.append((threads, one_rate, multi_rate))
    print("whole runs in fresh processes ...", file=sys.stderr)
    multi = child("multi-year", big_n, big_sims)
    single = child("one-year", big_n, big_sims)
    load1 = os.getloadavg()[0]

    print(f"## Multi-year engine ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numba {numba.__version__} threading layer {numba.config.THREADING_LAYER}, "
          f"load {load0:.2f} -> {load1:.2f})\n")
    print(f"Kernels on the default panel, N = {n:,}, caps none and 99th percentile; one-year kernel: "
          f"{sims * years:,} simulations; multi-year kernel: {sims:,} simulations x {years} years "
          f"(the same draws); median of {args.repeats}, interleaved.\n")
    print("| threads | one-year kernel (draws/s) | multi-year kernel (patient-years/s) | ratio | target |")
    print("|---|---|---|---|---|")
    for threads, one_rate, multi_rate in rows:
        ratio = multi_rate / one_rate
        print(f"| {threads} | {one_rate / 1e6:,.0f} M | {multi_rate / 1e6:,.0f} M | {ratio:.2f}x | "
              f">= 0.75x {'met' if ratio >= 0.75 else 'NOT met'} |")
    print(f"\nWhole `run` of scenarios/aco-2027-new-entrant.yaml at N = {big_n:,}, {big_sims:,} simulations "
          "(8 calendar years, 5 contracts), against a one-year run of the same panel (3 MSSP presets), each in "
          "a fresh process after a 200-simulation warm-up:\n")
    print("| run | wall (s) | peak RSS (MB) |")
    print("|---|---|---|")
    print(f"| multi-year (8 years) | {multi['wall']:.1f} | {multi['peak_mb']:,.0f} |")
    print(f"| one-year | {single['wall']:.1f} | {single['peak_mb']:,.0f} |")
    print(f"| ratio | {multi['wall'] / single['wall']:.1f}x | {multi['peak_mb'] / single['peak_mb']:.2f}x |")


if __name__ == "__main__":
    main()
