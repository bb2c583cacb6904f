"""Issue-8 benchmark: one run of 10^6 simulations in one process and on a local Dask cluster.

    python benchmarks/distributed.py                  # 10^6 sims, 2,000 beneficiaries, 2 workers
    python benchmarks/distributed.py --sims 200000    # quicker

The scenario is ``scenarios/aco-5000.yaml`` (FFS, MSSP BASIC A, BASIC E, ENHANCED)
with the panel set to ``--beneficiaries``. Each configuration runs once after a
warm-up (kernels compiled or loaded from cache in every process); the cluster's start
(processes, imports) is timed separately from the run. Every result is checked
identical to the single-process one. Prints one markdown table to stdout.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and this file's name would
# shadow the `distributed` package it benchmarks.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--beneficiaries", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import logging

    import numba
    from distributed import Client, LocalCluster

    from simsuite.engines.distributed import default_chunk_sims, run_on_cluster
    from simsuite.engines.montecarlo import options_for, run
    from simsuite.scenario.edit import scenario_with
    from simsuite.scenario.load import load_scenario

    base = load_scenario(ROOT / "scenarios" / "aco-5000.yaml")
    scenario = scenario_with(base, "population.beneficiaries", args.beneficiaries)
    options = options_for(scenario, sims=args.sims, seed=2026)
    load_start = os.getloadavg()[0]
    run(scenario, options_for(scenario, sims=1000, seed=1))  # warm-up: compile or load the kernels

    rows = []
    started = time.perf_counter()
    reference = run(scenario, options)
    single = time.perf_counter() - started
    rows.append(("1 process", f"{numba.get_num_threads()} numba threads", "-", single, "-", "reference"))

    started = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster, set_as_default=False)
    client.wait_for_workers(args.workers, timeout=120)
    # Warm-up: every worker imports simsuite and loads its kernels.
    run_on_cluster(scenario, options_for(scenario, sims=64 * args.workers, seed=1),
                   scheduler=cluster.scheduler_address, chunk_sims=64)
    startup = time.perf_counter() - started
    try:
        chunk = default_chunk_sims(scenario, args.sims, args.workers)
        started = time.perf_counter()
        ds = run_on_cluster(scenario, options, scheduler=cluster.scheduler_address)
        elapsed = time.perf_counter() - started
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        rows.append((f"local cluster, {args.workers} worker processes",
                     f"{max(1, cores // args.workers)} numba thread(s) each",
                     f"{chunk:,} sims x {-(-args.sims // chunk)}", elapsed, f"{startup:.1f} s",
                     "identical" if ds.identical(reference) else "DIFFERENT"))
    finally:
        client.close()
        cluster.close()

    print(f"{args.sims:,} simulations, {args.beneficiaries:,} beneficiaries, 4 contracts "
          f"({args.sims * args.beneficiaries:.1e} patient draws); {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}; load average {load_start:.2f} -> {os.getloadavg()[0]:.2f}")
    print()
    print("| configuration | threads | chunks | run time | cluster start + warm-up | result vs 1 process |")
    print("|---|---|---|---|---|---|")
    for name, threads, chunks, seconds, start, same in rows:
        print(f"| {name} | {threads} | {chunks} | {seconds:.1f} s ({args.sims / seconds:,.0f} sims/s) | {start} | {same} |")


if __name__ == "__main__":
    main()
