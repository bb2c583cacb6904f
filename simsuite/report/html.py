"""The HTML report: one self-contained file a finance lead can read on a laptop or print.

Everything is inline (CSS, figures as base64 PNG): the file opens without a network.
Sections: the scenario in plain words, the recommendation, the comparison table with
Monte Carlo errors, the figures, and how to read them.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import xarray as xr
from matplotlib.figure import Figure

from simsuite import __version__
from simsuite.analysis.decision import OptionValue, choose, has_cash, option_values
from simsuite.analysis.ranking import Ranking
from simsuite.analysis.ratchet import RatchetReport, ratchet_report
from simsuite.analysis.sweep import crossings, sensitivity, sweep
from simsuite.engines.montecarlo import RunOptions, options_for
from simsuite.engines.montecarlo import run as run_scenario
from simsuite.formatting import money
from simsuite.report import cash_figures, figures
from simsuite.report.cash import finance_lines, ratchet_rows, reserve_rows, value_rows
from simsuite.report.tables import (
    COLUMNS,
    GUARANTEE_COLUMNS,
    crossing_text,
    cumulative_rows,
    guarantee_cells,
    has_guarantees,
    is_multiyear,
    rule_lines,
    years_rows,
)
from simsuite.scenario.load import Scenario
from simsuite.scenario.schema import RiskAppetite

#: Panel sizes of the report's sweep, as multiples of the scenario's panel.
SIZE_FACTORS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)

_CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --rule: #d8dde5; --accent: #1f5fa8; --ok: #226b2f; --bad: #9b2c2c; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 8px; border-bottom: 2px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
.meta { color: var(--muted); font-size: 0.9em; margin: 0 0 16px; }
.recommendation { background: #eef4fb; border-left: 5px solid var(--accent); padding: 12px 16px; margin: 12px 0; }
.recommendation p { margin: 4px 0; }
.recommendation p.lead { font-weight: 600; font-size: 1.05em; }
table.comparison { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 0.92em; }
table.comparison th, table.comparison td { padding: 6px 8px; border-bottom: 1px solid var(--rule); text-align: right; white-space: nowrap; }
table.comparison th:first-child, table.comparison td:first-child { text-align: left; }
table.comparison thead th { background: #f3f5f8; vertical-align: bottom; white-space: normal; }
table.comparison tr.recommended td { background: #eef7ee; font-weight: 600; }
table.comparison td .se { color: var(--muted); font-weight: normal; font-size: 0.85em; }
.excluded { color: var(--bad); } .qualifies { color: var(--ok); }
figure { margin: 20px 0; page-break-inside: avoid; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 0.9em; margin-top: 4px; }
ul.crossings { margin: 4px 0 0 18px; padding: 0; }
.notes { color: var(--muted); font-size: 0.88em; }
@media print {
  @page { size: auto; margin: 14mm 12mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  .recommendation, table.comparison { page-break-inside: avoid; break-inside: avoid; }
  .recommendation, table.comparison thead th, table.comparison tr.recommended td {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure img { border: none; max-height: 120mm; width: auto; max-width: 100%; }
}
"""


@dataclass(frozen=True)
class ReportInputs:
    """What the report shows, computed once (also handy in a notebook)."""

    scenario: Scenario
    results: xr.Dataset
    ranking: Ranking
    sizes: xr.Dataset | None
    sensitivity: xr.Dataset | None
    options: tuple[OptionValue, ...] = ()
    ratchet: RatchetReport | None = None


def compute(scenario: Scenario, options: RunOptions | None = None, appetite: RiskAppetite | None = None,
            side_sims: int | None = None, sizes: Sequence[int] | None = None, with_sensitivity: bool = True,
            progress: Callable[[int], None] | None = None) -> ReportInputs:
    """Run the scenario, the panel-size sweep and the sensitivity analysis.

    Parameters
    ----------
    options : RunOptions, optional
        The main run (the scenario's ``run`` section by default).
    appetite : RiskAppetite, optional
        The risk appetite for the recommendation.
    side_sims : int, optional
        Simulations per point of the sweep and the sensitivity runs (default: a fifth
        of the main run, at least 2,000): their figures show trends, not the table.
    sizes : sequence of int, optional
        Panel sizes of the sweep; default `SIZE_FACTORS` times the scenario's panel.
        An empty sequence skips the sweep.
    """
    options = options or options_for(scenario)
    ds = run_scenario(scenario, options, progress)
    ranking = choose(ds, appetite)
    side = RunOptions(simulations=side_sims or max(2000, options.simulations // 5), seed=options.seed,
                      threads=options.threads)
    values = tuple(option_values(ds, scenario, ranking)) if has_cash(ds) else ()
    ratchet = None
    if scenario.spec.horizon is not None and scenario.spec.horizon.agreements > 1:
        ratchet = ratchet_report(scenario, side, progress=progress)
    if sizes is None:
        sizes = default_sizes(scenario)
    if scenario.patients is not None:
        sizes = []  # a patients file fixes the panel: there is no size to vary
    size_ds = sweep(scenario, "population.beneficiaries", list(sizes), side, progress) if len(sizes) > 1 else None
    sens = sensitivity(scenario, side, progress=progress) if with_sensitivity else None
    return ReportInputs(scenario, ds, ranking, size_ds, sens, values, ratchet)


def default_sizes(scenario: Scenario) -> list[int]:
    """`SIZE_FACTORS` times the panel, leaving out sizes some contract cannot settle
    (e.g. below the 500 beneficiaries where the MSSP variable MSR table starts, or below
    the 5,000 whose rules are not published for MSSP agreements from 2027)."""
    n = scenario.n_beneficiaries
    sizes = sorted({max(1, int(round(n * f))) for f in SIZE_FACTORS})
    facts = scenario.facts
    return [m for m in sizes
            if not any(c.panel_problem(m) or c.rule_problem(replace(facts, n_beneficiaries=m))
                       for c in scenario.contracts)]


def total_simulations(scenario: Scenario, options: RunOptions, side_sims: int | None = None,
                      n_sizes: int = len(SIZE_FACTORS), with_sensitivity: bool = True) -> int:
    """All the simulations `compute` runs, for a progress bar's length."""
    from simsuite.analysis.sweep import SENSITIVITY_DELTAS

    side = side_sims or max(2000, options.simulations // 5)
    if scenario.patients is not None:
        n_sizes = 0  # no size sweep for a patients-file panel (see `compute`)
    extra = (n_sizes if n_sizes > 1 else 0) + ((1 + 2 * len(SENSITIVITY_DELTAS)) if with_sensitivity else 0)
    horizon = scenario.spec.horizon
    if horizon is not None and horizon.agreements > 1:
        extra += 2  # the ratchet: the scenario with and without its saving
    return options.simulations + extra * side


def figure_tag(fig: Figure, alt: str, dpi: int = 110) -> str:
    """An ``<img>`` with the figure embedded as a base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def scenario_in_words(scenario: Scenario) -> str:
    """Paragraphs that say, without jargon, what was simulated (HTML)."""
    s = scenario.spec
    a, cm, pop = s.assumptions, s.cost_model, s.population
    mix = (pop.mix.as_dict() if scenario.patients is None else  # a patients file sets the mix
           {t: n / len(scenario.patients) for t, n in scenario.patients.counts().items()})
    names = {"esrd": "ESRD", "disabled": "disabled", "aged_dual": "aged dual-eligible", "aged_non_dual": "aged non-dual"}
    mix_text = ", ".join(f"{100 * v:.1f}% {names[k]}" for k, v in mix.items())
    saving = a.savings_mean  # true_savings may be a number or {mean, sd}
    effect = (f"spends {100 * saving:.1f}% less than it otherwise would" if saving > 0 else
              f"spends {100 * -saving:.1f}% more than it otherwise would" if saving < 0 else
              "has no real effect on spending")
    if not isinstance(a.true_savings, (int, float)):
        effect += f" on average (uncertain: standard deviation {100 * a.true_savings.sd:.1f} points)"
    margin = (f"{100 * a.benchmark_margin:.1f}% above" if a.benchmark_margin > 0 else
              f"{100 * -a.benchmark_margin:.1f}% below" if a.benchmark_margin < 0 else "equal to")
    contracts = "; ".join(f"<b>{html.escape(c.name)}</b> ({html.escape(c.preset)}, {html.escape(c.status)})"
                          for c in scenario.contracts)
    if s.horizon is not None:
        h = s.horizon
        when = (f"over performance years {h.performance_years[0]}-{h.performance_years[-1]} ({h.agreements} "
                f"agreement period{'s' if h.agreements > 1 else ''} from {h.agreement_start}, the first being the "
                f"organisation's agreement number {h.agreement_number}; its benchmark built from the simulated "
                f"spending of {h.first_year}-{h.agreement_start - 1})")
    else:
        when = f"in performance year {s.performance_year}"
    paras = [
        f"A panel of <b>{pop.beneficiaries:,}</b> assigned Medicare beneficiaries ({mix_text}) {when}. Each beneficiary's yearly cost is drawn at random: no cost with probability "
        f"{100 * cm.zero_cost_share:.0f}%, otherwise a heavy-tailed amount (a mixture of a typical and a high-cost lognormal) whose average follows national "
        f"Medicare spending for the enrollment type, scaled by the beneficiary's risk score and trended "
        f"{100 * cm.annual_trend:.1f}% a year.",
        f"The organisation {effect}. "
        + ("A path's benchmark is built from the panel's simulated spending in its benchmark years as CMS builds "
           "it (see the rules below); a one-year contract's is the panel's expected cost without the effort, moved "
           "by the region's simulated trend. " if s.horizon is not None else
           f"Its benchmark is {margin} the panel's expected cost without that effort. ")
        +
        f"Quality score {100 * a.quality_score:.0f}% "
        + (f"(standard {html.escape(a.quality_standard.replace('_', ' '))} in every simulated year)."
           if a.quality_standard is not None else
           "(whether each simulated year meets the quality standard follows its score; see the rules below)."),
        f"Contracts compared on the same simulated years: {contracts}.",
    ]
    return "\n".join(f"<p>{p}</p>" for p in paras)


def comparison_html(ds: xr.Dataset, ranking: Ranking | None = None) -> str:
    """The comparison table (as `simsuite.report.tables.comparison_table`) with errors beside values, as HTML."""
    status = {a.contract: a.qualifies for a in ranking.assessments} if ranking and ranking.limits else {}
    guarantees = has_guarantees(ds)
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in COLUMNS)
    if guarantees:
        head += "".join(f"<th>{html.escape(title)}</th>" for title in GUARANTEE_COLUMNS)
    extra = "<th>meets your limits</th>" if status else ""
    rows = []
    for name in ds["contract"].values:
        name = str(name)
        cells = []
        for measure, _, kind in COLUMNS:
            v = float(ds["summary"].sel(contract=name, measure=measure))
            e = float(ds["summary_se"].sel(contract=name, measure=measure))
            if kind == "prob":
                cells.append(f"{100 * v:.1f}% <span class='se'>±{100 * e:.1f}</span>")
            else:
                cells.append(f"{money(v)} <span class='se'>±{money(e).lstrip('$')}</span>")
        if guarantees:
            cells += [html.escape(c) for c in guarantee_cells(ds, name)]
        tail = ""
        if status:
            tail = ("<td class='qualifies'>yes</td>" if status[name] else "<td class='excluded'>no</td>")
        cls = " class='recommended'" if ranking is not None and name == ranking.recommended else ""
        rows.append(f"<tr{cls}><td>{html.escape(name)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + tail + "</tr>")
    return (f"<table class='comparison'><thead><tr><th>contract</th>{head}{extra}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def rows_html(rows: list[list[str]], css: str) -> str:
    """A header row and body rows of text cells as an HTML table (``±`` errors set in grey)."""
    def cell(text: str) -> str:
        value, _, error = text.partition(" ±")
        return html.escape(value) + (f" <span class='se'>±{html.escape(error)}</span>" if error else "")

    head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def years_html(ds: xr.Dataset) -> str:
    """The multi-year section: each year, then the whole horizon."""
    a = ds.attrs
    notes = f"<p class='notes'>{html.escape(a['notes'])}</p>" if a.get("notes") else ""
    return (f"<h2>The years of the agreement</h2>{notes}"
            "<p class='notes'>Each performance year: the level or track, the expected result and its 1-in-20 loss, "
            "the chance of a loss and of a loss larger than the repayment mechanism CMS requires (42 CFR "
            "425.204(f)), where one is required.</p>"
            f"{rows_html(years_rows(ds), 'comparison years')}"
            f"<p class='notes'>Over PY{html.escape(str(a['years']))}: the sum of the years, undiscounted.</p>"
            f"{rows_html(cumulative_rows(ds), 'comparison')}")


def agreement_html(inputs: ReportInputs) -> str:
    """The agreement's cash, value and decision (a run with a ``finance`` section): the value
    and liquidity table, when the reserve runs out, the recommendation and the option to stay
    in Level A, the ratchet, the cash and NPV figures, and the cash notes."""
    ds, ranking = inputs.results, inputs.ranking
    e = html.escape
    a = ds.attrs
    lead = f"<p class='lead'>{e(ranking.reasons[0])}</p>"
    options = "".join(f"<p>{e(o.text())}</p>" for o in inputs.options)
    notes = "".join(f"<li>{e(line)}</li>" for line in finance_lines(ds))
    fan = figure_tag(cash_figures.cash_fan_chart(ds), "savings rate and cumulative cash over the years")
    npv = figure_tag(cash_figures.npv_distribution(ds, ranking.recommended), "net present value of each path")
    return (f"<h2 id='agreement-decision'>Cash, value and the path to take</h2>"
            f"<p class='notes'>Every cash flow on the month it moves (settlements months after the year ends, "
            f"costs as they are paid, advance payments and their recoupment); net present value at "
            f"{100 * float(a['discount_rate']):.2f}% a year to {e(str(a['valuation_date']))}; a reserve of "
            f"{e(money(float(a['reserve'])))}. &plusmn; is the Monte Carlo standard error.</p>"
            f"{rows_html(value_rows(ds), 'comparison')}"
            f"<p class='notes'>Chance that the reserve runs out during each calendar year:</p>"
            f"{rows_html(reserve_rows(ds), 'comparison years')}"
            f"<div class='recommendation'>{lead}{options}</div>"
            f"<figure>{fan}<figcaption><b>Savings rate and cash over the years.</b> Medians, middle 50% and "
            f"90% of simulations; the dotted line is where the reserve runs out.</figcaption></figure>"
            f"<figure>{npv}<figcaption><b>Net present value of each path.</b> Boxes: middle 50% of simulations; "
            f"whiskers: 5th to 95th percentile; diamond: mean.</figcaption></figure>"
            f"<p class='notes'>How the cash is dated and who pays what:</p><ul class='rules'>{notes}</ul>")


def ratchet_html(report: RatchetReport) -> str:
    """The ratchet (`simsuite.analysis.ratchet`): what share of a lasting saving each
    agreement's benchmark credits; empty without a path through several agreements."""
    if not report.rows:
        return ""
    e = html.escape
    return ("<h3>The ratchet: what a lasting saving is worth after rebasing</h3>"
            f"<p class='notes'>The scenario run again without its saving, on the same draws "
            f"({report.simulations:,} simulations each): the share of the spending the saving removes that each "
            "agreement's benchmark still credits (42 CFR 425.652(c), 425.656, 425.658).</p>"
            f"{rows_html(ratchet_rows(report), 'comparison')}"
            + "".join(f"<p>{e(line)}</p>" for line in report.text().split("\n")))


def rules_html(ds: xr.Dataset) -> str:
    """The rules in effect the results depend on (thresholds and their sources, stated defaults,
    approximations, the repayment mechanism's meaning), as a list; empty if there are none."""
    lines = rule_lines(ds)
    if has_guarantees(ds):
        lines.append("repayment mechanism: the guarantee a two-sided MSSP ACO must hold, the lesser of 0.5% of its "
                     "assigned beneficiaries' Parts A and B expenditure and 1% of its participants' revenue "
                     "(42 CFR 425.204(f)(4)); P(owed > RM): the chance the year's shared losses exceed it")
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<p class='notes'>Rules in effect:</p><ul class='rules'>{items}</ul>"


def render(inputs: ReportInputs) -> str:
    """The whole report as one HTML document (a string)."""
    ds, ranking, sc = inputs.results, inputs.ranking, inputs.scenario
    appetite = ranking.appetite
    e = html.escape
    reasons = list(ranking.reasons)
    rec_html = f"<p class='lead'>{e(reasons[0])}</p>" + "".join(f"<p>{e(r)}</p>" for r in reasons[1:])
    if not ranking.limits and appetite.risk_aversion is None:
        rec_html += ("<p><i>No risk appetite was given (scenario section <code>risk_appetite</code> or "
                     "<code>--max-var95</code>, <code>--max-p-loss</code>, <code>--max-tvar95</code>, "
                     "<code>--risk-aversion</code>), so contracts are ranked by expected result alone.</i></p>")
    panels = [
        (figures.risk_return(ds, ranking.recommended, appetite.max_tvar95), "Risk and return",
         "Up is more money expected; left is a smaller average loss in the worst 5% of years. "
         "Bars: ±2 Monte Carlo standard errors. The ringed contract is the recommendation."),
        (figures.exceedance_curves(ds), "Chance of losing more than a given amount",
         "Where a curve crosses the dotted 1-in-20 line is the contract's 1-in-20 loss (VaR95)."),
        (figures.loss_distribution(ds), "Loss distributions",
         "Share of simulated years in each loss bracket (log scale); dashed lines: 1-in-20 loss."),
    ]
    if is_multiyear(ds) and not has_cash(ds):
        panels.append((figures.fan_chart(ds), "Over the years",
                       "Savings rate and cumulative result by performance year: median line, middle 50% and 90% "
                       "of simulations. A renewal rebuilds the benchmark from the ACO's own recent spending."))
    else:
        panels.append((figures.payoff_diagram(ds, inputs.scenario), "What each contract pays",
                       "Settlement against the savings rate, over the simulated spread of savings rates (grey): "
                       "the flat parts are minimum savings/loss rates and caps."))
    if inputs.sizes is not None:
        panels.append((figures.panel_size_curves(inputs.sizes, appetite), "Panel size",
                        f"Each point is {inputs.sizes.attrs['simulations']:,} simulations with the same random "
                        "draws; bands ±2 standard errors. A 1-in-20 loss can jump where the chance of any loss "
                        "passes 5%."))
    if inputs.sensitivity is not None:
        panels.append((figures.tornado(inputs.sensitivity), "Sensitivity to the assumptions",
                        "Change in expected result and 1-in-20 loss when one assumption moves, all else fixed. "
                        "The 1-in-20 loss of a contract whose chance of loss is near 5% can jump by its whole "
                        "loss size."))
    fig_html = "\n".join(
        f"<figure>{figure_tag(f, title)}<figcaption><b>{e(title)}.</b> {e(caption)}</figcaption></figure>"
        for f, title, caption in panels)
    cross_html = ""
    if inputs.sizes is not None and appetite.limits():
        found = crossings(inputs.sizes, appetite)
        if found:
            items = "".join(f"<li>{e(crossing_text(c, 'population.beneficiaries'))}</li>" for c in found)
            cross_html = f"<p>Along the panel-size sweep:</p><ul class='crossings'>{items}</ul>"
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    a = ds.attrs
    multiyear = is_multiyear(ds)
    period = f"over PY{a['years']} (the sum of the years)" if multiyear else "per performance year"
    unit = "agreement" if multiyear else "year"  # what one simulation is
    years_section = years_html(ds) if multiyear else ""
    if inputs.ratchet is not None:
        years_section += ratchet_html(inputs.ratchet)
    if has_cash(ds):
        years_section += agreement_html(inputs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(str(a.get('title', 'simsuite report')))}</title>
<style>{_CSS}</style></head>
<body>
<h1>{e(str(a.get('title', '')))}</h1>
<p class="meta">simsuite {e(__version__)} &middot; {now} &middot; scenario {e(str(a.get('scenario_source', '')))} &middot;
{int(a['simulations']):,} simulations, seed {a['seed']}</p>
<h2>The scenario</h2>
{scenario_in_words(sc)}
<h2>Recommendation</h2>
<div class="recommendation">{rec_html}{cross_html}</div>
<h2>Comparison</h2>
<p class="notes">Money {e(period)} from the provider's side: a positive expected result is money received;
the loss measures (1-in-20 loss, TVaR) are money lost. &plusmn; is the Monte Carlo standard error: rerunning with
another seed moves a figure by about that much.</p>
{comparison_html(ds, ranking)}
{rules_html(ds)}
{years_section}
<h2>Figures</h2>
{fig_html}
<h2>How these numbers are made</h2>
<p class="notes">Every contract is settled on the same simulated {e(unit)}s (common random numbers), so differences between
contracts are not noise. The 1-in-20 loss (VaR95) is the loss exceeded in 5% of simulated {e(unit)}s; TVaR95 is the average
loss in those worst 5% (Acerbi&ndash;Tasche); P(loss) is the share of simulated {e(unit)}s with a loss. Standard errors:
the mean's is sd/&radic;n, a probability's is the binomial one, VaR's uses the density of the simulated losses around
the quantile (Siddiqui&ndash;Hall&ndash;Sheather), TVaR's the asymptotic formula of Manistre and Hancock.</p>
</body></html>
"""
