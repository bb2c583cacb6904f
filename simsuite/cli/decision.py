"""The decision-support commands: ``sweep`` and ``report``.

A thin layer (no science here): it parses, calls `simsuite.analysis` and
`simsuite.report`, prints, and writes files. Loaded on first use by `simsuite.cli.app`.
"""

from __future__ import annotations

from pathlib import Path

import click

from simsuite.cli.options import appetite_from_options, cluster_options, risk_appetite_options, run_options
from simsuite.cli.progress import progress_bar
from simsuite.errors import InputError
from simsuite.io.files import prepare_out_dir


@click.command("sweep")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--param", "param", required=True, help="Dotted scenario field, e.g. population.beneficiaries, assumptions.true_savings.")
@click.option("--values", "values", required=True, help="Comma-separated values, e.g. 1000,2000,5000.")
@run_options
@risk_appetite_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True,
              help="Directory for sweep.nc and sweep.png.")
@cluster_options(zarr=False)
def sweep(scenario: Path, param: str, values: str, sims: int | None, seed: int | None, threads: int | None,
          max_var95: float | None, max_tvar95: float | None, max_p_loss: float | None, min_expected: float | None,
          risk_aversion: float | None, out_dir: Path, scheduler: str | None, workers: int | None,
          chunk_sims: int | None) -> None:
    """Run SCENARIO once per value of a field; print and write P(loss), VaR95 and the mean per contract."""
    from simsuite.analysis.sweep import crossings
    from simsuite.analysis.sweep_cluster import sweep_on_cluster
    from simsuite.engines.montecarlo import options_for
    from simsuite.io.files import atomic_paths
    from simsuite.report.figures import panel_size_curves
    from simsuite.report.tables import crossing_text, sweep_table
    from simsuite.results.dataset import write_netcdf
    from simsuite.scenario.edit import parse_values
    from simsuite.scenario.load import load_scenario

    sc = load_scenario(scenario)
    appetite = appetite_from_options(sc, max_var95, max_tvar95, max_p_loss, min_expected, risk_aversion)
    vals = parse_values(values)
    options = options_for(sc, sims=sims, seed=seed, threads=threads)
    prepare_out_dir(out_dir)
    # Without --scheduler/--workers this runs in this process, with the same progress bar.
    with progress_bar(len(vals) * options.simulations, f"sweeping {param}") as progress:
        ds = sweep_on_cluster(sc, param, vals, options, scheduler=scheduler, workers=workers,
                              chunk_sims=chunk_sims, progress=progress)
    click.echo(f"{sc.spec.name}: sweep of {param} ({options.simulations:,} simulations per point, seed {options.seed})")
    horizon = sc.spec.horizon
    span = (f"summed over the performance years of each point (PY{horizon.agreement_start} on), undiscounted"
            if horizon is not None else "per year")
    click.echo(f"money {span}, provider's side (+ = received); '±' = Monte Carlo standard error")
    click.echo()
    click.echo(sweep_table(ds))
    found = crossings(ds, appetite)
    if found:
        click.echo()
        for c in found:
            click.echo(crossing_text(c, param))
    with atomic_paths([out_dir / "sweep.nc", out_dir / "sweep.png"]) as (nc, png):
        write_netcdf(ds, nc)
        panel_size_curves(ds, appetite).savefig(png, dpi=120, format="png")
    click.echo(f"wrote {out_dir}/sweep.nc, sweep.png")


@click.command("report")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
@run_options
@risk_appetite_options
@click.option("--sizes", default=None, help="Panel sizes of the panel-size figure, comma-separated (default: 0.2x to 4x the scenario's); 'none' to skip.")
@click.option("--side-sims", type=click.IntRange(min=100), default=None,
              help="Simulations per point of the panel-size and sensitivity figures (default: a fifth of --sims, at least 2,000).")
@click.option("--no-sensitivity", is_flag=True, help="Skip the sensitivity (tornado) figure.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"), show_default=True,
              help="The HTML file to write; the workbook is written beside it (same name, .xlsx).")
def report(scenario: Path, sims: int | None, seed: int | None, threads: int | None, max_var95: float | None,
           max_tvar95: float | None, max_p_loss: float | None, min_expected: float | None, risk_aversion: float | None,
           sizes: str | None, side_sims: int | None, no_sensitivity: bool, out_file: Path) -> None:
    """Simulate SCENARIO and write a self-contained HTML report (table, recommendation, figures)
    and an Excel workbook of the results beside it."""
    from simsuite.engines.montecarlo import options_for
    from simsuite.io.files import atomic_paths
    from simsuite.report.html import SIZE_FACTORS, compute, render, total_simulations
    from simsuite.report.workbook import write_workbook
    from simsuite.scenario.load import load_scenario

    sc = load_scenario(scenario)
    appetite = appetite_from_options(sc, max_var95, max_tvar95, max_p_loss, min_expected, risk_aversion)
    options = options_for(sc, sims=sims, seed=seed, threads=threads)
    size_list = _parse_sizes(sizes)
    if out_file.parent and not out_file.parent.exists():
        raise InputError("--out", "", f"folder {out_file.parent} does not exist")
    n_sizes = len(SIZE_FACTORS) if size_list is None else len(size_list)
    total = total_simulations(sc, options, side_sims, n_sizes, not no_sensitivity)
    with progress_bar(total, "simulating") as progress:
        inputs = compute(sc, options, appetite, side_sims=side_sims, sizes=size_list,
                         with_sensitivity=not no_sensitivity, progress=progress)
    workbook = out_file.with_suffix(".xlsx")
    with atomic_paths([out_file, workbook]) as (page, book):
        page.write_text(render(inputs), encoding="utf-8")
        write_workbook(book, inputs.results, sc, inputs.ranking, inputs.options, inputs.ratchet)
    click.echo(inputs.ranking.reasons[0])
    click.echo(f"wrote {out_file}, {workbook}")


def _parse_sizes(text: str | None) -> list[int] | None:
    if text is None:
        return None
    if text.strip().lower() == "none":
        return []
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",")]
    except ValueError:
        raise InputError("--sizes", "", f"give whole numbers of beneficiaries such as 1000,5000,20000 (got {text!r})") from None
    if any(s <= 0 for s in sizes):
        raise InputError("--sizes", "", f"panel sizes must be positive (got {text!r})")
    return sizes


