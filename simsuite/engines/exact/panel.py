"""Exact results of contracts that settle on one panel total.

For each contract the family names the one total its settlement depends on
(`simsuite.contracts.Family.exact_total`): the panel's cost under a cap, or the claims
under specific stop-loss. That total's distribution is computed once per distinct total
(`simsuite.engines.exact.lattice`), and the contract's own ``settle`` is evaluated on
its lattice points, weighted by their probabilities, with the exact discrete formulas
of `simsuite.results.risk`. The method's own error is estimated by re-settling on the
distribution perturbed by its measured mean and variance errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from simsuite.contracts import Contract
from simsuite.contracts.base import PanelTotal, PanelYear
from simsuite.engines.exact.bands import band_panel, panel_moments
from simsuite.engines.exact.diagnostics import TotalDiagnostics, panel_label
from simsuite.engines.exact.lattice import (
    TotalDistribution,
    _unbounded_window,
    default_log2_buckets,
    total_distribution,
)
from simsuite.model.population import PanelArrays
from simsuite.results.risk import summarize_weighted

# Lattice points less likely than this fraction of the most likely one are dropped
# before settlement.
TRIM_RELATIVE = 1e-9


def measures(contract: Contract, year_for: Callable[[np.ndarray], PanelYear],
             values: np.ndarray, pmf: np.ndarray) -> dict[str, float]:
    """Every measure of ``contract`` settled on the total's points ``values`` with weights ``pmf``."""
    result = contract.settle(year_for(values))
    return summarize_weighted(result.net, result.gain_shared, pmf)


def exceed_probability(contract: Contract, year_for: Callable[[np.ndarray], PanelYear],
                       dist: TotalDistribution, guarantee: float) -> float:
    """P(what is owed under ``contract`` exceeds ``guarantee``) on ``dist``: the weight of the
    points where the settlement's loss ``-net`` is above the guarantee (dollars)."""
    net = np.asarray(contract.settle(year_for(dist.values)).net, dtype=float)
    w = dist.pmf / dist.pmf.sum()
    return float(w[-net > guarantee].sum())


def error_allowance(contract: Contract, year_for: Callable[[np.ndarray], PanelYear],
                    dist: TotalDistribution, base: dict[str, float], rel_sd_error: float,
                    mean_error: float) -> dict[str, float]:
    """How much each measure moves when the total is perturbed by its measured error.

    The total's computed distribution differs from the model's by a small error in
    scale (the relative sd error found by the moment check), in location (the mean
    error) and by the lattice (one bucket ``h``). Each measure is recomputed on the
    distribution stretched by ``1 +- rel_sd_error`` about its mean and shifted by
    ``+- (|mean_error| + h)``; the largest change is the allowance (dollars or
    probability), a first-order estimate of the exact method's own error. The
    probability outside the window (``aliasing_bound``) is added to probabilities.
    """
    centre = dist.mean
    shift = abs(mean_error) + dist.h
    stretch = max(abs(rel_sd_error), 1e-12)
    allowance = dict.fromkeys(base, 0.0)
    for s in (1.0 + stretch, 1.0 - stretch):
        for d in (shift, -shift):
            moved = measures(contract, year_for, centre + (dist.values - centre) * s + d, dist.pmf)
            for k in allowance:
                allowance[k] = max(allowance[k], abs(moved[k] - base[k]))
    for k in allowance:
        if k.startswith("p_"):
            allowance[k] += dist.aliasing_bound
    return allowance


def total_distribution_for(panel: PanelArrays, total: PanelTotal, caps: np.ndarray, shift: float,
                           bands_per_cohort: int, log2_buckets: int | None, eps: float
                           ) -> tuple[TotalDistribution, TotalDiagnostics]:
    """The distribution of one panel total and its self-checks.

    Parameters
    ----------
    panel : PanelArrays
        The scenario's panel.
    total : PanelTotal
        Which total (cap and coinsurance above it).
    caps : ndarray
        The total's per-cohort cap, dollars.
    shift : float
        ``log(1 - true_savings)``, added to every beneficiary's log-location.
    bands_per_cohort, log2_buckets, eps
        As `simsuite.engines.exact.run_exact`.
    """
    bands = band_panel(panel, caps, shift, bands_per_cohort, total.coins)
    model_mean, model_var = panel_moments(panel, caps, shift, total.coins)
    _, band_var = bands.moments()
    window = None if bands.bounded else _unbounded_window(bands, eps)
    if log2_buckets is None:
        log2_buckets = default_log2_buckets(bands, band_var, eps, window)
    dist = total_distribution(bands, log2_buckets, eps, window=window)
    diagnostics = TotalDiagnostics(
        label=panel_label(total),
        buckets=1 << log2_buckets,
        bucket_usd=dist.h,
        nodes=int(bands.count.size),
        aliasing_bound=dist.aliasing_bound,
        aliasing_bound_kind=(
            "strict: Bernstein's inequality for bounded (capped) costs" if bands.bounded else
            "strict under the model: truncation plus Chernoff bound with lattice moment generating "
            "functions (mean-preserving spreads, hence upper bounds); computed on grids of truncation "
            "levels and exponents"),
        model_mean=model_mean,
        model_sd=math.sqrt(model_var),
        mean_rel_error=dist.mean / model_mean - 1.0,
        var_rel_error=dist.var / model_var - 1.0,
        banding_var_rel_error=band_var / model_var - 1.0,
        discretisation_var_rel_error=dist.var / band_var - 1.0,
    )
    return dist, diagnostics


def settle_on_distribution(contract: Contract, year_for: Callable[[np.ndarray], PanelYear],
                           dist: TotalDistribution, diagnostics: TotalDiagnostics
                           ) -> tuple[dict[str, float], dict[str, float], float]:
    """The contract's measures on ``dist``, their error allowance, and the trimmed probability.

    Points below `TRIM_RELATIVE` of the largest probability (far tails and the FFT's
    rounding floor, ~1e-17) carry no weight any measure can see; dropping them makes
    settlement several times faster. Their total is returned.
    """
    support = dist.pmf > TRIM_RELATIVE * dist.pmf.max()
    trimmed = float(dist.pmf[~support].sum())
    sub = TotalDistribution(dist.values[support], dist.pmf[support], dist.h, dist.aliasing_bound)
    values = measures(contract, year_for, sub.values, sub.pmf)
    allowance = error_allowance(contract, year_for, sub, values, 0.5 * abs(diagnostics.var_rel_error),
                                diagnostics.mean_rel_error * diagnostics.model_mean)
    return values, allowance, trimmed
