"""Tables of an agreement's cash, value and decision: printed by ``simsuite run``, set in the
HTML report and the workbook (`simsuite.report.workbook`) from the same rows.

Money from the organisation's side (+ = received); ``±`` is the Monte Carlo standard error.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simsuite.formatting import money
from simsuite.report.tables import _cell as value_cell
from simsuite.report.tables import render_table

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.analysis.ratchet import RatchetReport

#: Columns of the value table: (finance measure, header, kind).
VALUE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("npv", "expected NPV", "money"),
    ("p_npv_negative", "P(NPV < 0)", "prob"),
    ("p_cumulative_loss", "P(loss over the horizon)", "prob"),
    ("cumulative_VaR95", "1-in-20 loss over it", "money"),
    ("cash_low", "lowest cash balance (mean)", "money"),
    ("cash_low_1in20", "1-in-20 lowest cash", "money"),
    ("p_cash_below_reserve", "P(reserve runs out)", "prob"),
    ("payback_year", "payback (median year)", "year"),
)


def _cell(value: float, se: float, kind: str) -> str:
    if kind == "year":
        return "not within the horizon" if not math.isfinite(value) else f"{value:.0f}"
    return value_cell(value, se, kind)


def value_rows(ds: xr.Dataset) -> list[list[str]]:
    """Per contract: net present value, chance of a loss over the horizon, its 1-in-20 loss,
    the lowest cash balance, the chance the reserve runs out, the payback year; header first."""
    rows = [["contract"] + [title for _, title, _ in VALUE_COLUMNS]]
    for name in ds["contract"].values:
        v = ds["finance_summary"].sel(contract=name)
        e = ds["finance_summary_se"].sel(contract=name)
        rows.append([str(name)] + [_cell(float(v.sel(finance_measure=m)), float(e.sel(finance_measure=m)), kind)
                                   for m, _, kind in VALUE_COLUMNS])
    return rows


def reserve_rows(ds: xr.Dataset) -> list[list[str]]:
    """P(the reserve runs out during the year) by contract and calendar year; header first."""
    years = [int(y) for y in ds["cash_year"].values]
    rows = [["contract"] + [str(y) for y in years]]
    for name in ds["contract"].values:
        p = ds["p_cash_below_reserve"].sel(contract=name).values
        se = ds["p_cash_below_reserve_se"].sel(contract=name).values
        rows.append([str(name)] + [_cell(float(a), float(b), "prob") for a, b in zip(p, se)])
    return rows


def cash_year_rows(ds: xr.Dataset) -> list[list[str]]:
    """Per contract and calendar year: mean cash, 5th and 95th percentiles, mean cumulative cash."""
    rows = [["contract", "year", "cash (mean)", "5th percentile", "95th percentile", "cumulative (mean)"]]
    for name in ds["contract"].values:
        cash = ds["cash_by_year"].sel(contract=name).values
        cumulative = cash.cumsum(axis=1)
        for j, year in enumerate(ds["cash_year"].values):
            rows.append([str(name), str(int(year)), money(float(cash[:, j].mean())),
                         money(float(_quantile(cash[:, j], 0.05))), money(float(_quantile(cash[:, j], 0.95))),
                         money(float(cumulative[:, j].mean()))])
    return rows


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q, method="inverted_cdf"))


def ratchet_rows(report: RatchetReport) -> list[list[str]]:
    """The ratchet report's rows; header first."""
    rows = [["contract", "agreement", "years", "spending removed / yr", "share credited by the benchmark",
             "share of the first agreement's credit surviving", "gain under the contract / yr"]]
    for r in report.rows:
        rows.append([r.contract, str(r.agreement), f"{r.years[0]}-{r.years[1]}", money(r.spending_removed),
                     f"{100 * r.share_credited:.1f}% ±{100 * r.share_credited_se:.1f}",
                     f"{100 * r.survives:.1f}% ±{100 * r.survives_se:.1f}",
                     f"{money(r.settlement_gain)} ±{money(r.settlement_gain_se).lstrip('$')}"])
    return rows


def value_table(ds: xr.Dataset) -> str:
    """`value_rows` as plain text."""
    return render_table(value_rows(ds))


def reserve_table(ds: xr.Dataset) -> str:
    """`reserve_rows` as plain text."""
    return render_table(reserve_rows(ds))


def finance_lines(ds: xr.Dataset) -> list[str]:
    """The notes on the cash flows (``ds.attrs["finance_notes"]``), one per line."""
    return [line for line in str(ds.attrs.get("finance_notes", "")).split("\n") if line]
