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
from dataclasses import dataclass
from typing import Callable, Sequence

import xarray as xr
from matplotlib.figure import Figure

from simsuite import __version__, plots
from simsuite.engine import RunOptions, options_for
from simsuite.engine import run as run_scenario
from simsuite.ranking import Ranking, RiskAppetite, rank
from simsuite.scenario import Scenario
from simsuite.summary_table import COLUMNS, money
from simsuite.sweep import crossing_text, crossings, sensitivity, sweep

#: Panel sizes of the report's sweep, as multiples of the scenario's panel.
SIZE_FACTORS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)

_CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --rule: #d8dde5; --accent: #1f5fa8; --ok: #226b2f; --bad: #9b2c2c; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 8px; border-bottom: 2px solid var(--rule); padding-bottom: 4px; }
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
    ranking = rank(ds, appetite)
    side = RunOptions(simulations=side_sims or max(2000, options.simulations // 5), seed=options.seed,
                      threads=options.threads)
    n = scenario.spec.population.beneficiaries
    if sizes is None:
        sizes = default_sizes(scenario)
    if scenario.patients is not None:
        sizes = []  # a patients file fixes the panel: there is no size to vary
    size_ds = sweep(scenario, "population.beneficiaries", list(sizes), side, progress) if len(sizes) > 1 else None
    sens = sensitivity(scenario, side, progress=progress) if with_sensitivity else None
    return ReportInputs(scenario, ds, ranking, size_ds, sens)


def default_sizes(scenario: Scenario) -> list[int]:
    """`SIZE_FACTORS` times the panel, leaving out sizes some contract cannot settle
    (e.g. below the 500 beneficiaries where the MSSP variable MSR table starts)."""
    n = scenario.spec.population.beneficiaries
    sizes = sorted({max(1, int(round(n * f))) for f in SIZE_FACTORS})
    return [m for m in sizes if not any(c.panel_problem(m) for c in scenario.contracts)]


def total_simulations(scenario: Scenario, options: RunOptions, side_sims: int | None = None,
                      n_sizes: int = len(SIZE_FACTORS), with_sensitivity: bool = True) -> int:
    """All the simulations `compute` runs, for a progress bar's length."""
    from simsuite.sweep import SENSITIVITY_DELTAS

    side = side_sims or max(2000, options.simulations // 5)
    if scenario.patients is not None:
        n_sizes = 0  # no size sweep for a patients-file panel (see `compute`)
    extra = (n_sizes if n_sizes > 1 else 0) + ((1 + 2 * len(SENSITIVITY_DELTAS)) if with_sensitivity else 0)
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
    paras = [
        f"A panel of <b>{pop.beneficiaries:,}</b> assigned Medicare beneficiaries ({mix_text}) in performance "
        f"year {s.performance_year}. Each beneficiary's yearly cost is drawn at random: no cost with probability "
        f"{100 * cm.zero_cost_share:.0f}%, otherwise a heavy-tailed amount (a mixture of a typical and a high-cost lognormal) whose average follows national "
        f"Medicare spending for the enrollment type, scaled by the beneficiary's risk score and trended "
        f"{100 * cm.annual_trend:.1f}% a year.",
        f"The organisation {effect}. Its benchmark is {margin} the panel's expected cost without that effort. "
        f"Quality score {100 * a.quality_score:.0f}% (standard {html.escape(a.quality_standard.replace('_', ' '))}).",
        f"Contracts compared on the same simulated years: {contracts}.",
    ]
    return "\n".join(f"<p>{p}</p>" for p in paras)


def comparison_html(ds: xr.Dataset, ranking: Ranking | None = None) -> str:
    """The comparison table (as `simsuite.summary_table`) with errors beside values, as HTML."""
    status = {a.contract: a.qualifies for a in ranking.assessments} if ranking and ranking.appetite.limits() else {}
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in COLUMNS)
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
        tail = ""
        if status:
            tail = ("<td class='qualifies'>yes</td>" if status[name] else "<td class='excluded'>no</td>")
        cls = " class='recommended'" if ranking is not None and name == ranking.recommended else ""
        rows.append(f"<tr{cls}><td>{html.escape(name)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + tail + "</tr>")
    return (f"<table class='comparison'><thead><tr><th>contract</th>{head}{extra}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def render(inputs: ReportInputs) -> str:
    """The whole report as one HTML document (a string)."""
    ds, ranking, sc = inputs.results, inputs.ranking, inputs.scenario
    appetite = ranking.appetite
    e = html.escape
    reasons = list(ranking.reasons)
    rec_html = f"<p class='lead'>{e(reasons[0])}</p>" + "".join(f"<p>{e(r)}</p>" for r in reasons[1:])
    if not appetite.limits() and appetite.risk_aversion is None:
        rec_html += ("<p><i>No risk appetite was given (scenario section <code>risk_appetite</code> or "
                     "<code>--max-var95</code>, <code>--max-p-loss</code>, <code>--max-tvar95</code>, "
                     "<code>--risk-aversion</code>), so contracts are ranked by expected result alone.</i></p>")
    figures = [
        (plots.risk_return(ds, ranking.recommended, appetite.max_tvar95), "Risk and return",
         "Up is more money expected; left is a smaller average loss in the worst 5% of years. "
         "Bars: ±2 Monte Carlo standard errors. The ringed contract is the recommendation."),
        (plots.exceedance_curves(ds), "Chance of losing more than a given amount",
         "Where a curve crosses the dotted 1-in-20 line is the contract's 1-in-20 loss (VaR95)."),
        (plots.loss_distribution(ds), "Loss distributions",
         "Share of simulated years in each loss bracket (log scale); dashed lines: 1-in-20 loss."),
        (plots.payoff_diagram(ds), "What each contract pays",
         "Settlement against the savings rate, over the simulated spread of savings rates (grey): "
         "the flat parts are minimum savings/loss rates and caps."),
    ]
    if inputs.sizes is not None:
        figures.append((plots.panel_size_curves(inputs.sizes, appetite), "Panel size",
                        f"Each point is {inputs.sizes.attrs['simulations']:,} simulations with the same random "
                        "draws; bands ±2 standard errors. A 1-in-20 loss can jump where the chance of any loss "
                        "passes 5%."))
    if inputs.sensitivity is not None:
        figures.append((plots.tornado(inputs.sensitivity), "Sensitivity to the assumptions",
                        "Change in expected result and 1-in-20 loss when one assumption moves, all else fixed. "
                        "The 1-in-20 loss of a contract whose chance of loss is near 5% can jump by its whole "
                        "loss size."))
    fig_html = "\n".join(
        f"<figure>{figure_tag(f, title)}<figcaption><b>{e(title)}.</b> {e(caption)}</figcaption></figure>"
        for f, title, caption in figures)
    cross_html = ""
    if inputs.sizes is not None and appetite.limits():
        found = crossings(inputs.sizes, appetite)
        if found:
            items = "".join(f"<li>{e(crossing_text(c, 'population.beneficiaries'))}</li>" for c in found)
            cross_html = f"<p>Along the panel-size sweep:</p><ul class='crossings'>{items}</ul>"
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    a = ds.attrs
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
<p class="notes">Money per performance year from the provider's side: a positive expected result is money received;
the loss measures (1-in-20 loss, TVaR) are money lost. &plusmn; is the Monte Carlo standard error: rerunning with
another seed moves a figure by about that much.</p>
{comparison_html(ds, ranking)}
<h2>Figures</h2>
{fig_html}
<h2>How these numbers are made</h2>
<p class="notes">Every contract is settled on the same simulated years (common random numbers), so differences between
contracts are not noise. The 1-in-20 loss (VaR95) is the loss exceeded in 5% of simulated years; TVaR95 is the average
loss in those worst 5% of years (Acerbi&ndash;Tasche); P(loss) is the share of years with any loss. Standard errors:
the mean's is sd/&radic;n, a probability's is the binomial one, VaR's uses the density of the simulated losses around
the quantile (Siddiqui&ndash;Hall&ndash;Sheather), TVaR's the asymptotic formula of Manistre and Hancock.</p>
</body></html>
"""


def write_report(text: str, path) -> None:
    """Write the report atomically (a failed run leaves no half-written file)."""
    from simsuite.output import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
