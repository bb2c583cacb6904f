"""Fit of the variance model's systemic parts to CMS's MSSP results (``simsuite calibrate variance``).

**Targets** (`simsuite.tools.variance_targets`, PY2013-2021, 3,860 ACO-years): by size
quintile, the SD of the year-demeaned savings rate across ACO-years and the SD of its
year-to-year change over sqrt(2); pooled over sizes, the correlation of consecutive years
within an agreement, across a rebasing, and two years apart within one: 13 statistics.

**Model** (`simsuite.tools.savings_rate_model`): claims noise (the cost model, beneficiaries'
persistence and churn, the benchmark built from the simulated benchmark years) drawn by the
multi-year engine, plus the organisation's performance, an AR(1) of the panel's log cost
with stationary sd ``performance_sd (N / 10,000) ** -size_exponent`` and coefficient
``performance_ar``, in an ACO followed over two agreements of three years under the
engine's MSSP rules.

**Method**: simulated minimum distance (the method of simulated moments with a diagonal
weight): minimise ``sum ((m(theta) - m_obs) / se_obs) ** 2`` over ``theta =
(performance_sd, performance_ar, size_exponent)`` with common random numbers (the same
draws at every ``theta``, so the objective is smooth), by `scipy.optimize.least_squares`.
``se_obs`` and the statistics' covariance ``Sigma`` come from a bootstrap over ACOs.
Standard errors: the sandwich ``(1 + 1/R) (G'WG)^-1 G'W Sigma W G (G'WG)^-1`` with
``G = dm/dtheta`` by central differences, ``W = diag(se_obs ** -2)`` and ``R`` the ratio
of simulated to observed ACO-years (the simulation's own noise).

**Not fitted** (not identified by year-demeaned results): the national trend's sd, from
the year-to-year spread of the median growth of CMS's published per capita benchmarks of
ACOs continuing in an agreement (`national_trend`); the regional trend (0: in these years
the region's growth beyond the nation's moved savings rates as the organisation's drift
does, and the fitted part carries both); the permanent part (0: it cancels from the savings
rate); quality-score noise (estimated, `quality_noise`, not applied by default).

**Checks**: the real engine, claims and systemic parts drawn together at each band's size,
reproduces the model's statistics (`savings_rate_model.verify`); out of sample, PY2022-2024,
the same statistics for agreements of five years, reported whatever they show.

``simsuite calibrate variance`` shows the fit of the shipped defaults (table and figure);
``--write`` refits and stores the result in ``simsuite/data/variance_defaults.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simsuite.data.reference import VARIANCE_FILE, package_data_path, variance_defaults
from simsuite.io.files import atomic_path
from simsuite.tools import savings_rate_model as srm
from simsuite.tools import variance_targets as vt

if TYPE_CHECKING:
    import pandas as pd

#: Seeds of the claims and systemic draws and of the verification runs.
CLAIMS_SEED, SYSTEMIC_SEED, VERIFY_SEED = 2013, 2021, 2024
STATISTIC_LABELS = ([f"SD B{b + 1}" for b in range(vt.BANDS)] + [f"SD change B{b + 1}" for b in range(vt.BANDS)]
                    + ["corr within", "corr across", "corr lag 2"])
#: The issue's tolerances: SDs within 15% in every band, the within-agreement correlation within 0.07.
SD_TOLERANCE, CORR_TOLERANCE = 0.15, 0.07
PARAMETER_NAMES = ("performance_sd", "performance_ar", "size_exponent")
_BOUNDS = ((0.002, 0.0, 0.0), (0.3, 0.99, 1.0))
_START = (0.06, 0.8, 0.3)


@dataclass(frozen=True)
class Sample:
    """Observed statistics of one sample of years and what simulating it needs."""

    name: str
    years: tuple[int, int]
    world: str
    statistics: dict[str, np.ndarray]
    se: np.ndarray | None  # of `target_vector`, from the bootstrap (None: not bootstrapped)
    covariance: np.ndarray | None
    scales: srm.BandScales
    layout: srm.Layout
    cuts: np.ndarray  # the band cut points (assigned beneficiaries)

    @property
    def targets(self) -> np.ndarray:
        return vt.target_vector(self.statistics)

    @property
    def pair_counts(self) -> dict[str, np.ndarray]:
        return {k: self.statistics[k] for k in ("within", "across", "lag2")}


def observed(replicates: int = 1000, panel: pd.DataFrame | None = None) -> dict[str, Sample]:
    """The in-sample (PY2013-2021) and out-of-sample (PY2022-2024) statistics of the shipped
    PUF files, with bootstrap SEs over ACOs (``replicates`` = 0: none)."""
    from simsuite.tools.mssp_panel import linked_panel

    design = vt.PanelDesign.of(linked_panel() if panel is None else panel)
    out = {}
    for name, years, world in (("in_sample", vt.IN_SAMPLE, "in_sample"), ("out_of_sample", vt.OUT_OF_SAMPLE, "current")):
        se = cov = None
        if replicates:
            reps = vt.bootstrap(design, years, replicates)
            cov = np.cov(reps, rowvar=False)
            se = np.sqrt(np.diag(cov))
        out[name] = Sample(name=name, years=years, world=world, statistics=vt.statistics(design, years), se=se,
                           covariance=cov, scales=srm.BandScales.of(vt.band_sizes(design, years)),
                           layout=srm.Layout.of(world, vt.layout(design, years, srm.WORLDS[world])),
                           cuts=design.cuts)
    return out


@dataclass
class Simulator:
    """The claims and systemic parts of both worlds, drawn once (common random numbers)."""

    claims_sims: int
    systemic_sims: int
    threads: int | None = None
    claims: dict[str, srm.ClaimsPart] = field(default_factory=dict)
    systemic: dict[str, srm.SystemicPart] = field(default_factory=dict)

    def parts(self, world: str) -> tuple[srm.ClaimsPart, srm.SystemicPart]:
        if world not in self.claims:
            self.claims[world] = srm.claims_part(world, self.claims_sims, CLAIMS_SEED, self.threads)
            self.systemic[world] = srm.SystemicPart(world, self.systemic_sims, SYSTEMIC_SEED)
        return self.claims[world], self.systemic[world]

    def statistics(self, parameters: srm.Parameters, sample: Sample) -> dict[str, np.ndarray]:
        claims, systemic = self.parts(sample.world)
        return srm.model_statistics(parameters, claims, systemic, sample.scales, sample.layout, sample.pair_counts)


def shipped_parameters() -> srm.Parameters:
    """The defaults in ``variance_defaults.yaml``."""
    org = variance_defaults()["organisation"]
    return srm.Parameters(org["performance_sd"]["value"], org["performance_ar"]["value"],
                          org["size_exponent"]["value"], float(variance_defaults()["trends"]["regional_sd"]["value"]))


@dataclass(frozen=True)
class Estimate:
    """The fitted parameters, their covariance and the objective at the optimum."""

    parameters: srm.Parameters
    covariance: np.ndarray  # (3, 3)
    objective: float  # sum of squared standardised residuals
    jacobian: np.ndarray  # (13, 3): d statistic / d parameter

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))


def _as_parameters(x: np.ndarray, regional_sd: float) -> srm.Parameters:
    return srm.Parameters(float(x[0]), float(x[1]), float(x[2]), regional_sd)


def fit(sample: Sample, simulator: Simulator, regional_sd: float = 0.0) -> Estimate:
    """Simulated minimum distance on ``sample``'s 13 statistics (module docstring)."""
    from scipy import optimize

    assert sample.se is not None and sample.covariance is not None, "fit needs bootstrap SEs"
    target, se = sample.targets, sample.se

    def moments(x: np.ndarray) -> np.ndarray:
        return vt.target_vector(simulator.statistics(_as_parameters(x, regional_sd), sample))

    result = optimize.least_squares(lambda x: (moments(x) - target) / se, np.array(_START), bounds=_BOUNDS,
                                    x_scale=np.array([0.01, 0.05, 0.05]), diff_step=1e-3, xtol=1e-6)
    x = result.x
    jac = np.empty((target.size, x.size))
    for i in range(x.size):
        h = 0.01 * max(abs(x[i]), 0.05)
        up, down = x.copy(), x.copy()
        up[i], down[i] = min(x[i] + h, _BOUNDS[1][i]), max(x[i] - h, _BOUNDS[0][i])
        jac[:, i] = (moments(up) - moments(down)) / (up[i] - down[i])
    w = np.diag(se ** -2.0)
    bread = np.linalg.inv(jac.T @ w @ jac)
    rows = float(np.max(sample.statistics["rows"][:vt.BANDS]))
    ratio = min(simulator.claims_sims, simulator.systemic_sims) / rows
    cov = (1.0 + 1.0 / ratio) * bread @ jac.T @ w @ sample.covariance @ w @ jac @ bread
    return Estimate(parameters=_as_parameters(x, regional_sd), covariance=cov,
                    objective=float(2.0 * result.cost), jacobian=jac)


def national_trend(panel: pd.DataFrame) -> dict[str, object]:
    """The national trend's sd from CMS's results: the sample sd of the yearly median log
    growth of the per capita benchmark (``UpdatedBnchmk``) of ACOs in the same agreement in
    consecutive years.

    Pairs touching PY2019 are left out: that file holds the January-2019 ACOs (166 of them
    with a six-month year) and its per capita benchmarks stand about 8% below both
    neighbours'. The median benchmark of continuing ACOs moves with the national (and, from
    2017-2019 agreements, regional) growth CMS applied, and with their risk scores.
    """
    design = vt.PanelDesign.of(panel)
    per_capita = panel.updatedbnchmk.to_numpy(dtype=float)
    growth = np.log(per_capita[design.second] / per_capita[design.first])
    first_year = design.year[design.first]
    medians = {}
    for y in sorted(set(first_year)):
        m = (first_year == y) & (design.kind == "within") & np.isfinite(growth)
        if m.sum() >= 20 and 2019 not in (y, y + 1):
            medians[int(y)] = float(np.median(growth[m]))
    values = np.array(list(medians.values()))
    sd = float(values.std(ddof=1))
    return {"value": round(sd, 4), "se": round(float(sd / np.sqrt(2.0 * (values.size - 1))), 4),
            "median_growth_by_first_year": {k: round(v, 4) for k, v in medians.items()}}


def quality_noise(panel: pd.DataFrame, years: tuple[int, int] = (2022, 2024)) -> dict[str, object]:
    """The year-to-year noise of an ACO's quality score: SD of its change between consecutive
    years over sqrt(2), pairs within ``years`` (the scale MSSP's quality standard uses since
    PY2022)."""
    design = vt.PanelDesign.of(panel)
    score = panel.qualscore.to_numpy(dtype=float)
    _, pairs, _ = design.in_years(years)
    change = score[design.second[pairs]] - score[design.first[pairs]]
    change = change[np.isfinite(change)]
    return {"estimate": round(float(change.std(ddof=1) / np.sqrt(2.0)), 4), "pairs": int(change.size)}


@dataclass(frozen=True)
class Comparison:
    """Observed and simulated statistics of one sample."""

    sample: Sample
    model: dict[str, np.ndarray]
    verified: dict[str, np.ndarray] | None = None
    verify_sims: int = 0

    def within_tolerance(self) -> dict[str, bool]:
        """The issue's criteria on the model's statistics: SDs within 15% per band, the pooled
        within-agreement correlation within 0.07."""
        obs = self.sample.statistics
        return {
            "sd": bool(np.all(np.abs(self.model["sd"][:vt.BANDS] / obs["sd"][:vt.BANDS] - 1) <= SD_TOLERANCE)),
            "sd_change": bool(np.all(np.abs(self.model["sd_change"][:vt.BANDS] / obs["sd_change"][:vt.BANDS] - 1)
                                     <= SD_TOLERANCE)),
            "corr_within": bool(abs(self.model["corr_within"][vt.BANDS] - obs["corr_within"][vt.BANDS])
                                <= CORR_TOLERANCE),
        }


def compare(sample: Sample, parameters: srm.Parameters, simulator: Simulator, verify_sims: int = 0,
            threads: int | None = None) -> Comparison:
    """``sample`` against the model with ``parameters`` (and, with ``verify_sims``, full engine runs)."""
    model = simulator.statistics(parameters, sample)
    verified = None
    if verify_sims:
        verified = srm.verify(sample.world, parameters, sample.scales, sample.layout, sample.pair_counts,
                              verify_sims, VERIFY_SEED, threads)
    return Comparison(sample=sample, model=model, verified=verified, verify_sims=verify_sims)


def one_year_table(parameters: srm.Parameters, simulator: Simulator) -> dict[str, list[float]]:
    """Per year of a five-year first agreement (0 = its first PY), at 10,000 beneficiaries:
    ``claims_variance`` (the year's own spending, what a one-year run's claims give),
    ``benchmark_claims_variance`` (the savings rate's claims variance beyond it: the benchmark
    years' noise net of its covariance with the year) and ``systemic_variance`` (the
    organisation's part), pp**2 (`simsuite.model.variance`)."""
    claims, systemic = simulator.parts("current")
    years = srm.WORLDS["current"]
    rates = systemic.savings_rates(parameters.performance_sd, parameters.performance_ar, parameters.regional_sd)
    bench = np.diag(claims.covariance)[:years] - claims.one_year[:years]
    return {"claims_variance": [round(float(v), 4) for v in claims.one_year[:years]],
            "benchmark_claims_variance": [round(float(v), 4) for v in bench],
            "systemic_variance": [round(float(v), 4) for v in rates.var(axis=0, ddof=1)[:years]]}


def table(comparison: Comparison) -> str:
    """Observed against simulated, by band (plain text)."""
    s, m, v = comparison.sample, comparison.model, comparison.verified
    obs, se = s.statistics, s.se
    se_of = (lambda i: f" ({se[i]:.2f})") if se is not None else (lambda i: "")
    head = f"{'band':<5} {'median N':>9} {'SD observed':>13} {'model':>6} {'diff':>6}"
    head += f"   {'SD change/sqrt2':>15} {'model':>6} {'diff':>6}"
    if v is not None:
        head += f"   {'engine SD':>9} {'chg':>5}"
    lines = [head]
    for b in range(vt.BANDS):
        line = (f"B{b + 1:<4} {obs['median_n'][b]:>9,.0f} {obs['sd'][b]:>6.2f}{se_of(b):<7} {m['sd'][b]:>6.2f} "
                f"{100 * (m['sd'][b] / obs['sd'][b] - 1):>+5.0f}%   {obs['sd_change'][b]:>8.2f}{se_of(5 + b):<7} "
                f"{m['sd_change'][b]:>6.2f} {100 * (m['sd_change'][b] / obs['sd_change'][b] - 1):>+5.0f}%")
        if v is not None:
            line += f"   {v['sd'][b]:>9.2f} {v['sd_change'][b]:>5.2f}"
        lines.append(line)
    lines.append("")
    for i, k in enumerate(vt.POOLED_STATISTICS):
        line = (f"{k.replace('corr_', 'correlation '):<22} observed {obs[k][vt.BANDS]:.3f}{se_of(10 + i)}  "
                f"model {m[k][vt.BANDS]:.3f}  diff {m[k][vt.BANDS] - obs[k][vt.BANDS]:+.3f}")
        if v is not None:
            line += f"  engine {v[k][vt.BANDS]:.3f}"
        lines.append(line)
    return "\n".join(lines)


def figure(comparisons: list[Comparison], path: Path) -> None:
    """PNG: SD and SD of change by band size, observed (with 2 SE) against the model, in
    and out of sample."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(comparisons), figsize=(6.0 * len(comparisons), 4.4), squeeze=False)
    for ax, comp in zip(axes[0], comparisons):
        s = comp.sample
        n = s.statistics["median_n"][:vt.BANDS]
        for k, (key, label) in enumerate((("sd", "SD across ACOs"), ("sd_change", "SD of the change / sqrt 2"))):
            err = None if s.se is None else 2.0 * s.se[5 * k:5 * k + 5]
            ax.errorbar(n, s.statistics[key][:vt.BANDS], yerr=err, fmt="o", color=f"C{k}", capsize=3,
                        label=f"{label}, CMS (2 SE)")
            ax.plot(n, comp.model[key][:vt.BANDS], "-", color=f"C{k}", label=f"{label}, model")
            ax.fill_between(n, s.statistics[key][:vt.BANDS] * (1 - SD_TOLERANCE),
                            s.statistics[key][:vt.BANDS] * (1 + SD_TOLERANCE), color=f"C{k}", alpha=0.1)
            if comp.verified is not None:
                ax.plot(n, comp.verified[key][:vt.BANDS], "x", color=f"C{k}", label=f"{label}, engine run")
        ax.set_xscale("log")
        ax.set_xticks(n, [f"{v:,.0f}" for v in n])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xlabel("assigned beneficiaries (band median)")
        ax.set_ylabel("percentage points of the benchmark")
        first, last = s.years
        ax.set_title(f"{'In' if s.name == 'in_sample' else 'Out of'} sample, PY{first}-{last}: "
                     f"corr within {s.statistics['corr_within'][vt.BANDS]:.2f} vs "
                     f"{comp.model['corr_within'][vt.BANDS]:.2f}", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def _round(values: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(x), digits) for x in values]


def _statistics_document(stats: dict[str, np.ndarray], se: np.ndarray | None = None) -> dict:
    out: dict[str, object] = {}
    for key in ("sd", "sd_change"):
        out[key] = _round(stats[key][:vt.BANDS], 3)
    for key in vt.POOLED_STATISTICS:
        out[key] = round(float(stats[key][vt.BANDS]), 3)
    if se is not None:
        out["se"] = _round(se, 3)
    return out


def defaults_document(estimate: Estimate, comparisons: dict[str, Comparison], one_year: dict[str, list[float]],
                      national: dict[str, object], quality: dict[str, object], simulator: Simulator,
                      replicates: int, recent: Estimate | None = None) -> dict:
    """The YAML document of the shipped defaults, with the fit's provenance."""
    p, se = estimate.parameters, estimate.se
    ins = comparisons["in_sample"].sample
    return {
        "description": ("Defaults of the variance model's systemic parts (simsuite.model.variance), fitted to CMS's "
                        "MSSP results PY2013-2021. Written by simsuite.tools.calibrate_variance.write_defaults "
                        "(simsuite calibrate variance --write); do not edit by hand."),
        "reference_beneficiaries": srm.REFERENCE_BENEFICIARIES,
        "organisation": {
            "performance_sd": {"value": round(p.performance_sd, 4), "se": round(float(se[0]), 4),
                               "at_beneficiaries": srm.REFERENCE_BENEFICIARIES},
            "performance_ar": {"value": round(p.performance_ar, 4), "se": round(float(se[1]), 4)},
            "size_exponent": {"value": round(p.size_exponent, 4), "se": round(float(se[2]), 4)},
            "parameter_correlation": [_round(r, 3) for r in
                                      estimate.covariance / np.outer(se, se)],
            "permanent_sd": {"value": 0.0, "reason": (
                "not identified: a permanent cost level enters the benchmark years as it enters the performance "
                "years and cancels from the savings rate except through the regional adjustment")},
        },
        "trends": {
            "national_sd": {**national, "source": (
                "CMS MSSP PUF PY2015-2024 (simsuite/data/mssp): sample sd of the yearly median log growth of the per "
                "capita benchmark (UpdatedBnchmk) of ACOs in the same agreement in consecutive years; pairs touching "
                "PY2019 left out (its file's per capita benchmarks stand ~8% below both neighbours'). A national shock "
                "is common to every ACO of a year: the year-demeaned statistics fitted here cannot show it [INF]")},
            "regional_sd": {"value": 0.0, "reason": (
                "not separable from the organisation's drift in year-demeaned savings rates (benchmarks were updated "
                "by national growth until 2017-2019 agreements): the fitted organisation part carries both")},
        },
        "quality_score_sd": {**quality, "applied": False, "reason": (
            "SD of the change of an ACO's quality score between consecutive years / sqrt(2), PY2022-2024; not the "
            "default of assumptions.quality_score_sd (0), which would oblige every MSSP scenario of PY2023 on to give "
            "alternative_standard_probability; set it when you model quality risk")},
        "one_year": {**one_year, "units": "pp**2 at reference_beneficiaries, by year of a five-year first agreement"},
        "fit": {
            "method": ("simulated minimum distance (method of simulated moments, diagonal weight 1/se**2) on 13 "
                       "statistics; scipy least_squares; common random numbers; SEs: sandwich with the bootstrap "
                       "covariance of the statistics and (1 + 1/R) for the simulation"),
            "data": ("CMS MSSP PUF PY2013-2021 (simsuite/data/mssp, linked by simsuite.tools.mssp_panel); size bands: "
                     "quintiles of assigned beneficiaries, cut points " + ", ".join(f"{c:,.0f}" for c in ins.cuts)),
            "bootstrap": {"replicates": replicates, "seed": vt.BOOTSTRAP_SEED, "over": "ACOs (link_id)"},
            "simulation": {"claims_sims": simulator.claims_sims, "systemic_sims": simulator.systemic_sims,
                           "seeds": [CLAIMS_SEED, SYSTEMIC_SEED, VERIFY_SEED],
                           "world": "first agreement from 2024 and one renewal, three performance years each, "
                                    "ENHANCED, default national panel, no national shock"},
            "objective": round(estimate.objective, 3),
            "statistics": STATISTIC_LABELS,
        },
        "in_sample": _comparison_document(comparisons["in_sample"]),
        "out_of_sample": {**_comparison_document(comparisons["out_of_sample"]),
                          **({} if recent is None else {"refit_not_applied": _estimate_document(recent)})},
    }


def _estimate_document(estimate: Estimate) -> dict:
    p = estimate.parameters
    return {name: {"value": round(v, 4), "se": round(float(s), 4)} for name, v, s in zip(
        PARAMETER_NAMES, (p.performance_sd, p.performance_ar, p.size_exponent), estimate.se)} | {
        "objective": round(estimate.objective, 3)}


def _comparison_document(comp: Comparison) -> dict:
    s = comp.sample
    out = {"years": list(s.years), "median_beneficiaries": _round(s.statistics["median_n"][:vt.BANDS], 0),
           "observed": _statistics_document(s.statistics, s.se), "model": _statistics_document(comp.model),
           "within_tolerance": comp.within_tolerance()}
    if comp.verified is not None:
        out["engine_runs"] = {"simulations_per_band": comp.verify_sims, **_statistics_document(comp.verified)}
    return out


def write_defaults(document: dict) -> Path:
    """Store the document as the shipped defaults, atomically."""
    import yaml

    path = package_data_path(VARIANCE_FILE)
    text = ("# Produced by simsuite.tools.calibrate_variance.write_defaults; do not edit by hand.\n"
            + yaml.safe_dump(document, sort_keys=False, width=110))
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
