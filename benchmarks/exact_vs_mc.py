"""Monte Carlo against the exact (FFT) method, and how long each takes.

Run::

    python benchmarks/exact_vs_mc.py [--sims 100000] [--beneficiaries 10000] [--no-portfolio]

Prints a markdown table (method, contract, statistic, Monte Carlo value +- SE, exact
value, |diff| / SE) for the MSSP contracts of a scenario, then the times of: the exact
method's core for a 10,000-patient panel in 10 iid risk bands at 2**20 buckets; the
exact method for the whole scenario; Monte Carlo; and the `aggregate` package for one
iid cohort and for the 10-band portfolio (the same model).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

import simsuite
from simsuite.exact import Bands, run_exact, total_distribution

STATISTICS = ("mean", "sd", "p_loss", "VaR95", "TVaR95", "VaR99", "TVaR99")
SIGMA, P0, CAP = 1.25, 0.10, 95_000.0


def scenario(n: int) -> simsuite.Scenario:
    return simsuite.scenario_from_dict({
        "name": f"exact vs Monte Carlo, {n} beneficiaries",
        "population": {"beneficiaries": n},
        "assumptions": {"true_savings": 0.01, "quality_score": 0.85, "participant_revenue_to_benchmark": 0.25},
        "contracts": [
            {"preset": "mssp-basic-a", "name": "BASIC A"},
            {"preset": "mssp-basic-e", "name": "BASIC E", "overrides": {"msr": "variable"}},
            {"preset": "mssp-enhanced", "name": "ENHANCED"},
        ],
    })


def ten_bands(n: int = 10_000) -> Bands:
    """``n`` patients in 10 equal iid bands whose mean cost rises from $3,000 to $30,000."""
    means = np.geomspace(3000.0, 30_000.0, 10) / (1 - P0)
    return Bands(np.full(10, n // 10), np.log(means) - 0.5 * SIGMA**2, np.full(10, SIGMA),
                 np.full(10, P0), np.full(10, CAP))


def best_of(f, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def fmt(x: float, measure: str) -> str:
    return f"{x:.5f}" if measure.startswith("p_") else f"{x:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--beneficiaries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--no-portfolio", action="store_true", help="skip aggregate's 10-band portfolio (~10 s)")
    args = parser.parse_args()

    sc = scenario(args.beneficiaries)
    t = time.perf_counter()
    mc = simsuite.run(sc, simsuite.RunOptions(simulations=args.sims, seed=args.seed))
    t_mc = time.perf_counter() - t
    t = time.perf_counter()
    ex = run_exact(sc)
    t_exact_scenario = time.perf_counter() - t

    print(f"## {sc.spec.name}: Monte Carlo ({args.sims:,} simulations) vs exact (FFT)\n")
    print("| method | contract | statistic | Monte Carlo ± SE | exact | abs(diff)/SE |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for c in sc.contracts:
        for m in STATISTICS:
            v = float(mc["summary"].sel(contract=c.name, measure=m))
            se = float(mc["summary_se"].sel(contract=c.name, measure=m))
            e = float(ex["summary"].sel(contract=c.name, measure=m))
            own = float(ex["summary_error"].sel(contract=c.name, measure=m))
            ratio = abs(v - e) / se if se > 0 else (0.0 if abs(v - e) <= own + 1e-9 else math.inf)
            worst = max(worst, ratio)
            print(f"| MC vs FFT | {c.name} | {m} | {fmt(v, m)} ± {fmt(se, m)} | {fmt(e, m)} | {ratio:.2f} |")
    print(f"\nlargest |diff|/SE: {worst:.2f} (rows with SE 0 are atoms: both methods give the same value)")
    a = ex.attrs
    print(f"exact method's own check (cap set p99): mean rel. error {a['p99_mean_rel_error']:.1e}, "
          f"variance rel. error {a['p99_var_rel_error']:.1e} (banding {a['p99_banding_var_rel_error']:.1e}, "
          f"discretisation {a['p99_discretisation_var_rel_error']:.1e}), aliasing bound "
          f"{a['p99_aliasing_bound']:.0e}, {a['p99_buckets']:,} buckets of ${a['p99_bucket_usd']:.2f}, "
          f"{a['p99_nodes']} nodes\n")

    bands = ten_bands()
    total_distribution(bands, 20)  # warm-up (imports, FFT plans)
    t_core = best_of(lambda: total_distribution(bands, 20))
    dist = total_distribution(bands, 20)
    mean, var = bands.moments()

    print("## Times (2 cores shared; best of 3 where repeated)\n")
    print("| what | time (s) | check |")
    print("|---|---|---|")
    print(f"| exact: 10,000 patients in 10 iid bands, 2^20 buckets | {t_core:.3f} | mean rel. err "
          f"{dist.mean / mean - 1:.1e}, var rel. err {dist.var / var - 1:.1e} |")
    print(f"| exact: whole scenario ({args.beneficiaries:,} beneficiaries, all contracts) | {t_exact_scenario:.2f} | |")
    print(f"| Monte Carlo: {args.sims:,} simulations, whole scenario (incl. any JIT compile) | {t_mc:.2f} | |")
    try:
        from aggregate import Portfolio, build
    except ImportError:
        print("| aggregate | not installed | pip install 'aggregate>=0.30,<1' |")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n, mu = 10_000, float(bands.log_mean[4])
        bs = (mean + 12 * math.sqrt(var)) / 2**20
        spec = f"agg Cohort {n * (1 - P0)} claims {CAP} xs 0 sev {math.exp(mu)} * lognorm {SIGMA} binomial {1 - P0}"
        t_agg1 = best_of(lambda: build(spec, log2=20, bs=bs, update=True), 1)
        print(f"| aggregate: one iid cohort of 10,000, 2^20 buckets | {t_agg1:.2f} | |")
        if not args.no_portfolio:
            lines = [f"agg Band{b} {int(bands.count[b]) * (1 - P0)} claims {CAP} xs 0 sev "
                     f"{math.exp(bands.log_mean[b])} * lognorm {SIGMA} binomial {1 - P0}" for b in range(10)]
            program = "port TenBands\n" + "\n".join("    " + x for x in lines)
            t = time.perf_counter()
            port = build(program, log2=20, bs=bs, update=True)
            t_port = time.perf_counter() - t
            xs = np.asarray(port.density_df.loss, dtype=float)
            p = np.clip(np.asarray(port.density_df.p_total, dtype=float), 0, None)
            p_ours = np.interp(xs, dist.values, dist.pmf, left=0.0, right=0.0) * (bs / dist.h)
            print(f"| aggregate: 10-band portfolio, 2^20 buckets | {t_port:.2f} | mean rel. diff from exact "
                  f"{np.dot(xs, p) / dist.mean - 1:.1e}; max density diff {np.abs(p - p_ours).max():.1e} |")


if __name__ == "__main__":
    main()
