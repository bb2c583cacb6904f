"""The ``simsuite`` command line: a thin layer over the Python API (no science here).

Exit status: 0 success, 2 bad input (one line naming file, field and problem),
1 runtime failure, 130 interrupted.
"""

from __future__ import annotations

import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Callable

import click

from simsuite.decision_cli import risk_appetite_options
from simsuite.distributed import cluster_options
from simsuite.entry import exit_interrupted, raise_if_interrupted
from simsuite.errors import InputError, SimsuiteError
from simsuite.output import prepare_out_dir

EXIT_BAD_INPUT = 2
EXIT_RUNTIME = 1


class _LazyGroup(click.Group):
    """A group whose commands living in other modules are imported only when invoked,
    so that `simsuite run` does not pay for matplotlib, calibration or settlement code."""

    lazy = {
        "settle": "simsuite.settle:settle",
        "sweep": "simsuite.decision_cli:sweep",
        "report": "simsuite.decision_cli:report",
        "calibrate": "simsuite.calibrate:calibrate",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name].split(":")
            return getattr(import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simsuite")
def cli() -> None:
    """Monte Carlo comparison of value-based payment contracts."""


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--sims", type=click.IntRange(min=100), default=None, help="Number of simulations (overrides run.simulations).")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Random seed (overrides run.seed).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads for the kernels (default: all cores).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True, help="Directory for results.nc, summary.csv and loss_distribution.png.")
@click.option("--method", type=click.Choice(["monte-carlo", "exact"]), default="monte-carlo", show_default=True, help="exact: FFT-computed distribution of the panel total (independent patients only).")
@risk_appetite_options
@cluster_options
def run(scenario: Path, sims: int | None, seed: int | None, threads: int | None, out_dir: Path, method: str,
        max_var95: float | None, max_tvar95: float | None, max_p_loss: float | None,
        min_expected: float | None, risk_aversion: float | None, scheduler: str | None,
        workers: int | None, chunk_sims: int | None, zarr: Path | None) -> None:
    """Simulate SCENARIO, print the comparison table and a recommendation, and write the results."""
    from simsuite.decision_cli import appetite_from_options, progress_bar
    from simsuite.ranking import rank

    if method == "exact":
        ignored = {"--sims": sims, "--seed": seed, "--threads": threads, "--workers": workers,
                   "--scheduler": scheduler, "--chunk-sims": chunk_sims, "--zarr": zarr}
        given = [name for name, value in ignored.items() if value is not None]
        if given:
            raise InputError("--method", "", f"exact computes the distribution, it does not simulate: "
                                             f"drop {', '.join(given)}")
        _run_exact(scenario, out_dir)
        return
    from simsuite.distributed import run_on_cluster, uses_cluster
    from simsuite.engine import options_for
    from simsuite.engine import run as run_scenario
    from simsuite.output import atomic_paths
    from simsuite.scenario import load_scenario
    from simsuite.sizing import check_size, precision_warnings
    from simsuite.summary_table import comparison_table, run_header

    sc = load_scenario(scenario)
    options = options_for(sc, sims=sims, seed=seed, threads=threads)
    distributed = uses_cluster(scheduler, workers, zarr)
    # Per-simulation results written to Zarr chunk by chunk need not fit in memory.
    estimate = check_size(sc, options) if zarr is None else None
    if estimate is not None and estimate.seconds > 10 and not distributed:
        click.echo(f"estimated run time about {estimate.seconds:.0f} s, memory {estimate.gigabytes:.1f} GB", err=True)
    appetite = appetite_from_options(sc, max_var95, max_tvar95, max_p_loss, min_expected, risk_aversion)
    prepare_out_dir(out_dir)
    started = time.perf_counter()
    if distributed:
        ds = run_on_cluster(sc, options, scheduler=scheduler, workers=workers, chunk_sims=chunk_sims,
                            zarr=zarr, progress=True)
    else:
        with progress_bar(options.simulations, "simulating") as progress:
            ds = run_scenario(sc, options, _stoppable(progress))
    elapsed = time.perf_counter() - started
    raise_if_interrupted()

    click.echo(run_header(ds))
    click.echo()
    click.echo(comparison_table(ds))
    click.echo()
    click.echo(rank(ds, appetite).text())
    click.echo()
    for warning in precision_warnings(ds):
        click.echo(f"warning: {warning}", err=True)
    # With --zarr the per-simulation results are already in the store; the figure would
    # need every contract's column in memory, so only the summary is written here.
    names = ["summary.csv"] if zarr is not None else ["summary.csv", "results.nc", "loss_distribution.png"]
    with atomic_paths([out_dir / n for n in names]) as paths:
        table = ds["summary"].to_pandas()
        table.join(ds["summary_se"].to_pandas().add_suffix("_se")).to_csv(paths[0])
        if zarr is None:
            # Imported here, not at the top: matplotlib need not delay the first simulation.
            from simsuite.plots import loss_distribution
            from simsuite.results import write_netcdf

            write_netcdf(ds, paths[1])
            loss_distribution(ds).savefig(paths[2], dpi=120, format="png")
    stored = f" and {zarr}" if zarr is not None else ""
    click.echo(f"simulated in {elapsed:.1f} s; wrote {out_dir}/{', '.join(names)}{stored}")


def _run_exact(scenario: Path, out_dir: Path) -> None:
    """``simsuite run --method exact``: the exact distribution instead of simulations."""
    from simsuite.exact import run_exact
    from simsuite.output import atomic_paths
    from simsuite.results import write_netcdf
    from simsuite.scenario import load_scenario
    from simsuite.summary_table import comparison_table

    sc = load_scenario(scenario)
    prepare_out_dir(out_dir)
    started = time.perf_counter()
    ds = run_exact(sc)
    elapsed = time.perf_counter() - started
    a = ds.attrs
    click.echo(f"{a['title']}  (PY{a['performance_year']}, {a['beneficiaries']:,} beneficiaries, exact (FFT) method)")
    for tag in sorted({k.split("_")[0] for k in a if k.endswith("_mean_rel_error")}):
        click.echo(
            f"self-check [{tag}]: mean error {a[f'{tag}_mean_rel_error']:.1e}, variance error "
            f"{a[f'{tag}_var_rel_error']:.1e} (relative, against the closed form); "
            f"aliasing bound {a[f'{tag}_aliasing_bound']:.0e}; {a[f'{tag}_buckets']:,} buckets of "
            f"${a[f'{tag}_bucket_usd']:,.0f}"
        )
    click.echo("money per year, provider's side (+ = received); '±' = estimated error of the exact method")
    click.echo()
    click.echo(comparison_table(ds.assign(summary_se=ds["summary_error"])))
    click.echo()
    with atomic_paths([out_dir / "results.nc"]) as (nc,):
        write_netcdf(ds, nc)
    click.echo(f"computed in {elapsed:.1f} s; wrote {out_dir}/results.nc")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
def validate(scenario: Path) -> None:
    """Check SCENARIO without running it."""
    from simsuite.scenario import load_scenario

    sc = load_scenario(scenario)
    names = ", ".join(c.name for c in sc.contracts)
    click.echo(f"{scenario}: OK ({sc.spec.population.beneficiaries:,} beneficiaries; contracts: {names})")


@cli.group()
def contracts() -> None:
    """List and show contract presets."""


@contracts.command("list")
def contracts_list() -> None:
    """List every preset with its performance years and status."""
    from simsuite.contracts.presets import all_presets

    presets = all_presets()
    width = max(len(p) for p in presets)
    for pid, p in presets.items():
        years = ",".join(map(str, p.performance_years)) if len(p.performance_years) < 5 else (
            f"{p.performance_years[0]}-{p.performance_years[-1]}")
        click.echo(f"{pid.ljust(width)}  {p.status:<10}  PY {years:<14}  {p.title}")


@contracts.command("show")
@click.argument("name")
def contracts_show(name: str) -> None:
    """Show the terms of preset NAME, each with its confidence and source."""
    from simsuite.contracts.presets import get_preset
    from simsuite.errors import FieldProblem

    try:
        p = get_preset(name)
    except FieldProblem as exc:
        raise InputError("preset", "", exc.problem) from None
    click.echo(f"{p.id}: {p.title}")
    click.echo(f"program {p.program}, family {p.family}, status {p.status}, "
               f"performance years {', '.join(map(str, p.performance_years))}")
    width = max([len(k) for k in p.terms] or [0])
    for key, value in p.terms.items():
        confidence, source = p.sources.get(key, ("", ""))
        click.echo(f"  {key.ljust(width)} = {value!s:<10} [{confidence}] {source}")


def _stoppable(progress: Callable[[int], None] | None) -> Callable[[int], None]:
    """A progress callback that also stops the run at the next chunk after Ctrl-C."""

    def callback(done: int) -> None:
        raise_if_interrupted()
        if progress is not None:
            progress(done)

    return callback


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map failures to one line and an exit status."""
    try:
        cli.main(args=argv, prog_name="simsuite", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        exit_interrupted()
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except SimsuiteError as exc:
        click.echo(f"simsuite: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # a bug or an environment failure: one line, not a traceback
        click.echo(f"simsuite: failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_RUNTIME)
    sys.exit(0)
