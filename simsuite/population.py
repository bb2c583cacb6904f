"""Turn a scenario's population and cost-model sections into flat arrays for the kernels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsuite.contracts.base import CapSpec
from simsuite.costmodel import ENROLLMENT_TYPES, TypeCostModel, expected_capped_cost
from simsuite.scenario import ScenarioSpec


@dataclass(frozen=True)
class PanelArrays:
    """A panel of beneficiaries grouped into cohorts (one per enrollment type).

    Attributes
    ----------
    cohorts : tuple of str
        Enrollment type of each cohort.
    cohort_start : int64[C + 1]
        Patients of cohort ``c`` are ``cohort_start[c]:cohort_start[c+1]``.
    models : tuple of TypeCostModel
        The cost model of each cohort, trended to the performance year.
    risk_score : float64[N]
        Each beneficiary's risk score.
    log_mean_expected : float64[N]
        Log-location of each beneficiary's positive cost absent any savings effort.
    """

    cohorts: tuple[str, ...]
    cohort_start: np.ndarray
    models: tuple[TypeCostModel, ...]
    risk_score: np.ndarray
    log_mean_expected: np.ndarray

    @property
    def size(self) -> int:
        return int(self.cohort_start[-1])

    @property
    def zero_share(self) -> np.ndarray:
        return np.array([m.zero_share for m in self.models])

    @property
    def sigma(self) -> np.ndarray:
        return np.array([m.sigma for m in self.models])

    def caps_at(self, percentile: float | None) -> np.ndarray:
        """Per-cohort truncation threshold (dollars) at a national percentile; ``inf`` if None."""
        if percentile is None or percentile >= 1.0:
            return np.full(len(self.models), np.inf)
        return np.array([m.national_quantile(percentile) for m in self.models])

    def caps_for(self, spec: CapSpec) -> np.ndarray:
        """Per-cohort cap (dollars) of a `CapSpec`: the lesser of its percentile and dollar caps."""
        caps = self.caps_at(spec.percentile)
        if spec.dollars is not None:
            caps = np.minimum(caps, spec.dollars)
        return caps

    def expected_total(self, caps: np.ndarray, cost_factor: float = 1.0) -> float:
        """Expected panel total of capped costs, dollars, with costs scaled by ``cost_factor``."""
        total = 0.0
        shift = np.log(cost_factor)
        for c, model in enumerate(self.models):
            lo, hi = self.cohort_start[c], self.cohort_start[c + 1]
            mu = self.log_mean_expected[lo:hi] + shift
            total += float(np.sum(expected_capped_cost(mu, model.sigma, model.zero_share, caps[c])))
        return total


def split_counts(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Integer counts summing to ``total`` in the given shares (largest remainder)."""
    raw = {k: total * v for k, v in shares.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    left = total - sum(counts.values())
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[:left]:
        counts[k] += 1
    return counts


def build_panel(spec: ScenarioSpec) -> PanelArrays:
    """Arrays of a scenario's panel, with costs trended to its performance year."""
    pop, cost = spec.population, spec.cost_model
    counts = split_counts(pop.beneficiaries, pop.mix.as_dict())
    trend = (1.0 + cost.annual_trend) ** (spec.performance_year - cost.mean_cost_year)
    models, scores, log_means, starts = [], [], [], [0]
    for t in ENROLLMENT_TYPES:
        model = TypeCostModel(
            mean=cost.mean_cost.as_dict()[t] * trend,
            zero_share=cost.zero_cost_share,
            sigma=cost.severity_sigma,
            risk_cv=pop.risk_score.cv,
            elasticity=cost.risk_elasticity,
        )
        r = model.risk_scores(counts[t])
        models.append(model)
        scores.append(r)
        log_means.append(model.patient_log_mean(r))
        starts.append(starts[-1] + counts[t])
    return PanelArrays(
        cohorts=ENROLLMENT_TYPES,
        cohort_start=np.array(starts, dtype=np.int64),
        models=tuple(models),
        risk_score=np.concatenate(scores),
        log_mean_expected=np.concatenate(log_means),
    )
