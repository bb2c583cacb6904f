"""Every command of the CLI reached through the installed ``simsuite`` console script.

A user runs ``simsuite``, not ``simsuite.cli.app.main``: these tests start the console
script in a subprocess, so a command removed from the group's registration
(`simsuite.cli.app._LazyGroup.lazy`), or a command module that fails to import, fails here.
`COMMANDS` is the command tree a user sees; a new command must be added to it (the last test
checks the tree against it) and given a test through the entry point.

Where each command runs end to end through the entry point: ``run``, ``run --method
exact``, ``validate``, ``sweep``, ``report`` and ``settle`` on every example scenario in
``test_every_command.py`` (slow); ``contracts list | show | families`` here; ``calibrate`` in
``test_cost_model.py``; ``calibrate variance`` in ``test_variance_model.py`` (its refusals;
the fit itself is slow).
"""

from __future__ import annotations

import re

import click
import pytest
from conftest import SMALL_SCENARIO, run_simsuite

from simsuite.cli.app import cli

#: The command tree: each command's path, and its subcommands if it is a group.
COMMANDS: dict[str, tuple[str, ...]] = {
    "calibrate": ("variance",),
    "contracts": ("families", "list", "show"),
    "report": (),
    "run": (),
    "settle": (),
    "sweep": (),
    "validate": (),
}


def listed_commands(help_text: str) -> list[str]:
    """The command names of a click help page's "Commands:" section."""
    section = help_text.split("\nCommands:\n", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  (\S+)", section, flags=re.MULTILINE)]


def assert_ok(out) -> None:
    assert out.returncode == 0, f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    assert "Traceback" not in out.stderr


def test_the_help_lists_exactly_the_command_tree(tmp_path):
    out = run_simsuite("--help", cwd=tmp_path)
    assert_ok(out)
    assert listed_commands(out.stdout) == sorted(COMMANDS)
    for group, subcommands in COMMANDS.items():
        if subcommands:
            out = run_simsuite(group, "--help", cwd=tmp_path)
            assert_ok(out)
            assert listed_commands(out.stdout) == sorted(subcommands), group


@pytest.mark.parametrize("path", [(name,) for name in COMMANDS]
                         + [(group, sub) for group, subs in COMMANDS.items() for sub in subs],
                         ids=lambda p: " ".join(p))
def test_every_command_loads_through_the_entry_point(path, tmp_path):
    """``simsuite <command> --help`` imports the command's module and prints its usage."""
    out = run_simsuite(*path, "--help", cwd=tmp_path)
    assert_ok(out)
    assert out.stdout.startswith(f"Usage: simsuite {' '.join(path)} ")


def test_version(tmp_path):
    out = run_simsuite("--version", cwd=tmp_path)
    assert_ok(out)
    assert re.fullmatch(r"simsuite, version \d+\.\d+\.\d+\S*\n", out.stdout)


def test_contracts_list_show_and_families(tmp_path):
    out = run_simsuite("contracts", "list", cwd=tmp_path)
    assert_ok(out)
    ids = [line.split()[0] for line in out.stdout.splitlines()]
    assert "mssp-basic-e" in ids and "reach-global-2026" in ids and "ffs" in ids
    out = run_simsuite("contracts", "show", "mssp-enhanced", cwd=tmp_path)
    assert_ok(out)
    assert out.stdout.startswith("mssp-enhanced: ") and "family shared_savings" in out.stdout
    # 42 CFR 425.610(d)(1): ENHANCED shares 75% of savings.
    assert re.search(r"^  sharing_rate\s+= 0\.75 ", out.stdout, flags=re.MULTILINE)
    out = run_simsuite("contracts", "families", cwd=tmp_path)
    assert_ok(out)
    families = [line.split()[0] for line in out.stdout.splitlines()]
    assert {"shared_savings", "corridor", "capitation", "episode", "ffs"} <= set(families)


def test_an_unknown_preset_is_one_line_and_status_2(tmp_path):
    out = run_simsuite("contracts", "show", "no-such-preset", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("simsuite: preset: ")


def test_validate_the_small_scenario(tmp_path):
    out = run_simsuite("validate", str(SMALL_SCENARIO), cwd=tmp_path)
    assert_ok(out)
    assert out.stdout.startswith(f"{SMALL_SCENARIO}: OK")


def test_the_command_tree_is_the_one_tested_here():
    """Every command and subcommand the group can load is in `COMMANDS` (so it has a test
    above), and nothing else: adding a command without a test fails here."""
    ctx = click.Context(cli)
    found = {}
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        found[name] = tuple(sorted(command.commands)) if isinstance(command, click.Group) else ()
    assert found == COMMANDS
