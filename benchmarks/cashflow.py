"""What dating the cash flows costs next to the simulation itself.

Run::

    python benchmarks/cashflow.py [--sims 10000] [--beneficiaries 8000 20000]

For the 2027 new-entrant example (five paths, five performance years, advance investment
payments) at each panel size: the time of the multi-year simulation (kernel and settlement,
`simsuite.engines.montecarlo.simulate`), of the Dataset without the ``finance`` section, and of
the cash flows (`simsuite.results.cashflow.cash_variables`: months, NPV, balances, summaries),
side by side with their ratio, and the peak memory the cash flows add (tracemalloc). Medians
of ``--repeat`` runs; the first simulation (Numba's compile) is run once beforehand.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import tracemalloc
from pathlib import Path

import yaml

import simsuite
from simsuite.engines.montecarlo import RunOptions, simulate
from simsuite.results.cashflow import cash_variables
from simsuite.results.dataset import assemble_years

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "aco-2027-new-entrant.yaml"


def scenario(n: int, finance: bool) -> simsuite.Scenario:
    data = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    data["population"]["beneficiaries"] = n
    if not finance:
        data.pop("finance")
        data.pop("risk_appetite")
    return simsuite.scenario_from_dict(data)


def timed(repeat: int, f, *args) -> tuple[float, object]:
    """Median time of ``f(*args)`` over ``repeat`` calls, and its result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--beneficiaries", type=int, nargs="+", default=[8_000, 20_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    options = RunOptions(simulations=args.sims, seed=2027)
    simulate(scenario(args.beneficiaries[0], True), RunOptions(simulations=64, seed=1))  # compile once
    print(f"| beneficiaries | simulation (s) | Dataset without finance (s) | cash flows (s) | cash / simulation "
          f"| cash flows' peak memory (MB) |  ({args.sims:,} simulations, medians of {args.repeat})")
    print("|---|---|---|---|---|---|")
    for n in args.beneficiaries:
        with_finance, without = scenario(n, True), scenario(n, False)
        t_sim, arrays = timed(args.repeat, simulate, with_finance, options)
        t_ds, _ = timed(args.repeat, assemble_years, without, options.seed, arrays)
        t_cash, _ = timed(args.repeat, cash_variables, with_finance, arrays)
        tracemalloc.start()
        cash_variables(with_finance, arrays)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"| {n:,} | {t_sim:.2f} | {t_ds:.2f} | {t_cash:.2f} | {t_cash / t_sim:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
