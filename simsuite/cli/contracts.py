"""``simsuite contracts``: list the payment families and presets, and show a preset's terms."""

from __future__ import annotations

import click

from simsuite.errors import InputError


@click.group()
def contracts() -> None:
    """List and show contract presets."""


@contracts.command("list")
def contracts_list() -> None:
    """List every preset with its performance years and status."""
    from simsuite.contracts import all_presets

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
    from simsuite.contracts import get_preset
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


@contracts.command("families")
def contracts_families() -> None:
    """List the payment families: what each settles on and whether the exact method computes it."""
    from simsuite.contracts import FAMILIES

    width = max(len(name) for name in FAMILIES)
    for name, family in FAMILIES.items():
        reads = ", ".join(sorted(family.reads)) or "nothing"
        click.echo(f"{name.ljust(width)}  reads {reads:<18}  exact: {family.exact:<11}  {family.title}")
