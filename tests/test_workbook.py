"""The workbook (`simsuite.report.workbook`) written by ``simsuite run``: read back with openpyxl,
its numbers are numbers (with formats) equal to the Dataset's; it is written atomically."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
import xarray as xr
import yaml
from conftest import ROOT

from simsuite.analysis.decision import choose
from simsuite.cli.app import main
from simsuite.report.workbook import MONEY, PERCENTILES, PROB, SUMMARY_CASH
from simsuite.scenario.schema import RiskAppetite


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """`simsuite run` of the 2027 entrant example at 5,000 beneficiaries: results.nc and workbook.xlsx."""
    folder = tmp_path_factory.mktemp("workbook")
    data = yaml.safe_load((ROOT / "scenarios" / "aco-2027-new-entrant.yaml").read_text())
    data["population"]["beneficiaries"] = 5000
    scenario = folder / "entrant.yaml"
    scenario.write_text(yaml.safe_dump(data))
    with pytest.raises(SystemExit) as info:
        main(["run", str(scenario), "--sims", "300", "--seed", "4", "--out", str(folder / "out")])
    assert info.value.code == 0
    ds = xr.load_dataset(folder / "out" / "results.nc")
    return ds, openpyxl.load_workbook(folder / "out" / "workbook.xlsx"), RiskAppetite(**data["risk_appetite"])


def same(cell_value, expected: float) -> bool:
    """A number as written: openpyxl keeps 16 significant digits ("%.16g"; Excel shows 15)."""
    return isinstance(cell_value, (int, float)) and not isinstance(cell_value, bool) and \
        cell_value == pytest.approx(expected, rel=1e-15, abs=1e-300)


def table(ws, first: str) -> tuple[list[str], list[list]]:
    """The header row whose first cell is ``first`` and the rows under it (to a blank row)."""
    rows = list(ws.iter_rows())
    start = next(i for i, r in enumerate(rows) if r[0].value == first)
    header = [c.value for c in rows[start]]
    body = []
    for r in rows[start + 1:]:
        if r[0].value is None:
            break
        body.append(list(r))
    return header, body


def test_sheets(written):
    _, book, _ = written
    assert book.sheetnames == ["Summary", "Cash by year", "Cash items", "Paths by year", "Decision", "Assumptions"]


def test_summary_equals_the_dataset(written):
    ds, book, appetite = written
    header, body = table(book["Summary"], "contract")
    assert [r[0].value for r in body] == list(ds["contract"].values)
    recommended = choose(ds, appetite).recommended
    for row in body:
        name = row[0].value
        v = ds["finance_summary"].sel(contract=name)
        e = ds["finance_summary_se"].sel(contract=name)
        j = 1
        for measure, title, fmt, with_se in SUMMARY_CASH:
            assert header[j] == title
            cell = row[j]
            expected = float(v.sel(finance_measure=measure))
            if np.isnan(expected):
                assert cell.value is None
            else:
                assert same(cell.value, expected), (name, measure)
            assert cell.number_format == fmt
            j += 1
            if with_se:
                se = float(e.sel(finance_measure=measure))
                assert (row[j].value is None and np.isnan(se)) or same(row[j].value, se), (name, measure)
                j += 1
        assert row[j].value == ("yes" if name == recommended else "no")


def test_cash_by_year_equals_the_dataset(written):
    ds, book, _ = written
    header, body = table(book["Cash by year"], "contract")
    assert header[:3] == ["contract", "year", "cash (mean)"]
    assert len(body) == ds.sizes["contract"] * ds.sizes["cash_year"]
    for row in body:
        name, year = row[0].value, row[1].value
        cash = ds["cash_by_year"].sel(contract=name, cash_year=year).values
        cumulative = ds["cash_by_year"].sel(contract=name).cumsum("cash_year").sel(cash_year=year).values
        assert same(row[2].value, float(cash.mean())) and row[2].number_format == MONEY
        for k, q in enumerate(PERCENTILES):
            assert same(row[3 + k].value, float(np.quantile(cash, q / 100, method="inverted_cdf")))
        assert same(row[3 + len(PERCENTILES)].value, float(cumulative.mean()))
        p = row[4 + 2 * len(PERCENTILES)]
        assert same(p.value, float(ds["p_cash_below_reserve"].sel(contract=name, cash_year=year)))
        assert p.number_format == PROB


def test_cash_items_equal_the_dataset(written):
    ds, book, _ = written
    header, body = table(book["Cash items"], "contract")
    years = [int(y) for y in ds["cash_year"].values]
    assert header[3:-1] == [str(y) for y in years] and header[-1] == "total"
    for row in body:
        values = ds["cash_items"].sel(contract=row[0].value, cash_item=row[1].value).values
        assert all(same(c.value, float(x)) for c, x in zip(row[3:-1], values, strict=True))
        assert row[-1].value == pytest.approx(float(values.sum()), rel=1e-12, abs=1e-9)


def test_paths_by_year_equal_the_dataset(written):
    ds, book, _ = written
    _, body = table(book["Paths by year"], "contract")
    for row in body:
        name, year = row[0].value, row[1].value
        assert (row[2].value or "") == str(ds["level"].sel(contract=name, year=year).values)
        assert same(row[3].value, float(ds["summary_by_year"].sel(contract=name, year=year, measure="mean")))


def test_assumptions_give_every_value_with_its_source(written):
    _, book, _ = written
    rows = [[c.value for c in r] for r in book["Assumptions"].iter_rows()]
    by_field = {r[0]: r for r in rows if isinstance(r[0], str)}
    assert by_field["finance.discount_rate"][1:3] == [0.08, "scenario file"]
    assert by_field["population.beneficiaries"][1:3] == [5000, "scenario file"]
    assert by_field["dynamics.churn"][2].startswith("default: Leighton et al.")
    assert by_field["cost_model.zero_cost_share"][2].startswith("default")
    # The contract terms, each with its preset's confidence and source.
    terms = [r for r in rows if r[0] == "BASIC A, glide to E" and r[3] == "sharing_rate"]
    assert [(r[1], r[2], r[4]) for r in terms] == [("2027", "mssp-basic-a", 0.4), ("2028", "mssp-basic-b", 0.4),
                                                   ("2029", "mssp-basic-c", 0.5), ("2030", "mssp-basic-d", 0.5),
                                                   ("2031", "mssp-basic-e", 0.5)]
    assert all(r[5] and r[6] for r in terms)
    msr = [r for r in rows if r[0] == "BASIC E from the start" and r[3] == "msr"]
    assert msr[0][4] == 0.02 and msr[0][5:7] == ["stated", "scenario file"]
    notes = [r[0] for r in rows if r[2] == "simsuite cash flows (simsuite.results.cashflow)"]
    assert any("425.605(e)(3)" in n for n in notes)


def test_workbook_of_a_one_year_run(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", str(ROOT / "tests" / "scenarios" / "valid-small.yaml"), "--sims", "500",
                           "--out", str(tmp_path))
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "workbook.xlsx")
    assert book.sheetnames == ["Summary", "Decision", "Assumptions"]
    ds = xr.load_dataset(tmp_path / "results.nc")
    header, body = table(book["Summary"], "contract")
    assert header[1] == "expected result"
    for row in body:
        assert same(row[1].value, float(ds["summary"].sel(contract=row[0].value, measure="mean")))


def test_a_failed_write_leaves_the_previous_files(capsys, tmp_path, monkeypatch):
    small = str(ROOT / "tests" / "scenarios" / "valid-small.yaml")
    code, _, err = run_cli(capsys, "run", small, "--sims", "300", "--out", str(tmp_path))
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import simsuite.report.workbook as workbook

    def failing(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workbook, "write_workbook", failing)
    code, _, err = run_cli(capsys, "run", small, "--sims", "300", "--seed", "9", "--out", str(tmp_path))
    assert code != 0 and err.strip().splitlines()[-1] == "simsuite: failed: OSError: [Errno 28] No space left on device"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
