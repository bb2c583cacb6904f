"""Monte Carlo against the exact (FFT) method, and how long each takes.

Run::

    python benchmarks/exact_vs_mc.py [--sims 100000] [--beneficiaries 10000] [--no-portfolio]

Prints a markdown table (method, contract, statistic, Monte Carlo value +- SE, exact
value, |diff| / SE) for every contract family the exact method covers -- MSSP one- and
two-sided (capped total), REACH corridors and Primary Care First (uncapped total),
capitation with specific and aggregate stop-loss (claims under stop-loss), a PCMH
quality payment (no cost), and TEAM Tracks 1-3 (episode counts and capped episode
costs) -- then the times of: the exact
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
from simsuite.engines.exact import run_exact
from simsuite.engines.exact.bands import Bands
from simsuite.engines.exact.lattice import total_distribution

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
            {"preset": "reach-professional-2026", "name": "REACH Professional"},
            {"preset": "reach-global-2026", "name": "REACH Global"},
            {"preset": "capitation-full-risk", "name": "capitation + stop-loss",
             "overrides": {"revenue_to_benchmark": 1.0, "specific_attachment": 150_000.0,
                           "specific_coinsurance": 0.1, "specific_premium_loading": 0.15,
                           "aggregate_attachment": 1.05, "aggregate_coinsurance": 0.1}},
            {"preset": "pcf-general", "name": "PCF",
             "overrides": {"visits_per_beneficiary": 3.0, "ffs_displaced_pbpm": 30.0}},
            {"preset": "pcmh-hybrid", "name": "PCMH", "overrides": {"fixed_pmpm": 4.0, "bonus_pmpm": 2.0}},
        ],
    })


def team_scenario() -> simsuite.Scenario:
    """scenarios/team-joint-replacement.yaml with a fixed quality score (the exact method needs one)."""
    return simsuite.scenario_from_dict({
        "name": "TEAM LEJR + SHFFT (fixed quality)",
        "performance_year": 2027,
        "population": {"beneficiaries": 100},
        "assumptions": {"quality_score": 0.75},
        "episodes": [
            {"category": "LEJR", "annual_volume": 80, "mean_cost": 24000, "cost_cv": 0.30,
             "complication_rate": 0.07, "complication_cost": 25000, "complication_cv": 1.5, "true_savings": 0.03},
            {"category": "SHFFT", "annual_volume": 30, "mean_cost": 45000, "cost_cv": 0.40,
             "complication_rate": 0.15, "complication_cost": 30000, "complication_cv": 1.5, "true_savings": 0.01},
        ],
        "contracts": [{"preset": "team-track1", "name": "TEAM Track 1"},
                      {"preset": "team-track2", "name": "TEAM Track 2"},
                      {"preset": "team-track3", "name": "TEAM Track 3"}],
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
    team = team_scenario()
    t = time.perf_counter()
    mc_team = simsuite.run(team, simsuite.RunOptions(simulations=args.sims, seed=args.seed))
    t_mc_team = time.perf_counter() - t
    t = time.perf_counter()
    ex_team = run_exact(team)
    t_exact_team = time.perf_counter() - t

    print(f"## Monte Carlo ({args.sims:,} simulations) vs exact (FFT): {sc.spec.name}; {team.spec.name}\n")
    print("| method | contract | statistic | Monte Carlo ± SE | exact | abs(diff)/SE |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for scen, m_ds, e_ds in ((sc, mc, ex), (team, mc_team, ex_team)):
        for c in scen.contracts:
            for m in STATISTICS:
                v = float(m_ds["summary"].sel(contract=c.name, measure=m))
                se = float(m_ds["summary_se"].sel(contract=c.name, measure=m))
                e = float(e_ds["summary"].sel(contract=c.name, measure=m))
                own = float(e_ds["summary_error"].sel(contract=c.name, measure=m))
                # An SE at float-rounding level (a TVaR of a point mass: ~1e-11) means an atom,
                # where both methods must agree to rounding, not a sampling error to divide by.
                atom = se <= 1e-12 * max(1.0, abs(v))
                ratio = (abs(v - e) / se if not atom
                         else (0.0 if abs(v - e) <= own + 1e-9 * max(1, abs(e)) else math.inf))
                worst = max(worst, ratio)
                print(f"| MC vs FFT ({c.family}) | {c.name} | {m} | {fmt(v, m)} ± {fmt(se, m)} | {fmt(e, m)} "
                      f"| {ratio:.2f} |")
    print(f"\nlargest |diff|/SE: {worst:.2f} (rows with SE 0 are atoms: both methods give the same value)")
    for tag in sorted({k.rsplit("_mean_rel_error", 1)[0] for d in (ex, ex_team) for k in d.attrs
                       if k.endswith("_mean_rel_error")}):
        a = ex.attrs if f"{tag}_buckets" in ex.attrs else ex_team.attrs
        print(f"self-check [{tag}]: mean rel. error {a[f'{tag}_mean_rel_error']:.1e}, variance rel. error "
              f"{a[f'{tag}_var_rel_error']:.1e}, aliasing bound {a[f'{tag}_aliasing_bound']:.0e}, "
              f"{a[f'{tag}_buckets']:,} buckets of ${a[f'{tag}_bucket_usd']:.2f}")
    print()
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
    print(f"| exact: TEAM scenario (2 categories, 3 tracks) | {t_exact_team:.2f} | |")
    print(f"| Monte Carlo: TEAM scenario, {args.sims:,} simulations | {t_mc_team:.2f} | |")
    try:
        from aggregate import Portfolio, build  # noqa: F401 (Portfolio: the version check)
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
