"""Figures, each a function of a results Dataset returning a matplotlib Figure.

Figures are built on `matplotlib.figure.Figure` directly (no pyplot state), so they
work headless and in notebooks alike.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter


def _dollars(x: float, _pos: object = None) -> str:
    sign = "\u2212" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}${x / 1e6:,.1f}M"
    if x >= 1e3:
        return f"{sign}${x / 1e3:,.0f}k"
    return f"{sign}${x:,.0f}"


def _percent(x: float, _pos: object = None) -> str:
    return f"{100 * x:.2g}%"


def loss_distribution(ds: xr.Dataset, bins: int = 80) -> Figure:
    """Distribution of the annual loss (``-net``) of every contract, on one set of axes.

    Each contract is a step curve of the share of simulations per bin (bins shared by
    all contracts, so atoms such as "no settlement" show as tall bins); a dashed
    vertical line of the same colour marks its 95% VaR. Contracts whose result never
    varies (e.g. FFS) are listed in the legend with their constant value.
    """
    fig = Figure(figsize=(9, 5.2), layout="constrained")
    ax = fig.add_subplot()
    loss = -ds["net"]
    lo, hi = float(loss.min()), float(loss.max())
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    colors = [f"C{i}" for i in range(ds.sizes["contract"])]
    for color, name in zip(colors, ds["contract"].values):
        values = loss.sel(contract=name).values
        var95 = float(ds["summary"].sel(contract=name, measure="VaR95"))
        if np.ptp(values) == 0:
            ax.plot([], [], color=color, label=f"{name}: always {_dollars(-values[0])}")
            continue
        counts, _ = np.histogram(values, bins=edges)
        share = counts / values.size
        ax.stairs(share, edges, color=color, linewidth=1.6, label=f"{name} (VaR95 {_dollars(var95)})")
        ax.axvline(var95, color=color, linestyle="--", linewidth=1.0)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.5 / ds.sizes["sim"])
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.axvline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("annual loss to the provider (negative = gain); dashed: 95% VaR")
    ax.set_ylabel("share of simulations per bin (log scale)")
    ax.set_title(
        f"{ds.attrs.get('title', '')}: loss distributions, "
        f"{ds.attrs.get('beneficiaries', 0):,} beneficiaries, {ds.sizes['sim']:,} simulations"
    )
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)
    return fig
