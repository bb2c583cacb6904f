"""``simsuite settle``: deterministic MSSP settlement of ACO-years from a CSV (no simulation)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from simsuite.errors import InputError
from simsuite.report.tables import settle_table, whole_dollars
from simsuite.tools.settle import read_settle_csv, settle_rows, write_settle_csv


@click.command("settle")
@click.argument("input_csv", metavar="INPUT.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the settlement of every row to this CSV file.")
def settle(input_csv: Path, out_csv: Path | None) -> None:
    """Settle MSSP ACO-years in INPUT.csv exactly (no simulation); print a table.

    Money is dollars per ACO-year from the ACO's side (+ = paid to the ACO).
    `docs/settle.md` lists the input and output columns.
    """
    rows = read_settle_csv(input_csv)
    result = settle_rows(rows)
    click.echo(settle_table(result))
    total = float(np.sum(result["net"]))
    click.echo(f"\n{len(rows)} ACO-years; net to ACOs {whole_dollars(total)} dollars (+ = paid to the ACO)")
    if out_csv is not None:
        if out_csv.parent and not out_csv.parent.exists():
            raise InputError("--out", "", f"folder {out_csv.parent} does not exist")
        write_settle_csv(out_csv, result)
        click.echo(f"wrote {out_csv}")
