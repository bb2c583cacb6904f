"""Calibration of the default cost-model shape to the published concentration of spending.

The fit: choose the tail weight ``w``, the body and tail log-sds ``s1, s2``, the
tail/body mean ratio ``rho`` and the risk-score elasticity ``e`` so that the national
concentration curve of the model (all four enrollment types mixed by their 2018 person-year
shares, each with its CMS 2018 mean and its lognormal risk-score spread) matches the
published shares of spending of the top 1/5/10/20/50% of beneficiaries (least squares in
percentage points). Fixed inputs, not fitted:

* the zero-cost share, 10%: the 1992 Medicare percentile table has p10 = $0, i.e. at least
  10% of beneficiaries had no spending (HCFR 1996;17(3), Table 5; shared/reference/
  cost-calibration.md). It is weakly identified by the shares (it moves only the bottom half);
* the risk-score CV within each type, the scenario default (`simsuite.scenario.schema.RiskScoreSpec`);
* the type means and shares (CMS 2018 SSP county FFS PUF, `national_ffs_2018`). The shares of
  spending do not depend on a common scale, so the trend to the performance year does not
  enter the fit.

Targets: Wallis et al., EClinicalMedicine 2021, doi:10.1016/j.eclinm.2021.100873 (FFS age
>= 65, 2007-2018), as quoted in shared/reference/cost-calibration.md.

``simsuite calibrate`` prints the fitted parameters and the fit table; ``--write`` stores
them with their provenance in ``simsuite/data/cost_model_defaults.yaml``, which the scenario
defaults read; ``--out DIR`` writes the concentration curve against the published points.
The fit is deterministic (fixed starting points, no randomness).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from scipy import optimize

from simsuite.data.reference import DEFAULTS_FILE, ENROLLMENT_TYPES, PUF_YEAR, national_ffs_2018
from simsuite.io.files import atomic_path
from simsuite.model.costmodel import TRUNCATION_PERCENTILE, TypeCostModel, national_mixture

#: Top fraction of beneficiaries -> their share of FFS spending (Wallis et al. 2021).
PUBLISHED_TOP_SHARES: dict[float, float] = {0.01: 0.149, 0.05: 0.415, 0.10: 0.600, 0.20: 0.791, 0.50: 0.957}
PUBLISHED_SOURCE = ("Wallis et al., EClinicalMedicine 2021, doi:10.1016/j.eclinm.2021.100873: FFS age >= 65, "
                    "2007-2018, 314.6M beneficiary-years (shared/reference/cost-calibration.md)")
ZERO_SHARE_SOURCE = ("at least 10% of beneficiaries had zero spending (1992 actual Medicare expenditures, p10 = $0: "
                     "Health Care Financing Review 1996;17(3):101-128, Table 5; shared/reference/cost-calibration.md)")
DEFAULT_ZERO_SHARE = 0.10
SHAPE_FIELDS = ("zero_share", "tail_weight", "body_sigma", "tail_sigma", "tail_mean_ratio", "risk_elasticity")
# Starting points (tail weight, body sd, tail sd, log mean ratio, elasticity); the best of
# them is kept so that the answer does not hinge on one start.
_STARTS = ((0.12, 1.2, 0.4, 2.2, 0.5), (0.25, 0.8, 0.3, 2.4, 1.0), (0.08, 1.4, 0.8, 2.6, 0.3))
_BOUNDS = ((1e-3, 0.05, 0.05, 0.0, 0.0), (0.6, 3.0, 3.0, 5.0, 2.0))


def default_risk_cv() -> float:
    """The scenario default of the within-type risk-score CV."""
    from simsuite.scenario.schema import RiskScoreSpec

    return float(RiskScoreSpec().cv)


def models_for(shape: dict[str, float], risk_cv: float, means: dict[str, float]) -> list[TypeCostModel]:
    """One `TypeCostModel` per enrollment type with a common shape."""
    return [TypeCostModel(mean=means[t], zero_share=shape["zero_share"], sigma=shape["body_sigma"],
                          risk_cv=risk_cv, elasticity=shape["risk_elasticity"],
                          tail_weight=shape["tail_weight"], tail_sigma=shape["tail_sigma"],
                          tail_mean_ratio=shape["tail_mean_ratio"])
            for t in ENROLLMENT_TYPES]


def model_top_shares(shape: dict[str, float], risk_cv: float | None = None,
                     puf: dict | None = None, q: list[float] | None = None) -> np.ndarray:
    """The model's national shares of spending of the top fractions ``q`` (0..1)."""
    puf = puf or national_ffs_2018()
    risk_cv = default_risk_cv() if risk_cv is None else risk_cv
    models = models_for(shape, risk_cv, puf["mean"])
    mix = national_mixture(models, [puf["share"][t] for t in ENROLLMENT_TYPES])
    return mix.concentration(np.array(q if q is not None else list(PUBLISHED_TOP_SHARES)))


@dataclass(frozen=True)
class Fit:
    """A calibration: the shape, its inputs and the fit table."""

    shape: dict[str, float]
    risk_cv: float
    top: np.ndarray
    published: np.ndarray
    model: np.ndarray

    @property
    def max_error_pp(self) -> float:
        """Largest |model - published| share, percentage points."""
        return float(100 * np.max(np.abs(self.model - self.published)))


def fit(zero_share: float = DEFAULT_ZERO_SHARE, risk_cv: float | None = None,
        targets: dict[float, float] | None = None) -> Fit:
    """Least-squares fit of the shape to the published concentration shares.

    Parameters
    ----------
    zero_share : float
        Fixed probability of zero cost in a year.
    risk_cv : float, optional
        Within-type risk-score CV (default: the scenario default).
    targets : dict, optional
        Top fraction -> share of spending (default `PUBLISHED_TOP_SHARES`).
    """
    targets = targets or PUBLISHED_TOP_SHARES
    risk_cv = default_risk_cv() if risk_cv is None else risk_cv
    puf = national_ffs_2018()
    q = list(targets)
    want = np.array([targets[v] for v in q])

    def shape_of(x: np.ndarray) -> dict[str, float]:
        return {"zero_share": zero_share, "tail_weight": float(x[0]), "body_sigma": float(x[1]),
                "tail_sigma": float(x[2]), "tail_mean_ratio": float(np.exp(x[3])), "risk_elasticity": float(x[4])}

    def residual(x: np.ndarray) -> np.ndarray:
        return 100.0 * (model_top_shares(shape_of(x), risk_cv, puf, q) - want)

    best = None
    for start in _STARTS:
        r = optimize.least_squares(residual, np.array(start), bounds=_BOUNDS, x_scale=1.0,
                                   xtol=1e-12, ftol=1e-12, gtol=1e-12)
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None  # _STARTS is not empty
    shape = shape_of(best.x)
    return Fit(shape, risk_cv, np.array(q), want, model_top_shares(shape, risk_cv, puf, q))


def fit_table(result: Fit) -> str:
    """Plain-text fit table: published vs model share of spending by top fraction."""
    lines = [f"{'top':>6}  {'published':>9}  {'model':>7}  {'diff (pp)':>9}"]
    for q, p, m in zip(result.top, result.published, result.model):
        lines.append(f"{100 * q:5.0f}%  {100 * p:8.1f}%  {100 * m:6.2f}%  {100 * (m - p):+9.2f}")
    return "\n".join(lines)


def thresholds(shape: dict[str, float], risk_cv: float) -> dict[str, float]:
    """99th-percentile truncation thresholds by type, 2018 dollars (informational)."""
    puf = national_ffs_2018()
    return {t: m.national_quantile(TRUNCATION_PERCENTILE)
            for t, m in zip(ENROLLMENT_TYPES, models_for(shape, risk_cv, puf["mean"]))}


def defaults_document(result: Fit) -> dict:
    """The YAML document stored as ``simsuite/data/cost_model_defaults.yaml``."""
    return {
        "description": ("Default shape of the per-beneficiary cost model (simsuite.model.costmodel): zero cost with "
                        "probability zero_share, else a two-lognormal mixture (body, and a tail of weight "
                        "tail_weight whose mean is tail_mean_ratio x the body's) scaled by risk_score ** "
                        "risk_elasticity, type means from the CMS 2018 SSP county FFS PUF. Written by "
                        "`simsuite calibrate --write`; do not edit by hand."),
        "shape": {k: round(float(result.shape[k]), 6) for k in SHAPE_FIELDS},
        "fixed_inputs": {
            "zero_share": {"value": float(result.shape["zero_share"]), "source": ZERO_SHARE_SOURCE},
            "risk_score_cv": {"value": result.risk_cv, "source": "scenario default population.risk_score.cv"},
            "type_means_and_shares": {
                "source": f"CMS {PUF_YEAR} County-level FFS Data for Shared Savings Program Benchmark PUF "
                          "(simsuite/data/ssp_county_ffs_benchmark_puf_2018.csv), person-year-weighted",
                "mean_dollars": {t: round(v, 2) for t, v in national_ffs_2018()["mean"].items()},
                "share": {t: round(v, 6) for t, v in national_ffs_2018()["share"].items()},
            },
        },
        "targets": {"source": PUBLISHED_SOURCE,
                    "top_share": {float(q): float(p) for q, p in zip(result.top, result.published)}},
        "fit": {"model_top_share": {float(q): round(float(m), 6) for q, m in zip(result.top, result.model)},
                "max_abs_error_pp": round(result.max_error_pp, 4),
                "truncation_p99_2018_dollars": {t: round(v, 2)
                                                for t, v in thresholds(result.shape, result.risk_cv).items()}},
    }


def defaults_path() -> Path:
    """Where the shipped defaults live (inside the installed package)."""
    return Path(str(resources.files("simsuite.data").joinpath(DEFAULTS_FILE)))


def concentration_figure(result: Fit, path: Path) -> None:
    """PNG of the model's concentration curve (share of spending vs top fraction) and the published points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = np.concatenate([np.geomspace(1e-4, 0.01, 30), np.linspace(0.0125, 0.88, 120)])
    curve = model_top_shares(result.shape, result.risk_cv, q=list(q))
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(100 * q, 100 * curve, color="C0", label="model (national mix of enrollment types)")
    ax.plot(100 * result.top, 100 * result.published, "o", color="C3",
            label="published (Wallis et al. 2021, FFS 65+)")
    ax.plot([0, 100], [0, 100], color="k", lw=0.6, ls=":", label="equal spending")
    ax.fill_between(100 * result.top, 100 * result.published - 2, 100 * result.published + 2, color="C3",
                    alpha=0.15, label="published +/- 2 points")
    ax.set_xlabel("costliest beneficiaries, % of all")
    ax.set_ylabel("their share of spending, %")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Concentration of Medicare FFS spending")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def write_defaults(result: Fit) -> Path:
    """Store ``result`` as the shipped defaults (``cost_model_defaults.yaml``), atomically."""
    path = defaults_path()
    text = ("# Produced by `simsuite calibrate --write` (simsuite/tools/calibrate.py); do not edit by hand.\n"
            + yaml.safe_dump(defaults_document(result), sort_keys=False, width=100))
    with atomic_path(path) as tmp:  # readers never see half a file
        tmp.write_text(text, encoding="utf-8")
    return path
