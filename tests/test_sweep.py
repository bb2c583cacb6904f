"""Sweeps: one field through several values, errors naming --param, crossings, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from simsuite import RunOptions, load_scenario
from simsuite.analysis.sweep import crossings, sweep
from simsuite.errors import InputError
from simsuite.scenario.edit import parse_values, scenario_with
from simsuite.scenario.schema import RiskAppetite

SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SMALL)


@pytest.mark.parametrize("path, value, words", [
    ("population.beneficiarys", 5, "unknown field 'beneficiarys' in population (did you mean 'beneficiaries'?)"),
    ("population.beneficiaries", -5, "population.beneficiaries=-5: Input should be greater than 0"),
    ("population", 5, "names a whole section"),
    ("contracts.9.preset", "ffs", "index 9 is out of range"),
    ("contracts.x.preset", "ffs", "is a list: give an index"),
    ("contracts.2.overrides.sharing_rat", 0.5, "unknown term"),
    ("assumptions.quality_score", 1.5, "less than or equal to 1"),
])
def test_bad_paths_and_values_are_one_line_errors_naming_param(scenario, path, value, words):
    with pytest.raises(InputError) as info:
        scenario_with(scenario, path, value)
    text = str(info.value)
    assert text.startswith("--param: ") and words in text and "\n" not in text


def test_a_modified_scenario_is_revalidated(scenario):
    sc = scenario_with(scenario, "contracts.2.overrides.msr", 0.015)
    assert sc.contracts[2].terms.msr == 0.015
    assert scenario.contracts[2].terms.msr != 0.015  # the original is untouched
    assert parse_values("1000, 2000,0.5,true") == [1000, 2000, 0.5, True]
    with pytest.raises(InputError, match="--values"):
        parse_values("1000,,2000")


def test_panel_size_sweep_and_its_crossings(scenario):
    sizes = [500, 1200, 4000]
    ds = sweep(scenario, "population.beneficiaries", sizes, RunOptions(simulations=1500, seed=9))
    assert ds["summary"].dims == ("sweep", "contract", "measure")
    assert list(ds["sweep"].values) == sizes and ds.attrs["param"] == "population.beneficiaries"
    # A sweep point equals a plain run of the modified scenario (same seed, same draws).
    from simsuite import run

    single = run(scenario_with(scenario, "population.beneficiaries", 1200), RunOptions(simulations=1500, seed=9))
    xr.testing.assert_identical(ds["summary"].sel(sweep=1200, drop=True), single["summary"])
    # Bigger panels: relative risk falls, so BASIC E's chance of a loss falls.
    p = ds["summary"].sel(contract="mssp-basic-e", measure="p_loss").values
    assert p[0] > p[1] > p[2]
    # A limit between the first two values of P(loss) is crossed between 500 and 1,200,
    # at the linearly interpolated point.
    limit = float(0.5 * (p[0] + p[1]) + 0.25 * (p[0] - p[1]))
    found = [c for c in crossings(ds, RiskAppetite(max_p_loss=limit)) if c.contract == "mssp-basic-e"]
    assert len(found) == 1 and found[0].between == (500.0, 1200.0) and found[0].direction == "falls below"
    assert found[0].at == pytest.approx(500 + 700 * (p[0] - limit) / (p[0] - p[1]))


def test_sweep_cli_prints_table_and_writes_files(tmp_path, capsys):
    from simsuite.cli.app import main

    with pytest.raises(SystemExit) as info:
        main(["sweep", str(SMALL), "--param", "assumptions.true_savings", "--values", "0,0.02",
              "--sims", "500", "--max-p-loss", "30%", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    assert "assumptions.true_savings" in out and "mssp-enhanced" in out and "1-in-20 loss (VaR95)" in out
    assert err == ""  # not a terminal: no progress bar
    with xr.open_dataset(tmp_path / "sweep.nc") as ds:
        assert list(ds["sweep"].values) == [0.0, 0.02]
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(SMALL), "--param", "population.size", "--values", "1", "--out", str(tmp_path)])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and err.startswith("simsuite: --param: population.size: unknown field")
