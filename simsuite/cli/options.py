"""Options shared by several commands: simulations, seed, threads, risk appetite, clusters.

Defined once here so every command spells and documents them the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simsuite.engines.distributed import DistributedRunError
from simsuite.errors import one_line

if TYPE_CHECKING:  # loading the schema waits until a command runs (Ctrl-C is handled first)
    from simsuite.scenario.load import Scenario
    from simsuite.scenario.schema import RiskAppetite

_MONEY = re.compile(r"^\s*\$?\s*([0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)\s*([kKmM]?)\s*$")


def parse_money(text: str) -> float:
    """Dollars from ``"1000000"``, ``"$1,000,000"``, ``"250k"`` or ``"1.5M"``.

    Raises
    ------
    ValueError
        If ``text`` is not such an amount (negative amounts are not accepted).
    """
    m = _MONEY.match(str(text))
    if not m:
        raise ValueError(f"not a dollar amount: {text!r} (e.g. 1000000, 250k, 1.5M)")
    scale = {"": 1.0, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    return float(m.group(1).replace(",", "")) * scale


def parse_fraction(text: str) -> float:
    """A probability from ``"0.1"`` or ``"10%"``.

    Raises
    ------
    ValueError
        If ``text`` is not a number in [0, 1] (or a percentage in [0, 100]).
    """
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    except ValueError:
        raise ValueError(f"not a probability: {text!r} (e.g. 0.1 or 10%)") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a probability must be between 0 and 1 (or 0% and 100%), got {text!r}")
    return value



class _Money(click.ParamType):
    name = "DOLLARS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return parse_money(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Probability(click.ParamType):
    name = "P"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
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


def appetite_from_options(scenario: Scenario, max_var95: float | None, max_tvar95: float | None,
                          max_p_loss: float | None, min_expected: float | None,
                          risk_aversion: float | None) -> RiskAppetite:
    """The scenario's ``risk_appetite`` with command-line overrides."""
    from simsuite.analysis.ranking import merge_appetite

    return merge_appetite(scenario.spec.risk_appetite, max_var95=max_var95, max_tvar95=max_tvar95,
                          max_p_loss=max_p_loss, min_expected_result=min_expected, risk_aversion=risk_aversion)


def run_options(f: Callable) -> Callable:
    """Add ``--sims``, ``--seed`` and ``--threads`` (they override the scenario's ``run``)."""
    f = click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads for the kernels (default: all cores).")(f)
    f = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Random seed (overrides run.seed).")(f)
    f = click.option("--sims", type=click.IntRange(min=100), default=None, help="Number of simulations, per point of a sweep (overrides run.simulations).")(f)
    return f


def cluster_options(f: Callable | None = None, *, zarr: bool = True) -> Callable:
    """Add ``--scheduler``, ``--workers``, ``--chunk-sims`` (and ``--zarr``) to a click command.

    The command receives ``scheduler``, ``workers``, ``chunk_sims`` (and ``zarr``) and
    passes them to `simsuite.engines.distributed.run_on_cluster` / `sweep_on_cluster`. A `DistributedRunError`
    raised inside the command is printed as one line
    ``simsuite: distributed run failed: ...`` and the command exits with status 1.

    Use ``@cluster_options`` on ``run`` and ``@cluster_options(zarr=False)`` on ``sweep``.
    """
    if f is None:
        return functools.partial(cluster_options, zarr=zarr)

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except DistributedRunError as exc:
            click.echo(f"simsuite: {one_line(str(exc))}", err=True)
            # SystemExit, not click's Exit: the CLI runs click with standalone_mode=False,
            # where click turns Exit into a return value and the status would be lost.
            raise SystemExit(1) from None

    command = click.option("--scheduler", default=None, metavar="ADDRESS",
                           help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (needs simsuite[distributed]).")(command)
    command = click.option("--workers", type=click.IntRange(min=1), default=None,
                           help="Run on a local Dask cluster of N worker processes (127.0.0.1).")(command)
    command = click.option("--chunk-sims", type=click.IntRange(min=1), default=None,
                           help="Simulations per task on the cluster (default: about 0.5 s of work); never changes results.")(command)
    if zarr:
        command = click.option("--zarr", "zarr", type=click.Path(path_type=Path), default=None,
                               help="Write per-simulation results to this Zarr store, chunk by chunk (for very large runs).")(command)
    return command
