"""Malformed scenario files: each must give exactly one line naming file, line, field and
problem, and exit status 2; never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simsuite.cli import main

HERE = Path(__file__).parent / "scenarios"

EXPECTED = {
    "unknown-field.yaml": ":4: population.benficiaries_extra: unknown field 'benficiaries_extra' (did you mean 'beneficiaries'?)",
    "typo-section.yaml": ":3: asumptions: unknown field 'asumptions' (did you mean 'assumptions'?)",
    "negative-beneficiaries.yaml": ":3: population.beneficiaries: Input should be greater than 0 (got -5)",
    "sharing-rate-1.5.yaml": ":7: contracts[1].overrides.sharing_rate: Input should be less than or equal to 1 (got 1.5)",
    "unknown-preset.yaml": ":4: contracts[0].preset: unknown preset 'mssp-basic-f' (did you mean 'mssp-basic-e'?); `simsuite contracts list` shows them",
    "yaml-syntax.yaml": ":4: YAML syntax error: expected <block end>, but found '<block mapping start>'",
    "mix-not-one.yaml": ":4: population.mix: shares must add up to 1 (they add up to 0.4)",
    "floor-above-ceiling.yaml": ":5: contracts[0].overrides.loss_rate_floor: 0.8 is above loss_rate_ceiling 0.75",
    "wrong-type.yaml": ":2: population.beneficiaries: Input should be a valid integer (got 'many')",
    "nan-rate.yaml": ":3: assumptions.quality_score: Input should be a finite number (got nan)",
    "unknown-term.yaml": ":5: contracts[0].overrides.sharing_rat: unknown term for a shared_savings contract (did you mean 'sharing_rate'?)",
    "duplicate-names.yaml": ":5: contracts[1].name: two contracts are named 'A' (also contracts[0]); give each a distinct name",
    "no-contracts.yaml": ":3: contracts: List should have at least 1 item after validation, not 0",
    "python-object.yaml": ":1: YAML tags that build objects are not allowed (plain YAML only)",
    "wrong-year.yaml": ":5: contracts[0].preset: preset 'mssp-basic-a' covers performance years 2024, 2025, 2026, not 2020",
    "bad-encoding.yaml": ": not valid UTF-8 text (byte 15); save the scenario file as UTF-8",
    "missing.yaml": ": scenario file not found",
}


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_malformed_scenario_gives_one_line(capsys, tmp_path, name, command):
    path = HERE / name
    args = [command, str(path)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert out == ""
    assert err == f"simsuite: {path}{EXPECTED[name]}\n"
    assert not (tmp_path / "out" / "results.nc").exists()


def test_valid_scenario_validates(capsys):
    code, out, err = run_cli(capsys, "validate", str(HERE / "valid-small.yaml"))
    assert code == 0 and err == ""
    assert "OK (1,200 beneficiaries; contracts: ffs, mssp-basic-a, mssp-basic-e, mssp-enhanced)" in out


def test_the_installed_command_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "simsuite", "run", str(HERE / "sharing-rate-1.5.yaml"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "contracts[1].overrides.sharing_rate" in proc.stderr


def test_python_tags_are_not_executed(capsys):
    # The tag would run `echo hacked` if the file were loaded unsafely.
    code, out, _ = run_cli(capsys, "validate", str(HERE / "python-object.yaml"))
    assert code == 2 and "hacked" not in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--sims", "5"], "Invalid value for '--sims'"),
        (["--threads", "0"], "Invalid value for '--threads'"),
    ],
)
def test_bad_command_line_values(capsys, args, fragment):
    code, _, err = run_cli(capsys, "run", str(HERE / "valid-small.yaml"), *args)
    assert code == 2 and fragment in err and "Traceback" not in err
