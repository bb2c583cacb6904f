"""Exact (up to discretisation) results for panels of independent beneficiaries, by FFT.

The panel total ``T = sum_i min(C_i, cap_c(i))`` of independent hurdle-lognormal costs
has a distribution that can be computed rather than sampled:

1. **Bands** (`bands`): each cohort is cut into bands of equal width in log-location,
   each replaced by iid beneficiaries at a mean-matching node (the mean is kept exactly;
   the variance error is computed and reported).
2. **Discretisation and convolution** (`lattice`): each node's capped cost on a lattice
   by mean-preserving rounding; characteristic functions raised to counts and
   multiplied; an inverse FFT on a window around the mean, with a strict bound on the
   mass outside it.
3. **The systemic factor** (`systemic`): a one-year run's lognormal factor on the panel's
   spending, integrated by quadrature (a mixture of scaled copies of the total's lattice).
4. **Settlement** (`panel`, `episodes`): every contract's own vectorised ``settle`` on
   the lattice values, measures from the probability weights with the exact discrete
   formulas of `simsuite.results.risk`. Episode contracts are computed by conditioning
   on the episode counts.

Which scenarios qualify is `eligibility`; each distribution's self-checks are typed
records (`diagnostics`). Money is dollars per panel per year; positive = money to the
provider; risk measures are taken on the loss ``L = -net``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from simsuite.contracts import Contract
from simsuite.contracts.base import PanelTotal, PanelYear
from simsuite.engines.exact.bands import DEFAULT_BANDS_PER_COHORT
from simsuite.engines.exact.diagnostics import TotalDiagnostics, diagnostics_of, to_attrs
from simsuite.engines.exact.eligibility import check_exact, exact_problems
from simsuite.engines.exact.episodes import episode_results
from simsuite.engines.exact.lattice import DEFAULT_TAIL_EPS, UNBOUNDED_TAIL_EPS, TotalDistribution
from simsuite.engines.exact.panel import exceed_probability, measures, settle_on_distribution, total_distribution_for
from simsuite.engines.exact.systemic import with_systemic_factor
from simsuite.engines.settlement_inputs import SettlementInputs
from simsuite.model.variance import systemic_sd
from simsuite.results.dataset import exact_dataset, guarantee_vars, measure_row
from simsuite.results.risk import MEASURES
from simsuite.scenario.load import Scenario

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["check_exact", "diagnostics_of", "exact_problems", "run_exact"]


def run_exact(scenario: Scenario, bands_per_cohort: int = DEFAULT_BANDS_PER_COHORT,
              log2_buckets: int | None = None, eps: float = DEFAULT_TAIL_EPS,
              unbounded_eps: float = UNBOUNDED_TAIL_EPS,
              episode_log2_buckets: int | None = None) -> xr.Dataset:
    """Settle every contract of ``scenario`` on the exact distribution of what it reads.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (`simsuite.load_scenario`).
    bands_per_cohort : int
        Risk bands per enrollment type (equal widths in log cost); the banding error is
        reported in the diagnostics.
    log2_buckets : int, optional
        ``2**log2_buckets`` lattice points for panel totals; by default the smallest
        power of two (from 2**14 to 2**22) whose bucket adds about 1e-5 of relative variance.
    eps : float
        Allowed probability outside the window on each side, bounded (capped) totals.
    unbounded_eps : float
        The same for unbounded totals (uncapped, or stop-loss with coinsurance), whose
        lognormal tails make a strict bound of ``eps`` needlessly wide.
    episode_log2_buckets : int, optional
        Lattice points for episode cost sums (default: from the episode cost spread,
        2**12 to 2**16).

    Returns
    -------
    xarray.Dataset
        ``summary(contract, measure)`` with the measures of `simsuite.results.risk.MEASURES`
        (money in dollars per year, positive = to the provider; VaR/TVaR on the loss
        ``-net``; probabilities as fractions), ``summary_se`` (zero: no sampling error),
        ``summary_error(contract, measure)`` (first-order estimate of the method's own
        error, same units), ``benchmark(contract)`` (dollars; for episode contracts the
        expected sum of target prices). The self-checks of every computed distribution
        are in the attributes; read them with `diagnostics_of`.

    Raises
    ------
    InputError
        If the scenario needs Monte Carlo (see `exact_problems`).
    """
    check_exact(scenario)
    spec = scenario.spec
    inputs = SettlementInputs.of(scenario)
    shift = math.log(1.0 - spec.assumptions.savings_mean)
    systemic = systemic_sd(spec, inputs.panel.size)
    quality = spec.assumptions.quality_score
    n = len(scenario.contracts)
    values = np.zeros((n, len(MEASURES)))
    errors = np.zeros_like(values)
    benchmarks = np.full(n, np.nan)
    guarantees = np.full(n, np.nan)
    p_exceeds = np.full(n, np.nan)
    diagnostics: list[TotalDiagnostics] = []
    cache: dict[PanelTotal, tuple[TotalDistribution, TotalDiagnostics]] = {}
    trimmed: dict[PanelTotal, float] = {}

    contracts = scenario.single_year_contracts  # a horizon is refused by check_exact
    episode_rows = [i for i, c in enumerate(contracts) if c.spec.exact == "episodes"]
    if episode_rows:
        results, episode_checks = episode_results(inputs, [contracts[i] for i in episode_rows],
                                                  quality, episode_log2_buckets)
        diagnostics += episode_checks
        for i, (v, allowance, target) in zip(episode_rows, results):
            values[i], errors[i], benchmarks[i] = measure_row(v), measure_row(allowance), target

    for i, contract in enumerate(contracts):
        kind = contract.spec.exact
        if kind == "episodes":
            continue

        def year_for(x: np.ndarray, contract: Contract = contract) -> PanelYear:
            return inputs.panel_year_at_total(contract, x, quality)

        if contract.has_benchmark:
            benchmarks[i] = inputs.benchmark(contract)
        if kind == "constant":
            # The settlement reads no random cost (FFS; quality payments with a fixed
            # score): one point of mass 1 is exact.
            values[i] = measure_row(measures(contract, year_for, np.zeros(1), np.ones(1)))
            continue
        hook = contract.spec.exact_total
        assert hook is not None  # kind == "panel_total" (eligibility refused the rest)
        total = hook(contract.terms)
        if total not in cache:
            caps = inputs.panel.caps_for(total.cap)
            bounded = bool(np.all(np.isfinite(caps))) and total.coins == 0.0
            dist, checks = total_distribution_for(inputs.panel, total, caps, shift, bands_per_cohort, log2_buckets,
                                                  eps if bounded else unbounded_eps)
            cache[total] = with_systemic_factor(dist, checks, systemic) if systemic > 0.0 else (dist, checks)
        dist, checks = cache[total]
        v, allowance, trimmed[total] = settle_on_distribution(contract, year_for, dist, checks)
        values[i], errors[i] = measure_row(v), measure_row(allowance)
        guarantee = inputs.guarantee(contract)
        if guarantee is not None:
            guarantees[i] = guarantee
            p_exceeds[i] = exceed_probability(contract, year_for, dist, guarantee)

    diagnostics += [replace(checks, trimmed_probability=trimmed[total]) for total, (_, checks) in cache.items()]
    attrs = {"bands_per_cohort": bands_per_cohort, "rules": "\n".join(inputs.rule_notes()), **to_attrs(diagnostics)}
    ds = exact_dataset(scenario, values, errors, benchmarks, attrs)
    # No sampling error: the probability is computed, not estimated.
    return ds.assign(guarantee_vars(guarantees, p_exceeds, np.where(np.isnan(p_exceeds), np.nan, 0.0)))
