"""``simsuite run`` and ``simsuite validate``: simulate a scenario (or check it) and write the results."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simsuite.cli.options import appetite_from_options, cluster_options, risk_appetite_options, run_options
from simsuite.cli.progress import progress_bar
from simsuite.errors import InputError
from simsuite.formatting import money
from simsuite.interrupt import raise_if_interrupted
from simsuite.io.files import prepare_out_dir

if TYPE_CHECKING:
    import xarray as xr


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
@run_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True, help="Directory for results.nc, summary.csv and loss_distribution.png.")
@click.option("--method", type=click.Choice(["monte-carlo", "exact"]), default="monte-carlo", show_default=True, help="exact: FFT-computed distribution of the panel total (independent patients only).")
@risk_appetite_options
@cluster_options
def run(scenario: Path, sims: int | None, seed: int | None, threads: int | None, out_dir: Path, method: str,
        max_var95: float | None, max_tvar95: float | None, max_p_loss: float | None,
        min_expected: float | None, risk_aversion: float | None, scheduler: str | None,
        workers: int | None, chunk_sims: int | None, zarr: Path | None) -> None:
    """Simulate SCENARIO, print the comparison table and a recommendation, and write the results."""
    from simsuite.analysis.decision import choose, has_cash, option_values

    if method == "exact":
        ignored = {"--sims": sims, "--seed": seed, "--threads": threads, "--workers": workers,
                   "--scheduler": scheduler, "--chunk-sims": chunk_sims, "--zarr": zarr}
        given = [name for name, value in ignored.items() if value is not None]
        if given:
            raise InputError("--method", "", f"exact computes the distribution, it does not simulate: "
                                             f"drop {', '.join(given)}")
        _run_exact(scenario, out_dir)
        return
    from simsuite.analysis.sizing import check_size, precision_warnings
    from simsuite.engines.distributed import run_on_cluster, uses_cluster
    from simsuite.engines.montecarlo import options_for
    from simsuite.engines.montecarlo import run as run_scenario
    from simsuite.io.files import atomic_paths
    from simsuite.report.tables import comparison_table, cumulative_table, is_multiyear, run_header, years_table
    from simsuite.scenario.load import load_scenario

    sc = load_scenario(scenario)
    if zarr is not None and sc.spec.horizon is not None:  # before any output folder is made
        raise InputError("--zarr", str(zarr), "per-simulation Zarr output is for one-year scenarios; "
                                              "a scenario with a horizon keeps its results in memory")
    options = options_for(sc, sims=sims, seed=seed, threads=threads)
    distributed = uses_cluster(scheduler, workers, zarr)
    # Per-simulation results written to Zarr chunk by chunk need not fit in memory.
    estimate = check_size(sc, options) if zarr is None else None
    if estimate is not None and estimate.seconds > 10 and not distributed:
        click.echo(f"estimated run time about {estimate.seconds:.0f} s, memory {estimate.gigabytes:.1f} GB", err=True)
    appetite = appetite_from_options(sc, max_var95, max_tvar95, max_p_loss, min_expected, risk_aversion)
    prepare_out_dir(out_dir)
    started = time.perf_counter()
    with progress_bar(options.simulations, "simulating") as progress:
        if distributed:
            ds = run_on_cluster(sc, options, scheduler=scheduler, workers=workers, chunk_sims=chunk_sims,
                                zarr=zarr, progress=progress)
        else:
            ds = run_scenario(sc, options, _stoppable(progress))
    elapsed = time.perf_counter() - started
    raise_if_interrupted()

    multiyear = is_multiyear(ds)
    click.echo(run_header(ds))
    click.echo()
    if multiyear:
        click.echo("Each performance year:")
        click.echo(years_table(ds))
        click.echo()
        click.echo(f"Over PY{ds.attrs['years']} (the sum of the years):")
        click.echo(cumulative_table(ds))
    else:
        click.echo(comparison_table(ds))
    click.echo()
    ranking = choose(ds, appetite)
    elections = option_values(ds, sc, ranking) if has_cash(ds) else []
    if has_cash(ds):
        _echo_cash(ds)
    click.echo(ranking.text())
    for election in elections:
        click.echo(election.text())
    click.echo()
    for warning in precision_warnings(ds):
        click.echo(f"warning: {warning}", err=True)
    # With --zarr the per-simulation results are already in the store; the figure would
    # need every contract's column in memory, so only the summary is written here.
    names = ["summary.csv"] if zarr is not None else ["summary.csv", "results.nc", "loss_distribution.png",
                                                      "workbook.xlsx"]
    if multiyear:
        names.append("fan_chart.png")
    with atomic_paths([out_dir / n for n in names]) as paths:
        table = ds["summary"].to_pandas().join(ds["summary_se"].to_pandas().add_suffix("_se"))
        # The repayment mechanism (two-sided MSSP; blank where none) and P(owed > it), as in the
        # table of a one-year run (a multi-year run has them by year, in results.nc).
        for name in ("guarantee", "p_owed_exceeds_guarantee", "p_owed_exceeds_guarantee_se"):
            if name in ds:
                table[name] = ds[name].to_pandas()
        table.to_csv(paths[0])
        if zarr is None:
            # Imported here, not at the top: matplotlib need not delay the first simulation.
            from simsuite.report.figures import fan_chart, loss_distribution
            from simsuite.report.workbook import write_workbook
            from simsuite.results.dataset import write_netcdf

            write_netcdf(ds, paths[1])
            loss_distribution(ds).savefig(paths[2], dpi=120, format="png")
            write_workbook(paths[3], ds, sc, ranking, elections)
            if multiyear:
                fan_chart(ds).savefig(paths[4], dpi=120, format="png")
    stored = f" and {zarr}" if zarr is not None else ""
    click.echo(f"simulated in {elapsed:.1f} s; wrote {out_dir}/{', '.join(names)}{stored}")


def _echo_cash(ds: xr.Dataset) -> None:
    """The cash flows' value and liquidity table, when the reserve runs out, and their notes."""
    from simsuite.report.cash import finance_lines, reserve_table, value_table

    click.echo(f"Cash over the horizon (net present value at {ds.attrs['discount_rate']:.2%} a year to "
               f"{ds.attrs['valuation_date']}; reserve {money(ds.attrs['reserve'])}):")
    click.echo(value_table(ds))
    click.echo()
    click.echo("P(the reserve runs out during the year):")
    click.echo(reserve_table(ds))
    for line in finance_lines(ds):
        click.echo(f"cash: {line}")
    click.echo()


def _run_exact(scenario: Path, out_dir: Path) -> None:
    """``simsuite run --method exact``: the exact distribution instead of simulations."""
    from simsuite.engines.exact import diagnostics_of, run_exact
    from simsuite.io.files import atomic_paths
    from simsuite.report.tables import comparison_table, rule_lines
    from simsuite.results.dataset import write_netcdf
    from simsuite.scenario.load import load_scenario

    sc = load_scenario(scenario)
    prepare_out_dir(out_dir)
    started = time.perf_counter()
    ds = run_exact(sc)
    elapsed = time.perf_counter() - started
    attrs = ds.attrs
    click.echo(f"{attrs['title']}  (PY{attrs['performance_year']}, {attrs['beneficiaries']:,} beneficiaries, "
               "exact (FFT) method)")
    for checks in diagnostics_of(attrs):
        click.echo(checks.line())
    click.echo("money per year, provider's side (+ = received); '±' = estimated error of the exact method")
    for line in rule_lines(ds):
        click.echo(f"rule: {line}")
    click.echo()
    click.echo(comparison_table(ds.assign(summary_se=ds["summary_error"])))
    click.echo()
    with atomic_paths([out_dir / "results.nc"]) as (nc,):
        write_netcdf(ds, nc)
    click.echo(f"computed in {elapsed:.1f} s; wrote {out_dir}/results.nc")


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
def validate(scenario: Path) -> None:
    """Check SCENARIO without running it."""
    from simsuite.scenario.load import load_scenario

    sc = load_scenario(scenario)
    names = ", ".join(c.name for c in sc.contracts)
    click.echo(f"{scenario}: OK ({sc.n_beneficiaries:,} beneficiaries; contracts: {names})")


def _stoppable(progress: Callable[[int], None] | None) -> Callable[[int], None]:
    """A progress callback that also stops the run at the next chunk after Ctrl-C."""

    def callback(done: int) -> None:
        raise_if_interrupted()
        if progress is not None:
            progress(done)

    return callback
