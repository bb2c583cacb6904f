"""Commercial and Medicare Advantage shared risk for one contract year: family ``shared_risk``.

A payer and a provider organisation agree a target (the benchmark: here the expected cost
of the panel, ``assumptions.benchmark_margin`` above it, as for every family in a one-year
run; over several years `simsuite.contracts.commercial_agreement` sets it from history).
The year's result ``S = target - cost`` is settled by the arrangement:

* ``upside_only``: the provider keeps ``savings_share`` of savings (or the ``savings_bands``
  corridors) once they reach the minimum savings rate; losses stay with the payer;
* ``shared_risk``: the same, and it pays ``loss_share`` of losses (or ``loss_bands``) once
  they reach the minimum loss rate;
* ``capitation``: the provider is paid the target and bears the cost: it keeps all of
  ``S`` either way (LAN category 4, population-based payment).

``savings_cap`` / ``loss_cap`` limit what is paid or owed to a fraction of the target.

Sources (notes/issue18-21-rules.md Part D; all Low: negotiated terms, no rule text):

* MSR: Axene Health Partners' worked example -- target $500.00 PMPM, actual $495.50,
  125,000 member months, 50% sharing: $281,250 without an MSR, $0 with a 1% MSR, which is
  met "with actual financial results of $495.00 PMPM or lower", i.e. at exactly 1%; once
  met, sharing is from the first dollar (``threshold_sharing: first_dollar``). Sharing only
  the excess over the threshold (``excess``) is the other common form [INF];
* corridors: no commercial source gives bands; the structure is REACH's (Pearl Health) and
  the bands are the contract's;
* the glide from upside-only to shared risk to capitation: Axene ("contracts that begin as
  shared savings, or 'upside-only' arrangements"); LAN categories 3A, 3B, 4.

Money is dollars per year; positive = paid to the provider.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal, PanelYear, Settlement
from simsuite.contracts.corridors import Band, check_bands, corridor_retained
from simsuite.contracts.registry import Family, register_family
from simsuite.errors import FieldProblem

Threshold = Annotated[float, Field(ge=0.0, lt=0.2)]
Cap = Annotated[float, Field(gt=0.0, le=1.0)]


class SharedRiskTerms(BaseModel):
    """Terms of one contract year of a commercial or Medicare Advantage shared-risk contract.

    Attributes
    ----------
    arrangement : {"upside_only", "shared_risk", "capitation"}
    savings_share, loss_share : float or None
        Shares of savings kept and of losses paid (fractions), flat; or give
        ``savings_bands`` / ``loss_bands`` (``[low, high, share]`` of ``|S| / target``, the
        last open-ended) instead.
    msr, mlr : float
        Minimum savings and loss rates (fractions of the target): nothing is shared below
        them; reaching them exactly qualifies.
    threshold_sharing : {"first_dollar", "excess"}
        Once a threshold is met, share from the first dollar (Axene's example) or only the
        part above it.
    savings_cap, loss_cap : float or None
        Most paid / owed, fractions of the target.
    """

    model_config = STRICT
    arrangement: Literal["upside_only", "shared_risk", "capitation"]
    savings_share: Rate | None = None
    loss_share: Rate | None = None
    savings_bands: list[Band] | None = None
    loss_bands: list[Band] | None = None
    msr: Threshold = 0.0
    mlr: Threshold = 0.0
    threshold_sharing: Literal["first_dollar", "excess"] = "first_dollar"
    savings_cap: Cap | None = None
    loss_cap: Cap | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SharedRiskTerms:
        for name in ("savings_bands", "loss_bands"):
            bands = getattr(self, name)
            if bands is not None:
                check_bands(bands, name)
        if self.arrangement == "capitation":
            for name in ("savings_share", "loss_share", "savings_bands", "loss_bands"):
                if getattr(self, name) is not None:
                    raise FieldProblem((name,), "capitation keeps all of the result (the provider is paid the "
                                                "target and bears the cost); remove it or use shared_risk")
            for name in ("msr", "mlr"):
                if getattr(self, name) != 0.0:
                    raise FieldProblem((name,), "capitation has no minimum savings or loss rate")
            return self
        _one_of(self.savings_share, self.savings_bands, "savings_share", "savings_bands", self.arrangement)
        if self.arrangement == "upside_only":
            for name in ("loss_share", "loss_bands", "loss_cap"):
                if getattr(self, name) is not None:
                    raise FieldProblem((name,), "an upside-only year shares no losses; remove it or use shared_risk")
            if self.mlr != 0.0:
                raise FieldProblem(("mlr",), "an upside-only year has no minimum loss rate")
        else:
            _one_of(self.loss_share, self.loss_bands, "loss_share", "loss_bands", self.arrangement)
        return self

    def savings_corridors(self) -> list:
        """The bands savings are shared in (a flat share is one open band)."""
        if self.arrangement == "capitation":
            return [(0.0, None, 1.0)]
        return self.savings_bands if self.savings_bands is not None else [(0.0, None, self.savings_share)]

    def loss_corridors(self) -> list:
        """The bands losses are shared in; none for an upside-only year."""
        if self.arrangement == "capitation":
            return [(0.0, None, 1.0)]
        if self.arrangement == "upside_only":
            return []
        return self.loss_bands if self.loss_bands is not None else [(0.0, None, self.loss_share)]


def _one_of(share: float | None, bands: list | None, share_name: str, bands_name: str, arrangement: str) -> None:
    if (share is None) == (bands is None):
        raise FieldProblem((share_name,), f"a {arrangement.replace('_', '-')} year needs {share_name} or "
                                          f"{bands_name} (one of them)")


def shared_result(terms: SharedRiskTerms, target: np.ndarray | float, result: np.ndarray | float) -> np.ndarray:
    """Money to the provider for a year's result ``S`` against ``target``, dollars.

    ``S > 0`` and ``S >= msr x target``: the savings bands' share of ``S`` (``excess``: of
    ``S - msr x target``), at most ``savings_cap x target``; ``S < 0`` and
    ``-S >= mlr x target``: minus the loss bands' share of ``-S`` (or its excess), at most
    ``loss_cap x target``; otherwise 0. Vectorised.
    """
    b = np.asarray(target, dtype=float)
    s = np.asarray(result, dtype=float)
    excess = terms.threshold_sharing == "excess"
    gain_base = s - terms.msr * b if excess else s
    loss_base = -s - terms.mlr * b if excess else -s
    gains = corridor_retained(np.maximum(gain_base, 0.0), b, terms.savings_corridors())
    losses = (corridor_retained(np.maximum(loss_base, 0.0), b, terms.loss_corridors())
              if terms.loss_corridors() else np.zeros(np.broadcast(s, b).shape))
    if terms.savings_cap is not None:
        gains = np.minimum(gains, terms.savings_cap * b)
    if terms.loss_cap is not None:
        losses = np.minimum(losses, terms.loss_cap * b)
    gain_ok = (s > 0.0) & (s >= terms.msr * b)
    loss_ok = (s < 0.0) & (-s >= terms.mlr * b)
    return np.where(gain_ok, gains, np.where(loss_ok, -losses, 0.0))


def settle(terms: SharedRiskTerms, panel: PanelYear) -> Settlement:
    """Settle every simulation: ``S = benchmark - expenditure`` (untruncated), `shared_result`."""
    b = np.asarray(panel.benchmark, dtype=float)
    net = shared_result(terms, b, b - np.asarray(panel.expenditure, dtype=float))
    return Settlement(net=net, gain_shared=net > 0.0)


def caps(terms: SharedRiskTerms) -> tuple[CapSpec, ...]:
    """Commercial and MA targets here are on untruncated cost (no high-cost claimant exclusion)."""
    return (UNCAPPED,)


def reference_settlement(terms: SharedRiskTerms, target: float, expenditure: float) -> float:
    """Slow scalar transcription of `shared_result` on ``target - expenditure``, for tests."""
    s = target - expenditure
    if s > 0 and s >= terms.msr * target:
        base, bands, cap, sign = s, terms.savings_corridors(), terms.savings_cap, 1.0
        if terms.threshold_sharing == "excess":
            base -= terms.msr * target
    elif s < 0 and -s >= terms.mlr * target and terms.loss_corridors():
        base, bands, cap, sign = -s, terms.loss_corridors(), terms.loss_cap, -1.0
        if terms.threshold_sharing == "excess":
            base -= terms.mlr * target
    else:
        return 0.0
    kept = 0.0
    for lo, hi, share in bands:
        top = float("inf") if hi is None else hi * target
        kept += share * max(0.0, min(base, top) - lo * target)
    if cap is not None:
        kept = min(kept, cap * target)
    return sign * kept


FAMILY = register_family(Family(
    name="shared_risk",
    title="commercial / Medicare Advantage shared risk for one contract year (upside-only, shared risk, capitation)",
    terms=SharedRiskTerms, settle=settle, caps=caps, reads=frozenset({"panel"}),
    exact="panel_total", exact_total=lambda terms: PanelTotal(UNCAPPED), reference=reference_settlement,
))
