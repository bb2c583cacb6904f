"""Episodes of care for bundled payments: the scenario section, its cost model, and the draws.

A scenario's ``episodes:`` section lists the hospital's episode categories
(`EpisodeSpec`). Per simulation, each category has a random number of episodes
(Poisson with mean ``annual_volume``, or exactly that volume) and each episode costs

    X = f * (B + I * E)

dollars, where ``B`` is a log-normal body cost, ``I`` is 1 with probability
``complication_rate`` (a complication or readmission), ``E`` is a log-normal extra cost,
and ``f = 1 - true_savings`` is the hospital's effect on its own spending. ``X0`` (``f = 1``)
is the benchmark distribution: its mean is ``mean_cost``.

Everything a contract prices against -- the high-cost caps (a percentile of ``X0`` or
its mean plus ``k`` standard deviations) and the expected capped cost per episode --
comes from closed forms and one-dimensional numerical integration of this model
(`cost_cdf`, `cost_quantile`, `expected_capped`), never from the simulation, so the
benchmark is not correlated with the draws it is compared with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

import numba
import numpy as np
from scipy import special
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.contracts.episode import HighCostCap, priced_discount
from simsuite.errors import FieldProblem, InputError
from simsuite.kernels.episodes import EPISODE_STREAM, episode_totals
from simsuite.kernels.rng import stream_key
from simsuite.yamlfile import did_you_mean, dotted

if TYPE_CHECKING:
    from simsuite.engine import RunOptions
    from simsuite.scenario import Scenario

# The five TEAM episode categories are surgical; any other category names its group
# itself when a contract prices by group (BPCI Advanced: medical 2%, surgical 3%).
SURGICAL_CATEGORIES = frozenset({"LEJR", "SHFFT", "SPINAL_FUSION", "CABG", "MAJOR_BOWEL"})
MAX_VOLUME = 1_000_000


class EpisodeSpec(BaseModel):
    """One episode category of the hospital (a row of the scenario's ``episodes:``).

    Attributes
    ----------
    category : str
        Episode category as the contracts name it: ``LEJR``, ``SHFFT``,
        ``SPINAL_FUSION``, ``CABG``, ``MAJOR_BOWEL`` (TEAM, CJR) or a BPCI Advanced
        clinical episode name.
    group : {"medical", "surgical"} or None
        Group for contracts that price by group (BPCI Advanced); the five TEAM
        categories default to ``surgical``.
    annual_volume : float
        Expected episodes per year (> 0).
    volume_model : {"poisson", "fixed"}
        ``poisson``: each simulation draws a Poisson count with mean ``annual_volume``;
        ``fixed``: exactly ``annual_volume`` episodes (must be a whole number).
    mean_cost : float
        Benchmark mean spending per episode, dollars, including complications, before
        any contract discount and without the hospital's effort.
    cost_cv : float
        Coefficient of variation of the log-normal body cost (without complications).
    complication_rate : float
        Probability that an episode has a complication or readmission (fraction).
    complication_cost : float or None
        Mean extra cost of a complication, dollars; required if ``complication_rate > 0``.
    complication_cv : float
        Coefficient of variation of the log-normal extra cost (a heavy right tail).
    true_savings : float
        The hospital's effect: every episode costs ``1 - true_savings`` times the
        benchmark distribution (0.03 = 3% cheaper; negative = costlier).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    category: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z][A-Za-z0-9_ .&/-]*$")]
    group: Literal["medical", "surgical"] | None = None
    annual_volume: Annotated[float, Field(gt=0.0, le=MAX_VOLUME)]
    volume_model: Literal["poisson", "fixed"] = "poisson"
    mean_cost: Annotated[float, Field(gt=0.0, le=1e8)]
    cost_cv: Annotated[float, Field(gt=0.0, le=5.0)] = 0.35
    complication_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    complication_cost: Annotated[float, Field(gt=0.0, le=1e8)] | None = None
    complication_cv: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    true_savings: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> "EpisodeSpec":
        if self.volume_model == "fixed" and self.annual_volume != round(self.annual_volume):
            raise FieldProblem(("annual_volume",),
                               f"a fixed volume must be a whole number of episodes (got {self.annual_volume})")
        if self.complication_rate > 0 and self.complication_cost is None:
            raise FieldProblem(("complication_cost",), "required when complication_rate is above 0")
        if self.body_mean <= 0:
            raise FieldProblem(
                ("complication_cost",),
                f"complication_rate x complication_cost = {self.complication_rate * (self.complication_cost or 0):,.0f} "
                f"leaves nothing of mean_cost {self.mean_cost:,.0f} for the episode itself",
            )
        return self

    @property
    def pricing_group(self) -> str | None:
        """``group``, or ``surgical`` for the five TEAM categories."""
        if self.group is not None:
            return self.group
        return "surgical" if self.category in SURGICAL_CATEGORIES else None

    @property
    def body_mean(self) -> float:
        """Mean body cost, dollars: ``mean_cost`` less the expected complication cost."""
        return self.mean_cost - self.complication_rate * (self.complication_cost or 0.0)


# --- the cost model in closed form ----------------------------------------------------------

@dataclass(frozen=True)
class CostModel:
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
    def of(cls, spec: EpisodeSpec) -> "CostModel":
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
    """Limited expected value ``E[min(Y, c)]`` of a log-normal ``Y``, dollars."""
    if c <= 0:
        return 0.0
    z = (math.log(c) - mu) / sigma
    return _ln_mean(mu, sigma) * _norm_cdf(z - sigma) + c * _norm_sf(z)


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


# --- per-simulation totals -----------------------------------------------------------------

@dataclass(frozen=True)
class EpisodeTotals:
    """Per-simulation episode totals of every category, and what they are priced against.

    Attributes
    ----------
    categories : tuple of str
        Category of each row of the scenario's ``episodes:`` (``C`` of them).
    groups : tuple of (str or None)
        Pricing group of each category (``medical`` / ``surgical`` / None).
    caps : tuple of HighCostCap
        The caps some contract needs, in the order of the last axis of ``capped``.
    cap_dollars : ndarray, shape (K, C)
        Each cap in dollars per episode, from the benchmark distribution ``X0``.
    expected_capped : ndarray, shape (K, C)
        Benchmark price per episode ``E[min(X0, cap)]``, dollars (closed form).
    expected_raw : ndarray, shape (C,)
        ``E[X0]`` = ``mean_cost``, dollars.
    count : ndarray of int64, shape (S, C)
        Episodes in each simulation.
    raw : ndarray, shape (S, C)
        Sum of episode costs, dollars.
    capped : ndarray, shape (S, C, K)
        Sum of episode costs capped at ``cap_dollars[k]``, dollars.
    """

    categories: tuple[str, ...]
    groups: tuple[str | None, ...]
    caps: tuple[HighCostCap, ...]
    cap_dollars: np.ndarray
    expected_capped: np.ndarray
    expected_raw: np.ndarray
    count: np.ndarray
    raw: np.ndarray
    capped: np.ndarray

    def sums(self, cap: HighCostCap | None) -> np.ndarray:
        """Per-simulation, per-category cost sums under ``cap`` (None = raw), dollars, (S, C)."""
        return self.raw if cap is None else self.capped[:, :, self.caps.index(cap)]

    def benchmark_per_episode(self, cap: HighCostCap | None) -> np.ndarray:
        """Benchmark price per episode under ``cap`` (None = uncapped), dollars, shape (C,)."""
        return self.expected_raw if cap is None else self.expected_capped[self.caps.index(cap)]


def episode_caps(contracts) -> tuple[HighCostCap, ...]:
    """Distinct high-cost caps of the episode contracts, in first-seen order."""
    caps: list[HighCostCap] = []
    for c in contracts:
        cap = c.terms.high_cost_cap
        if cap is not None and cap not in caps:
            caps.append(cap)
    return tuple(caps)


def draw_episodes(specs: list[EpisodeSpec], caps: tuple[HighCostCap, ...], seed: int,
                  simulations: int, sim_start: int = 0, threads: int | None = None,
                  chunk: int | None = None) -> EpisodeTotals:
    """Draw episode totals for simulations ``sim_start .. sim_start + simulations - 1``.

    Parameters
    ----------
    specs : list of EpisodeSpec
        The categories.
    caps : tuple of HighCostCap
        Caps whose sums are needed.
    seed : int
        Random seed; the draws use stream `EPISODE_STREAM` of it.
    simulations, sim_start : int
        How many simulations, and the global index of the first.
    threads : int, optional
        Numba threads (the result does not depend on it).
    chunk : int, optional
        Simulations per kernel call (the result does not depend on it); all at once by default.

    Returns
    -------
    EpisodeTotals
    """
    models = [CostModel.of(s) for s in specs]
    n_cat, n_caps = len(specs), len(caps)
    cap_dollars = np.array([[m.cap_dollars(cap) for m in models] for cap in caps]).reshape(n_caps, n_cat)
    expected = np.array([[m.expected_capped(cap_dollars[k, c]) for c, m in enumerate(models)]
                         for k in range(n_caps)]).reshape(n_caps, n_cat)
    tables = [count_table(s) for s in specs]
    width = max([len(t[1]) for t in tables] or [1])
    count_cdf = np.ones((n_cat, width))
    for c, (_, cdf) in enumerate(tables):
        count_cdf[c, :len(cdf)] = cdf
    count_start = np.array([t[0] for t in tables], dtype=np.int64)
    count_len = np.array([len(t[1]) for t in tables], dtype=np.int64)
    arrays = [np.array([getattr(m, f) for m in models], dtype=np.float64)
              for f in ("mu_body", "sigma_body", "p", "mu_extra", "sigma_extra")]
    factor = np.array([1.0 - s.true_savings for s in specs])

    count = np.zeros((simulations, n_cat), dtype=np.int64)
    raw = np.zeros((simulations, n_cat))
    capped = np.zeros((simulations, n_cat, n_caps))
    # A typed uint64 key: Numba types a Python int as int64, and int64 + uint64 is float64.
    key = np.uint64(stream_key(np.uint64(seed), np.uint64(EPISODE_STREAM)))
    step = chunk or max(simulations, 1)
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        if n_cat:
            for start in range(0, simulations, step):
                stop = min(start + step, simulations)
                episode_totals(key, np.int64(sim_start + start), count_start, count_cdf, count_len, *arrays,
                               factor, cap_dollars, count[start:stop], raw[start:stop], capped[start:stop])
    finally:
        numba.set_num_threads(previous)
    return EpisodeTotals(
        categories=tuple(s.category for s in specs),
        groups=tuple(s.pricing_group for s in specs),
        caps=caps,
        cap_dollars=cap_dollars,
        expected_capped=expected,
        expected_raw=np.array([m.mean() for m in models]),
        count=count,
        raw=raw,
        capped=capped,
    )


def check_episodes(specs: list["EpisodeSpec"], contracts: list) -> None:
    """Raise `FieldProblem` if episode contracts lack an ``episodes:`` section, or an
    episode category is priced by none of them (most likely a misspelt name)."""
    contracts = [c for c in contracts if c.uses_episodes]
    if not contracts:
        return
    if not specs:
        names = ", ".join(c.name for c in contracts)
        raise FieldProblem(("episodes",), f"the episode contracts ({names}) need an episodes: section "
                                          "listing the hospital's episodes")
    for i, spec in enumerate(specs):
        if not any(priced_discount(c.terms.discount, spec.category, spec.pricing_group) is not None
                   for c in contracts):
            known = sorted({k for c in contracts for k in c.terms.discount})
            raise FieldProblem(
                ("episodes", i, "category"),
                f"no episode contract here prices '{spec.category}'{did_you_mean(spec.category, known)} "
                f"(they price: {', '.join(known)}; a BPCI Advanced episode needs group: medical or surgical)",
            )


def simulate_episodes(scenario: "Scenario", options: "RunOptions") -> EpisodeTotals:
    """Episode totals of a scenario's ``episodes:`` for every simulation of a run.

    Raises
    ------
    InputError
        See `check_episodes` (normally caught when the scenario is loaded).
    """
    specs = list(scenario.spec.episodes)
    contracts = [c for c in scenario.contracts if c.uses_episodes]
    try:
        check_episodes(specs, contracts)
    except FieldProblem as exc:
        raise InputError(scenario.source, dotted(exc.loc), exc.problem) from None
    return draw_episodes(specs, episode_caps(contracts), options.seed, options.simulations,
                         sim_start=options.first_sim, threads=options.threads, chunk=options.chunk)
