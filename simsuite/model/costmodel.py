"""The per-beneficiary annual cost model and its closed forms.

A beneficiary of enrollment type ``t`` with risk score ``r`` has zero Parts A and B
cost with probability ``p0``. Otherwise the cost is drawn from a two-component
lognormal mixture: with probability ``1 - w`` the *body* ``exp(theta + s1 Z)``, with
probability ``w`` the *tail* ``exp(theta + d + s2 Z)`` (``Z`` standard normal), whose
conditional mean is ``rho`` times the body's. ``theta`` scales with
``r**e / E[r**e]`` so that the type's mean cost is ``m_t`` whatever the shape.
(``w = 0`` is the single hurdle lognormal of earlier versions.)

Risk scores are lognormal with mean 1 and coefficient of variation ``cv`` within each
type. A lognormal times a lognormal is lognormal, so across a type (risk scores mixed
in) the positive cost is again a two-component lognormal mixture, with log-variances
``s_k**2 + e**2 log(1 + cv**2)``, and across all types a mixture of eight: its mean,
CDF, ``E[min(X, c)**k]`` and partial expectations are closed forms
(`LognormalMixture`); quantiles (MSSP truncation thresholds) and the concentration
curve need one 1-D root of a closed-form CDF.

Default type means and the enrollment mix come from the CMS 2018 county-level FFS PUF
shipped in ``simsuite/data`` (person-year-weighted national means); the default shape
(``p0, w, s1, s2, rho, e``) is the calibration stored in
``simsuite/data/cost_model_defaults.yaml`` (`simsuite.data.reference`, written by
``simsuite calibrate --write``; see `simsuite.tools.calibrate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from simsuite.model.lognormal import hurdle_capped_moment, mixture_capped_moment

# MSSP truncates per-beneficiary expenditures at the national 99th percentile by
# enrollment type (42 CFR 425.604/.606/.610(a)(4); 425.652(a)(4) for agreements from 2024).
TRUNCATION_PERCENTILE = 0.99


@dataclass(frozen=True)
class Severity:
    """Shape of one beneficiary's positive cost around their log-location ``theta``.

    With probability ``weight[k]`` the positive cost is ``exp(theta + shift[k] + sigma[k] Z)``,
    ``Z`` standard normal. Component 0 is the body (``shift[0] == 0``); an optional
    component 1 is the tail. The kernel reads it as one row of `kernel_row`.

    Attributes
    ----------
    weight : tuple of float
        Component probabilities given a positive cost (sum 1).
    shift : tuple of float
        Log-location offsets (log dollars).
    sigma : tuple of float
        Log-sds (> 0).
    """

    weight: tuple[float, ...]
    shift: tuple[float, ...]
    sigma: tuple[float, ...]

    @classmethod
    def lognormal(cls, sigma: float) -> Severity:
        """A single lognormal with log-sd ``sigma`` (log-location ``theta``)."""
        return cls((1.0,), (0.0,), (float(sigma),))

    def kernel_row(self) -> np.ndarray:
        """``(tail_weight, body_sigma, tail_shift, tail_sigma)``: what `panel_totals` reads."""
        if len(self.weight) == 1:
            return np.array([0.0, self.sigma[0], 0.0, self.sigma[0]])
        return np.array([self.weight[1], self.sigma[0], self.shift[1], self.sigma[1]])


@dataclass(frozen=True)
class LognormalMixture:
    """A cost that is 0 with probability ``1 - sum(weight)``, else lognormal component ``k``
    (log-mean ``mu[k]``, log-sd ``sd[k]``) with probability ``weight[k]``.

    Dollars. Everything but `quantile` and `top_share` is a closed form; those solve one
    monotone equation in ``log x`` (Brent, to rounding).
    """

    weight: np.ndarray
    mu: np.ndarray
    sd: np.ndarray

    @staticmethod
    def combine(parts: list[LognormalMixture], shares: list[float]) -> LognormalMixture:
        """The mixture drawing from ``parts[j]`` with probability ``shares[j]``."""
        return LognormalMixture(
            np.concatenate([p.weight * s for p, s in zip(parts, shares)]),
            np.concatenate([p.mu for p in parts]),
            np.concatenate([p.sd for p in parts]),
        )

    @property
    def zero_mass(self) -> float:
        """Probability of zero cost."""
        return float(1.0 - self.weight.sum())

    def moment(self, k: int = 1) -> float:
        """``E[X**k]``, dollars**k."""
        return float(np.sum(self.weight * np.exp(k * self.mu + 0.5 * (k * self.sd) ** 2)))

    def mean(self) -> float:
        """``E[X]``, dollars."""
        return self.moment(1)

    def sf(self, x: float) -> float:
        """``P(X > x)``."""
        if x <= 0.0:
            return float(self.weight.sum()) if x == 0.0 else 1.0
        if not np.isfinite(x):
            return 0.0
        return float(np.sum(self.weight * special.ndtr((self.mu - np.log(x)) / self.sd)))

    def cdf(self, x: float) -> float:
        """``P(X <= x)``."""
        if x < 0.0:
            return 0.0
        if x == 0.0:
            return self.zero_mass
        if not np.isfinite(x):
            return 1.0
        return float(self.zero_mass + np.sum(self.weight * special.ndtr((np.log(x) - self.mu) / self.sd)))

    def moment_above(self, x: float, k: int = 1) -> float:
        """``E[X**k; X > x]``, dollars**k (the spending of those above ``x`` when ``k = 1``)."""
        if x <= 0.0:
            return self.moment(k)
        if not np.isfinite(x):
            return 0.0
        s = self.sd
        return float(np.sum(self.weight * np.exp(k * self.mu + 0.5 * (k * s) ** 2)
                            * special.ndtr((self.mu + k * s * s - np.log(x)) / s)))

    def capped_moment(self, cap: float, k: int = 1) -> float:
        """``E[min(X, cap)**k]``, dollars**k (``cap = inf``: the raw moment)."""
        return mixture_capped_moment(self.weight, self.mu, self.sd, cap, k)

    def quantile(self, p: float) -> float:
        """Lower ``p``-quantile ``inf{x : P(X <= x) >= p}``, dollars (0 within the zero mass)."""
        if p <= self.zero_mass:
            return 0.0
        if p >= 1.0:
            return float("inf")
        target = 1.0 - p
        # Every component's log lies within 40 sd of its log-mean except for mass < 1e-300,
        # so the root of the (decreasing) survival function in log x is inside this bracket.
        lo = float(np.min(self.mu - 40.0 * self.sd))
        hi = float(np.max(self.mu + 40.0 * self.sd))

        def excess(y: float) -> float:
            return float(np.sum(self.weight * special.ndtr((self.mu - y) / self.sd))) - target

        from scipy import optimize  # loaded on first use: it is slow to import

        y = optimize.brentq(excess, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500)
        return float(np.exp(y))

    def top_share(self, q: float) -> float:
        """Share of total spending of the costliest fraction ``q`` of beneficiaries (0..1).

        The threshold is the ``1 - q`` quantile; the distribution is continuous above 0,
        so exactly ``q`` lie above it whenever ``q < P(X > 0)`` (else the share is 1).
        """
        if q >= 1.0 - self.zero_mass:
            return 1.0
        return self.moment_above(self.quantile(1.0 - q)) / self.mean()

    def concentration(self, q: np.ndarray) -> np.ndarray:
        """`top_share` at each fraction in ``q``: the concentration curve."""
        return np.array([self.top_share(float(v)) for v in np.atleast_1d(q)])


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
        Log-sd of the body component of a beneficiary's positive cost given the risk score.
    risk_cv : float
        Coefficient of variation of risk scores within the type (mean 1).
    elasticity : float
        Cost scales with ``risk_score ** elasticity`` (normalised to keep ``mean``).
    tail_weight : float
        Probability of the tail component given a positive cost (0 = single lognormal).
    tail_sigma : float
        Log-sd of the tail component.
    tail_mean_ratio : float
        Mean of the tail component / mean of the body component, same risk score.
    """

    mean: float
    zero_share: float
    sigma: float
    risk_cv: float
    elasticity: float = 1.0
    tail_weight: float = 0.0
    tail_sigma: float = 1.0
    tail_mean_ratio: float = 1.0

    @property
    def risk_log_sd(self) -> float:
        """Log-sd of the lognormal risk-score distribution."""
        return float(np.sqrt(np.log1p(self.risk_cv**2)))

    @property
    def _body_relative_mean(self) -> float:
        # Body mean / positive mean: (1 - w) m + w rho m = 1.
        return 1.0 / ((1.0 - self.tail_weight) + self.tail_weight * self.tail_mean_ratio)

    @property
    def severity(self) -> Severity:
        """Shape of a beneficiary's positive cost around `patient_log_mean` (body log-location)."""
        if self.tail_weight == 0.0:
            return Severity.lognormal(self.sigma)
        shift = np.log(self.tail_mean_ratio) + 0.5 * (self.sigma**2 - self.tail_sigma**2)
        return Severity((1.0 - self.tail_weight, self.tail_weight), (0.0, float(shift)),
                        (self.sigma, self.tail_sigma))

    def patient_log_mean(self, risk_score: np.ndarray, cost_factor: float = 1.0) -> np.ndarray:
        """Log-location ``theta`` of the body of each beneficiary's positive cost, log dollars.

        ``E[cost | r] = mean * cost_factor * r**e / E[r**e]``, whatever the shape.
        """
        s_r, e = self.risk_log_sd, self.elasticity
        norm = np.exp(0.5 * e * (e - 1.0) * s_r * s_r)  # E[r**e] for lognormal r with mean 1
        body_mean = (self.mean * cost_factor / (1.0 - self.zero_share) * self._body_relative_mean
                     * risk_score**e / norm)
        return np.log(body_mean) - 0.5 * self.sigma**2

    def national(self) -> LognormalMixture:
        """The distribution of a beneficiary's cost across the type, risk scores mixed in.

        ``log(r**e / E[r**e])`` is normal with variance ``v = e**2 s_r**2`` and mean
        ``-v / 2``, so each component stays lognormal with its log-variance increased by ``v``.
        """
        v = (self.elasticity * self.risk_log_sd) ** 2
        sev = self.severity
        theta = float(np.log(self.mean / (1.0 - self.zero_share) * self._body_relative_mean)) - 0.5 * self.sigma**2
        sd = np.sqrt(np.array(sev.sigma) ** 2 + v)
        mu = theta + np.array(sev.shift) + 0.5 * np.array(sev.sigma) ** 2 - 0.5 * sd**2
        return LognormalMixture((1.0 - self.zero_share) * np.array(sev.weight), mu, sd)

    def national_quantile(self, p: float) -> float:
        """``p``-quantile of a beneficiary's annual cost across the type, dollars."""
        return self.national().quantile(p)

    def national_cdf(self, x: float) -> float:
        """``P(cost <= x)`` across the type."""
        return self.national().cdf(x)

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


def national_mixture(models: list[TypeCostModel], shares: list[float]) -> LognormalMixture:
    """Cost of a beneficiary drawn from the enrollment types in ``shares`` (summing to 1)."""
    return LognormalMixture.combine([m.national() for m in models], list(shares))


def expected_capped_cost(
    log_mean: np.ndarray, sigma: float | Severity, zero_share: float, cap: float
) -> np.ndarray:
    """``E[min(C, cap)]`` for a hurdle lognormal (mixture) cost ``C``, dollars.

    Parameters
    ----------
    log_mean : array_like
        Log-location ``theta`` of each beneficiary's positive cost (log dollars).
    sigma : float or Severity
        Log-sd of a single lognormal, or the mixture shape around ``theta``.
    zero_share : float
        Probability of zero cost.
    cap : float
        Per-beneficiary cap, dollars (``inf`` for no cap).
    """
    sev = sigma if isinstance(sigma, Severity) else Severity.lognormal(sigma)
    return hurdle_capped_moment(log_mean, sev, zero_share, cap, 1)
