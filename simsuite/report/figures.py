"""Figures, each a function of a results Dataset returning a matplotlib Figure.

Figures are built on `matplotlib.figure.Figure` directly (no pyplot state), so they
work headless and in notebooks alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simsuite.analysis.sweep import crossings
from simsuite.engines.settlement_inputs import payoff_grid as settle_on_grid
from simsuite.scenario.schema import RiskAppetite

if TYPE_CHECKING:
    from simsuite.scenario.load import Scenario


def _dollars(x: float, _pos: object = None) -> str:
    sign = "\u2212" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        # Up to two decimals, trailing zeros dropped, so ticks at 1.25M are not shown as 1.2M.
        return f"{sign}${x / 1e6:,.2f}".rstrip("0").rstrip(".") + "M"
    if x >= 1e3:
        return f"{sign}${x / 1e3:,.0f}k"
    return f"{sign}${x:,.0f}"


def _percent(x: float, _pos: object = None) -> str:
    return f"{100 * x:.3g}%"


def _text_dollars(x: float) -> str:
    """`_dollars` escaped for titles and labels: two '$' in one string would start mathtext."""
    return _dollars(x).replace("$", r"\$")


def loss_distribution(ds: xr.Dataset, bins: int = 80) -> Figure:
    """Distribution of the annual loss (``-net``) of every contract, on one set of axes.

    Each contract is a step curve of the share of simulations per bin (bins shared by
    all contracts, so atoms such as "no settlement" show as tall bins); a dashed
    vertical line of the same colour marks its 95% VaR. Contracts whose result never
    varies (e.g. FFS) are listed in the legend with their constant value.
    """
    # Fixed margins rather than constrained layout: this figure is drawn on every
    # `simsuite run`, and the layout solver would double its rendering time.
    fig = Figure(figsize=(9, 5.2))
    fig.subplots_adjust(left=0.11, right=0.96, bottom=0.1, top=0.89)
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
        f"{ds.attrs.get('title', '')}\nloss distributions, "
        f"{ds.attrs.get('panel', '')}, {ds.sizes['sim']:,} simulations"
    )
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def _contract_colors(ds: xr.Dataset) -> dict[str, str]:
    """One colour per contract, the same in every figure (matplotlib's cycle, by position)."""
    return {str(name): f"C{i}" for i, name in enumerate(ds["contract"].values)}


def _title(ds: xr.Dataset, what: str) -> str:
    return f"{ds.attrs.get('title', '')}: {what}"


def exceedance_curves(ds: xr.Dataset) -> Figure:
    """Probability that the annual loss exceeds each amount, log scale, per contract.

    ``P(L > x)`` against ``x`` (dollars of loss, positive = money lost). The dotted
    horizontal lines are the 1-in-20 (5%) and 1-in-100 (1%) levels: where a curve
    crosses them is its VaR95 and VaR99. Contracts that never lose are listed in the
    legend only.
    """
    fig = Figure(figsize=(9, 5.2), layout="constrained")
    ax = fig.add_subplot()
    colors = _contract_colors(ds)
    n = ds.sizes["sim"]
    for name, color in colors.items():
        loss = np.sort(-ds["net"].sel(contract=name).values)
        if loss[-1] <= 0:
            ax.plot([], [], color=color, label=f"{name}: never loses")
            continue
        # Survival P(L > x) just after each sorted value: (n - i - 1) / n at loss[i].
        surv = 1.0 - np.arange(1, n + 1) / n
        keep = (loss > 0) & (surv > 0)
        ax.step(loss[keep], surv[keep], where="post", color=color, linewidth=1.6, label=name)
    for level, text in ((0.05, "1 in 20"), (0.01, "1 in 100")):
        ax.axhline(level, color="0.4", linestyle=":", linewidth=1.0)
        ax.annotate(text, (1.0, level), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize="small", color="0.3")
    ax.set_yscale("log")
    ax.set_ylim(0.5 / n, 1.0)
    ax.set_xlim(left=0.0)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.set_xlabel("annual loss to the provider, dollars")
    ax.set_ylabel("probability the loss is larger (log scale)")
    ax.set_title(_title(ds, "chance of losing more than a given amount"))
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3, which="both")
    return fig


def payoff_grid(ds: xr.Dataset, rates: np.ndarray, scenario: Scenario | None = None) -> dict[str, np.ndarray]:
    """Each contract's settlement at each savings rate, dollars (positive = to the provider).

    See `simsuite.engines.settlement_inputs.payoff_grid`. Without ``scenario`` it is
    rebuilt from the text stored in ``ds`` (data files it names are replaced by a
    generated panel of the same size; the contracts need only the panel size).

    Parameters
    ----------
    ds : xarray.Dataset
        Results of `simsuite.run`.
    rates : ndarray
        Savings rates as fractions (0.02 = spending 2% below the benchmark).
    scenario : Scenario, optional
        The scenario ``ds`` was run from.
    """
    if scenario is None:
        import yaml

        from simsuite.scenario.load import scenario_from_dict
        from simsuite.scenario.owndata import without_data_files

        scenario = scenario_from_dict(without_data_files(yaml.safe_load(ds.attrs["scenario"]),
                                                         ds.attrs["beneficiaries"]))
    return settle_on_grid(scenario, rates)


def payoff_diagram(ds: xr.Dataset, scenario: Scenario | None = None, points: int = 401) -> Figure:
    """Settlement of each contract against the savings rate, over the simulated density.

    Lines: money to the provider (dollars, left axis) if the panel spends ``rate``
    below its benchmark, computed by settling each contract on a grid of rates.
    Grey area: the share of simulations at each savings rate (right axis), so the
    figure shows both what each contract pays and how likely each outcome is.
    """
    fig = Figure(figsize=(9, 5.2), layout="constrained")
    ax = fig.add_subplot()
    colors = _contract_colors(ds)
    with_bench = ds["benchmark"].dropna("contract")
    if with_bench.size:
        sr = ds["savings_rate"].sel(contract=with_bench["contract"][0]).values
        lo, hi = np.quantile(sr, [0.0005, 0.9995])
        pad = 0.25 * (hi - lo) + 1e-3
        lo, hi = lo - pad, hi + pad
    else:
        sr, lo, hi = None, -0.05, 0.05
    rates = np.linspace(lo, hi, points)
    density_ax = ax.twinx()
    if sr is not None:
        counts, edges = np.histogram(sr, bins=60, range=(lo, hi))
        density_ax.stairs(counts / sr.size, edges, fill=True, color="0.85", zorder=0)
        density_ax.set_ylim(0, 3.0 * counts.max() / sr.size)  # keep the density in the lower third
        density_ax.yaxis.set_major_formatter(FuncFormatter(_percent))
        density_ax.set_ylabel("share of simulations per bin (grey)", color="0.45")
        density_ax.tick_params(axis="y", colors="0.45")
    ax.set_zorder(density_ax.get_zorder() + 1)  # lines above the grey density
    ax.patch.set_visible(False)
    payoffs = payoff_grid(ds, rates, scenario)
    for name, net in payoffs.items():
        ax.plot(rates, net, color=colors[name], linewidth=1.8, label=name)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p=None: f"{100 * x:.0f}%"))
    ax.yaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.set_xlim(lo, hi)
    ax.set_xlabel("savings rate: (benchmark − spending) / benchmark")
    ax.set_ylabel("settlement: money to the provider per year")
    ax.set_title(_title(ds, "what each contract pays at each savings rate"))
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def risk_return(ds: xr.Dataset, recommended: str | None = None, max_tvar95: float | None = None) -> Figure:
    """Expected result against TVaR95 per contract, with ±2 standard-error bars.

    Up is better (more money expected); left is safer (a smaller average loss in the
    worst 5% of years). ``recommended`` is ringed and labelled; ``max_tvar95`` (a
    limit in dollars) is drawn as a dashed vertical line.
    """
    fig = Figure(figsize=(8, 5.2), layout="constrained")
    ax = fig.add_subplot()
    colors = _contract_colors(ds)
    s, e = ds["summary"], ds["summary_se"]
    for name, color in colors.items():
        x, y = float(s.sel(contract=name, measure="TVaR95")), float(s.sel(contract=name, measure="mean"))
        xe, ye = float(e.sel(contract=name, measure="TVaR95")), float(e.sel(contract=name, measure="mean"))
        ax.errorbar(x, y, xerr=2 * xe, yerr=2 * ye, fmt="o", color=color, markersize=8, capsize=3)
        ax.annotate(name, (x, y), xytext=(8, 6), textcoords="offset points", color=color, fontweight="bold")
        if name == recommended:
            ax.plot(x, y, marker="o", markersize=20, markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.6)
            ax.annotate("recommended", (x, y), xytext=(8, -14), textcoords="offset points", fontsize="small")
    if max_tvar95 is not None:
        ax.axvline(max_tvar95, color="0.3", linestyle="--", linewidth=1.0)
        ax.annotate("your TVaR95 limit", (max_tvar95, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -14),
                    textcoords="offset points", fontsize="small")
    ax.margins(x=0.15, y=0.15)
    ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.yaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.set_xlabel("TVaR95: average loss in the worst 1-in-20 years (← safer)")
    ax.set_ylabel("expected result per year (↑ better)")
    ax.set_title(_title(ds, "risk and return (bars: ±2 standard errors)"))
    ax.grid(alpha=0.3)
    return fig


_SWEEP_PANELS = (
    ("mean", "expected result", "max", "min_expected_result"),
    ("p_loss", "P(loss)", "prob", "max_p_loss"),
    ("VaR95", "1-in-20 loss (VaR95)", "max", "max_var95"),
)


def panel_size_curves(sweep_ds: xr.Dataset, appetite: RiskAppetite | None = None) -> Figure:
    """Expected result, P(loss) and VaR95 of each contract along a sweep (panel size first of all).

    Lines with ±2 standard-error bands; a dashed line per limit of ``appetite`` (a
    `simsuite.scenario.schema.RiskAppetite`), with a marker where each contract crosses it
    (linear interpolation between sweep points).
    """
    fig = Figure(figsize=(13, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    colors = _contract_colors(sweep_ds)
    x = np.asarray(sweep_ds["sweep"].values)
    numeric = np.issubdtype(x.dtype, np.number)
    xs = x.astype(float) if numeric else np.arange(x.size, dtype=float)
    cross = crossings(sweep_ds, appetite) if (appetite is not None and numeric) else []
    for ax, (measure, label, kind, field) in zip(axes, _SWEEP_PANELS):
        for name, color in colors.items():
            y = sweep_ds["summary"].sel(contract=name, measure=measure).values
            se = sweep_ds["summary_se"].sel(contract=name, measure=measure).values
            ax.plot(xs, y, marker="o", markersize=3.5, color=color, label=name)
            ax.fill_between(xs, y - 2 * se, y + 2 * se, color=color, alpha=0.18, linewidth=0)
        limit = getattr(appetite, field, None) if appetite is not None else None
        if limit is not None:
            ax.axhline(limit, color="0.2", linestyle="--", linewidth=1.0)
            ax.annotate("your limit" if field != "min_expected_result" else "your floor", (0.0, limit),
                        xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points", fontsize="small")
            for c in cross:
                if c.measure == measure:
                    ax.plot(c.at, c.limit, marker="X", markersize=10, color=colors[c.contract], markeredgecolor="black")
        ax.yaxis.set_major_formatter(FuncFormatter(_percent if kind == "prob" else _dollars))
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in x])
        ax.set_xlabel(sweep_ds.attrs.get("param", "value").replace("population.beneficiaries", "beneficiaries"))
    if numeric and x.min() > 0 and x.max() / x.min() > 8:
        for ax in axes:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p=None: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p=None: ""))
            ax.set_xticks(xs)
    axes[0].legend(fontsize="small", loc="best")
    param = sweep_ds.attrs.get("param", "the swept value").replace("population.beneficiaries", "panel size")
    fig.suptitle(_title(sweep_ds, f"results against {param} "
                                  f"(bands ±2 SE; X = crossing a limit)"))
    return fig


def tornado(sens: xr.Dataset, measures: tuple[str, ...] = ("mean", "VaR95")) -> Figure:
    """Change of the expected result and VaR95 when each assumption moves by ±delta.

    One panel per measure, one row per assumption (largest swing on top), one bar
    pair per contract: solid = the assumption raised, hatched = lowered; bars start
    at the base value (change 0). Contracts whose measure never changes are left out
    of that panel; an assumption that moves no contract's measure at all (e.g. the
    high-cost share when costs are resampled from a history) is labelled "no effect
    here" rather than shown as an empty row. ``sens`` is `simsuite.analysis.sweep.sensitivity` output.
    """
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    axes = fig.subplots(1, len(measures))
    axes = np.atleast_1d(axes)
    names = [str(c) for c in sens["contract"].values]
    colors = {n: f"C{i}" for i, n in enumerate(names)}
    labels = [str(x) for x in sens["label"].values]
    for ax, measure in zip(axes, measures):
        change = sens["summary"].sel(measure=measure) - sens["base"].sel(measure=measure)  # (factor, side, contract)
        moving = [n for n in names if float(np.abs(change.sel(contract=n)).max()) > 0]
        swing = np.abs(change.sel(contract=moving)).max(("side", "contract")).values if moving else np.zeros(len(labels))
        order = np.argsort(swing)  # smallest at the bottom, largest on top
        height = 0.8 / max(len(moving), 1)
        for row, f in enumerate(order):
            for j, n in enumerate(moving):
                y = row - 0.4 + height * (j + 0.5)
                lo = float(change.isel(factor=f).sel(side="low", contract=n))
                hi = float(change.isel(factor=f).sel(side="high", contract=n))
                # Draw the longer bar first so a shorter one in the same direction stays visible.
                bars = sorted([(hi, "high"), (lo, "low")], key=lambda t: -abs(t[0]))
                for value, side in bars:
                    ax.barh(y, value, height=height * 0.9, color=colors[n],
                            alpha=1.0 if side == "high" else 0.45,
                            hatch=None if side == "high" else "///", edgecolor=colors[n], linewidth=0.5)
        inert = [bool((change.isel(factor=f) == 0).all()) for f in range(len(labels))]
        ax.set_yticks(range(len(order)), [labels[f] + (" (no effect here)" if inert[f] else "") for f in order])
        ax.axvline(0.0, color="0.2", linewidth=0.9)
        base_lines = ", ".join(f"{n} {_text_dollars(float(sens['base'].sel(contract=n, measure=measure)))}"
                               for n in moving)
        what = "expected result" if measure == "mean" else ("1-in-20 loss (VaR95)" if measure == "VaR95" else measure)
        ax.set_title(f"change in {what}\nbase: {base_lines or 'no contract varies'}", fontsize="medium")
        ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
        ax.set_xlabel("change from the base scenario, dollars per year")
        ax.grid(alpha=0.3, axis="x")
    from matplotlib.patches import Patch

    handles = [Patch(color=colors[n], label=n) for n in names if n in set().union(
        *[{m for m in names if float(np.abs((sens["summary"] - sens["base"]).sel(contract=m, measure=ms)).max()) > 0}
          for ms in measures])]
    handles += [Patch(facecolor="0.3", label="assumption raised (+delta)"),
                Patch(facecolor="0.75", hatch="///", edgecolor="0.3", label="assumption lowered (−delta)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize="small")
    fig.suptitle(f"{sens.attrs.get('title', '')}: sensitivity to each assumption, one at a time "
                 f"({sens.attrs.get('simulations', 0):,} simulations each, same random draws)")
    return fig


def fan_chart(ds: xr.Dataset) -> Figure:
    """The years of an agreement: savings rate and cumulative result by year, with percentile bands.

    Left: each contract's savings rate ``(benchmark - expenditure) / benchmark`` by
    performance year. Right: the cumulative result (money to the provider, summed year
    by year). Lines are medians; the bands hold the middle 50% and 90% of simulations.
    Contracts without a benchmark are left out of the left panel.
    """
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    colors = _contract_colors(ds)
    years = ds["year"].values
    for name in ds["contract"].values:
        color = colors[str(name)]
        rate = ds["savings_rate_by_year"].sel(contract=name).values
        if not np.isnan(rate).all():
            _fan(left, years, rate, color, str(name))
        cumulative = np.cumsum(ds["net_by_year"].sel(contract=name).values, axis=1)
        _fan(right, years, cumulative, color, str(name))
    left.yaxis.set_major_formatter(FuncFormatter(lambda x, _p=None: f"{100 * x:.1f}%"))
    left.set_ylabel("savings rate: (benchmark - spending) / benchmark")
    left.axhline(0.0, color="0.5", linewidth=0.8)
    right.yaxis.set_major_formatter(FuncFormatter(_dollars))
    right.set_ylabel("cumulative money to the provider")
    right.axhline(0.0, color="0.5", linewidth=0.8)
    for ax in (left, right):
        ax.set_xticks(years)
        ax.tick_params(axis="x", labelrotation=45)
        ax.set_xlabel("performance year")
        ax.grid(alpha=0.3)
    right.legend(loc="upper left", fontsize="small")
    fig.suptitle(_title(ds, "over the years: median, middle 50% and 90% of simulations"))
    return fig


def _fan(ax, years: np.ndarray, values: np.ndarray, color: str, label: str) -> None:
    """Median line and 50% / 90% bands of ``values`` (simulations x years)."""
    q = np.nanquantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(years, q[0], q[4], color=color, alpha=0.12, linewidth=0)
    ax.fill_between(years, q[1], q[3], color=color, alpha=0.25, linewidth=0)
    ax.plot(years, q[2], color=color, linewidth=1.8, label=label)
