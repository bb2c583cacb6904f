"""``simsuite settle``: the example input, the output file, and one-line input errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from simsuite.cli.app import main
from simsuite.tools.settle import OUTPUT_COLUMNS

EXAMPLE = Path(__file__).parent.parent / "scenarios" / "settle-example.csv"


def run_main(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def test_example_prints_table_and_writes_output(tmp_path, capsys):
    out = tmp_path / "settled.csv"
    assert run_main(["settle", str(EXAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "net to ACO" in printed and "ILLUSTRATIVE-7 ENHANCED capped" in printed
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [name for name, _ in OUTPUT_COLUMNS]
    assert len(rows) == 8
    by_id = {r["aco_id"]: r for r in rows}
    # Hand-computed from the example's numbers:
    # Track 1 PY2016, 14,200 beneficiaries: MSR = 3.0% - 0.3% x 4,200/4,999.
    r = by_id["ILLUSTRATIVE-1 Track 1 saves"]
    assert float(r["msr"]) == pytest.approx(0.03 - 0.003 * 4200 / 4999)
    assert float(r["net"]) == pytest.approx(0.98 * 0.5 * 0.91 * 7.5e6)
    # ENHANCED 2024: 0.98 x 0.75 x $70M = $51.45M, capped at 20% of $220M.
    r = by_id["ILLUSTRATIVE-7 ENHANCED capped"]
    assert r["savings_cap_bound"] == "true" and float(r["net"]) == pytest.approx(44e6)
    # BASIC E: 30% of $80M = $24M, limited to 8% of $240M revenue, less $12,000 EUC relief.
    r = by_id["ILLUSTRATIVE-6 BASIC E loss cap"]
    assert r["loss_cap_bound"] == "true" and float(r["net"]) == pytest.approx(-19.188e6)
    # PY2021: the PHE forgave every shared loss.
    assert float(by_id["ILLUSTRATIVE-3 ENHANCED PHE relief"]["net"]) == 0.0
    # Low-revenue BASIC A below its MSR: half of 40%.
    r = by_id["ILLUSTRATIVE-5 BASIC A half rate"]
    assert r["reduced_below_msr"] == "true"
    assert float(r["net"]) == pytest.approx(0.98 * 0.2 * 2.2e6)


def _example_with(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace(old, new, 1))
    return bad


@pytest.mark.parametrize(("old", "new", "where"), [
    ("151000000", "151000000x", "row 2, column benchmark"),
    ("0.71,met", "0.71,mett", "row 6, column quality_standard"),
    (",BASIC B,", ",BASIC Q,", "row 5, column track"),
    ("0.86,met,0.02", "0.86,met,2", "row 3, column msr"),
    ("2016,Track 1", "2012,Track 1", "row 2, column performance_year"),
    (",,12000,", ",,-12000,", "row 7, column euc_loss_adjustment"),
])
def test_bad_cell_is_one_line_with_row_and_column(tmp_path, capsys, old, new, where):
    bad = _example_with(tmp_path, old, new)
    out = tmp_path / "never.csv"
    assert run_main(["settle", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"simsuite: {bad}: {where}: "), err
    assert not out.exists()


def test_unknown_column_is_named(tmp_path, capsys):
    bad = _example_with(tmp_path, "benchmark,", "benchmrk,")
    assert run_main(["settle", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 1, column benchmrk: unknown column (did you mean 'benchmark'?)" in err


def test_failed_run_keeps_previous_output(tmp_path, capsys):
    out = tmp_path / "settled.csv"
    out.write_text("previous\n")
    bad = _example_with(tmp_path, "0.93,met", "1.93,met")
    assert run_main(["settle", str(bad), "--out", str(out)]) == 2
    assert out.read_text() == "previous\n"


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"performance_year,track\n2024,BASIC A \xe9\n", "not valid UTF-8 text (byte 36)"),  # a Latin-1 export
        (b'performance_year,track,beneficiaries,benchmark,expenditure,quality_score\n2024,"BASIC A,5000\n',
         "not a valid CSV row"),  # unterminated quote
        (b"performance_year,track,track\n2024,BASIC A,BASIC A\n", "row 1, column track: the header names this column twice"),
        (b"", "empty file; a header row is expected"),
    ],
)
def test_unreadable_files_are_bad_input_not_a_crash(tmp_path, capsys, content, fragment):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert run_main(["settle", str(bad)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
