"""Malformed scenario files: each must give exactly one line naming file, line, field and
problem, and exit status 2; never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simsuite.cli.app import main
from simsuite.contracts import FAMILIES

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
    "wrong-year.yaml": ":5: contracts[0].preset: preset 'mssp-basic-a' covers performance years 2024, 2025, 2026, 2027, not 2020",
    "bad-encoding.yaml": ": not valid UTF-8 text (byte 15); save the scenario file as UTF-8",
    "missing.yaml": ": scenario file not found",
    "bool-as-number.yaml": ":2: population.beneficiaries: Input should be a valid integer (got True)",
    "capitation-missing-rate.yaml": ":4: contracts[0].overrides.revenue_to_benchmark: preset 'capitation-full-risk' has no published value for this term; set it under overrides",
    "capitation-two-rates.yaml": ":5: contracts[0].overrides.pmpm: give exactly one of pmpm (dollars) and revenue_to_benchmark",
    "closed-last-band.yaml": ":6: contracts[0].terms.bands[1]: the last band must be open-ended (high: null)",
    "contracts-not-a-list.yaml": ":3: contracts: Input should be a valid list",
    "custom-without-name.yaml": ":4: contracts[0].name: a custom contract needs a name",
    "duplicate-key.yaml": ":3: population: appears twice (also on line 2); keep one",
    "empty-file.yaml": ": a scenario must be a mapping of sections (population:, contracts:, ...)",
    "enum-typo.yaml": ":3: assumptions.quality_standard: Input should be 'met', 'alternative' or 'not_met' (got 'meet')",
    "episodes-unknown-category.yaml": ":5: episodes[0].category: no episode contract here prices 'LEJRR' (did you mean 'LEJR'?) (they price: CABG, LEJR, MAJOR_BOWEL, SHFFT, SPINAL_FUSION; a BPCI Advanced episode needs group: medical or surgical)",
    "gap-bands.yaml": ":6: contracts[0].terms.bands[1]: gap between 0.1 and 0.2: bands must be contiguous",
    "inf-value.yaml": ":3: cost_model.annual_trend: Input should be a finite number (got inf)",
    "mean-cost-zero.yaml": ":4: cost_model.mean_cost.esrd: must be a positive dollar amount (got 0.0)",
    "missing-population.yaml": ": population: required field is missing",
    "mix-negative.yaml": ":4: population.mix.esrd: must be a fraction in [0, 1] (got -0.1)",
    "msr-typo.yaml": ":5: contracts[0].overrides.msr: Input should be 'variable' (got 'varable')",
    "negative-discount.yaml": ":5: contracts[0].overrides.discount: Input should be greater than or equal to 0 (got -0.02)",
    "negative-rate.yaml": ":5: contracts[0].overrides.loss_rate: Input should be greater than or equal to 0 (got -0.3)",
    "negative-seed.yaml": ":4: run.seed: Input should be greater than or equal to 0 (got -1)",
    "overlapping-bands.yaml": ":6: contracts[0].overrides.bands[1]: band starting at 0.05 overlaps the band [0.0, 0.1)",
    "preset-and-family.yaml": ":4: contracts[0].preset: give exactly one of a preset, a family with terms, or a path",
    "quality-sd-too-wide.yaml": ":3: assumptions.quality_score_sd: 0.35 is too wide for a mean quality score of 0.9 (must be below 0.3)",
    "quality-target-below-threshold.yaml": ":5: contracts[0].overrides.quality_target: 0.6 is below quality_threshold 0.8",
    "rate-above-one.yaml": ":3: assumptions.quality_score: Input should be less than or equal to 1 (got 1.2)",
    "scenario-is-a-list.yaml": ": a scenario must be a mapping of sections (population:, contracts:, ...)",
    "single-patient-variable-msr.yaml": ":2: population.beneficiaries: the variable MSR needs at least 500 beneficiaries (the MSSP table starts there), not 1; elect a fixed MSR under overrides (e.g. msr: 0.02) or use a larger panel (contracts[0] 'mssp-basic-a')",
    "string-number.yaml": ":3: assumptions.true_savings: Input should be a valid number (got '0.02')",
    "tab-indent.yaml": ":3: YAML syntax error: found character '\\t' that cannot start any token",
    "too-many-simulations.yaml": ":4: run.simulations: Input should be less than or equal to 100000000 (got 1000000000)",
    # The list of families comes from the registry, so a new family does not break this line.
    "unknown-family.yaml": ":4: contracts[0].family: unknown contract family 'bundled'; families: " + ", ".join(FAMILIES),
    "zero-beneficiaries.yaml": ":2: population.beneficiaries: Input should be greater than 0 (got 0)",
    "zero-share-one.yaml": ":3: cost_model.zero_cost_share: Input should be less than 1 (got 1.0)",
    "zero-threads.yaml": ":4: run.threads: Input should be greater than or equal to 1 (got 0)",
    # Population, uncertainty and own-data files (issue 5/10): each names the scenario field,
    # the data file as written, the row and the column, never a patient's value.
    "benchmark-risk-by-type-zero.yaml": ":4: assumptions.benchmark_risk_score.disabled: must be a positive risk score (got 0.0)",
    "costs-all-zero.yaml": ":5: cost_model.bootstrap_file: data/costs-all-zero.csv column annual_cost: every cost is 0; a benchmark of 0 cannot be settled",
    "costs-currency.yaml": ":5: cost_model.bootstrap_file: data/costs-currency.csv row 6, column annual_cost: is not a number (write plain numbers: no currency signs, thousands separators or units)",
    "costs-duplicate-column.yaml": ":5: cost_model.bootstrap_file: data/costs-duplicate-column.csv row 1, column annual_cost: the header names this column twice (columns 2 and 3)",
    "costs-header-only.yaml": ":5: cost_model.bootstrap_file: data/costs-header-only.csv: the file has a header but no data rows",
    "costs-missing-column.yaml": ":5: cost_model.bootstrap_file: data/costs-missing-column.csv row 1: missing column 'annual_cost' (did you mean 'annual_costs'?) (the header has: enrollment_type, annual_costs)",
    "costs-nan.yaml": ":5: cost_model.bootstrap_file: data/costs-nan.csv row 6, column annual_cost: must be a finite number (not NaN or infinity)",
    "costs-negative.yaml": ":5: cost_model.bootstrap_file: data/costs-negative.csv row 6, column annual_cost: must not be negative",
    "costs-no-esrd-rows.yaml": ":5: cost_model.bootstrap_file: data/costs-no-esrd-rows.csv has no esrd rows to resample, but the panel has 10 esrd beneficiaries",
    "costs-zero-risk.yaml": ":5: cost_model.bootstrap_file: data/costs-zero-risk.csv row 3, column risk_score: must be positive",
    "patients-bad-encoding.yaml": ":3: population.patients_file: data/patients-bad-encoding.csv row 3: not valid UTF-8 text (byte 57); save the patients file as UTF-8 (spreadsheets: 'CSV UTF-8')",
    "patients-count-mismatch.yaml": ":4: population.beneficiaries: is 10 but data/patients-count-mismatch.csv lists 4 patients; remove beneficiaries (the patients file defines the panel)",
    "patients-currency-risk.yaml": ":3: population.patients_file: data/patients-currency-risk.csv row 2, column risk_score: is not a number (write plain numbers: no currency signs, thousands separators or units)",
    "patients-directory.yaml": ":3: population.patients_file: data/a-directory.csv: expected a patients file, found a directory",
    "patients-duplicate-id.yaml": ":3: population.patients_file: data/patients-duplicate-id.csv row 4, column id: duplicate id (the same id as row 2)",
    "patients-empty-id.yaml": ":3: population.patients_file: data/patients-empty-id.csv row 3, column id: is empty; every patient needs an id",
    "patients-empty.yaml": ":3: population.patients_file: data/patients-empty.csv: the file is empty; expected a header row: id,enrollment_type,risk_score",
    "patients-header-only.yaml": ":3: population.patients_file: data/patients-header-only.csv: the file has a header but no data rows",
    "patients-inf-risk.yaml": ":3: population.patients_file: data/patients-inf-risk.csv row 3, column risk_score: must be a finite number (not NaN or infinity)",
    "patients-missing-column.yaml": ":3: population.patients_file: data/patients-missing-column.csv row 1: missing column 'risk_score' (the header has: id, enrollment_type)",
    "patients-missing-file.yaml": ":3: population.patients_file: data/no-such-panel.csv: patients file not found (paths are relative to the scenario file)",
    "patients-nan-risk.yaml": ":3: population.patients_file: data/patients-nan-risk.csv row 2, column risk_score: must be a finite number (not NaN or infinity)",
    "patients-negative-risk.yaml": ":3: population.patients_file: data/patients-negative-risk.csv row 3, column risk_score: must be positive",
    "patients-non-numeric.yaml": ":3: population.patients_file: data/patients-non-numeric.csv row 3, column risk_score: is not a number (write plain numbers: no currency signs, thousands separators or units)",
    "patients-ragged-row.yaml": ":3: population.patients_file: data/patients-ragged-row.csv row 3: has 2 fields, the header has 3",
    "patients-semicolons.yaml": ":3: population.patients_file: data/patients-semicolons.csv row 1: missing column 'id', 'enrollment_type', 'risk_score'; separate columns with commas (the header has: id;enrollment_type;risk_score)",
    "patients-single.yaml": ":3: population.patients_file: the variable MSR needs at least 500 beneficiaries (the MSSP table starts there), not 1; elect a fixed MSR under overrides (e.g. msr: 0.02) or use a larger panel (contracts[0] 'mssp-basic-a')",
    "patients-type-is-an-id.yaml": ":3: population.patients_file: data/patients-type-is-an-id.csv row 3, column enrollment_type: unknown enrollment type; expected one of esrd, disabled, aged_dual, aged_non_dual (CMS spellings such as AGED/DUAL are accepted)",
    "patients-unknown-type.yaml": ":3: population.patients_file: data/patients-unknown-type.csv row 3, column enrollment_type: unknown enrollment type 'AGED/DUEL' (did you mean 'aged_dual'?); expected one of esrd, disabled, aged_dual, aged_non_dual (CMS spellings such as AGED/DUAL are accepted)",
    "patients-with-mix.yaml": ":4: population.mix: the patients_file sets the mix; remove mix",
    "savings-missing-sd.yaml": ":4: assumptions.true_savings.sd: required field is missing",
    "savings-sd-too-wide.yaml": ":4: assumptions.true_savings.sd: 0.15 is too wide for a mean of 0.4 (at most 0.1: savings must stay within +-90%)",
    "trend-correlation-above-one.yaml": ":5: assumptions.trend_correlation: Input should be less than or equal to 1 (got 1.5)",
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
