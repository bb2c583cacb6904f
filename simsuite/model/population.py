"""Turn a scenario's population and cost-model sections into flat arrays for the kernels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsuite.contracts.base import CapSpec
from simsuite.data.reference import ENROLLMENT_TYPES
from simsuite.model.costmodel import TRUNCATION_PERCENTILE, TypeCostModel, expected_capped_cost
from simsuite.scenario.owndata import PatientTable
from simsuite.scenario.schema import CostModelSpec, ScenarioSpec, split_counts


class CostSource:
    """What the benchmark and the caps are computed from: the parametric panel
    (`PanelArrays`) or costs resampled from the organisation's history
    (`simsuite.model.resampled_costs.BootstrapPanel`).

    A subclass gives per-cohort caps at a percentile (`caps_at`) and expected capped
    totals (`expected_by_cohort`); the rest follows.
    """

    def caps_at(self, percentile: float | None) -> np.ndarray:
        raise NotImplementedError

    def expected_by_cohort(self, caps: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def expected_total(self, caps: np.ndarray) -> float:
        raise NotImplementedError

    def caps_for(self, spec: CapSpec) -> np.ndarray:
        """Per-cohort cap (dollars) of a `CapSpec`: the lesser of its percentile and dollar caps."""
        caps = self.caps_at(spec.percentile)
        if spec.dollars is not None:
            caps = np.minimum(caps, spec.dollars)
        return caps


@dataclass(frozen=True)
class PanelArrays(CostSource):
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
        Log-location (body component, log dollars) of each beneficiary's positive cost
        absent any savings effort (`TypeCostModel.patient_log_mean`).
    truncation : float64[C] or None
        Dollars replacing the model's 99th-percentile truncation threshold of each
        cohort (``cost_model.truncation_by_type``); None = the model's own.
    """

    cohorts: tuple[str, ...]
    cohort_start: np.ndarray
    models: tuple[TypeCostModel, ...]
    risk_score: np.ndarray
    log_mean_expected: np.ndarray
    truncation: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.cohort_start[-1])

    @property
    def zero_share(self) -> np.ndarray:
        return np.array([m.zero_share for m in self.models])

    @property
    def severity(self) -> np.ndarray:
        """float64[C, 4]: each cohort's `Severity.kernel_row` (what `panel_totals` reads)."""
        return np.vstack([m.severity.kernel_row() for m in self.models])

    def caps_at(self, percentile: float | None) -> np.ndarray:
        """Per-cohort truncation threshold (dollars) at a national percentile; ``inf`` if None.

        At the MSSP truncation percentile a scenario's ``truncation_by_type`` replaces the model.
        """
        if percentile is None or percentile >= 1.0:
            return np.full(len(self.models), np.inf)
        if self.truncation is not None and percentile == TRUNCATION_PERCENTILE:
            return self.truncation.copy()
        return np.array([m.national_quantile(percentile) for m in self.models])

    def expected_total(self, caps: np.ndarray, cost_factor: float = 1.0) -> float:
        """Expected panel total of capped costs, dollars, with costs scaled by ``cost_factor``."""
        total = 0.0
        shift = np.log(cost_factor)
        for c, model in enumerate(self.models):
            lo, hi = self.cohort_start[c], self.cohort_start[c + 1]
            mu = self.log_mean_expected[lo:hi] + shift
            total += float(np.sum(expected_capped_cost(mu, model.severity, model.zero_share, caps[c])))
        return total

    def expected_by_cohort(self, caps: np.ndarray) -> np.ndarray:
        """Expected capped total of each cohort without the savings effort, dollars, float64[C]."""
        out = np.zeros(len(self.models))
        for c, model in enumerate(self.models):
            mu = self.log_mean_expected[self.cohort_start[c]:self.cohort_start[c + 1]]
            out[c] = float(np.sum(expected_capped_cost(mu, model.severity, model.zero_share, caps[c])))
        return out


def build_panel(spec: ScenarioSpec, patients: PatientTable | None = None) -> PanelArrays:
    """Arrays of a scenario's panel, with costs trended to its performance year.

    Parameters
    ----------
    spec : ScenarioSpec
        The scenario's fields.
    patients : PatientTable, optional
        The panel of ``population.patients_file`` (`Scenario.patients`): its beneficiaries
        and risk scores replace the generated, representative panel.
    """
    pop, cost = spec.population, spec.cost_model
    n = pop.beneficiaries if pop.beneficiaries is not None else 0 if patients is None else len(patients)
    counts = (split_counts(n, pop.mix.as_dict()) if patients is None
              else patients.counts())
    trend = (1.0 + cost.annual_trend) ** (spec.performance_year - cost.mean_cost_year)
    models, scores, log_means, starts = [], [], [], [0]
    for t in ENROLLMENT_TYPES:
        model = type_cost_model(cost, t, trend, pop.risk_score.cv)
        r = model.risk_scores(counts[t]) if patients is None else patients.scores_of(t)
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
        truncation=(None if cost.truncation_by_type is None else
                    np.array([cost.truncation_by_type.as_dict()[t] for t in ENROLLMENT_TYPES])),
    )


def type_cost_model(cost: CostModelSpec, enrollment_type: str, trend: float, risk_cv: float) -> TypeCostModel:
    """The `TypeCostModel` of one enrollment type from a scenario's ``cost_model`` section.

    ``severity_sigma`` set: a single lognormal (tail off); otherwise the body/tail mixture.
    ``trend`` multiplies the type's mean (``mean_cost_year`` -> performance year).
    """
    mean = cost.mean_cost.as_dict()[enrollment_type] * trend
    if cost.severity_sigma is not None:
        return TypeCostModel(mean=mean, zero_share=cost.zero_cost_share, sigma=cost.severity_sigma,
                             risk_cv=risk_cv, elasticity=cost.risk_elasticity)
    return TypeCostModel(mean=mean, zero_share=cost.zero_cost_share, sigma=cost.body_sigma, risk_cv=risk_cv,
                         elasticity=cost.risk_elasticity, tail_weight=cost.tail_weight,
                         tail_sigma=cost.tail_sigma, tail_mean_ratio=cost.tail_mean_ratio)
