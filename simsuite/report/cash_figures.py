"""Figures of an agreement's cash flows (a multi-year run with a ``finance`` section): the
savings rate and the cumulative cash over the years, and each path's net present value.

Each is a function of a results Dataset returning a matplotlib Figure, in the colours of
`simsuite.report.figures`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from simsuite.report.figures import _contract_colors, _dollars, _fan, _title


def cash_fan_chart(ds: xr.Dataset) -> Figure:
    """Savings rate by performance year (left) and cumulative cash at the end of each
    calendar year (right): medians, middle 50% and 90% of simulations. The dotted line on
    the right is where the reserve runs out (minus the reserve)."""
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    colors = _contract_colors(ds)
    years = ds["year"].values
    cash_years = ds["cash_year"].values
    # Paths on the same benchmark and spending have the same savings rate: drawn once.
    rates: list[tuple[np.ndarray, list[str]]] = []
    for name in ds["contract"].values:
        rate = ds["savings_rate_by_year"].sel(contract=name).values
        if np.isnan(rate).all():
            continue
        same = next((names for r, names in rates if np.array_equal(r, rate, equal_nan=True)), None)
        if same is not None:
            same.append(str(name))
        else:
            rates.append((rate, [str(name)]))
    for rate, names in rates:
        _fan(left, years, rate, colors[names[0]], names[0] if len(names) == 1 else f"{len(names)} paths: {names[0]}, ...")
    for name in ds["contract"].values:
        cumulative = np.cumsum(ds["cash_by_year"].sel(contract=name).values, axis=1)
        _fan(right, cash_years, cumulative, colors[str(name)], str(name))
    left.yaxis.set_major_formatter(FuncFormatter(lambda x, _p=None: f"{100 * x:.1f}%"))
    left.set_ylabel("savings rate: (benchmark - spending) / benchmark")
    left.set_xticks(years)
    left.set_xlabel("performance year")
    left.legend(loc="upper left", fontsize="small", title="same savings rate" if any(len(n) > 1 for _, n in rates)
                else None, title_fontsize="small")
    right.yaxis.set_major_formatter(FuncFormatter(_dollars))
    right.set_ylabel("cumulative cash at the end of the year")
    right.set_xticks(cash_years)
    right.set_xlabel("calendar year (settlements arrive the year after)")
    reserve = float(ds.attrs.get("reserve", 0.0))
    if reserve > 0:
        right.axhline(-reserve, color="0.3", linestyle=":", linewidth=1.2, label="reserve runs out")
    for ax in (left, right):
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.tick_params(axis="x", labelrotation=45)
        ax.grid(alpha=0.3)
    right.legend(loc="upper left", fontsize="small")
    fig.suptitle(_title(ds, "savings rate and cash over the years: median, middle 50% and 90% of simulations"))
    return fig


def npv_distribution(ds: xr.Dataset, recommended: str | None = None) -> Figure:
    """Each path's net present value: a box for the middle 50% of simulations, whiskers to
    the 5th and 95th percentiles, a diamond at the mean; the chance it is negative beside it."""
    names = [str(n) for n in ds["contract"].values]
    colors = _contract_colors(ds)
    fig = Figure(figsize=(9, 0.9 + 0.75 * len(names)), layout="constrained")
    ax = fig.add_subplot()
    for k, name in enumerate(reversed(names)):
        values = ds["npv"].sel(contract=name).values
        q5, q25, q50, q75, q95 = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
        color = colors[name]
        ax.plot([q5, q95], [k, k], color=color, linewidth=1.4)
        ax.add_patch(_box(q25, q75, k, color))
        ax.plot([q50, q50], [k - 0.25, k + 0.25], color="0.15", linewidth=1.6)
        ax.plot(values.mean(), k, marker="D", color="0.15", markersize=6)
        p = float(np.mean(values < 0))
        ax.annotate(f"P(NPV<0) {100 * p:.1f}%", (q95, k), xytext=(6, -3), textcoords="offset points",
                    fontsize="small", color="0.25")
    labels = [f"{n}  \u2605" if n == recommended else n for n in reversed(names)]
    ax.set_yticks(range(len(names)), labels)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.set_xlabel(f"net present value at {float(ds.attrs.get('discount_rate', 0.0)):.1%} a year "
                  f"to {ds.attrs.get('valuation_date', '')}")
    ax.margins(x=0.12)
    ax.grid(alpha=0.3, axis="x")
    fig.legend(handles=[Line2D([], [], color="0.3", label="5th-95th percentile"),
                        Line2D([], [], color="0.15", marker="D", linestyle="", label="mean"),
                        Line2D([], [], color="0.15", label="median")],
               loc="outside lower center", ncols=3, fontsize="small")
    fig.suptitle(_title(ds, "net present value of each path (\u2605 recommended)"))
    return fig


def _box(lo: float, hi: float, y: float, color: str) -> Rectangle:
    return Rectangle((lo, y - 0.25), max(hi - lo, 0.0), 0.5, facecolor=color, alpha=0.45, edgecolor=color)
