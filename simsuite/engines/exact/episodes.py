"""Exact results of episode (bundled payment) contracts, by conditioning on the episode counts.

Given the count vector ``k`` (independent Poisson or fixed counts per category), the
target prices are fixed (``sum_c k_c TP_c``) and the capped spending is the sum of
``k_c`` iid capped episode costs of each category: its lattice distribution is the
inverse FFT of ``prod_c phi_c(t)**k_c`` (``phi_c``: one capped episode's lattice
characteristic function). Because every episode is capped, spending never exceeds
``sum_c k_c cap_c``: the window ``[0, M h)`` holds it without aliasing. Each contract's
own ``settle`` is evaluated on every (count vector, spending) point and weighted by
``P(k) P(spending | k)``; contracts with the same cap and categories share the
distributions. Counts beyond ``1e-13`` tail quantiles are left out (their probability
is part of the reported aliasing bound).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft

from simsuite.contracts import Contract
from simsuite.contracts.base import HighCostCap, PanelYear
from simsuite.engines.exact.diagnostics import TotalDiagnostics, episode_label
from simsuite.engines.exact.lattice import LOG_CF_FLOOR, bernstein_deviation, discretise_capped
from simsuite.engines.exact.panel import TRIM_RELATIVE
from simsuite.engines.settlement_inputs import SettlementInputs
from simsuite.model.episode_costs import EpisodeCostModel, EpisodePricing, count_pmf
from simsuite.results.risk import summarize_weighted

# The same as DISCRETISATION_TARGET for one episode's cost: episode sums have far fewer
# terms than panels, and every count vector needs its own FFT, so buckets are coarser.
EPISODE_DISCRETISATION_TARGET = 3e-4
# Count vectors less likely than this are left out (their total is in the bound).
EPISODE_COUNT_FLOOR = 1e-14

@dataclass
class _Accumulator:
    """Probability-weighted sums of one contract's results over (count vector, cost) points.

    Mean, second moment, P(loss) and P(shared savings) are summed exactly; the loss is
    also spread onto a fine grid (mean-preserving linear binning, bucket ``width``) for
    VaR and TVaR, whose error from it is at most ``width``.
    """

    lo: float
    width: float
    bins: int
    mass: float = 0.0
    first: float = 0.0
    second: float = 0.0
    p_loss: float = 0.0
    p_gain: float = 0.0
    target: float = 0.0
    hist: np.ndarray | None = None

    def add(self, net: np.ndarray, gain: np.ndarray, w: np.ndarray, target: np.ndarray | None) -> None:
        if self.hist is None:
            self.hist = np.zeros(self.bins + 1)
        # Plain sums rather than np.dot: BLAS threads fight over 2 shared cores and are
        # several times slower here than a single-threaded reduction.
        wn = w * net
        self.mass += float(w.sum())
        self.first += float(wn.sum())
        self.second += float((wn * net).sum())
        self.p_loss += float(w[net < 0].sum())
        self.p_gain += float(w[gain].sum())
        if target is not None:
            self.target += float((w * target).sum())
        pos = np.clip((-net - self.lo) / self.width, 0.0, self.bins - 1e-9)
        j = pos.astype(np.int64)
        frac = pos - j
        # Only the stretch of the grid these points reach is touched (a batch's results
        # cover a small part of it).
        j0 = int(j.min())
        part = np.bincount(j - j0, weights=w * (1.0 - frac))
        self.hist[j0:j0 + part.size] += part
        part = np.bincount(j - j0, weights=w * frac)
        self.hist[j0 + 1:j0 + 1 + part.size] += part

    def measures(self) -> dict[str, float]:
        assert self.hist is not None, "measures of an accumulator that was never added to"
        grid = self.lo + self.width * np.arange(self.bins + 1)
        keep = self.hist > 0
        v = summarize_weighted(-grid[keep], np.zeros(int(keep.sum()), dtype=bool), self.hist[keep])
        mean = self.first / self.mass
        v.update({"mean": mean, "sd": math.sqrt(max(self.second / self.mass - mean * mean, 0.0)),
                  "p_loss": self.p_loss / self.mass, "p_shared_savings": self.p_gain / self.mass})
        return v


def _episode_cost_pmf(model: EpisodeCostModel, factor: float, cap: float, h: float) -> np.ndarray:
    """Lattice probabilities of one episode's capped cost ``min(f (B + I E), cap)``.

    The body ``f B`` and the extra ``f E`` are each discretised (mean-preserving, capped
    at ``cap``: ``min(B + E, c) = min(min(B, c) + min(E, c), c)``), convolved, and the
    mass above ``cap`` moved to ``cap`` (split between its two lattice neighbours so that
    its value is ``cap``). The lattice convolution's capping error is measured by the
    moment check, not assumed away.
    """
    log_f = math.log(factor)
    body = discretise_capped(model.mu_body + log_f, model.sigma_body, 0.0, cap, h)
    if model.p == 0.0:
        return body
    extra = discretise_capped(model.mu_extra + log_f, model.sigma_extra, 0.0, cap, h)
    both = np.convolve(body, extra)
    last = int(math.floor(cap / h))
    frac = cap / h - last
    over = np.arange(both.size) * h > cap
    moved = float(both[over].sum())
    both = both[: last + 2].copy()
    both[over[: last + 2]] = 0.0
    both[last] += moved * (1.0 - frac)
    both[last + 1] += moved * frac
    pmf = np.zeros(last + 2)
    pmf[: body.size] += (1.0 - model.p) * body
    pmf += model.p * both
    return pmf


def _capped_episode_second_moment(model: EpisodeCostModel, factor: float, cap: float) -> float:
    """``E[min(f X0, cap)**2] = int_0^cap 2 x P(f X0 > x) dx``, dollars**2 (quadrature)."""
    nodes, weights = np.polynomial.legendre.leggauss(96)
    x = 0.5 * cap * (nodes + 1.0)
    sf = np.array([1.0 - model.cdf(xi / factor) for xi in x])
    return float(0.5 * cap * np.dot(weights, 2.0 * x * sf))


Measures = dict[str, float]


@dataclass(frozen=True)
class _CategoryLattices:
    """Lattice distributions of one capped episode cost per priced category (bucket ``h``).

    ``mean``, ``var``: the lattice variables' moments; ``mean_error``: lattice mean minus
    the closed form, dollars; ``var_error``: relative variance error.
    """

    h: float
    pmfs: list[np.ndarray]
    mean: np.ndarray
    var: np.ndarray
    mean_error: np.ndarray
    var_error: np.ndarray
    checks: list[TotalDiagnostics]


def _category_lattices(pricing: EpisodePricing, cap: HighCostCap, cap_usd: np.ndarray,
                       priced: tuple[int, ...]) -> _CategoryLattices:
    """One capped episode cost per priced category on a common lattice, with its checks.

    Fine buckets: rounding adds up to h**2/6 of variance per episode, about 3e-4 of the
    smallest category's (the moment check reports it, and the error allowance carries it).
    """
    models, factors = pricing.models, pricing.effort_factors
    sd_min = min(models[k].sd() * factors[k] for k in priced)
    h = math.sqrt(6.0 * EPISODE_DISCRETISATION_TARGET) * sd_min
    pmfs, mean, var = [], np.zeros(len(priced)), np.zeros(len(priced))
    mean_error, var_error, checks = np.zeros(len(priced)), np.zeros(len(priced)), []
    for j, k in enumerate(priced):
        pmf = _episode_cost_pmf(models[k], factors[k], float(cap_usd[k]), h)
        x = h * np.arange(pmf.size)
        model_mean = models[k].expected_capped(float(cap_usd[k]), factors[k])
        model_var = _capped_episode_second_moment(models[k], factors[k], float(cap_usd[k])) - model_mean**2
        mean[j] = float(np.dot(x, pmf))
        var[j] = float(np.dot(x * x, pmf)) - mean[j] ** 2
        mean_error[j] = mean[j] - model_mean
        var_error[j] = var[j] / model_var - 1.0
        pmfs.append(pmf)
        checks.append(TotalDiagnostics(
            label=episode_label(pricing.specs[k].category, cap), buckets=0, bucket_usd=h,
            model_mean=model_mean, model_sd=math.sqrt(max(model_var, 0.0)),
            mean_rel_error=mean[j] / model_mean - 1.0, var_rel_error=float(var_error[j]),
            aliasing_bound=0.0, aliasing_bound_kind=""))
    return _CategoryLattices(h, pmfs, mean, var, mean_error, var_error, checks)


def _count_vectors(pricing: EpisodePricing, priced: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
    """Every count vector of the priced categories with its probability (outer product),
    dropping the negligible: ``(counts[V, P], weight[V], probability left out)``."""
    ranges, probs, cut = [], [], 0.0
    for k in priced:
        r, p = count_pmf(pricing.specs[k])
        cut += 1.0 - float(p.sum())
        ranges.append(r)
        probs.append(p)
    grid = np.meshgrid(*ranges, indexing="ij")
    counts = np.stack([g.ravel() for g in grid], axis=1)
    weight = probs[0]
    for p in probs[1:]:
        weight = np.multiply.outer(weight, p)  # same order as the meshgrid's ravel
    weight = np.asarray(weight).ravel()
    keep = weight > EPISODE_COUNT_FLOOR
    cut += float(weight[~keep].sum())
    return counts[keep], weight[keep], cut


@dataclass(frozen=True)
class _Windows:
    """One FFT window of ``m`` buckets per count vector, starting at bucket ``k0``."""

    m: int
    k0: np.ndarray
    outside: float  # Bernstein bound on the spending outside the windows, probability


def _windows(lat: _CategoryLattices, counts: np.ndarray, weight: np.ndarray, caps: np.ndarray,
             log2_buckets: int | None) -> _Windows:
    """Windows centred on each count vector's mean spending; Bernstein's inequality
    (capped costs are bounded by the largest cap) bounds what falls outside."""
    h = lat.h
    kf = counts.astype(float)
    mu_k, var_k = kf @ lat.mean, kf @ lat.var
    reach = kf @ caps  # most spending possible: every episode at its cap
    bound = 1.01 * float(caps.max())
    big = int(np.argmax(var_k))
    t = bernstein_deviation(1.01 * var_k[big], bound, 1e-12)
    l2 = int(np.clip(math.ceil(math.log2(min(2.0 * t, reach.max()) / h + 2)), 10, 17))
    if log2_buckets is not None:
        l2 = int(log2_buckets)
    m = 1 << l2
    k0 = np.maximum(0, np.floor((mu_k - 0.5 * m * h) / h)).astype(np.int64)
    t_lo = mu_k - k0 * h
    t_hi = (k0 + m - 1) * h - mu_k
    with np.errstate(divide="ignore", invalid="ignore"):
        out_lo = np.where(k0 > 0, np.exp(-t_lo**2 / (2.0 * (1.01 * var_k + bound * t_lo / 3.0))), 0.0)
        out_hi = np.where((k0 + m - 1) * h >= reach, 0.0,
                          np.exp(-t_hi**2 / (2.0 * (1.01 * var_k + bound * t_hi / 3.0))))
    return _Windows(m, k0, float(np.dot(weight, np.minimum(1.0, out_lo + out_hi))))


def _log_cfs(lat: _CategoryLattices, m: int) -> np.ndarray:
    """Log characteristic function of each category's lattice cost on ``m`` buckets."""
    log_cf = np.zeros((len(lat.pmfs), m // 2 + 1), dtype=complex)
    for j, pmf in enumerate(lat.pmfs):
        if pmf.size > m:
            pmf = np.bincount(np.arange(pmf.size) % m, weights=pmf, minlength=m)
        with np.errstate(divide="ignore"):
            log_cf[j] = np.log(scipy.fft.rfft(pmf, n=m))
    return log_cf


def _spending_points(log_cf: np.ndarray, counts: np.ndarray, k0: np.ndarray, m: int, r: int,
                     width: int) -> tuple[np.ndarray, np.ndarray]:
    """Spending distribution of each count vector of a batch on the coarse step ``r h``.

    Each vector's spending distribution is the inverse FFT of ``prod_c phi_c**k_c``, read
    on its window, re-binned (mean-preserving) to the coarser step. Returns
    ``(probabilities[V, width], first coarse bucket of each row[V])``.
    """
    lc = (counts[:, :, None] * log_cf[None, :, :]).sum(axis=1)  # no BLAS (see _Accumulator.add)
    cf = np.where(lc.real > -LOG_CF_FLOOR, np.exp(lc), 0.0)
    pm = np.clip(scipy.fft.irfft(cf, n=m, axis=1), 0.0, None)
    pm /= pm.sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(pm > TRIM_RELATIVE * pm.max(axis=1, keepdims=True))
    p = pm[rows, cols]
    true = k0[rows] + (cols - k0[rows]) % m  # residue -> point of the row's window
    pos = true / r
    jc = np.floor(pos).astype(np.int64)
    frac = pos - jc
    j0 = k0 // r
    key = rows * width + (jc - j0[rows])
    coarse = (np.bincount(key, weights=p * (1.0 - frac), minlength=len(counts) * width)
              + np.bincount(key + 1, weights=p * frac, minlength=len(counts) * width))
    return coarse.reshape(len(counts), width), j0


def episode_results(inputs: SettlementInputs, contracts: Sequence[Contract], quality: float,
                    log2_buckets: int | None = None
                    ) -> tuple[list[tuple[Measures, Measures, float]], list[TotalDiagnostics]]:
    """Exact measures of episode contracts, by conditioning on the episode counts.

    Returns
    -------
    results : list of (values, allowance, expected target)
        Per contract: measures, own-error allowance (shift of spending by
        ``sum_c k_c |mean error_c| + h sqrt(sum_c k_c)``, plus the VaR/TVaR grid width),
        and the expected sum of target prices, dollars.
    diagnostics : list of TotalDiagnostics
        One per (category, cap).
    """
    specs = inputs.scenario.spec.episodes
    groups: dict[tuple, list[int]] = {}
    for j, c in enumerate(contracts):
        priced = tuple(k for k, s in enumerate(specs) if c.prices_episode(s.category, s.pricing_group))
        groups.setdefault((c.episode_cap, priced), []).append(j)
    out: list = [None] * len(contracts)
    diagnostics: list[TotalDiagnostics] = []
    for (cap, priced), members in groups.items():
        pricing = EpisodePricing.of(specs, (cap,))
        results, checks = _group_results(inputs, pricing, cap, priced, [contracts[j] for j in members],
                                         quality, log2_buckets)
        for j, result in zip(members, results):
            out[j] = result
        diagnostics += checks
    return out, diagnostics


def _group_results(inputs: SettlementInputs, pricing: EpisodePricing, cap: HighCostCap,
                   priced: tuple[int, ...], contracts: list[Contract], quality: float,
                   log2_buckets: int | None) -> tuple[list[tuple[Measures, Measures, float]], list[TotalDiagnostics]]:
    """Exact measures of contracts sharing one cap and one set of priced categories."""
    cap_usd, bench = pricing.cap_dollars[0], pricing.expected_capped[0]
    lat = _category_lattices(pricing, cap, cap_usd, priced)
    counts, weight, cut = _count_vectors(pricing, priced)
    caps = cap_usd[list(priced)]
    win = _windows(lat, counts, weight, caps, log2_buckets)
    cut += win.outside
    log_cf = _log_cfs(lat, win.m)
    # Settlement points: each count vector's spending is re-binned (mean-preserving) to a
    # coarser step H ~ sd/40 of a typical vector. That rounds once per vector, not per
    # episode: it adds at most H**2/4 of variance to the vector's spending (included in
    # the error allowance below) and cuts the settlement work many times.
    h, m = lat.h, win.m
    var_k = counts.astype(float) @ lat.var
    sd_typ = math.sqrt(float(np.dot(weight, var_k)) / float(weight.sum()))
    r = max(1, int(sd_typ / (40.0 * h)))
    width = m // r + 2
    rel_sd = 0.5 * float(np.abs(lat.var_error).max()) + (r * h) ** 2 / 8.0 / var_k.clip(min=1e-300)

    target_max = float((counts @ bench[list(priced)]).max())
    n_bins = 1 << 18
    step = (target_max + float((counts.astype(float) @ caps).max())) / (n_bins - 2)
    lo_grid = -math.ceil(target_max / step) * step  # 0 is a grid point: atoms at net = 0 stay there
    acc = [[_Accumulator(lo_grid, step, n_bins) for _ in range(3)] for _ in contracts]
    batch = max(1, (1 << 21) // m)
    trimmed = 0.0
    n_cat = len(pricing.specs)
    for start in range(0, counts.shape[0], batch):
        sl = slice(start, start + batch)
        kb, wb = counts[sl], weight[sl]
        coarse, j0 = _spending_points(log_cf, kb, win.k0[sl], m, r, width)
        coarse = coarse * wb[:, None]
        rows, cols = np.nonzero(coarse > 1e-16)
        trimmed += float(wb.sum() - coarse[rows, cols].sum())
        w = coarse[rows, cols]
        spend = (j0[rows] + cols) * (r * h)
        kr = kb[rows]
        count_full = np.zeros((rows.size, n_cat), dtype=np.int64)
        count_full[:, list(priced)] = kr
        centre = (kr * lat.mean).sum(axis=1)
        shift = np.abs((kr * lat.mean_error).sum(axis=1)) + h
        s_row = rel_sd[sl][rows]
        variants = (spend,
                    np.maximum(centre + (spend - centre) * (1.0 + s_row) + shift, 0.0),
                    np.maximum(centre + (spend - centre) * (1.0 - s_row) - shift, 0.0))
        for variant, moved in enumerate(variants):
            year = _episode_year(inputs, pricing, count_full, priced[0], moved, quality)
            for j, contract in enumerate(contracts):
                result = contract.settle(year)
                target = result.benchmark if variant == 0 else None
                acc[j][variant].add(result.net, np.asarray(result.gain_shared, dtype=bool), w, target)
    cut += max(trimmed, 0.0)
    checks = [TotalDiagnostics(**{**c.__dict__, "buckets": m, "aliasing_bound": cut, "aliasing_bound_kind": (
        "strict: probability of the episode counts left out (Poisson tails) plus Bernstein's "
        "bound on spending outside each count vector's window, plus trimmed points")}) for c in lat.checks]
    return [_measures_with_allowance(a, cut) for a in acc], checks


def _episode_year(inputs: SettlementInputs, pricing: EpisodePricing, count: np.ndarray, first: int,
                  spending: np.ndarray, quality: float) -> PanelYear:
    """The `PanelYear` of settlement points: counts, and the priced categories' total
    capped spending (only that total is reconciled, so it stands in the first's column)."""
    n_points, n_cat = count.shape
    sums = np.zeros((n_points, n_cat))
    sums[:, first] = spending
    return inputs.episode_year(pricing.totals(count, sums, sums[:, :, None]), np.full(n_points, quality))


def _measures_with_allowance(acc: list[_Accumulator], cut: float) -> tuple[Measures, Measures, float]:
    """The measures of the unperturbed points, and the allowance: the largest change under
    the two perturbations, plus the VaR/TVaR grid width and, for probabilities, ``cut``."""
    base = acc[0].measures()
    allowance = dict.fromkeys(base, 0.0)
    for other in acc[1:]:
        moved = other.measures()
        for key in allowance:
            allowance[key] = max(allowance[key], abs(moved[key] - base[key]))
    for key in allowance:
        if key.startswith("VaR") or key.startswith("TVaR"):
            allowance[key] += acc[0].width
        if key.startswith("p_"):
            allowance[key] += cut
    target = acc[0].target / acc[0].mass if acc[0].target else np.nan
    return base, allowance, target
