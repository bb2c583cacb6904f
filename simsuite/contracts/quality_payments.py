"""Payments that depend on quality alone: P4P bonus pools, withholds, PCMH and hospital programs.

One rule covers them (``shared/reference/payment-rules.md`` §4, §6)::

    earned  = ramp(QS) = clip((QS - threshold) / (target - threshold), 0, 1)
    net     = base x (-withhold + (withhold x earn_back + bonus) x earned)
              + (fixed_pmpm + bonus_pmpm x earned) x member months

* Medicaid MCO quality withhold: withhold 2%, earn_back 1 (net in [-2%, 0]);
* pay-for-performance bonus pool: bonus b (net in [0, b]);
* Hospital VBP: withhold 2% redistributed with a linear exchange function,
  earn_back 2 (net in [-2%, +2%]; budget neutral around the middle score);
* HRRP: up to 3% of base DRG payments, the quality score standing for the
  readmission performance (net in [-3%, 0]); HAC reduction: 1% below a threshold;
* PCMH: a care-management fee per member per month (``fixed_pmpm``) on top of FFS,
  plus a bonus earned on quality.

``base`` is either a dollar amount per year or a multiple of the benchmark
(expected cost of care). Money is dollars per year, positive = to the provider.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear, Settlement
from simsuite.contracts.registry import Family, register_family
from simsuite.errors import FieldProblem


class QualityPaymentTerms(BaseModel):
    """Terms of a quality-based payment. Rates are fractions of ``base``.

    Attributes
    ----------
    base_dollars : float, optional
        The payments the percentages apply to, dollars per year (e.g. capitation, base
        DRG payments).
    base_to_benchmark : float, optional
        The same as a multiple of the benchmark; exactly one of the two unless the
        contract has only a fixed fee.
    withhold : float
        Share of base withheld.
    earn_back : float
        Multiple of the withhold earned back at full quality (1 = all of it; 2 = a
        budget-neutral exchange function that can double it).
    bonus : float
        Bonus at full quality, share of base.
    quality_threshold, quality_target : float
        Earned share rises linearly from 0 at the threshold to 1 at the target (a step
        at the target if they are equal).
    fixed_pmpm : float
        A fee per member per month independent of quality (PCMH care management), dollars.
    bonus_pmpm : float
        A bonus per member per month at full quality, dollars.
    """

    model_config = STRICT

    base_dollars: Annotated[float, Field(gt=0.0)] | None = None
    base_to_benchmark: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    withhold: Rate = 0.0
    earn_back: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    bonus: Rate = 0.0
    quality_threshold: Rate = 0.0
    quality_target: Rate = 1.0
    fixed_pmpm: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    bonus_pmpm: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> QualityPaymentTerms:
        if self.quality_target < self.quality_threshold:
            raise FieldProblem(
                ("quality_target",),
                f"{self.quality_target} is below quality_threshold {self.quality_threshold}",
            )
        needs_base = self.withhold > 0 or self.bonus > 0
        if needs_base and (self.base_dollars is None) == (self.base_to_benchmark is None):
            raise FieldProblem(("base_dollars",), "give exactly one of base_dollars and base_to_benchmark")
        return self


def earned_share(terms: QualityPaymentTerms, quality_score: np.ndarray) -> np.ndarray:
    """Share of the quality-dependent amount earned, in [0, 1]."""
    q = np.asarray(quality_score, dtype=float)
    lo, hi = terms.quality_threshold, terms.quality_target
    if hi == lo:
        return (q >= hi).astype(float)
    return np.clip((q - lo) / (hi - lo), 0.0, 1.0)


def caps(terms: QualityPaymentTerms) -> tuple[CapSpec, ...]:
    """A base relative to the benchmark needs the benchmark (expected untruncated cost)."""
    return (UNCAPPED,)


def settle(terms: QualityPaymentTerms, panel: PanelYear) -> Settlement:
    """Quality-based payment of every simulation, dollars."""
    q = np.asarray(panel.quality_score, dtype=float)
    if terms.base_dollars is not None:
        base = np.full(q.shape, terms.base_dollars)
    elif terms.base_to_benchmark is not None:
        base = terms.base_to_benchmark * np.asarray(panel.benchmark, dtype=float)
    else:
        base = np.zeros(q.shape)
    earned = earned_share(terms, q)
    variable = base * (-terms.withhold + (terms.withhold * terms.earn_back + terms.bonus) * earned)
    variable = variable + terms.bonus_pmpm * panel.member_months * earned
    net = variable + terms.fixed_pmpm * panel.member_months
    return Settlement(net=net, gain_shared=variable > 0)


def reference_settlement(terms: QualityPaymentTerms, benchmark: float, quality_score: float,
                         beneficiaries: int) -> float:
    """Slow scalar transcription, for tests. Dollars to the provider."""
    if terms.base_dollars is not None:
        base = terms.base_dollars
    elif terms.base_to_benchmark is not None:
        base = terms.base_to_benchmark * benchmark
    else:
        base = 0.0
    if terms.quality_target == terms.quality_threshold:
        earned = 1.0 if quality_score >= terms.quality_target else 0.0
    elif quality_score <= terms.quality_threshold:
        earned = 0.0
    elif quality_score >= terms.quality_target:
        earned = 1.0
    else:
        earned = (quality_score - terms.quality_threshold) / (terms.quality_target - terms.quality_threshold)
    withheld = terms.withhold * base
    paid_back = withheld * terms.earn_back * earned
    bonus = terms.bonus * base * earned
    pmpm = terms.fixed_pmpm + terms.bonus_pmpm * earned
    return -withheld + paid_back + bonus + pmpm * 12 * beneficiaries


FAMILY = register_family(Family(
    name="quality_payment",
    title="payments on quality alone: PCMH fees, P4P pools, Medicaid withholds, HRRP, VBP, HAC",
    terms=QualityPaymentTerms, settle=settle, caps=caps, reads=frozenset({"panel", "quality"}),
    exact="constant", reference=reference_settlement,
))
