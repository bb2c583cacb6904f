"""Deterministic MSSP settlement of ACO-years read from a CSV file (``simsuite settle``).

Each input row is one ACO-year. Its track and performance year select a preset
(``simsuite/presets/mssp_history.yaml`` maps track labels to the presets of each era),
and the row is settled by `simsuite.contracts.shared_savings.settle_shared_savings`,
the function the Monte Carlo engine calls: one implementation of the rules.

All money is dollars for the ACO and the year; rates are fractions; positive = paid
to the ACO. Row numbers in error messages are file line numbers (header = line 1),
as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from simsuite.contracts import Contract, build_contract
from simsuite.contracts.shared_savings import (
    SharedSavingsTerms,
    minimum_rates,
    settle_shared_savings,
)
from simsuite.contracts.tables import preset_file
from simsuite.errors import FieldProblem, InputError
from simsuite.io.files import atomic_path
from simsuite.io.yamlfile import did_you_mean, read_text

QUALITY_STANDARDS = ("met", "alternative", "not_met")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


class CellProblem(ValueError):
    """A bad cell value; the reader adds the file, row and column."""


# ---- cell parsers: text -> value, or CellProblem ------------------------------------


def _number(text: str) -> float:
    try:
        value = float(text.replace(",", "").replace("$", ""))
    except ValueError:
        raise CellProblem(f"not a number (got {text!r})") from None
    if not math.isfinite(value):
        raise CellProblem(f"must be finite (got {text!r})")
    return value


def _positive_dollars(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise CellProblem(f"dollars must be > 0 (got {text!r})")
    return value


def _nonnegative_dollars(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise CellProblem(
            f"dollars must be >= 0 (got {text!r}); give the amount forgiven without a sign"
        )
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise CellProblem(f"a fraction in [0, 1] is expected, e.g. 0.02 for 2% (got {text!r})")
    return value


def _count(text: str) -> int:
    value = _number(text)
    if value != int(value) or value < 1:
        raise CellProblem(f"a whole number >= 1 is expected (got {text!r})")
    return int(value)


def _year(text: str) -> int:
    value = _number(text)
    if value != int(value) or not 2012 <= value <= 2100:
        raise CellProblem(f"a performance year such as 2024 is expected (got {text!r})")
    return int(value)


def _minimum_rate(text: str) -> float | str:
    if text.lower() == "variable":
        return "variable"
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise CellProblem(
            f"'variable' or a fraction in [0, 1) is expected, e.g. 0.02 for 2% (got {text!r})"
        )
    return value


def _boolean(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise CellProblem(f"true or false is expected (got {text!r})")


def _quality_standard(text: str) -> str:
    low = text.lower().replace("-", "_").replace(" ", "_")
    if low not in QUALITY_STANDARDS:
        raise CellProblem(
            f"one of {', '.join(QUALITY_STANDARDS)} is expected (got {text!r})"
            f"{did_you_mean(low, list(QUALITY_STANDARDS))}"
        )
    return low


def _track(text: str) -> str:
    tracks = track_presets()
    for label in tracks:
        if label.lower() == " ".join(text.split()).lower():
            return label
    raise CellProblem(f"unknown track {text!r}{did_you_mean(text, list(tracks))}; "
                      f"known: {', '.join(tracks)}")


def _label(text: str) -> str:
    return text


@dataclass(frozen=True)
class Column:
    """One input column: its parser, its default when blank (``None`` = required), its meaning."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    doc: str


REQUIRED = None

INPUT_COLUMNS: tuple[Column, ...] = (
    Column("aco_id", _label, "", "label echoed to the output (optional)"),
    Column("performance_year", _year, REQUIRED, "performance year, e.g. 2024"),
    Column("track", _track, REQUIRED, "Track 1, Track 2, Track 3, Track 1+, BASIC A-E, ENHANCED"),
    Column("beneficiaries", _count, REQUIRED, "assigned beneficiaries (sets the variable MSR)"),
    Column("benchmark", _positive_dollars, REQUIRED, "updated benchmark, total dollars"),
    Column("expenditure", _positive_dollars, REQUIRED, "assigned-beneficiary expenditure, total dollars"),
    Column("quality_score", _fraction, REQUIRED, "quality score, fraction in [0, 1]"),
    Column("quality_standard", _quality_standard, "met",
           "met, alternative (PY2023 and later) or not_met (blank = met)"),
    Column("msr", _minimum_rate, "", "minimum savings rate: 'variable' or a fraction (blank = track default)"),
    Column("mlr", _minimum_rate, "", "minimum loss rate, two-sided only (blank = the MSR)"),
    Column("participant_revenue", _positive_dollars, math.nan, "participants' Parts A+B FFS revenue, dollars (blank = unknown)"),
    Column("low_revenue", _boolean, False, "true if eligible for half-rate savings below the MSR (low revenue, agreement from 2024)"),
    Column("euc_loss_relief", _fraction, 0.0, "share of shared losses forgiven for extreme and uncontrollable circumstances, fraction (blank = 0)"),
    Column("euc_loss_adjustment", _nonnegative_dollars, 0.0, "shared losses forgiven for extreme and uncontrollable circumstances, dollars >= 0 (after euc_loss_relief)"),
    Column("sequestration", _fraction, math.nan, "cut of earned savings, fraction (blank = the year's rule)"),
    Column("guardrail", _boolean, False, "true if CMS applied the ACPT loss guardrail (agreements from 2024): "
           "benchmark is then the recalculated one (blank = false)"),
)

OUTPUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("aco_id", "the input label"),
    ("performance_year", "the input year"),
    ("track", "the input track, normalised"),
    ("preset", "the preset whose terms were applied"),
    ("msr", "minimum savings rate used, fraction"),
    ("mlr", "minimum loss rate used, fraction (blank for one-sided tracks)"),
    ("savings_rate", "(benchmark - expenditure) / benchmark, fraction"),
    ("gross_savings", "savings (+) or losses (-) that passed the MSR/MLR, dollars; 0 otherwise"),
    ("sharing_rate", "final sharing rate applied to gross savings, fraction"),
    ("loss_rate", "shared loss rate, fraction (0 for one-sided tracks)"),
    ("sequestration", "cut of earned savings applied, fraction"),
    ("reduced_below_msr", "true if the half-rate low-revenue rule paid savings below the MSR"),
    ("guardrail_neither", "true if the ACPT guardrail applied and spending was below the recalculated benchmark: "
                          "neither savings nor losses"),
    ("savings_cap_bound", "true if the cap on earned savings bound"),
    ("loss_cap_bound", "true if the cap on shared losses bound"),
    ("earned_savings", "shared savings paid to the ACO, dollars >= 0"),
    ("shared_losses", "shared losses owed by the ACO after caps and EUC relief, dollars >= 0"),
    ("net", "earned_savings - shared_losses, dollars (+ = paid to the ACO)"),
)


@dataclass(frozen=True)
class SettleRow:
    """One validated input row; ``line`` is its line in the file (header = 1)."""

    line: int
    values: dict[str, Any]


# ---- presets --------------------------------------------------------------------------


def track_presets() -> dict[str, list[str]]:
    """Track label -> preset ids of its eras (from ``mssp_history.yaml``)."""
    return preset_file("mssp_history")["tables"]["track_presets"]


def contract_for(track: str, performance_year: int) -> Contract:
    """The contract (validated terms) of ``track`` in ``performance_year``.

    Raises
    ------
    CellProblem
        No era of the track covers the year.
    """
    candidates = track_presets()[track]
    for pid in candidates:
        try:
            return build_contract(pid, None, performance_year)
        except FieldProblem:
            continue
    raise CellProblem(f"no {track} preset covers performance year {performance_year}")


# ---- reading --------------------------------------------------------------------------


def _cell_error(path: Path, line: int, column: str, problem: str) -> InputError:
    """`InputError` worded for spreadsheets: "file: row 6, column benchmark: problem"."""
    where = f"row {line}, column {column}" if column else f"row {line}"
    error = InputError(str(path), where, problem)
    error.line = line  # kept for callers; the message already names the row
    return error


def read_settle_csv(path: str | Path) -> list[SettleRow]:
    """Read and validate a settle input file.

    Raises
    ------
    InputError
        Naming the file, the row (line number) and the column of the first bad cell.
    """
    path = Path(path)
    # Missing, unreadable or non-UTF-8 files become one-line input errors here.
    text = read_text(path, "settle input file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(str(path), "", "empty file; a header row is expected")
        names = [h.strip() for h in header]
        known = {c.name for c in INPUT_COLUMNS}
        for j, name in enumerate(names):
            if name not in known:
                raise _cell_error(path, 1, name, f"unknown column{did_you_mean(name, sorted(known))}")
            if name in names[:j]:
                raise _cell_error(path, 1, name, "the header names this column twice")
        for col in INPUT_COLUMNS:
            if col.default is REQUIRED and col.name not in names:
                raise _cell_error(path, 1, col.name, "required column is missing from the header")
        rows = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                raise _cell_error(path, line, "", f"{len(cells)} cells, but the header has {len(names)}")
            rows.append(SettleRow(line, _parse_row(path, line, dict(zip(names, cells)))))
    except csv.Error as exc:
        raise InputError(str(path), "", f"line {reader.line_num}: not a valid CSV row ({exc})") from None
    if not rows:
        raise InputError(str(path), "", "no data rows")
    return rows


def _parse_row(path: Path, line: int, cells: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for col in INPUT_COLUMNS:
        text = cells.get(col.name, "").strip()
        try:
            if text == "" and col.default is not REQUIRED:
                values[col.name] = col.default
            elif text == "":
                raise CellProblem("required value is missing")
            else:
                values[col.name] = col.parse(text)
        except CellProblem as exc:
            raise _cell_error(path, line, col.name, str(exc)) from None
    try:
        values["contract"] = contract_for(values["track"], values["performance_year"])
    except CellProblem as exc:
        raise _cell_error(path, line, "performance_year", str(exc)) from None
    terms: SharedSavingsTerms = values["contract"].terms
    if (values["msr"] == "" and terms.msr == "variable") or values["msr"] == "variable":
        # The size-based table starts at 500 (42 CFR 425.604(b) and R4).
        if values["beneficiaries"] < 500:
            raise _cell_error(
                path, line, "msr",
                f"the variable MSR needs >= 500 beneficiaries (got {values['beneficiaries']}); "
                "give the MSR as a fraction",
            )
    if values["mlr"] != "" and not terms.two_sided:
        raise _cell_error(path, line, "mlr", f"{values['track']} is one-sided; leave mlr blank")
    if values["quality_standard"] == "alternative" and terms.quality_sharing != "sliding":
        # 42 CFR 425.512(a)(4)(ii): the alternative quality performance standard starts in PY2023.
        raise _cell_error(path, line, "quality_standard",
                          f"no alternative quality performance standard exists in PY{values['performance_year']} "
                          "(it starts in PY2023, 42 CFR 425.512(a)(4)(ii)); use met or not_met")
    return values


# ---- settling -------------------------------------------------------------------------


def _terms_with(terms: SharedSavingsTerms, **changes: Any) -> SharedSavingsTerms:
    """``terms`` with some fields replaced, validated again."""
    return SharedSavingsTerms.model_validate({**terms.model_dump(), **changes})


def _minimum_rate_of(terms: SharedSavingsTerms, election: float | str, n: int) -> float:
    """Minimum rate for one row: the election if given, else the terms' own rule."""
    if election == "":
        msr, _ = minimum_rates(terms, n)
    else:
        msr, _ = minimum_rates(_terms_with(terms, msr=election), n)
    return float(msr)


def settle_rows(rows: Sequence[SettleRow]) -> dict[str, np.ndarray]:
    """Settle validated rows; rows that share terms are settled together (vectorised).

    Parameters
    ----------
    rows : sequence of SettleRow
        From `read_settle_csv` (or built by hand with the same ``values`` keys).

    Returns
    -------
    dict of str -> ndarray
        One array per name of `OUTPUT_COLUMNS`, in row order. Money in dollars, rates
        as fractions, ``net`` positive = paid to the ACO.
    """
    out: dict[str, np.ndarray] = {
        "aco_id": np.array([r.values["aco_id"] for r in rows], dtype=object),
        "performance_year": np.array([r.values["performance_year"] for r in rows]),
        "track": np.array([r.values["track"] for r in rows], dtype=object),
        "preset": np.array([r.values["contract"].preset for r in rows], dtype=object),
    }
    for name, _ in OUTPUT_COLUMNS:
        out.setdefault(name, np.zeros(len(rows)))
    for name in ("reduced_below_msr", "guardrail_neither", "savings_cap_bound", "loss_cap_bound"):
        out[name] = np.zeros(len(rows), dtype=bool)

    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        key = (r.values["contract"].preset, r.values["performance_year"], r.values["sequestration"])
        groups.setdefault(key, []).append(i)

    for idx in groups.values():
        first = rows[idx[0]].values
        terms: SharedSavingsTerms = first["contract"].terms
        if not math.isnan(first["sequestration"]):
            terms = _terms_with(terms, sequestration=first["sequestration"])
        _settle_group(terms, [rows[i] for i in idx], np.array(idx), out)
    return out


def _settle_group(
    terms: SharedSavingsTerms,
    rows: list[SettleRow],
    idx: np.ndarray,
    out: dict[str, np.ndarray],
) -> None:
    def col(name: str, dtype: Any = float) -> np.ndarray:
        return np.array([r.values[name] for r in rows], dtype=dtype)

    n = col("beneficiaries", int)
    msr = np.array([_minimum_rate_of(terms, r.values["msr"], r.values["beneficiaries"]) for r in rows])
    mlr = np.array([msr[k] if r.values["mlr"] == "" else float(r.values["mlr"]) for k, r in enumerate(rows)])
    result = settle_shared_savings(
        terms,
        col("benchmark"),
        col("expenditure"),
        n,
        col("quality_score"),
        col("quality_standard", object).astype(str),
        participant_revenue=col("participant_revenue"),
        low_revenue=col("low_revenue", bool),
        euc_loss_relief=col("euc_loss_relief"),
        msr=msr,
        mlr=mlr,
        euc_loss_adjustment=col("euc_loss_adjustment"),
    )
    # 425.652(b)(5)(ii): where the guardrail applied (the input benchmark is the recalculated,
    # two-way one) and spending is below it, the ACO shares neither savings nor losses.
    # Losses above it settle on it as usual (b)(5)(i). [Med: the PUF's UpdatedBnchmk read as
    # the recalculated benchmark; it reproduces both such PY2024 rows.]
    neither = col("guardrail", bool) & (col("expenditure") < col("benchmark"))
    out["guardrail_neither"][idx] = neither
    result = replace(result, **{name: np.where(neither, 0.0, getattr(result, name))
                                for name in ("gross", "earned_savings", "shared_losses")})
    out["msr"][idx] = result.msr
    out["mlr"][idx] = result.mlr if terms.two_sided else np.nan
    out["savings_rate"][idx] = result.savings_rate
    out["gross_savings"][idx] = result.gross
    out["sharing_rate"][idx] = result.sharing_rate
    out["loss_rate"][idx] = result.loss_rate
    out["sequestration"][idx] = terms.sequestration
    out["reduced_below_msr"][idx] = result.reduced_below_msr
    out["savings_cap_bound"][idx] = result.savings_cap_bound
    out["loss_cap_bound"][idx] = result.loss_cap_bound
    out["earned_savings"][idx] = result.earned_savings
    out["shared_losses"][idx] = result.shared_losses
    out["net"][idx] = result.net


# ---- writing and printing -------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return repr(float(value))
    return str(value)


def write_settle_csv(path: str | Path, result: dict[str, np.ndarray]) -> None:
    """Write the settlement, one row per input row, atomically (see `OUTPUT_COLUMNS`)."""
    names = [name for name, _ in OUTPUT_COLUMNS]
    with atomic_path(path) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            for i in range(len(result["net"])):
                writer.writerow([_csv_cell(result[name][i]) for name in names])
