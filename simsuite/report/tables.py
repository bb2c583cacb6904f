"""Plain-text tables: the comparison printed by ``simsuite run``, sweeps, ``simsuite settle``.

Every table is laid out by `render_table` (columns padded to their widest cell, a dashed
line under the header); money and probabilities are shown as `simsuite.formatting` does.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from simsuite.formatting import money
from simsuite.scenario.schema import Limit

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.analysis.sweep import Crossing


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


def render_table(rows: Sequence[Sequence[str]], left: Collection[int] = (0,)) -> str:
    """Rows of cells as aligned text: the first row is the header, underlined with dashes;
    columns in ``left`` are left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for j, r in enumerate(rows):
        cells = [c.ljust(w) if k in left else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: float, se: float, kind: str) -> str:
    if kind == "prob":
        return f"{100 * value:.1f}% ±{100 * se:.1f}"
    return f"{money(value)} ±{money(se).lstrip('$')}"


GUARANTEE_COLUMNS = ("repayment mechanism", "P(owed > RM)")


def has_guarantees(ds: xr.Dataset) -> bool:
    """Whether some contract of ``ds`` requires a financial guarantee (MSSP repayment mechanism)."""
    return "guarantee" in ds and bool(np.isfinite(ds["guarantee"].values).any())


def guarantee_cells(ds: xr.Dataset, name: str) -> list[str]:
    """The repayment mechanism of contract ``name`` and P(owed > it) ± its error; '-' where none."""
    g = float(ds["guarantee"].sel(contract=name))
    if not math.isfinite(g):
        return ["-", "-"]
    p = float(ds["p_owed_exceeds_guarantee"].sel(contract=name))
    se = float(ds["p_owed_exceeds_guarantee_se"].sel(contract=name))
    return [money(g), _cell(p, se, "prob")]


def comparison_table(ds: xr.Dataset) -> str:
    """Plain-text table of the risk summary, one row per contract, errors beside values.

    Money is per year from the provider's side: a positive expected result is money
    received; VaR and TVaR are losses (positive = money lost). When a contract requires a
    financial guarantee (two-sided MSSP: the repayment mechanism, 42 CFR 425.204(f)(4)),
    two more columns give it and the probability that the year's amount owed exceeds it.
    """
    guarantees = has_guarantees(ds)
    header = ["contract"] + [title for _, title, _ in COLUMNS] + (list(GUARANTEE_COLUMNS) if guarantees else [])
    rows = [header]
    for name in ds["contract"].values:
        v = ds["summary"].sel(contract=name)
        e = ds["summary_se"].sel(contract=name)
        rows.append([str(name)] + [_cell(float(v.sel(measure=m)), float(e.sel(measure=m)), kind)
                                   for m, _, kind in COLUMNS]
                    + (guarantee_cells(ds, str(name)) if guarantees else []))
    return render_table(rows)


def is_multiyear(ds: xr.Dataset) -> bool:
    """Whether ``ds`` holds the years of an agreement (a run of a scenario with a horizon)."""
    return "year" in ds.dims


def rule_lines(ds: xr.Dataset) -> list[str]:
    """The rules in effect the results depend on (``ds.attrs["rules"]``), one per line."""
    text = str(ds.attrs.get("rules", ""))
    return [line for line in text.split("\n") if line]


def run_header(ds: xr.Dataset) -> str:
    """The lines that say what was simulated, then the rules in effect (``rule: ...``)."""
    a = ds.attrs
    bench = ds["benchmark"].dropna("contract")
    if is_multiyear(ds):
        lines = [f"{a['title']}  (PY{a['years']}, agreement {a['agreement_number']} from {a['agreement_start']}, "
                 f"{a['panel']}, {a['simulations']:,} simulations, seed {a['seed']})"]
        if a.get("notes"):
            lines.append(f"note: {a['notes']}")
        lines.append("money from the provider's side (+ = received), undiscounted; "
                     "'±' = Monte Carlo standard error")
        lines += [f"rule: {line}" for line in rule_lines(ds)]
        return "\n".join(lines)
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
    lines += [f"rule: {line}" for line in rule_lines(ds)]
    return "\n".join(lines)


def years_table(ds: xr.Dataset) -> str:
    """Per contract and performance year: the level, the expected result, P(loss), the
    1-in-20 loss, the mean savings rate and P(the year's loss exceeds the repayment
    mechanism) where one is required."""
    return render_table(years_rows(ds), left={0, 2})


def years_rows(ds: xr.Dataset) -> list[list[str]]:
    """The rows of `years_table`, header first."""
    header = ["contract", "PY", "level", "expected result", "P(loss)", "1-in-20 loss (VaR95)", "savings rate",
              "P(loss > RM)"]
    rows = [header]
    for name in ds["contract"].values:
        for year in ds["year"].values:
            v = ds["summary_by_year"].sel(contract=name, year=year)
            e = ds["summary_by_year_se"].sel(contract=name, year=year)
            rate = ds["savings_rate_by_year"].sel(contract=name, year=year)
            rm = float(ds["repayment_mechanism"].sel(contract=name, year=year).max())
            rows.append([
                str(name), str(int(year)), str(ds["level"].sel(contract=name, year=year).values),
                _cell(float(v.sel(measure="mean")), float(e.sel(measure="mean")), "money"),
                _cell(float(v.sel(measure="p_loss")), float(e.sel(measure="p_loss")), "prob"),
                _cell(float(v.sel(measure="VaR95")), float(e.sel(measure="VaR95")), "money"),
                "-" if bool(np.isnan(rate).all()) else _rate_cell(rate.values),
                "-" if rm <= 0 else _cell(float(ds["p_loss_above_rm"].sel(contract=name, year=year)),
                                           float(ds["p_loss_above_rm_se"].sel(contract=name, year=year)), "prob"),
            ])
    return rows


def _rate_cell(rates: np.ndarray) -> str:
    """Mean savings rate over the simulations, in percent, with its Monte Carlo standard error."""
    return f"{100 * rates.mean():.2f}% ±{100 * rates.std() / np.sqrt(rates.size):.2f}"


def cumulative_table(ds: xr.Dataset) -> str:
    """Per contract, the result over all the performance years (the sum, undiscounted)."""
    return render_table(cumulative_rows(ds))


def cumulative_rows(ds: xr.Dataset) -> list[list[str]]:
    """The rows of `cumulative_table`, header first."""
    header = ["contract", "expected total", "sd", "P(total loss)", "P(any loss year)", "P(loss > RM, some year)",
              "1-in-20 total loss (VaR95)", "TVaR95"]
    rows = [header]
    for name in ds["contract"].values:
        v = ds["summary"].sel(contract=name)
        e = ds["summary_se"].sel(contract=name)
        rows.append([
            str(name),
            *[_cell(float(v.sel(measure=m)), float(e.sel(measure=m)), kind)
              for m, kind in (("mean", "money"), ("sd", "money"), ("p_loss", "prob"))],
            _cell(float(ds["p_any_loss_year"].sel(contract=name)), float(ds["p_any_loss_year_se"].sel(contract=name)),
                  "prob"),
            "-" if float(ds["repayment_mechanism"].sel(contract=name).max()) <= 0 else
            _cell(float(ds["p_loss_above_rm_any"].sel(contract=name)),
                  float(ds["p_loss_above_rm_any_se"].sel(contract=name)), "prob"),
            *[_cell(float(v.sel(measure=m)), float(e.sel(measure=m)), "money") for m in ("VaR95", "TVaR95")],
        ])
    return rows


def sweep_table(ds: xr.Dataset) -> str:
    """Plain-text table of a sweep: per value and contract, expected result, P(loss), VaR95."""
    param = ds.attrs.get("param", "value")
    header = [param, "contract", "expected result", "P(loss)", "1-in-20 loss (VaR95)"]
    rows = [header]
    for x in ds["sweep"].values:
        for name in ds["contract"].values:
            v = ds["summary"].sel(sweep=x, contract=name)
            e = ds["summary_se"].sel(sweep=x, contract=name)
            rows.append([
                f"{x:,}" if isinstance(x, (int, np.integer)) else str(x),
                str(name),
                f"{money(float(v.sel(measure='mean')))} ±{money(float(e.sel(measure='mean'))).lstrip('$')}",
                f"{100 * float(v.sel(measure='p_loss')):.1f}% ±{100 * float(e.sel(measure='p_loss')):.1f}",
                f"{money(float(v.sel(measure='VaR95')))} ±{money(float(e.sel(measure='VaR95'))).lstrip('$')}",
            ])
    return render_table(rows, left={1})


def crossing_text(c: Crossing, param: str) -> str:
    """One sentence, e.g. "BASIC E: 1-in-20 loss rises above your $1.00M limit at about
    7,400 (population.beneficiaries, between 5,000 and 10,000)"."""
    lim = Limit(c.measure, c.limit, upper=c.measure != "mean")
    where = (f"about {_num(c.at)} beneficiaries" if param == "population.beneficiaries"
             else f"{param} ≈ {_num(c.at)}")
    return (f"{c.contract}: {lim.label} {c.direction} your {lim.show(c.limit)} "
            f"{'limit' if lim.upper else 'floor'} at {where} "
            f"(between {_num(c.between[0])} and {_num(c.between[1])}; linear interpolation)")


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def whole_dollars(x: float) -> str:
    return f"{x:,.0f}"


def _pct(x: float) -> str:
    return "" if math.isnan(x) else f"{100 * x:.2f}%"


def settle_table(result: dict[str, np.ndarray]) -> str:
    """Plain-text table: one line per ACO-year, money in whole dollars, rates in percent."""
    header = ["ACO", "PY", "track", "savings rate", "MSR", "gross", "share", "loss rate",
              "caps", "net to ACO"]
    rows = [header]
    for i in range(len(result["net"])):
        caps = ",".join(
            label for label, name in (("savings", "savings_cap_bound"), ("loss", "loss_cap_bound"),
                                      ("half-rate", "reduced_below_msr"))
            if result[name][i]
        )
        rows.append([
            str(result["aco_id"][i]) or f"row {i + 1}",
            str(result["performance_year"][i]),
            str(result["track"][i]),
            _pct(result["savings_rate"][i]),
            _pct(result["msr"][i]),
            whole_dollars(result["gross_savings"][i]),
            _pct(result["sharing_rate"][i]),
            _pct(result["loss_rate"][i]) if result["loss_rate"][i] else "",
            caps or "-",
            whole_dollars(result["net"][i]),
        ])
    return render_table(rows, left={0, 2, 8})
