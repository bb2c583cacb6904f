"""Calibration of the persistence of a beneficiary's cost from year to year (``dynamics.stay``).

The multi-year kernel (`simsuite.kernels.panel_years`) keeps a beneficiary's decile of the
cost distribution with probability ``stay`` each year, the position within it drawn
afresh. ``stay`` is fitted so that the model reproduces a published persistence figure
for Medicare FFS: "28.1 percent of patients who were high cost in 2012 remained
persistently high cost over the subsequent two years" (high cost = the costliest 10%
each year; Figueroa et al., Health Affairs 2019;38(1), doi:10.1377/hlthaff.2018.05160;
a 20% sample of FFS beneficiaries, 2012-14).

The model side is computed by simulation of the default cost model's national panel
(every enrollment type, risk scores fixed per beneficiary, no churn: the study follows
people), with a fixed seed and common random numbers across values of ``stay``, so the
fit is deterministic; bisection solves for the target. Other published figures are
reported beside it as checks (they are not fitted): the share of the top 5% who are in
the top 10% the next year, and of the top 1% who stay in the top 1%.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from scipy import special

from simsuite.data.reference import DYNAMICS_FILE
from simsuite.io.files import atomic_path
from simsuite.model.population import PanelArrays, build_panel
from simsuite.scenario.load import scenario_from_dict

TOP_DECILE_TWO_YEARS = 0.281
TOP_DECILE_SOURCE = ("Figueroa et al., Health Affairs 2019;38(1), doi:10.1377/hlthaff.2018.05160: 28.1% of FFS "
                     "beneficiaries in the costliest 10% in 2012 were in it in 2013 and 2014")
CHURN = 0.156
CHURN_SOURCE = ("Leighton et al., Am J Manag Care 2019;25(9):e267-e273: 84.38% of 1,317,858 MSSP-attributed "
                "beneficiaries were attributed to the same ACO in 2013 and 2014")
CHECKS = {
    "top_five_to_decile_next_year": (0.45, "Monheit, Medical Care 2003;41(7 Suppl):III53: 45% of the top 5% of 1996 "
                                   "spenders were in the top decile in 1997 (MEPS, all ages; a top-5% cohort)"),
    "top_percentile_next_year": (0.19, "Cohen and Yu, AHRQ MEPS Statistical Briefs #309 and #354: 18.2% and 20.0% "
                                       "of the top 1% kept that rank the next year (US community population)"),
}


@dataclass(frozen=True)
class PersistenceFit:
    """The fitted ``stay`` and the model's persistence figures at it."""

    stay: float
    bands: int
    top_decile_two_years: float
    top_five_to_decile_next_year: float
    top_percentile_next_year: float
    beneficiaries: int


def national_panel(beneficiaries: int) -> PanelArrays:
    """The default cost model's representative national panel (enrollment mix of the 2018 PUF)."""
    sc = scenario_from_dict({"name": "persistence fit", "population": {"beneficiaries": beneficiaries},
                             "contracts": [{"preset": "ffs"}]})
    return build_panel(sc.spec)


def costs_from_states(panel: PanelArrays, u: np.ndarray) -> np.ndarray:
    """Each beneficiary's cost from its state uniform, as the kernels map it (numpy, float64)."""
    cohort = np.repeat(np.arange(len(panel.cohorts)), np.diff(panel.cohort_start))
    sev = panel.severity[cohort]
    p0 = panel.zero_share[cohort]
    tail_w, s_body, shift, s_tail = sev[:, 0], sev[:, 1], sev[:, 2], sev[:, 3]
    v = (u - p0) / (1.0 - p0)
    tail = v > 1.0 - tail_w
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tail, (v - (1.0 - tail_w)) / tail_w, v / (1.0 - tail_w))
    z = special.ndtri(np.clip(p, 1e-300, 1.0 - 2.0**-53))
    log_cost = np.where(tail, panel.log_mean_expected + shift + s_tail * z, panel.log_mean_expected + s_body * z)
    return np.where(u > p0, np.exp(log_cost), 0.0)


def persistence(panel: PanelArrays, stay: float, bands: int, seed: int = 2019) -> tuple[float, float, float]:
    """Model figures at ``stay``: P(top 10% in t+1 and t+2 | top 10% in t), P(top 10% in t+1 |
    top 5% in t) and P(top 1% in t+1 | top 1% in t), by simulating three years of the panel."""
    rng = np.random.default_rng(seed)
    n = panel.size
    u = [rng.random(n)]
    kept, fresh = rng.random((2, n)), rng.random((2, n))
    for t in range(2):
        u.append(np.where(kept[t] < stay, (np.floor(u[-1] * bands) + fresh[t]) / bands, fresh[t]))
    cost = [costs_from_states(panel, x) for x in u]
    top = [c >= np.quantile(c, 0.9) for c in cost]
    top1 = [c >= np.quantile(c, 0.99) for c in cost]
    top5 = cost[0] >= np.quantile(cost[0], 0.95)
    two = float((top[0] & top[1] & top[2]).sum() / top[0].sum())
    one = float((top5 & top[1]).sum() / top5.sum())
    one1 = float((top1[0] & top1[1]).sum() / top1[0].sum())
    return two, one, one1


def fit_stay(target: float = TOP_DECILE_TWO_YEARS, bands: int = 10, beneficiaries: int = 400_000) -> PersistenceFit:
    """``stay`` whose two-year persistence of the top decile is ``target`` (bisection, to 1e-4)."""
    panel = national_panel(beneficiaries)
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-4:
        mid = 0.5 * (lo + hi)
        if persistence(panel, mid, bands)[0] < target:
            lo = mid
        else:
            hi = mid
    stay = round(0.5 * (lo + hi), 4)
    two, one, one1 = persistence(panel, stay, bands)
    return PersistenceFit(stay, bands, two, one, one1, beneficiaries)


def defaults_document(fit: PersistenceFit) -> dict:
    """The YAML document stored as ``simsuite/data/dynamics_defaults.yaml``."""
    return {
        "description": ("Defaults of a scenario's dynamics section (beneficiaries over the years). Written by "
                        "simsuite.tools.calibrate_dynamics.write_defaults; do not edit by hand."),
        "stay": {
            "value": fit.stay,
            "cost_bands": fit.bands,
            "target": {"top_decile_two_years": TOP_DECILE_TWO_YEARS, "source": TOP_DECILE_SOURCE},
            "model_at_fit": {"top_decile_two_years": round(fit.top_decile_two_years, 4),
                             "top_five_to_decile_next_year": round(fit.top_five_to_decile_next_year, 4),
                             "top_percentile_next_year": round(fit.top_percentile_next_year, 4)},
            "checks_not_fitted": {k: {"published": v, "source": s} for k, (v, s) in CHECKS.items()},
            "method": (f"bisection on stay; {fit.beneficiaries:,} beneficiaries of the default national panel "
                       "followed three years without churn, numpy seed 2019, common random numbers"),
        },
        "churn": {"value": CHURN, "source": CHURN_SOURCE},
    }


def defaults_path() -> Path:
    """Where the shipped defaults live (inside the installed package)."""
    return Path(str(resources.files("simsuite.data").joinpath(DYNAMICS_FILE)))


def write_defaults(fit: PersistenceFit) -> Path:
    """Store ``fit`` as the shipped defaults, atomically."""
    path = defaults_path()
    text = ("# Produced by simsuite.tools.calibrate_dynamics.write_defaults; do not edit by hand.\n"
            + yaml.safe_dump(defaults_document(fit), sort_keys=False, width=100))
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
