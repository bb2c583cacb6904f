"""The results as an Excel workbook (``.xlsx``, written with openpyxl) for a finance team.

Sheets, each one table with a header row (numbers are numbers, with number formats):

* **Summary**: what was run, the recommendation in words, and per contract the risk summary
  or, for a multi-year run with a ``finance`` section, its value and liquidity (net present
  value, P(loss over the horizon), 1-in-20 loss, lowest cash balance, P(reserve runs out),
  payback, advance payments) with Monte Carlo standard errors; the option to stay in Level
  A and the ratchet when computed;
* **Cash by year** (cash flows): per contract and calendar year, the mean cash and its 5th,
  25th, 50th, 75th and 95th percentiles, the cumulative cash likewise, P(reserve runs out);
* **Cash items**: the mean of each item (settlements, advance payments, costs, fees) by year;
* **Paths by year** (multi-year): per contract and performance year, the level, the expected
  result, P(loss), the 1-in-20 loss, the savings rate, the repayment mechanism;
* **Decision**: each contract against each limit of the risk appetite;
* **Assumptions**: every field of the scenario with its value and where it came from (the
  file, or a default and its source), each contract's terms with their confidence and
  source, and the rules and cash notes of the run.

`write_workbook` writes to a path its caller makes atomic (`simsuite.io.files.atomic_paths`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import BaseModel

from simsuite import __version__
from simsuite.contracts import Contract, PathContract, get_preset
from simsuite.report.cash import VALUE_COLUMNS, finance_lines
from simsuite.report.tables import COLUMNS, is_multiyear, rule_lines
from simsuite.results.cashflow import ITEMS

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.analysis.decision import OptionValue
    from simsuite.analysis.ranking import Ranking
    from simsuite.analysis.ratchet import RatchetReport
    from simsuite.scenario.load import Scenario

MONEY = '"$"#,##0;[Red]-"$"#,##0'
PROB = "0.0%"
RATE = "0.00%"
YEAR = "0"
NUMBER = "General"
_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="F3F5F8")
#: Percentiles of the cash-by-year sheet.
PERCENTILES = (5, 25, 50, 75, 95)


def _number(x: Any) -> Any:
    """A cell value: floats as floats (NaN as an empty cell), numpy scalars unwrapped."""
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


class _Sheet:
    """Rows appended to a worksheet, each cell with an optional number format."""

    def __init__(self, book: Workbook, title: str, first: bool = False) -> None:
        self.ws = book.active if first else book.create_sheet()
        self.ws.title = title
        self.widths: dict[int, int] = {}

    def row(self, values: Sequence[Any], formats: Sequence[str | None] | None = None, head: bool = False) -> None:
        self.ws.append([_number(v) for v in values])
        r = self.ws.max_row
        for j, v in enumerate(values, start=1):
            cell = self.ws.cell(row=r, column=j)
            if head:
                cell.font, cell.fill = _HEAD, _FILL
                cell.alignment = Alignment(wrap_text=True, vertical="bottom")
            elif formats is not None and j - 1 < len(formats) and formats[j - 1]:
                cell.number_format = formats[j - 1]
            width = min(60, len(str(v)) + 2) if not isinstance(v, float) else 14
            self.widths[j] = max(self.widths.get(j, 8), width if not head else min(width, 22))

    def blank(self) -> None:
        self.ws.append([])

    def finish(self) -> None:
        for j, w in self.widths.items():
            self.ws.column_dimensions[get_column_letter(j)].width = w


def write_workbook(path: str | Path, ds: xr.Dataset, scenario: Scenario, ranking: Ranking | None = None,
                   options: Sequence[OptionValue] = (), ratchet: RatchetReport | None = None) -> None:
    """Write the workbook of a run to ``path`` (see the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
        The run's results (one-year or multi-year, with or without cash flows).
    scenario : Scenario
        The scenario run (its fields and contracts go to the Assumptions sheet).
    ranking : Ranking, optional
        The recommendation (`simsuite.analysis.decision.choose`).
    options, ratchet : optional
        The value of the option to stay in Level A, the ratchet report.
    """
    book = Workbook()
    _summary(_Sheet(book, "Summary", first=True), ds, ranking, options, ratchet)
    if "npv" in ds:
        _cash_by_year(_Sheet(book, "Cash by year"), ds)
        _cash_items(_Sheet(book, "Cash items"), ds)
    if is_multiyear(ds):
        _paths_by_year(_Sheet(book, "Paths by year"), ds)
    if ranking is not None:
        _decision(_Sheet(book, "Decision"), ranking)
    _assumptions(_Sheet(book, "Assumptions"), ds, scenario)
    for ws in book.worksheets:
        ws.sheet_view.zoomScale = 100
    book.save(str(path))


# ---- sheets ------------------------------------------------------------------------------------

#: Summary columns of a run with cash flows: (finance measure, header, format, with its error).
SUMMARY_CASH = tuple((m, title, {"money": MONEY, "prob": PROB, "year": YEAR}[kind], kind != "year")
                     for m, title, kind in VALUE_COLUMNS) + (
    ("p_payback", "P(paid back within the horizon)", PROB, True),
    ("cumulative", "expected cash over the horizon (undiscounted)", MONEY, True),
    ("aip_received", "advance investment payments received", MONEY, False),
    ("aip_outstanding", "advance investment payments outstanding at the end", MONEY, True),
    ("prepaid_received", "prepaid shared savings received", MONEY, True),
    ("p_prepaid", "P(prepaid shared savings paid)", PROB, True),
)


def _summary(s: _Sheet, ds: xr.Dataset, ranking: Ranking | None, options: Sequence[OptionValue],
             ratchet: RatchetReport | None) -> None:
    a = ds.attrs
    s.row([str(a.get("title", ""))], head=True)
    meta: list[tuple[str, Any, str | None]] = [
        ("scenario", str(a.get("scenario_source", "")), None),
        ("simulations", int(a["simulations"]), NUMBER),
        ("seed", int(a["seed"]), NUMBER),
        ("beneficiaries", int(a["beneficiaries"]), NUMBER),
        ("performance years", str(a.get("years", a.get("performance_year", ""))), None),
        ("simsuite", __version__, None),
    ]
    if "npv" in ds:
        meta += [("discount rate", float(a["discount_rate"]), RATE), ("valued at", str(a["valuation_date"]), None),
                 ("reserve", float(a["reserve"]), MONEY)]
    for label, value, fmt in meta:
        s.row([label, value], [None, fmt])
    s.blank()
    if ranking is not None:
        s.row(["recommendation"], head=True)
        for line in ranking.reasons:
            s.row([line])
        s.blank()
    recommended = ranking.recommended if ranking is not None else None
    if "npv" in ds:
        head = ["contract"]
        for _, title, _, with_se in SUMMARY_CASH:
            head += [title] + (["± (MC error)"] if with_se else [])
        s.row(head + ["recommended"], head=True)
        for name in ds["contract"].values:
            v = ds["finance_summary"].sel(contract=name)
            e = ds["finance_summary_se"].sel(contract=name)
            cells: list[Any] = [str(name)]
            formats: list[str | None] = [None]
            for m, _, fmt, with_se in SUMMARY_CASH:
                cells.append(float(v.sel(finance_measure=m)))
                formats.append(fmt)
                if with_se:
                    cells.append(float(e.sel(finance_measure=m)))
                    formats.append(fmt)
            s.row(cells + ["yes" if name == recommended else "no"], formats + [None])
    else:
        head = ["contract"]
        for _, title, _ in COLUMNS:
            head += [title, "± (MC error)"]
        s.row(head + ["recommended"], head=True)
        for name in ds["contract"].values:
            cells = [str(name)]
            formats = [None]
            for measure, _, kind in COLUMNS:
                fmt = PROB if kind == "prob" else MONEY
                cells += [float(ds["summary"].sel(contract=name, measure=measure)),
                          float(ds["summary_se"].sel(contract=name, measure=measure))]
                formats += [fmt, fmt]
            s.row(cells + ["yes" if name == recommended else "no"], formats + [None])
    if options:
        s.blank()
        s.row(["option", "with it", "without it", "NPV gained", "±", "option value"], head=True)
        for o in options:
            s.row([o.option, o.with_option, o.without, o.npv_gain, o.npv_gain_se, o.value],
                  [None, None, None, MONEY, MONEY, MONEY])
            s.row([o.text()])
    if ratchet is not None and ratchet.rows:
        s.blank()
        s.row(["ratchet: contract", "agreement", "first year", "last year", "spending removed a year",
               "share credited by the benchmark", "±", "share of the first agreement's credit surviving", "±",
               "gain under the contract a year", "±"], head=True)
        for r in ratchet.rows:
            s.row([r.contract, r.agreement, r.years[0], r.years[1], r.spending_removed, r.share_credited,
                   r.share_credited_se, r.survives, r.survives_se, r.settlement_gain, r.settlement_gain_se],
                  [None, NUMBER, YEAR, YEAR, MONEY, PROB, PROB, PROB, PROB, MONEY, MONEY])
        for line in ratchet.text().split("\n"):
            s.row([line])
    s.finish()


def _cash_by_year(s: _Sheet, ds: xr.Dataset) -> None:
    head = ["contract", "year", "cash (mean)"] + [f"cash p{q}" for q in PERCENTILES] + \
        ["cumulative (mean)"] + [f"cumulative p{q}" for q in PERCENTILES] + \
        ["P(reserve runs out in the year)", "± (MC error)"]
    s.row(head, head=True)
    fmts = [None, YEAR] + [MONEY] * (2 + 2 * len(PERCENTILES)) + [PROB, PROB]
    for name, year, cash, cumulative, p, se in cash_year_values(ds):
        s.row([name, year, float(cash.mean()), *_percentiles(cash), float(cumulative.mean()),
               *_percentiles(cumulative), p, se], fmts)
    s.finish()


def cash_year_values(ds: xr.Dataset) -> Iterator[tuple[str, int, np.ndarray, np.ndarray, float, float]]:
    """Per contract and calendar year: the cash and cumulative cash of every simulation and
    P(reserve runs out) with its error (the rows of the Cash by year sheet)."""
    for name in ds["contract"].values:
        cash = ds["cash_by_year"].sel(contract=name).values
        cumulative = np.cumsum(cash, axis=1)
        for j, year in enumerate(ds["cash_year"].values):
            yield (str(name), int(year), cash[:, j], cumulative[:, j],
                   float(ds["p_cash_below_reserve"].sel(contract=name).values[j]),
                   float(ds["p_cash_below_reserve_se"].sel(contract=name).values[j]))


def _percentiles(x: np.ndarray) -> list[float]:
    return [float(np.quantile(x, q / 100.0, method="inverted_cdf")) for q in PERCENTILES]


def _cash_items(s: _Sheet, ds: xr.Dataset) -> None:
    years = [int(y) for y in ds["cash_year"].values]
    s.row(["contract", "item", "what it is"] + [str(y) for y in years] + ["total"], head=True)
    for name in ds["contract"].values:
        items = ds["cash_items"].sel(contract=name)
        for item in ds["cash_item"].values:
            values = [float(x) for x in items.sel(cash_item=item).values]
            s.row([str(name), str(item), ITEMS[str(item)], *values, sum(values)],
                  [None, None, None] + [MONEY] * (len(values) + 1))
    s.finish()


def _paths_by_year(s: _Sheet, ds: xr.Dataset) -> None:
    s.row(["contract", "performance year", "level", "expected result", "± (MC error)", "P(loss)", "±",
           "1-in-20 loss (VaR95)", "±", "savings rate (mean)", "repayment mechanism (mean)", "P(loss > RM)", "±"],
          head=True)
    fmts = [None, YEAR, None, MONEY, MONEY, PROB, PROB, MONEY, MONEY, RATE, MONEY, PROB, PROB]
    for name in ds["contract"].values:
        for year in ds["year"].values:
            v = ds["summary_by_year"].sel(contract=name, year=year)
            e = ds["summary_by_year_se"].sel(contract=name, year=year)
            rate = ds["savings_rate_by_year"].sel(contract=name, year=year).values
            rm = ds["repayment_mechanism"].sel(contract=name, year=year).values
            s.row([str(name), int(year), str(ds["level"].sel(contract=name, year=year).values),
                   float(v.sel(measure="mean")), float(e.sel(measure="mean")),
                   float(v.sel(measure="p_loss")), float(e.sel(measure="p_loss")),
                   float(v.sel(measure="VaR95")), float(e.sel(measure="VaR95")),
                   float(np.nanmean(rate)) if not np.isnan(rate).all() else None,
                   float(rm.mean()) if rm.max() > 0 else None,
                   float(ds["p_loss_above_rm"].sel(contract=name, year=year)) if rm.max() > 0 else None,
                   float(ds["p_loss_above_rm_se"].sel(contract=name, year=year)) if rm.max() > 0 else None], fmts)
    s.finish()


def _decision(s: _Sheet, ranking: Ranking) -> None:
    s.row(["objective", ranking.objective], head=False)
    s.row(["recommended", ranking.recommended or "none meets every limit"])
    s.blank()
    s.row(["contract", "score", "± (MC error)", "limit", "value", "±", "your limit", "verdict",
           "within 2 MC errors of the limit"], head=True)
    for a in ranking.assessments:
        if not a.checks:
            s.row([a.contract, a.score, a.score_se], [None, MONEY, MONEY])
        for c in a.checks:
            fmt = PROB if c.limit.measure.startswith("p_") else MONEY
            s.row([a.contract, a.score, a.score_se, c.limit.label, c.value, c.se, c.limit.value, c.verdict,
                   "yes" if c.close else "no"], [None, MONEY, MONEY, None, fmt, fmt, fmt, None, None])
    s.finish()


def _assumptions(s: _Sheet, ds: xr.Dataset, scenario: Scenario) -> None:
    s.row(["scenario field", "value", "source"], head=True)
    for path, value, source in scenario_fields(scenario):
        s.row([path, value, source], [None, NUMBER, None])
    s.blank()
    s.row(["contract", "performance years", "preset", "term", "value", "confidence", "source"], head=True)
    for row in contract_terms(scenario):
        s.row(list(row), [None, None, None, None, NUMBER, None, None])
    s.blank()
    s.row(["rules and cash in effect", "", "source"], head=True)
    for line in rule_lines(ds):
        s.row([line, "", "simsuite rules (run header)"])
    for line in finance_lines(ds):
        s.row([line, "", "simsuite cash flows (simsuite.results.cashflow)"])
    s.finish()


def scenario_fields(scenario: Scenario) -> list[tuple[str, Any, str]]:
    """Every leaf field of the scenario: dotted path, value (numbers as numbers, anything
    else as text), and ``"scenario file"`` or ``"default"`` (with the default's source
    where simsuite holds one)."""
    out: list[tuple[str, Any, str]] = []

    def leaf(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return "" if value is None else value
        return str(value)

    def walk(model: BaseModel, prefix: str, given: bool) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            path = f"{prefix}{name}"
            here = given and name in model.model_fields_set
            if isinstance(value, BaseModel):
                walk(value, path + ".", here)
            elif isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
                for i, item in enumerate(value):
                    walk(item, f"{path}.{i}.", here)
            elif isinstance(value, dict) and value:
                for key, item in value.items():
                    out.append((f"{path}.{key}", leaf(item), "scenario file" if here else "default"))
            else:
                out.append((path, leaf(value), "scenario file" if here else _default_source(path)))

    walk(scenario.spec, "", True)
    return out


def _default_source(path: str) -> str:
    """'default', with the source simsuite holds for it."""
    from simsuite.data.reference import dynamics_defaults

    known = {"dynamics.churn": dynamics_defaults()["churn"]["source"],
             "dynamics.stay": dynamics_defaults()["stay"]["target"]["source"]}
    if path in known:
        return f"default: {known[path]}"
    if path.startswith("finance.settlement"):
        from simsuite.contracts.mssp_cash import MSSP_TIMING

        return f"default: {MSSP_TIMING.source}"
    return "default (simsuite.scenario schema)"


def contract_terms(scenario: Scenario) -> list[tuple[str, str, str, str, Any, str, str]]:
    """Each contract's terms: contract, performance years, preset, term, value, confidence,
    source (a path lists each distinct year's terms once, with the years they settle)."""
    rows: list[tuple[str, str, str, str, Any, str, str]] = []
    for c, spec in zip(scenario.contracts, scenario.spec.contracts):
        years: list[tuple[str, str, Contract]]  # (variant, year, contract)
        if isinstance(c, PathContract):
            years = [(variant, str(y), yc) for variant, contracts in c.plan.variants()
                     for y, yc in zip(c.plan.years, contracts)]
            stated = set(getattr(c.path, "overrides", {})) | ({"msr"} if getattr(c.path, "msr", None) is not None
                                                             else set())
            assumed = c.plan.assumed_terms
        else:
            assumed = frozenset()
            years = [("", "every year" if scenario.spec.horizon is not None else str(scenario.spec.performance_year),
                      c)]
            stated = set(spec.overrides)
        groups: dict[tuple[str, str, str], list[str]] = {}
        by_key: dict[tuple[str, str, str], Contract] = {}
        for variant, label, yc in years:
            key = (variant, yc.preset, yc.terms.model_dump_json())
            groups.setdefault(key, []).append(label)
            by_key[key] = yc
        for key, labels in groups.items():
            yc = by_key[key]
            sources = get_preset(yc.preset).sources if yc.preset != "custom" else {}
            span = labels[0] if len(labels) == 1 else f"{labels[0]}-{labels[-1]}"
            span += f" ({key[0]})" if key[0] else ""
            for term, value in yc.terms.model_dump().items():
                if yc.preset == "custom" or term in stated or any((key[0], int(y), term) in assumed
                                                                   for y in labels if y.isdigit()):
                    confidence, source = "stated", "scenario file"
                else:
                    confidence, source = sources.get(term, ("", "preset (no source recorded)"))
                rows.append((c.name, span, yc.preset, term, value if isinstance(value, (int, float, str))
                             and not isinstance(value, bool) else str(value), confidence, source))
    return rows
