"""The comparison table printed by ``simsuite run``: each figure with its Monte Carlo error."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr


COLUMNS = (
    ("mean", "expected result", "money"),
    ("sd", "sd", "money"),
    ("p_loss", "P(loss)", "prob"),
    ("p_shared_savings", "P(savings paid)", "prob"),
    ("VaR95", "1-in-20 loss (VaR95)", "money"),
    ("TVaR95", "TVaR95", "money"),
    ("VaR99", "1-in-100 loss (VaR99)", "money"),
    ("TVaR99", "TVaR99", "money"),
)


def money(x: float) -> str:
    """Dollars in a short form: $1.23M, -$456.7k, $89."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}${x / 1e6:,.2f}M"
    if round(x) >= 1e3:
        return f"{sign}${x / 1e3:,.1f}k"
    return f"{sign}${x:,.0f}"


def _cell(value: float, se: float, kind: str) -> str:
    if kind == "prob":
        return f"{100 * value:.1f}% ±{100 * se:.1f}"
    return f"{money(value)} ±{money(se).lstrip('$')}"


def comparison_table(ds: xr.Dataset) -> str:
    """Plain-text table of the risk summary, one row per contract, errors beside values.

    Money is per year from the provider's side: a positive expected result is money
    received; VaR and TVaR are losses (positive = money lost).
    """
    header = ["contract"] + [title for _, title, _ in COLUMNS]
    rows = [header]
    for name in ds["contract"].values:
        v = ds["summary"].sel(contract=name)
        e = ds["summary_se"].sel(contract=name)
        rows.append([str(name)] + [_cell(float(v.sel(measure=m)), float(e.sel(measure=m)), kind)
                                   for m, _, kind in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for j, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_header(ds: xr.Dataset) -> str:
    """Two lines that say what was simulated."""
    a = ds.attrs
    bench = ds["benchmark"].dropna("contract")
    lines = [
        f"{a['title']}  (PY{a['performance_year']}, {a['panel']}, "
        f"{a['simulations']:,} simulations, seed {a['seed']})",
    ]
    if bench.size:
        sr = ds["savings_rate"].sel(contract=bench["contract"][0])
        lines.append(
            f"benchmark {money(float(bench[0]))}/yr; simulated savings rate mean "
            f"{100 * float(sr.mean()):.2f}%, sd {100 * float(sr.std()):.2f}%"
        )
    lines.append("money per year, provider's side (+ = received); '±' = Monte Carlo standard error")
    return "\n".join(lines)
