"""``simsuite calibrate``: fit the cost model's shape to the published concentration of spending;
``simsuite calibrate variance``: the variance model against CMS's MSSP results."""

from __future__ import annotations

from pathlib import Path

import click

from simsuite.io.files import prepare_out_dir
from simsuite.tools.calibrate import (
    DEFAULT_ZERO_SHARE,
    SHAPE_FIELDS,
    concentration_figure,
    fit,
    fit_table,
    thresholds,
    write_defaults,
)


@click.group("calibrate", invoke_without_command=True)
@click.option("--zero-share", type=click.FloatRange(0.0, 0.9), default=DEFAULT_ZERO_SHARE, show_default=True,
              help="Fixed share of beneficiaries with no cost in a year.")
@click.option("--risk-cv", type=click.FloatRange(0.0, 5.0), default=None,
              help="Within-type risk-score CV (default: the scenario default).")
@click.option("--write", "write", is_flag=True, help="Store the fit as the shipped defaults (cost_model_defaults.yaml).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the concentration-curve figure (concentration.png).")
@click.pass_context
def calibrate(ctx: click.Context, zero_share: float, risk_cv: float | None, write: bool, out: Path | None) -> None:
    """Fit the cost model's shape to the published concentration of Medicare spending.

    `simsuite calibrate variance` shows the variance model against CMS's MSSP results.
    """
    if ctx.invoked_subcommand is not None:
        given = [p for p in ("zero_share", "risk_cv", "write", "out")
                 if ctx.get_parameter_source(p) == click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} belongs to the cost-model fit; "
                                   f"give the options of '{ctx.invoked_subcommand}' after it")
        return
    result = fit(zero_share=zero_share, risk_cv=risk_cv)
    click.echo("Cost model shape (common to all enrollment types):")
    for k in SHAPE_FIELDS:
        click.echo(f"  {k:<16} {result.shape[k]:.6g}")
    click.echo(f"  {'risk_score_cv':<16} {result.risk_cv:.6g}  (fixed)")
    click.echo("\nShare of spending of the costliest beneficiaries:")
    click.echo(fit_table(result))
    click.echo(f"max |error| {result.max_error_pp:.2f} points")
    click.echo("\n99th-percentile truncation thresholds, 2018 dollars:")
    for t, v in thresholds(result.shape, result.risk_cv).items():
        click.echo(f"  {t:<14} ${v:,.0f}")
    if out is not None:
        prepare_out_dir(Path(out))
        path = Path(out) / "concentration.png"
        concentration_figure(result, path)
        click.echo(f"\nwrote {path}")
    if write:
        click.echo(f"wrote {write_defaults(result)}")


@calibrate.command("variance")
@click.option("--sims", type=click.IntRange(200, 1_000_000), default=1000, show_default=True,
              help="Simulations of the claims part (the multi-year engine, 10,000 beneficiaries, each world).")
@click.option("--systemic-sims", type=click.IntRange(200, 1_000_000), default=4000, show_default=True,
              help="Simulations of the systemic part (settlement of expected spending; cheap).")
@click.option("--bootstrap", "replicates", type=click.IntRange(0, 100_000), default=200, show_default=True,
              help="Bootstrap replicates over ACOs for the observed statistics' standard errors (0: none).")
@click.option("--verify", "verify_sims", type=click.IntRange(0, 1_000_000), default=0, show_default=True,
              help="Also run the engine at each band's size with this many simulations (claims and systemic "
                   "parts drawn together).")
@click.option("--write", "write", is_flag=True,
              help="Refit the parameters and store them as the shipped defaults (variance_defaults.yaml).")
@click.option("--threads", type=click.IntRange(1, 1024), default=None, help="Kernel threads (results do not depend on it).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the figure (variance_fit.png).")
def variance(sims: int, systemic_sims: int, replicates: int, verify_sims: int, write: bool, threads: int | None,
             out: Path | None) -> None:
    """The variance model's savings-rate spread by ACO size against CMS's MSSP results,
    in sample (PY2013-2021, fitted) and out of sample (PY2022-2024)."""
    from simsuite.tools import calibrate_variance as cv
    from simsuite.tools.mssp_panel import linked_panel

    if write and replicates < 100:
        raise click.UsageError("--write needs the bootstrap's standard errors: --bootstrap 100 or more")
    if out is not None:
        prepare_out_dir(Path(out))
    panel = linked_panel()
    samples = cv.observed(replicates, panel)
    simulator = cv.Simulator(sims, systemic_sims, threads)
    if write:
        estimate = cv.fit(samples["in_sample"], simulator)
        parameters = estimate.parameters
        click.echo("Fitted to PY2013-2021 (standard errors in parentheses):")
        for name, value, se in zip(cv.PARAMETER_NAMES, (parameters.performance_sd, parameters.performance_ar,
                                                        parameters.size_exponent), estimate.se):
            click.echo(f"  {name:<16} {value:.4f} ({se:.4f})")
        click.echo(f"  objective {estimate.objective:.2f} (13 statistics, 3 parameters)")
        recent = cv.fit(samples["out_of_sample"], simulator)
        click.echo("Refitted to PY2022-2024 alone, for comparison (not stored as defaults): "
                   + ", ".join(f"{n} {v:.4f} ({s:.4f})" for n, v, s in zip(
                       cv.PARAMETER_NAMES, (recent.parameters.performance_sd, recent.parameters.performance_ar,
                                            recent.parameters.size_exponent), recent.se)))
    else:
        parameters = cv.shipped_parameters()
        click.echo(f"Shipped defaults: performance_sd {parameters.performance_sd:.4f} at 10,000 beneficiaries, "
                   f"performance_ar {parameters.performance_ar:.4f}, size_exponent {parameters.size_exponent:.4f}")
    comparisons = {name: cv.compare(sample, parameters, simulator, verify_sims, threads)
                   for name, sample in samples.items()}
    for name, comp in comparisons.items():
        first, last = comp.sample.years
        click.echo(f"\n{'In sample' if name == 'in_sample' else 'Out of sample'}, PY{first}-{last} "
                   f"(savings rate, pp of the benchmark, year-demeaned; SE in parentheses):")
        click.echo(cv.table(comp))
        if name == "in_sample":
            verdict = comp.within_tolerance()
            click.echo("within tolerance (SDs +-15% in every band, within-agreement correlation +-0.07): "
                       + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in verdict.items()))
    if out is not None:
        path = Path(out) / "variance_fit.png"
        cv.figure(list(comparisons.values()), path)
        click.echo(f"\nwrote {path}")
    if write:
        document = cv.defaults_document(estimate, comparisons, cv.one_year_table(parameters, simulator),
                                        cv.national_trend(panel), cv.quality_noise(panel), simulator, replicates,
                                        recent)
        click.echo(f"wrote {cv.write_defaults(document)}")
