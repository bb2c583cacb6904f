"""Primary Care First: a population-based payment and a flat visit fee, adjusted for performance.

Rules (``shared/reference/payment-rules.md`` §4, P-PCF)::

    total   = pbp_pbpm x member months + visit_fee x visits
    adj     = performance adjustment in [adjustment_min, adjustment_max] (-10% ... +50%)
    net     = total x (1 + adj) - ffs_displaced_pbpm x member months

PCF scores acute hospital utilisation against a regional benchmark; simsuite uses the
panel's savings rate ``(B - X) / B`` as that utilisation signal, mapped linearly from
``savings_rate_at_min`` (adjustment_min) to ``savings_rate_at_max`` (adjustment_max) -
an engine proxy, not CMS's formula. Below the quality gate no positive adjustment is
paid. Net is relative to FFS: the primary-care FFS revenue the payments replace is
subtracted. Money in dollars per year, positive = to the provider.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear, Settlement
from simsuite.errors import FieldProblem

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class PrimaryCareFirstTerms(BaseModel):
    """Terms of Primary Care First (dollars; rates as fractions)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    pbp_pbpm: Annotated[float, Field(ge=0.0, le=1_000.0)]
    visit_fee: Annotated[float, Field(ge=0.0, le=1_000.0)]
    visits_per_beneficiary: Annotated[float, Field(ge=0.0, le=50.0)]
    ffs_displaced_pbpm: Annotated[float, Field(ge=0.0, le=2_000.0)]
    adjustment_min: Annotated[float, Field(ge=-1.0, le=0.0)] = -0.10
    adjustment_max: Annotated[float, Field(ge=0.0, le=2.0)] = 0.50
    savings_rate_at_min: Annotated[float, Field(ge=-1.0, le=1.0)] = -0.05
    savings_rate_at_max: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.05
    quality_gate: Rate = 0.0

    @model_validator(mode="after")
    def _increasing(self) -> "PrimaryCareFirstTerms":
        if self.savings_rate_at_max <= self.savings_rate_at_min:
            raise FieldProblem(
                ("savings_rate_at_max",),
                f"{self.savings_rate_at_max} must be above savings_rate_at_min {self.savings_rate_at_min}",
            )
        return self


def caps(terms: PrimaryCareFirstTerms) -> tuple[CapSpec, ...]:
    return (UNCAPPED,)


def performance_adjustment(terms: PrimaryCareFirstTerms, savings_rate: np.ndarray,
                           quality_score: np.ndarray) -> np.ndarray:
    """Performance-based adjustment (fraction of total primary care payment)."""
    adj = np.interp(savings_rate, [terms.savings_rate_at_min, terms.savings_rate_at_max],
                    [terms.adjustment_min, terms.adjustment_max])
    return np.where(np.asarray(quality_score) < terms.quality_gate, np.minimum(adj, 0.0), adj)


def settle(terms: PrimaryCareFirstTerms, panel: PanelYear) -> Settlement:
    """PCF payments net of displaced FFS revenue, per simulation, dollars."""
    b = np.asarray(panel.benchmark, dtype=float)
    savings_rate = (b - np.asarray(panel.expenditure, dtype=float)) / b
    adj = performance_adjustment(terms, savings_rate, panel.quality_score)
    mm = panel.member_months
    total = terms.pbp_pbpm * mm + terms.visit_fee * terms.visits_per_beneficiary * panel.n_beneficiaries
    net = total * (1.0 + adj) - terms.ffs_displaced_pbpm * mm
    return Settlement(net=net, gain_shared=adj > 0)


def reference_settlement(terms: PrimaryCareFirstTerms, benchmark: float, expenditure: float,
                         quality_score: float, beneficiaries: int) -> float:
    """Slow scalar transcription, for tests. Dollars to the provider."""
    rate = (benchmark - expenditure) / benchmark
    if rate <= terms.savings_rate_at_min:
        adj = terms.adjustment_min
    elif rate >= terms.savings_rate_at_max:
        adj = terms.adjustment_max
    else:
        frac = (rate - terms.savings_rate_at_min) / (terms.savings_rate_at_max - terms.savings_rate_at_min)
        adj = terms.adjustment_min + frac * (terms.adjustment_max - terms.adjustment_min)
    if quality_score < terms.quality_gate:
        adj = min(adj, 0.0)
    months = 12 * beneficiaries
    total = terms.pbp_pbpm * months + terms.visit_fee * terms.visits_per_beneficiary * beneficiaries
    return total * (1.0 + adj) - terms.ffs_displaced_pbpm * months
