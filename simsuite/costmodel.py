"""The per-beneficiary annual cost model and its closed forms.

A beneficiary of enrollment type ``t`` with risk score ``r`` has zero Parts A and B
cost with probability ``p0``; otherwise a lognormal cost with log-sd ``sigma`` whose
mean is ``m_t * r**e / E[r**e] / (1 - p0)``, so that the type's mean cost is ``m_t``.
Risk scores are lognormal with mean 1 and coefficient of variation ``cv`` within each
type, so across a type the positive cost is again lognormal with log-variance
``sigma**2 + e**2 * log(1 + cv**2)``: the national percentiles used for MSSP
truncation have closed forms.

Default means and the enrollment mix come from the CMS 2018 county-level FFS PUF
shipped in ``simsuite/data`` (person-year-weighted national means).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy import special, stats

ENROLLMENT_TYPES: tuple[str, ...] = ("esrd", "disabled", "aged_dual", "aged_non_dual")
_PUF_COLUMNS = {
    "esrd": "ESRD",
    "disabled": "DISABLED",
    "aged_dual": "AGED/DUAL",
    "aged_non_dual": "AGED/NON-DUAL",
}
PUF_YEAR = 2018


@lru_cache(maxsize=None)
def national_ffs_2018() -> dict[str, dict[str, float]]:
    """Person-year-weighted national per-capita FFS spending and person-years by type.

    Returns
    -------
    dict
        ``{"mean": {type: dollars}, "share": {type: fraction of person-years}}``
        from the CMS 2018 County-level FFS Data for Shared Savings Program Benchmark PUF.
    """
    path = resources.files("simsuite.data").joinpath("ssp_county_ffs_benchmark_puf_2018.csv")
    dollars = dict.fromkeys(ENROLLMENT_TYPES, 0.0)
    years = dict.fromkeys(ENROLLMENT_TYPES, 0.0)
    with path.open("r", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            row = {k.strip(): v for k, v in row.items()}
            for t, col in _PUF_COLUMNS.items():
                spend, py = row[f"Per capita {col} expenditures"], row[f"{col} person-years"]
                # Small cells are suppressed in the PUF (blank or ".").
                if _is_number(spend) and _is_number(py):
                    dollars[t] += float(spend) * float(py)
                    years[t] += float(py)
    total = sum(years.values())
    return {
        "mean": {t: dollars[t] / years[t] for t in ENROLLMENT_TYPES},
        "share": {t: years[t] / total for t in ENROLLMENT_TYPES},
    }


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class TypeCostModel:
    """Cost model of one enrollment type (dollars per beneficiary per year).

    Attributes
    ----------
    mean : float
        Mean annual cost of the type, zeros included, dollars.
    zero_share : float
        Probability of zero cost in a year.
    sigma : float
        Log-sd of a beneficiary's positive cost given the risk score.
    risk_cv : float
        Coefficient of variation of risk scores within the type (mean 1).
    elasticity : float
        Cost scales with ``risk_score ** elasticity`` (normalised to keep ``mean``).
    """

    mean: float
    zero_share: float
    sigma: float
    risk_cv: float
    elasticity: float = 1.0

    @property
    def risk_log_sd(self) -> float:
        """Log-sd of the lognormal risk-score distribution."""
        return float(np.sqrt(np.log1p(self.risk_cv**2)))

    @property
    def national_log_sd(self) -> float:
        """Log-sd of positive cost across the type (risk scores mixed in)."""
        return float(np.hypot(self.sigma, self.elasticity * self.risk_log_sd))

    @property
    def national_log_mean(self) -> float:
        """Log-mean of positive cost across the type."""
        s = self.national_log_sd
        return float(np.log(self.mean / (1.0 - self.zero_share)) - 0.5 * s * s)

    def national_quantile(self, p: float) -> float:
        """``p``-quantile of a beneficiary's annual cost across the type, dollars."""
        if p <= self.zero_share:
            return 0.0
        if p >= 1.0:
            return float("inf")
        z = special.ndtri((p - self.zero_share) / (1.0 - self.zero_share))
        return float(np.exp(self.national_log_mean + self.national_log_sd * z))

    def risk_scores(self, n: int) -> np.ndarray:
        """``n`` risk scores at evenly spaced quantiles of the type's distribution (mean ~1).

        A fixed, representative panel: the scores carry no randomness, so the panel
        does not change with the seed.
        """
        if n == 0:
            return np.empty(0)
        s = self.risk_log_sd
        z = special.ndtri((np.arange(n) + 0.5) / n)
        return np.exp(-0.5 * s * s + s * z)

    def patient_log_mean(self, risk_score: np.ndarray, cost_factor: float = 1.0) -> np.ndarray:
        """Log-mean of each beneficiary's positive cost, scaled by ``cost_factor``."""
        s_r, e = self.risk_log_sd, self.elasticity
        norm = np.exp(0.5 * e * (e - 1.0) * s_r * s_r)  # E[r**e] for lognormal r with mean 1
        scale = self.mean * cost_factor / (1.0 - self.zero_share) * risk_score**e / norm
        return np.log(scale) - 0.5 * self.sigma**2


def expected_capped_cost(
    log_mean: np.ndarray, sigma: float, zero_share: float, cap: float
) -> np.ndarray:
    """``E[min(C, cap)]`` for a hurdle-lognormal cost ``C``, dollars.

    Parameters
    ----------
    log_mean, sigma : array_like, float
        Log-mean and log-sd of the positive part.
    zero_share : float
        Probability of zero cost.
    cap : float
        Per-beneficiary cap, dollars (``inf`` for no cap).
    """
    mu = np.asarray(log_mean, dtype=float)
    full = np.exp(mu + 0.5 * sigma * sigma)
    if not np.isfinite(cap):
        return (1.0 - zero_share) * full
    log_cap = np.log(cap)
    below = full * stats.norm.cdf((log_cap - mu - sigma * sigma) / sigma)
    above = cap * stats.norm.sf((log_cap - mu) / sigma)
    return (1.0 - zero_share) * (below + above)
