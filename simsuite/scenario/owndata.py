"""The organisation's own data: a CSV of patients (the panel) and a CSV of annual costs
(resampled by the bootstrap instead of the parametric cost model).

Both files are read and checked when the scenario is loaded, so ``simsuite validate``
finds their problems. Every problem is one line naming the scenario field that points
to the file, the file (as written in the scenario, relative to the scenario file), the
row and the column. Rows are numbered as in a spreadsheet: the header is row 1.

Patient-level data is never echoed: a message says *that* a cell is wrong and
where, never what it holds. The only cell text ever quoted is text close to a name
simsuite knows (a column name, an enrollment type), i.e. a likely typo of it; a name,
an id or an amount, even shifted into another column, is never printed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simsuite.data.reference import ENROLLMENT_TYPES
from simsuite.errors import FieldProblem
from simsuite.io.yamlfile import did_you_mean

PATIENT_COLUMNS = ("id", "enrollment_type", "risk_score")
COST_COLUMNS = ("enrollment_type", "annual_cost")

# A plain decimal number: no currency signs, thousands separators or underscores
# (Python's float() would accept "1_000", which a claims export never means).
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NOT_FINITE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)
_LABEL = re.compile(r"^[A-Za-z][A-Za-z /_-]{0,29}$")
# CMS spellings ("AGED/DUAL", "AGED/NON-DUAL", "Aged non-dual") reduce to ours.
_ALIASES = {"aged_nondual": "aged_non_dual", "non_dual_aged": "aged_non_dual", "dual_aged": "aged_dual"}


def enrollment_type_of(text: str) -> str | None:
    """simsuite's name of an enrollment type (``"AGED/NON-DUAL"`` -> ``"aged_non_dual"``), or None."""
    key = re.sub(r"[\s/\-_]+", "_", text.strip().lower()).strip("_")
    key = _ALIASES.get(key, key)
    return key if key in ENROLLMENT_TYPES else None


@dataclass(frozen=True)
class PatientTable:
    """The panel from a patients file, one entry per beneficiary in file order.

    Attributes
    ----------
    enrollment_type : tuple of str
        Each beneficiary's enrollment type (simsuite's names).
    risk_score : float64[N]
        Each beneficiary's risk score (positive, dimensionless; 1 = national average).
    """

    enrollment_type: tuple[str, ...]
    risk_score: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.enrollment_type)

    def counts(self) -> dict[str, int]:
        """Beneficiaries of each enrollment type."""
        return {t: sum(1 for x in self.enrollment_type if x == t) for t in ENROLLMENT_TYPES}

    def scores_of(self, t: str) -> np.ndarray:
        """Risk scores of the beneficiaries of type ``t``, in file order."""
        mask = np.array([x == t for x in self.enrollment_type], dtype=bool)
        return self.risk_score[mask] if mask.size else np.empty(0)


@dataclass(frozen=True)
class CostHistory:
    """Annual costs by enrollment type from a costs file (one row per beneficiary-year).

    Attributes
    ----------
    costs : dict of str to float64[n_t]
        Each type's annual costs, dollars, sorted ascending (the bootstrap resamples rows;
        their order carries no information).
    mean_risk : dict of str to float or None
        Each type's mean risk score in the file, or None without a ``risk_score`` column.
    """

    costs: dict[str, np.ndarray] = field(repr=False)
    mean_risk: dict[str, float | None] = field(repr=False)

    @property
    def has_risk_scores(self) -> bool:
        return any(v is not None for v in self.mean_risk.values())

    def rows(self, t: str) -> int:
        return int(self.costs[t].size)


class _CsvProblem(Exception):
    """A problem inside a data file: (row, column, problem); row/column may be None."""

    def __init__(self, row: int | None, column: str | None, problem: str):
        self.row, self.column, self.problem = row, column, problem
        super().__init__(problem)


def resolve(value: str, scenario_source: str) -> Path:
    """A data file path as written in a scenario, resolved relative to the scenario file
    (to the working directory for scenarios that are not files)."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    source = Path(scenario_source)
    base = source.parent if scenario_source and not scenario_source.startswith("<") else Path.cwd()
    return base / path


def _read_text(path: Path, name: str, what: str) -> str:
    """The file's UTF-8 text; a one-line `FieldProblem` naming the file as written (and, for
    bad encoding, the row) if it is missing, a directory, unreadable or not UTF-8."""
    if not path.exists():
        raise FieldProblem((), f"{name}: {what} not found (paths are relative to the scenario file)")
    if path.is_dir():
        raise FieldProblem((), f"{name}: expected a {what}, found a directory")
    if not path.is_file():  # a device or a pipe (/dev/zero would never end)
        raise FieldProblem((), f"{name}: expected a {what}, found a special file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FieldProblem((), f"{name}: cannot read the {what} ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[:exc.start].count(b"\n") + 1
        raise FieldProblem((), f"{name} row {row}: not valid UTF-8 text (byte {exc.start}); save the {what} "
                               "as UTF-8 (spreadsheets: 'CSV UTF-8')") from None


def _is_known_or_typo(text: str, known: tuple[str, ...]) -> bool:
    """Whether ``text`` is one of ``known`` or close to one (safe to quote in a message)."""
    return text in known or bool(did_you_mean(text, list(known)))


def _shown_header(header: list[str], known: tuple[str, ...]) -> str:
    """The header's cells for a message: only cells that are, or nearly are, a column name
    simsuite reads; anything else (a data row read as the header) is counted, not shown."""
    shown = [c.strip().lower() for c in header if _is_known_or_typo(c.strip().lower(), known)]
    hidden = sum(1 for c in header if c.strip()) - len(shown)
    text = ", ".join(shown) or "no column names"
    if hidden:
        text += f" and {hidden} other cell{'s' if hidden > 1 else ''} not shown; is the header row missing?"
    return text


def _located(name: str, exc: _CsvProblem) -> str:
    where = name
    if exc.row is not None:
        where += f" row {exc.row}"
    if exc.column is not None:
        where += f"{',' if exc.row is not None else ''} column {exc.column}"
    return f"{where}: {exc.problem}"


def _rows(path: Path, name: str, what: str, required: tuple[str, ...],
          optional: tuple[str, ...] = ()) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """Header positions of the columns simsuite reads, and the data rows with their row number.

    Raises `FieldProblem` (location filled in by the caller) for an unreadable file and
    `_CsvProblem` for a problem of its content.
    """
    text = _read_text(path, name, what)
    if not text.strip():
        raise _CsvProblem(None, None, f"the file is empty; expected a header row: {','.join(required)}")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        parsed = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise _CsvProblem(reader.line_num, None, f"not a valid CSV row ({exc})") from None
    # csv reports the physical line at the end of a row; rows are numbered as a
    # spreadsheet numbers them, so count rows, skipping blank lines.
    rows = [(i + 1, r) for i, (_, r) in enumerate(parsed)]
    header_row, header = next(((n, r) for n, r in rows if any(c.strip() for c in r)), (1, []))
    names = [c.strip().lower() for c in header]
    seen: dict[str, int] = {}
    for j, col in enumerate(names):
        if col in seen and col:
            raise _CsvProblem(header_row, col, f"the header names this column twice (columns {seen[col] + 1} and {j + 1})")
        seen[col] = j
    missing = [c for c in required if c not in seen]
    if missing:
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
            hint = "; separate columns with commas"
        else:
            known = required + optional
            labels = [c for c in names if c not in known and _is_known_or_typo(c, known)]
            hint = did_you_mean(missing[0], labels)
        raise _CsvProblem(header_row, None, f"missing column {', '.join(repr(c) for c in missing)}{hint} "
                                            f"(the header has: {_shown_header(header, required + optional)})")
    data = [(n, r) for n, r in rows if n > header_row and any(c.strip() for c in r)]
    if not data:
        raise _CsvProblem(None, None, "the file has a header but no data rows")
    width = len(header)
    for n, r in data:
        if len(r) != width:
            raise _CsvProblem(n, None, f"has {len(r)} fields, the header has {width}")
    return {c: seen[c] for c in required + optional if c in seen}, data


def _number(cell: str, row: int, column: str, *, positive: bool) -> float:
    """A finite number from a cell; problems never quote the cell."""
    text = cell.strip()
    if not text:
        raise _CsvProblem(row, column, "is empty; expected a number")
    if _NOT_FINITE.match(text):
        raise _CsvProblem(row, column, "must be a finite number (not NaN or infinity)")
    if not _NUMBER.match(text):
        raise _CsvProblem(row, column, "is not a number (write plain numbers: no currency signs, "
                                       "thousands separators or units)")
    value = float(text)
    if not math.isfinite(value):
        raise _CsvProblem(row, column, "must be a finite number (this one overflows)")
    if positive and value <= 0:
        raise _CsvProblem(row, column, "must be positive")
    if not positive and value < 0:
        raise _CsvProblem(row, column, "must not be negative")
    return value


def _enrollment(cell: str, row: int) -> str:
    t = enrollment_type_of(cell)
    if t is not None:
        return t
    text = cell.strip()
    if not text:
        raise _CsvProblem(row, "enrollment_type", "is empty; expected one of " + ", ".join(ENROLLMENT_TYPES))
    hint = did_you_mean(re.sub(r"[\s/\-_]+", "_", text.lower()), list(ENROLLMENT_TYPES)) if _LABEL.match(text) else ""
    shown = f" '{text}'" if hint else ""  # quoted only as a likely typo of a type
    raise _CsvProblem(row, "enrollment_type",
                      f"unknown enrollment type{shown}{hint}; expected one of " + ", ".join(ENROLLMENT_TYPES)
                      + " (CMS spellings such as AGED/DUAL are accepted)")


def read_patients(value: str, scenario_source: str) -> PatientTable:
    """Read and check a patients file (columns ``id``, ``enrollment_type``, ``risk_score``).

    Parameters
    ----------
    value : str
        The path as written in the scenario (relative to the scenario file).
    scenario_source : str
        The scenario file's path.

    Raises
    ------
    FieldProblem
        One line naming the file as written, the row and the column (never a cell's value).
    """
    try:
        cols, data = _rows(resolve(value, scenario_source), value, "patients file", PATIENT_COLUMNS)
        types: list[str] = []
        scores: list[float] = []
        first_row: dict[str, int] = {}
        for n, r in data:
            pid = r[cols["id"]].strip()
            if not pid:
                raise _CsvProblem(n, "id", "is empty; every patient needs an id")
            if pid in first_row:
                raise _CsvProblem(n, "id", f"duplicate id (the same id as row {first_row[pid]})")
            first_row[pid] = n
            types.append(_enrollment(r[cols["enrollment_type"]], n))
            scores.append(_number(r[cols["risk_score"]], n, "risk_score", positive=True))
    except _CsvProblem as exc:
        raise FieldProblem((), _located(value, exc)) from None
    return PatientTable(enrollment_type=tuple(types), risk_score=np.array(scores, dtype=float))


def read_costs(value: str, scenario_source: str) -> CostHistory:
    """Read and check a costs file (``enrollment_type``, ``annual_cost``, optional ``risk_score``).

    One row per beneficiary-year of history; costs in dollars, zeros allowed.

    Raises
    ------
    FieldProblem
        One line naming the file as written, the row and the column (never a cell's value).
    """
    try:
        cols, data = _rows(resolve(value, scenario_source), value, "costs file", COST_COLUMNS, ("risk_score",))
        by_type: dict[str, list[float]] = {t: [] for t in ENROLLMENT_TYPES}
        risk: dict[str, list[float]] = {t: [] for t in ENROLLMENT_TYPES}
        for n, r in data:
            t = _enrollment(r[cols["enrollment_type"]], n)
            by_type[t].append(_number(r[cols["annual_cost"]], n, "annual_cost", positive=False))
            if "risk_score" in cols:
                risk[t].append(_number(r[cols["risk_score"]], n, "risk_score", positive=True))
        if all(sum(v) == 0.0 for v in by_type.values()):
            raise _CsvProblem(None, "annual_cost", "every cost is 0; a benchmark of 0 cannot be settled")
    except _CsvProblem as exc:
        raise FieldProblem((), _located(value, exc)) from None
    return CostHistory(
        costs={t: np.sort(np.array(v, dtype=float)) for t, v in by_type.items()},
        mean_risk={t: (float(np.mean(risk[t])) if risk[t] else None) for t in ENROLLMENT_TYPES},
    )


def without_data_files(data: dict, beneficiaries: int) -> dict:
    """A scenario dict (as loaded from YAML) that no longer reads its data files: the
    patients file gives way to its panel size, the costs file to the parametric model.

    For code that rebuilds contracts from a results file's stored scenario (figures), which
    must not depend on the data files still being where they were, nor read them again.
    """
    out = dict(data)
    pop = out.get("population")
    if isinstance(pop, dict) and pop.get("patients_file") is not None:
        out["population"] = {**{k: v for k, v in pop.items() if k != "patients_file"},
                             "beneficiaries": int(beneficiaries)}
    cost = out.get("cost_model")
    if isinstance(cost, dict) and cost.get("bootstrap_file") is not None:
        out["cost_model"] = {k: v for k, v in cost.items() if k != "bootstrap_file"}
    return out
