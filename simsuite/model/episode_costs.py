"""The cost model of episodes of care (bundled payments) and what contracts price them at.

A scenario's ``episodes:`` section lists the hospital's episode categories
(`simsuite.scenario.schema.EpisodeSpec`). Per simulation, each category has a random number of episodes
(Poisson with mean ``annual_volume``, or exactly that volume) and each episode costs

    X = f * (B + I * E)

dollars, where ``B`` is a log-normal body cost, ``I`` is 1 with probability
``complication_rate`` (a complication or readmission), ``E`` is a log-normal extra cost,
and ``f = 1 - true_savings`` is the hospital's effect on its own spending. ``X0`` (``f = 1``)
is the benchmark distribution: its mean is ``mean_cost``.

Everything a contract prices against -- the high-cost caps (a percentile of ``X0`` or
its mean plus ``k`` standard deviations) and the expected capped cost per episode --
comes from closed forms and one-dimensional numerical integration of this model
(`EpisodeCostModel.cdf`, `.quantile`, `.expected_capped`), never from the simulation, so
the benchmark is not correlated with the draws it is compared with. `EpisodePricing`
gathers it for a scenario's categories and the caps its contracts use; the Monte Carlo
draws and the exact method both price from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from simsuite.contracts import Contract
from simsuite.contracts.base import EpisodeTotals, HighCostCap
from simsuite.model.lognormal import capped_moment
from simsuite.scenario.schema import EpisodeSpec

# --- the cost model in closed form ----------------------------------------------------------

@dataclass(frozen=True)
class EpisodeCostModel:
    """Log-normal parameters of one category's benchmark episode cost ``X0 = B + I E``.

    Attributes
    ----------
    mu_body, sigma_body : float
        ``log B ~ Normal(mu_body, sigma_body**2)``, dollars.
    p : float
        Complication probability.
    mu_extra, sigma_extra : float
        ``log E ~ Normal(mu_extra, sigma_extra**2)``, dollars (unused if ``p == 0``).
    """

    mu_body: float
    sigma_body: float
    p: float
    mu_extra: float
    sigma_extra: float

    @classmethod
    def of(cls, spec: EpisodeSpec) -> EpisodeCostModel:
        sb = math.sqrt(math.log1p(spec.cost_cv**2))
        se = math.sqrt(math.log1p(spec.complication_cv**2))
        extra = spec.complication_cost or 1.0
        return cls(math.log(spec.body_mean) - sb * sb / 2, sb, spec.complication_rate,
                   math.log(extra) - se * se / 2, se)

    def mean(self) -> float:
        """``E[X0]``, dollars."""
        return _ln_mean(self.mu_body, self.sigma_body) + self.p * _ln_mean(self.mu_extra, self.sigma_extra)

    def sd(self) -> float:
        """Standard deviation of ``X0``, dollars: ``Var B + p E[E^2] - p^2 E[E]^2``."""
        var_b = _ln_mean(self.mu_body, self.sigma_body) ** 2 * math.expm1(self.sigma_body**2)
        m_e = _ln_mean(self.mu_extra, self.sigma_extra)
        second_e = m_e**2 * math.exp(self.sigma_extra**2)
        return math.sqrt(var_b + self.p * second_e - (self.p * m_e) ** 2)

    def _extra_points(self, upper: float) -> tuple[float, float]:
        # Integrate over the standard-normal variable of E up to log(upper): smooth
        # integrands, and the Gaussian weight makes quad's job easy.
        return -12.0, (math.log(upper) - self.mu_extra) / self.sigma_extra

    def cdf(self, x: float) -> float:
        """``P(X0 <= x)``: ``(1 - p) F_B(x) + p * integral F_B(x - e) dF_E(e)``."""
        if x <= 0:
            return 0.0
        body = _ln_cdf(x, self.mu_body, self.sigma_body)
        if self.p == 0:
            return body
        lo, hi = self._extra_points(x)
        if hi <= lo:
            with_extra = 0.0
        else:
            from scipy import integrate  # heavy import, needed only when pricing episodes

            with_extra, _ = integrate.quad(
                lambda t: _phi(t) * _ln_cdf(x - math.exp(self.mu_extra + self.sigma_extra * t),
                                                      self.mu_body, self.sigma_body),
                lo, hi, epsabs=1e-13, epsrel=1e-11, limit=200)
        return (1 - self.p) * body + self.p * with_extra

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of ``X0``, dollars (root of `cdf`, to 1e-10 relative)."""
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile level must be in (0, 1), got {q}")
        hi = self.mean()
        while self.cdf(hi) < q:
            hi *= 2.0
        from scipy import optimize

        return optimize.brentq(lambda x: self.cdf(x) - q, 0.0, hi, xtol=1e-9, rtol=1e-12, maxiter=500)

    def expected_capped(self, cap: float, factor: float = 1.0) -> float:
        """``E[min(factor * X0, cap)]``, dollars (``cap`` may be ``inf``).

        ``E[min(B, c)]`` is the log-normal limited expected value; with a complication,
        ``min(B + E, c) = E + min(B, c - E)`` if ``E < c``, else ``c``, integrated over ``E``.
        """
        if math.isinf(cap):
            return factor * self.mean()
        c = cap / factor
        body = _ln_lev(c, self.mu_body, self.sigma_body)
        if self.p == 0:
            return factor * body
        lo, hi = self._extra_points(c)
        below = 0.0
        if hi > lo:
            def integrand(t: float) -> float:
                e = math.exp(self.mu_extra + self.sigma_extra * t)
                return _phi(t) * (e + _ln_lev(c - e, self.mu_body, self.sigma_body))

            from scipy import integrate

            below, _ = integrate.quad(integrand, lo, hi, epsabs=1e-9 * c, epsrel=1e-11, limit=200)
        above = c * _norm_sf(hi)
        return factor * ((1 - self.p) * body + self.p * (below + above))

    def cap_dollars(self, cap: HighCostCap | None) -> float:
        """The per-episode cap in dollars of a `HighCostCap` (``inf`` for none)."""
        if cap is None:
            return math.inf
        if cap.kind == "percentile":
            return self.quantile(cap.value)
        return self.mean() + cap.value * self.sd()


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _phi(t: float) -> float:
    # Plain math rather than scipy.stats: quad calls these thousands of times per cap.
    return _INV_SQRT_2PI * math.exp(-0.5 * t * t)


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / _SQRT2)


def _ln_mean(mu: float, sigma: float) -> float:
    return math.exp(mu + sigma * sigma / 2)


def _ln_cdf(x: float, mu: float, sigma: float) -> float:
    return 0.0 if x <= 0 else _norm_cdf((math.log(x) - mu) / sigma)


def _ln_lev(c: float, mu: float, sigma: float) -> float:
    """Limited expected value ``E[min(Y, c)]`` of a log-normal ``Y``, dollars (0 if ``c <= 0``)."""
    return 0.0 if c <= 0 else float(capped_moment(mu, sigma, c, 1))


# --- the count distribution ----------------------------------------------------------------

def count_table(spec: EpisodeSpec) -> tuple[int, np.ndarray]:
    """Inverse-CDF table of the episode count: ``(start, cdf)`` with
    ``cdf[i] = P(N <= start + i)``, the last entry forced to 1.

    For a Poisson count the table spans ``lambda - 10 sqrt(lambda) - 10`` to
    ``lambda + 12 sqrt(lambda) + 30``: the mass outside is below 1e-20, far under the
    smallest step of the kernel's uniforms (2**-52). The table is the exact inverse CDF
    except within 2**-53 of 1, where double precision cannot tell ``P(N <= k)`` from 1:
    an event of probability below 1e-16 per simulation and category.
    """
    lam = spec.annual_volume
    if spec.volume_model == "fixed":
        return int(round(lam)), np.ones(1)
    start = max(0, int(math.floor(lam - 10 * math.sqrt(lam) - 10)))
    stop = int(math.ceil(lam + 12 * math.sqrt(lam) + 30))
    cdf = special.pdtr(np.arange(start, stop + 1), lam)  # Poisson CDF
    cdf[-1] = 1.0
    return start, cdf


def count_pmf(spec: EpisodeSpec, tail: float = 1e-13) -> tuple[np.ndarray, np.ndarray]:
    """Counts and their probabilities, leaving out at most ``tail`` on each side.

    For the exact method, which enumerates counts: a Poisson count's support from its
    ``tail`` quantile to its ``1 - tail`` quantile (the probability left out is reported
    by the caller), a fixed count as itself.
    """
    from scipy import stats

    if spec.volume_model == "fixed":
        return np.array([int(round(spec.annual_volume))]), np.ones(1)
    lo = int(stats.poisson.ppf(tail, spec.annual_volume))
    hi = int(stats.poisson.isf(tail, spec.annual_volume)) + 1
    r = np.arange(lo, hi + 1)
    return r, stats.poisson.pmf(r, spec.annual_volume)


def episode_caps(contracts: Sequence[Contract]) -> tuple[HighCostCap, ...]:
    """Distinct high-cost caps of the contracts that read episodes, in first-seen order."""
    caps: list[HighCostCap] = []
    for c in contracts:
        cap = c.episode_cap
        if c.uses_episodes and cap is not None and cap not in caps:
            caps.append(cap)
    return tuple(caps)


@dataclass(frozen=True)
class EpisodePricing:
    """The cost models of a scenario's episode categories and the prices contracts use.

    Attributes
    ----------
    specs : tuple of EpisodeSpec
        The categories (``C`` of them).
    caps : tuple of HighCostCap
        The high-cost caps some contract needs (``K`` of them).
    models : tuple of EpisodeCostModel
        Each category's benchmark cost model.
    cap_dollars : ndarray, shape (K, C)
        Each cap in dollars per episode, from the benchmark distribution.
    expected_capped : ndarray, shape (K, C)
        Benchmark price per episode ``E[min(X0, cap)]``, dollars.
    expected_raw : ndarray, shape (C,)
        ``E[X0]`` = ``mean_cost``, dollars.
    """

    specs: tuple[EpisodeSpec, ...]
    caps: tuple[HighCostCap, ...]
    models: tuple[EpisodeCostModel, ...]
    cap_dollars: np.ndarray
    expected_capped: np.ndarray
    expected_raw: np.ndarray

    @classmethod
    def of(cls, specs: Sequence[EpisodeSpec], caps: Sequence[HighCostCap]) -> EpisodePricing:
        """Price ``specs`` under every cap in ``caps``."""
        models = tuple(EpisodeCostModel.of(s) for s in specs)
        n_cat, n_caps = len(specs), len(caps)
        cap_dollars = np.array([[m.cap_dollars(cap) for m in models] for cap in caps]).reshape(n_caps, n_cat)
        expected = np.array([[m.expected_capped(cap_dollars[k, c]) for c, m in enumerate(models)]
                             for k in range(n_caps)]).reshape(n_caps, n_cat)
        return cls(specs=tuple(specs), caps=tuple(caps), models=models, cap_dollars=cap_dollars,
                   expected_capped=expected, expected_raw=np.array([m.mean() for m in models]))

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.category for s in self.specs)

    @property
    def groups(self) -> tuple[str | None, ...]:
        return tuple(s.pricing_group for s in self.specs)

    @property
    def effort_factors(self) -> np.ndarray:
        """``1 - true_savings`` of each category: the hospital's effect on its own spending."""
        return np.array([1.0 - s.true_savings for s in self.specs])

    def count_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kernel's count tables: ``(start[C], cdf[C, W], length[C])`` (see `count_table`)."""
        tables = [count_table(s) for s in self.specs]
        width = max([len(t[1]) for t in tables] or [1])
        cdf = np.ones((len(tables), width))
        for c, (_, t) in enumerate(tables):
            cdf[c, :len(t)] = t
        start = np.array([t[0] for t in tables], dtype=np.int64)
        length = np.array([len(t[1]) for t in tables], dtype=np.int64)
        return start, cdf, length

    def totals(self, count: np.ndarray, raw: np.ndarray, capped: np.ndarray) -> EpisodeTotals:
        """`EpisodeTotals` of these categories from counts and cost sums.

        Parameters
        ----------
        count : ndarray, shape (S, C)
            Episodes per simulation and category.
        raw : ndarray, shape (S, C)
            Uncapped cost sums, dollars.
        capped : ndarray, shape (S, C, K)
            Cost sums under each of the caps, dollars.
        """
        return EpisodeTotals(categories=self.categories, groups=self.groups, caps=self.caps,
                             cap_dollars=self.cap_dollars, expected_capped=self.expected_capped,
                             expected_raw=self.expected_raw, count=count, raw=raw, capped=capped)
