"""Costs resampled from the organisation's own history instead of the parametric model.

Each beneficiary's annual cost is a row drawn (with replacement) from the history's rows
of the same enrollment type. With a ``risk_score`` column in the history, the drawn cost is
scaled by the beneficiary's risk score over the history's mean score of that type, so a
sicker panel costs proportionally more. Truncation is at the *national* percentile of each
enrollment type, as CMS truncates (42 CFR 425.605(a)(3), 425.652(a)(4): "the 99th
percentile of national Medicare Parts A and B fee-for-service expenditures ... for
assignable beneficiaries"): the scenario's ``truncation_by_type`` dollars if given, else the
national cost model's percentile -- never the organisation's own, which would cut its own
high-cost patients harder or softer than CMS does. The per-type split follows CMS's
methodology specifications [Low: not in the regulation text]. The expected totals the
benchmark is built on are exact expectations over the empirical distribution:
``E[min(k X, cap)] = mean_j min(k x_j, cap)``.

The history is taken as costs of the performance year: trend it before use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsuite.model.population import CostSource
from simsuite.scenario.owndata import CostHistory


@dataclass(frozen=True)
class BootstrapPanel(CostSource):
    """The arrays `simsuite.kernels.resample.bootstrap_totals` reads, and the closed forms.

    Attributes
    ----------
    cohorts : tuple of str
        Enrollment type of each cohort (as in the panel).
    cohort_start : int64[C + 1]
        Patients of each cohort (as in the panel).
    row_start : int64[C + 1]
        Rows of each cohort in ``costs``.
    costs : float64[R]
        History costs, dollars, sorted ascending within each cohort.
    scale : float64[N]
        Each beneficiary's cost multiplier (risk score / history mean score of its type, or 1).
    national : CostSource
        Where the national truncation thresholds come from (the parametric panel, which
        uses ``cost_model.truncation_by_type`` when the scenario gives it).
    """

    cohorts: tuple[str, ...]
    cohort_start: np.ndarray
    row_start: np.ndarray
    costs: np.ndarray
    scale: np.ndarray
    national: CostSource

    @staticmethod
    def build(cohorts: tuple[str, ...], cohort_start: np.ndarray, risk_score: np.ndarray,
              history: CostHistory, national: CostSource) -> BootstrapPanel:
        """Bootstrap arrays for a panel (its cohorts, boundaries and risk scores); ``national``
        gives the truncation thresholds (the scenario's parametric panel)."""
        parts, starts = [], [0]
        scale = np.ones(int(cohort_start[-1]))
        for c, t in enumerate(cohorts):
            parts.append(history.costs[t])
            starts.append(starts[-1] + history.costs[t].size)
            mean_risk = history.mean_risk[t]
            lo, hi = cohort_start[c], cohort_start[c + 1]
            if mean_risk is not None:
                scale[lo:hi] = risk_score[lo:hi] / mean_risk
        return BootstrapPanel(cohorts=tuple(cohorts), cohort_start=np.asarray(cohort_start, dtype=np.int64),
                              row_start=np.array(starts, dtype=np.int64),
                              costs=np.concatenate(parts).astype(float), scale=scale, national=national)

    def rows(self, c: int) -> np.ndarray:
        return self.costs[self.row_start[c]:self.row_start[c + 1]]

    def caps_at(self, percentile: float | None) -> np.ndarray:
        """Per-cohort cap at the *national* ``percentile`` of each type, dollars (``inf`` if None).

        From ``national`` (the scenario's ``truncation_by_type`` or the national cost model),
        not from the history: CMS truncates at national percentiles (42 CFR 425.605(a)(3)).
        """
        return self.national.caps_at(percentile)

    def expected_by_cohort(self, caps: np.ndarray) -> np.ndarray:
        """Expected capped total of each cohort without the savings effort, dollars.

        For a patient with multiplier ``k``: ``E[min(k X, cap)] = (k * sum(x_j < cap/k) +
        cap * #(x_j >= cap/k)) / n``, from prefix sums of the sorted rows (exact).
        """
        out = np.zeros(len(self.cohorts))
        for c in range(len(self.cohorts)):
            k = self.scale[self.cohort_start[c]:self.cohort_start[c + 1]]
            x = self.rows(c)
            if k.size == 0:
                continue
            if not np.isfinite(caps[c]):
                out[c] = float(np.sum(k)) * float(np.mean(x))
                continue
            prefix = np.concatenate(([0.0], np.cumsum(x)))
            m = np.searchsorted(x, caps[c] / k, side="left")
            out[c] = float(np.sum((k * prefix[m] + caps[c] * (x.size - m)) / x.size))
        return out

    def expected_total(self, caps: np.ndarray) -> float:
        """Expected capped panel total without the savings effort, dollars."""
        return float(np.sum(self.expected_by_cohort(caps)))
