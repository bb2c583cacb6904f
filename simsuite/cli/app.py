"""The ``simsuite`` command group and its error handling: a thin layer over the Python API.

Exit status: 0 success, 2 bad input (one line naming file, field and problem),
1 runtime failure, 130 interrupted. Commands live in their own modules and are
imported only when invoked, so that ``simsuite run`` does not pay for matplotlib,
calibration or settlement code.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from simsuite.errors import SimsuiteError
from simsuite.interrupt import exit_interrupted

EXIT_BAD_INPUT = 2
EXIT_RUNTIME = 1


class _LazyGroup(click.Group):
    """A group whose commands, each in its own module, are imported only when invoked."""

    lazy = {
        "run": "simsuite.cli.run:run",
        "validate": "simsuite.cli.run:validate",
        "contracts": "simsuite.cli.contracts:contracts",
        "settle": "simsuite.cli.settle:settle",
        "sweep": "simsuite.cli.decision:sweep",
        "report": "simsuite.cli.decision:report",
        "calibrate": "simsuite.cli.calibrate:calibrate",
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
