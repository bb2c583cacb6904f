"""Click commands and options of decision support: ``sweep``, ``report``, risk-appetite options.

A thin layer (no science here): it parses, calls `simsuite.sweep`, `simsuite.ranking`
and `simsuite.report`, prints, and writes files. Registered on the main group in
`simsuite.cli` with ``cli.add_command(sweep)`` and ``cli.add_command(report)``.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from simsuite.distributed import cluster_options
from simsuite.errors import InputError
from simsuite.output import prepare_out_dir


class _Money(click.ParamType):
    name = "DOLLARS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from simsuite.ranking import parse_money

        try:
            return parse_money(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Probability(click.ParamType):
    name = "P"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from simsuite.ranking import parse_fraction

        try:
            return parse_fraction(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def risk_appetite_options(f: Callable) -> Callable:
    """Add ``--max-var95``, ``--max-tvar95``, ``--max-p-loss``, ``--min-expected`` and
    ``--risk-aversion`` to a command (they override the scenario's ``risk_appetite``)."""
    options = [
        click.option("--max-var95", type=_Money(), default=None, help="Largest acceptable 1-in-20 loss, dollars (e.g. 1M, 250k)."),
        click.option("--max-tvar95", type=_Money(), default=None, help="Largest acceptable average loss in the worst 5% of years, dollars."),
        click.option("--max-p-loss", type=_Probability(), default=None, help="Largest acceptable probability of any loss (0.1 or 10%)."),
        click.option("--min-expected", type=float, default=None, help="Smallest acceptable expected result, dollars per year."),
        click.option("--risk-aversion", type=click.FloatRange(min=0.0, min_open=True, max=1.0), default=None,
                     help="Exponential-utility risk aversion per dollar (1e-6 = risk tolerance $1M): rank by certainty equivalent."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def appetite_from_options(scenario: Any, max_var95: float | None, max_tvar95: float | None,
                          max_p_loss: float | None, min_expected: float | None, risk_aversion: float | None) -> Any:
    """The scenario's ``risk_appetite`` (if the schema has it) with command-line overrides."""
    from simsuite.ranking import merge_appetite

    base = getattr(scenario.spec, "risk_appetite", None)
    return merge_appetite(base, max_var95=max_var95, max_tvar95=max_tvar95, max_p_loss=max_p_loss,
                          min_expected_result=min_expected, risk_aversion=risk_aversion)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A ``progress(n_done_sims)`` callback drawing a bar on a terminal's stderr; ``None`` otherwise.

    Quiet when stderr is not a terminal (logs, CI, pipes), so outputs stay clean.
    """
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True, show_percent=True) as bar:
        yield bar.update


def _common_run_options(f: Callable) -> Callable:
    f = click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads for the kernels (default: all cores).")(f)
    f = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Random seed (overrides run.seed).")(f)
    f = click.option("--sims", type=click.IntRange(min=100), default=None, help="Simulations per point (overrides run.simulations).")(f)
    return f


@click.command("sweep")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--param", "param", required=True, help="Dotted scenario field, e.g. population.beneficiaries, assumptions.true_savings.")
@click.option("--values", "values", required=True, help="Comma-separated values, e.g. 1000,2000,5000.")
@_common_run_options
@risk_appetite_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True,
              help="Directory for sweep.nc and sweep.png.")
@cluster_options(zarr=False)
def sweep(scenario: Path, param: str, values: str, sims: int | None, seed: int | None, threads: int | None,
          max_var95: float | None, max_tvar95: float | None, max_p_loss: float | None, min_expected: float | None,
          risk_aversion: float | None, out_dir: Path, scheduler: str | None, workers: int | None,
          chunk_sims: int | None) -> None:
    """Run SCENARIO once per value of a field; print and write P(loss), VaR95 and the mean per contract."""
    from simsuite.distributed import sweep_on_cluster
    from simsuite.engine import options_for
    from simsuite.output import atomic_paths
    from simsuite.plots import panel_size_curves
    from simsuite.results import write_netcdf
    from simsuite.scenario import load_scenario
    from simsuite.sweep import crossing_text, crossings, parse_values, sweep_table

    sc = load_scenario(scenario)
    appetite = appetite_from_options(sc, max_var95, max_tvar95, max_p_loss, min_expected, risk_aversion)
    vals = parse_values(values)
    options = options_for(sc, sims=sims, seed=seed, threads=threads)
    prepare_out_dir(out_dir)
    # Without --scheduler/--workers this runs in this process, with the same progress bar.
    ds = sweep_on_cluster(sc, param, vals, options, scheduler=scheduler, workers=workers,
                          chunk_sims=chunk_sims, progress=True)
    click.echo(f"{sc.spec.name}: sweep of {param} ({options.simulations:,} simulations per point, seed {options.seed})")
    click.echo("money per year, provider's side (+ = received); '±' = Monte Carlo standard error")
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
@_common_run_options
@risk_appetite_options
@click.option("--sizes", default=None, help="Panel sizes of the panel-size figure, comma-separated (default: 0.2x to 4x the scenario's); 'none' to skip.")
@click.option("--side-sims", type=click.IntRange(min=100), default=None,
              help="Simulations per point of the panel-size and sensitivity figures (default: a fifth of --sims, at least 2,000).")
@click.option("--no-sensitivity", is_flag=True, help="Skip the sensitivity (tornado) figure.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"), show_default=True,
              help="The HTML file to write.")
def report(scenario: Path, sims: int | None, seed: int | None, threads: int | None, max_var95: float | None,
           max_tvar95: float | None, max_p_loss: float | None, min_expected: float | None, risk_aversion: float | None,
           sizes: str | None, side_sims: int | None, no_sensitivity: bool, out_file: Path) -> None:
    """Simulate SCENARIO and write a self-contained HTML report (table, recommendation, figures)."""
    from simsuite.engine import options_for
    from simsuite.report import SIZE_FACTORS, compute, render, total_simulations, write_report
    from simsuite.scenario import load_scenario

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
    write_report(render(inputs), out_file)
    click.echo(inputs.ranking.reasons[0])
    click.echo(f"wrote {out_file}")


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


