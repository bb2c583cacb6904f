"""Capitation / full risk: a fixed payment per member per month against the cost of care.

The organisation receives the capitation and pays the cost of care of its panel
(``shared/reference/payment-rules.md`` §4-§5)::

    revenue  = pmpm x member months          (or revenue_to_benchmark x benchmark)
    claims   = sum_i min(c_i, A) + coinsurance x sum_i max(0, c_i - A)   # specific stop-loss
    refund   = (1 - agg_coinsurance) x max(0, claims - agg_attachment x benchmark)
    net      = revenue - claims + refund - premiums

Net is measured against FFS, where the payer bears the cost of care. The benchmark here
is the expected untruncated cost of the panel without the organisation's effort (times
``1 + benchmark_margin``); aggregate attachment and premiums are stated relative to it.
The benchmark follows the panel's risk in full: no cap on risk-score growth (the rate is
the contract's).

Stop-loss coinsurance has no default: there is no market or regulatory standard for a
commercial or MA-delegated contract. 42 CFR 422.208(f) (stop-loss covering 90% above the
attachment) is the floor an MA organisation owes physicians at "substantial financial
risk" under a physician incentive plan, not a contract term, so the 10% that simsuite used
to assume is gone: a contract with stop-loss states its coinsurance.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal, PanelYear, Settlement
from simsuite.contracts.registry import Family, register_family
from simsuite.errors import FieldProblem


class CapitationTerms(BaseModel):
    """Terms of a capitation contract. Money in dollars; rates as fractions.

    Attributes
    ----------
    pmpm : float, optional
        Capitation per member per month, dollars.
    revenue_to_benchmark : float, optional
        Capitation as a multiple of the benchmark (expected cost); exactly one of this
        and ``pmpm`` is required.
    specific_attachment : float, optional
        Specific (per-beneficiary) stop-loss attachment point, dollars per year.
    specific_coinsurance : float or None
        Share of cost above the attachment point the organisation still pays; required
        with ``specific_attachment`` (no default, see the module docstring).
    specific_premium_pmpm : float
        Premium for specific stop-loss, dollars per member per month.
    specific_premium_loading : float, optional
        Instead of ``specific_premium_pmpm``: the premium is ``(1 + loading)`` times the
        expected recoveries under the cost model (absent the organisation's effort).
    aggregate_attachment : float, optional
        Aggregate stop-loss attachment as a multiple of the benchmark (e.g. 1.10).
    aggregate_coinsurance : float or None
        Share of claims above the aggregate attachment the organisation still pays;
        required with ``aggregate_attachment``.
    aggregate_premium : float
        Premium for aggregate stop-loss, as a fraction of the benchmark.
    """

    model_config = STRICT

    pmpm: Annotated[float, Field(gt=0.0, le=100_000.0)] | None = None
    revenue_to_benchmark: Annotated[float, Field(gt=0.0, le=5.0)] | None = None
    specific_attachment: Annotated[float, Field(gt=0.0)] | None = None
    specific_coinsurance: Rate | None = None
    specific_premium_pmpm: Annotated[float, Field(ge=0.0)] = 0.0
    specific_premium_loading: Annotated[float, Field(ge=0.0, le=5.0)] | None = None
    aggregate_attachment: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    aggregate_coinsurance: Rate | None = None
    aggregate_premium: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0

    @model_validator(mode="after")
    def _one_revenue_basis(self) -> CapitationTerms:
        if (self.pmpm is None) == (self.revenue_to_benchmark is None):
            raise FieldProblem(("pmpm",), "give exactly one of pmpm (dollars) and revenue_to_benchmark")
        if self.specific_premium_loading is not None and self.specific_premium_pmpm > 0:
            raise FieldProblem(
                ("specific_premium_loading",), "give specific_premium_pmpm or specific_premium_loading, not both"
            )
        for kind in ("specific", "aggregate"):
            if getattr(self, f"{kind}_attachment") is not None and getattr(self, f"{kind}_coinsurance") is None:
                raise FieldProblem(
                    (f"{kind}_coinsurance",),
                    f"required with {kind}_attachment: the share of cost above the attachment the organisation "
                    "still pays (a fraction, e.g. 0.10); there is no standard value to assume",
                )
        return self


def _coinsurance(value: float | None) -> float:
    assert value is not None  # the terms require it with its attachment point
    return value


def specific_premium(terms: CapitationTerms, member_months: int, expected_raw: float,
                     expected_retained: float) -> float:
    """Annual specific stop-loss premium, dollars (0 without specific stop-loss)."""
    if terms.specific_attachment is None:
        return 0.0
    if terms.specific_premium_loading is None:
        return terms.specific_premium_pmpm * member_months
    recoveries = (1.0 - _coinsurance(terms.specific_coinsurance)) * (expected_raw - expected_retained)
    return (1.0 + terms.specific_premium_loading) * recoveries


def _revenue_ratio(terms: CapitationTerms) -> float:
    assert terms.revenue_to_benchmark is not None  # the terms require pmpm or this
    return terms.revenue_to_benchmark


def caps(terms: CapitationTerms) -> tuple[CapSpec, ...]:
    """The uncapped cost, and the cost capped at the specific attachment point if any."""
    if terms.specific_attachment is None:
        return (UNCAPPED,)
    return (UNCAPPED, CapSpec(dollars=terms.specific_attachment))


def settle(terms: CapitationTerms, panel: PanelYear) -> Settlement:
    """Capitation minus the cost of care, stop-loss recoveries and premiums, per simulation."""
    b = np.asarray(panel.benchmark, dtype=float)
    raw = np.asarray(panel.raw if panel.raw is not None else panel.expenditure, dtype=float)
    mm = panel.member_months
    revenue = terms.pmpm * mm if terms.pmpm is not None else _revenue_ratio(terms) * b
    claims = raw
    premiums: float | np.ndarray = 0.0
    if terms.specific_attachment is not None:
        spec = CapSpec(dollars=terms.specific_attachment)
        retained = panel.capped[spec]
        claims = retained + _coinsurance(terms.specific_coinsurance) * (raw - retained)
        premiums = specific_premium(terms, mm, panel.expected.get(UNCAPPED, np.nan), panel.expected.get(spec, np.nan))
    if terms.aggregate_attachment is not None:
        excess = np.maximum(claims - terms.aggregate_attachment * b, 0.0)
        claims = claims - (1.0 - _coinsurance(terms.aggregate_coinsurance)) * excess
        premiums = premiums + terms.aggregate_premium * b
    net = revenue - claims - premiums
    return Settlement(net=net, gain_shared=net > 0)


def reference_settlement(terms: CapitationTerms, benchmark: float, patient_costs: np.ndarray,
                         beneficiaries: int, specific_premium_dollars: float = 0.0) -> float:
    """Slow scalar transcription from individual patients' costs, for tests. Dollars.

    ``specific_premium_dollars`` replaces the premium when it is priced by loading.
    """
    revenue = terms.pmpm * 12 * beneficiaries if terms.pmpm is not None else _revenue_ratio(terms) * benchmark
    claims = 0.0
    for cost in patient_costs:
        if terms.specific_attachment is not None and cost > terms.specific_attachment:
            claims += terms.specific_attachment + _coinsurance(terms.specific_coinsurance) * (
                cost - terms.specific_attachment)
        else:
            claims += cost
    premiums = 0.0
    if terms.specific_attachment is not None:
        premiums += (terms.specific_premium_pmpm * 12 * beneficiaries if terms.specific_premium_loading is None
                     else specific_premium_dollars)
    if terms.aggregate_attachment is not None:
        attachment = terms.aggregate_attachment * benchmark
        if claims > attachment:
            claims = attachment + _coinsurance(terms.aggregate_coinsurance) * (claims - attachment)
        premiums += terms.aggregate_premium * benchmark
    return revenue - claims - premiums


def exact_total(terms: CapitationTerms) -> PanelTotal:
    """What the settlement reads of the costs: the claims ``sum_i min(C_i, A) + coins (C_i - A)+``
    under specific stop-loss attaching at ``A`` (the raw total without it)."""
    if terms.specific_attachment is None:
        return PanelTotal(UNCAPPED)
    return PanelTotal(CapSpec(dollars=terms.specific_attachment), _coinsurance(terms.specific_coinsurance))


FAMILY = register_family(Family(
    name="capitation",
    title="capitation against the cost of care, with specific and aggregate stop-loss",
    terms=CapitationTerms, settle=settle, caps=caps, reads=frozenset({"panel"}),
    exact="panel_total", exact_total=exact_total, reference=reference_settlement,
))
