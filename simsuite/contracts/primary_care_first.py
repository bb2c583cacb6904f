"""Primary Care First: a population-based payment and a flat visit fee, adjusted for performance.

Rules (``shared/reference/payment-rules.md`` §4, P-PCF)::

    total   = pbp_pbpm x member months + visit_fee x visits
    adj     = performance adjustment in [adjustment_min, adjustment_max] (-10% ... +50%)
    net     = total x (1 + adj) - ffs_displaced_pbpm x member months

PCF's performance-based adjustment (PBA) scores the practice's acute hospital utilisation
(AHU) against regional and national benchmarks and its own past performance, behind a
quality gateway; its percentile bands and the mapping to -10% ... +50% were not found in any
source (issue 16 research notes, section 11.1). simsuite therefore APPROXIMATES it: the
panel's savings rate ``(B - X) / B`` stands in for the utilisation signal, mapped linearly
from ``savings_rate_at_min`` (adjustment_min) to ``savings_rate_at_max`` (adjustment_max),
and below ``quality_gate`` no positive adjustment is paid. Every run that settles a PCF
contract says so in its header (`notes`). Net is relative to FFS: the primary-care FFS
revenue the payments replace is subtracted. Money in dollars per year, positive = to the
provider.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal, PanelYear, Settlement
from simsuite.contracts.registry import Family, register_family
from simsuite.errors import FieldProblem


class PrimaryCareFirstTerms(BaseModel):
    """Terms of Primary Care First (dollars; rates as fractions)."""

    model_config = STRICT

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
    def _increasing(self) -> PrimaryCareFirstTerms:
        if self.savings_rate_at_max <= self.savings_rate_at_min:
            raise FieldProblem(
                ("savings_rate_at_max",),
                f"{self.savings_rate_at_max} must be above savings_rate_at_min {self.savings_rate_at_min}",
            )
        return self


def caps(terms: PrimaryCareFirstTerms) -> tuple[CapSpec, ...]:
    """The utilisation proxy reads the uncapped panel cost against its benchmark."""
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


def notes(terms: PrimaryCareFirstTerms, year: PanelYear) -> tuple[str, ...]:
    """The run header's warning: PCF's performance adjustment is an approximation."""
    return ("Primary Care First: the performance-based adjustment is an APPROXIMATION (savings rate "
            f"{terms.savings_rate_at_min:+.0%} ... {terms.savings_rate_at_max:+.0%} mapped to "
            f"{terms.adjustment_min:+.0%} ... {terms.adjustment_max:+.0%}); CMS's method from acute hospital "
            "utilisation and the quality gateway was not found",)


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


FAMILY = register_family(Family(
    name="primary_care_first",
    title="Primary Care First: population-based payment, visit fees, performance adjustment",
    terms=PrimaryCareFirstTerms, settle=settle, caps=caps, reads=frozenset({"panel", "quality"}),
    exact="panel_total", exact_total=lambda terms: PanelTotal(UNCAPPED), reference=reference_settlement,
    notes=notes,
))
