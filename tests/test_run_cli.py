"""End-to-end: `simsuite run` on a scenario prints the comparison and writes its results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from simsuite.cli.app import main

ROOT = Path(__file__).parent.parent
SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_run_writes_results_table_and_figure(capsys, tmp_path):
    code, out, err = run_cli(capsys, "run", str(SMALL), "--out", str(tmp_path), "--sims", "3000")
    assert code == 0, err
    for name in ("results.nc", "summary.csv", "loss_distribution.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert not list(tmp_path.glob(".*partial*"))
    header = next(line for line in out.splitlines() if line.startswith("contract"))
    assert "expected result" in header and "VaR95" in header and "P(loss)" in header
    with xr.open_dataset(tmp_path / "results.nc") as ds:
        assert ds["net"].dims == ("contract", "sim") and ds.sizes["sim"] == 3000
        assert list(ds["contract"].values) == ["ffs", "mssp-basic-a", "mssp-basic-e", "mssp-enhanced"]
        assert ds.attrs["seed"] == 3 and ds.attrs["simulations"] == 3000
        assert "mssp-basic-e" in ds.attrs["scenario"]
        s = ds["summary"]
        # FFS settles nothing; BASIC A is one-sided; ENHANCED carries the most risk.
        assert float(np.abs(ds["net"].sel(contract="ffs")).max()) == 0.0
        assert float(ds["net"].sel(contract="mssp-basic-a").min()) >= 0.0
        assert float(s.sel(contract="mssp-basic-a", measure="p_loss")) == 0.0
        sd = s.sel(measure="sd")
        assert float(sd.sel(contract="mssp-enhanced")) > float(sd.sel(contract="mssp-basic-e")) > float(sd.sel(contract="mssp-basic-a"))
        # the table printed the same numbers the file holds
        mean_a = float(s.sel(contract="mssp-basic-a", measure="mean"))
        assert f"${mean_a / 1e3:,.1f}k" in out


def test_threads_do_not_change_results(capsys, tmp_path):
    for t in ("1", "2"):
        code, _, err = run_cli(capsys, "run", str(SMALL), "--out", str(tmp_path / t), "--threads", t, "--sims", "2000", "--seed", "77")
        assert code == 0, err
    with xr.open_dataset(tmp_path / "1" / "results.nc") as a, xr.open_dataset(tmp_path / "2" / "results.nc") as b:
        assert a.identical(b)


def test_seed_changes_results_and_same_seed_repeats(capsys, tmp_path):
    runs = {}
    for tag, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        code, _, err = run_cli(capsys, "run", str(SMALL), "--out", str(tmp_path / tag), "--sims", "500", "--seed", seed)
        assert code == 0, err
        with xr.open_dataset(tmp_path / tag / "results.nc") as ds:
            runs[tag] = ds["net"].values.copy()
    assert np.array_equal(runs["a"], runs["b"])
    assert not np.array_equal(runs["a"], runs["c"])


@pytest.mark.parametrize("scenario", ["aco-5000.yaml", "aco-20000.yaml"])
def test_example_scenarios_validate(capsys, scenario):
    code, out, err = run_cli(capsys, "validate", str(ROOT / "scenarios" / scenario))
    assert code == 0, err
    assert "BASIC A, BASIC E, ENHANCED" in out


def test_contracts_list_and_show(capsys):
    code, out, _ = run_cli(capsys, "contracts", "list")
    assert code == 0
    for preset in ("mssp-basic-a", "mssp-basic-e", "mssp-enhanced", "mssp-basic-e-2027-proposed"):
        assert preset in out
    assert "proposed" in out
    code, out, _ = run_cli(capsys, "contracts", "show", "mssp-enhanced")
    assert code == 0
    assert "loss_rate_floor" in out and "[verified]" in out and "E-610" in out
    code, _, err = run_cli(capsys, "contracts", "show", "mssp-enhancd")
    assert code == 2 and "did you mean 'mssp-enhanced'" in err


def test_out_path_that_is_a_file_is_refused(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "run", str(SMALL), "--out", str(blocker))
    assert code == 2 and "is a file" in err and "Traceback" not in err


def test_exact_method_refuses_simulation_options(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", str(SMALL), "--method", "exact", "--sims", "500", "--seed", "3",
                           "--out", str(tmp_path))
    assert code == 2
    assert err.strip() == "simsuite: --method: exact computes the distribution, it does not simulate: drop --sims, --seed"
