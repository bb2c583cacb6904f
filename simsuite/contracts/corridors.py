"""Benchmark contracts with risk corridors: ACO REACH Professional and Global, LEAD.

Rules (``shared/reference/payment-rules.md`` §2, except where the withhold is earned back)::

    B_adj    = B (1 - discount)                     # Global only has a discount
    W        = withhold x (B or B_adj)              # quality withhold
    S        = B_adj - W + W x QS - X               # = B_adj - W (1 - QS) - X; savings (+) or losses (-)
    retained = sign(S) x sum_b share_b x clip(|S| - lo_b B_adj, 0, (hi_b - lo_b) B_adj)
    net      = retained
    net     -= sequestration x net  (on gains; on losses too where the terms say so)

The earned-back withhold ``W x QS`` is added back to the benchmark *before* savings or
losses are computed, so it passes through the risk corridors like any other benchmark
dollar. That is how the REACH/GPDC Financial Operating Guides order the steps as we
recall them (the withhold reduces the benchmark; the earned part is restored to it before
gross savings/losses) [MEM: not checked against a copy of the guide here]. With QS = 1
the withhold has no effect; with QS < 1 the unearned ``W (1 - QS)`` costs the provider
its corridor share of it.

This departs from the layout of the reference's §2 formula, which adds
``earned_withhold(W, TQS)`` to the settlement *after* the corridor (tagged [MEM]). Paying
the earned withhold outside the corridor makes it a windfall wherever the corridor share
is below 100%: for a 50%-sharing Professional ACO with QS = 1 it gives
``0.5 (S_B - W) + W = 0.5 S_B + 0.5 W`` (``S_B = B_adj - X``), so a larger withhold would
*raise* the ACO's payment.

Bands are fractions of the discounted benchmark; savings and losses use the same bands
(symmetric) unless ``loss_bands`` is given. Money is dollars, positive = to the provider.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear, Settlement
from simsuite.errors import FieldProblem

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
# YAML gives each band as a list; read it as a (low, high, share) triple.
Band = Annotated[
    tuple[Annotated[float, Field(ge=0.0)], Annotated[float, Field(gt=0.0)] | None, Rate],
    BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v),
]


def _check_bands(bands: list, name: str) -> None:
    """Bands must start at 0, be contiguous and increasing, and end open (``null``)."""
    if not bands:
        raise FieldProblem((name,), "needs at least one band [low, high, share]")
    if bands[0][0] != 0.0:
        raise FieldProblem((name, 0), f"the first band must start at 0 (starts at {bands[0][0]})")
    for i, (lo, hi, _) in enumerate(bands):
        last = i == len(bands) - 1
        if hi is None and not last:
            raise FieldProblem((name, i), "only the last band may be open-ended (high: null)")
        if hi is not None and hi <= lo:
            raise FieldProblem((name, i), f"band [{lo}, {hi}) is empty or reversed")
        if not last:
            nxt = bands[i + 1][0]
            if nxt < hi:
                raise FieldProblem((name, i + 1), f"band starting at {nxt} overlaps the band [{lo}, {hi})")
            if nxt > hi:
                raise FieldProblem((name, i + 1), f"gap between {hi} and {nxt}: bands must be contiguous")
    if bands[-1][1] is not None:
        raise FieldProblem((name, len(bands) - 1), "the last band must be open-ended (high: null)")


class CorridorTerms(BaseModel):
    """Terms of a benchmark contract with risk corridors (REACH, LEAD). Rates are fractions.

    Attributes
    ----------
    discount : float
        Benchmark discount (Global 3-4%; Professional 0).
    quality_withhold : float
        Share of the benchmark withheld and earned back in proportion to the quality
        score. The earned part ``W x QS`` is added back to the benchmark before savings
        or losses are computed, so it goes through the corridor bands (see the module
        docstring); this departs from the reference's §2 layout (payment-rules.md),
        which pays ``earned_withhold`` after the corridor [MEM] and would make a larger
        withhold raise a 50%-sharing ACO's payment. With QS = 1 the withhold has no
        effect.
    withhold_base : {"benchmark", "discounted_benchmark"}
        What the withhold percentage applies to.
    bands : list of [low, high, share]
        Share of savings (and of losses, if ``loss_bands`` is not given) the provider
        keeps in each band of ``|S| / B_adj``; ``high: null`` for the last band.
    loss_bands : list of [low, high, share], optional
        Separate bands for losses.
    sequestration : float
        Reduction of a positive settlement (0.02).
    sequestration_on_losses : bool
        Whether losses are reduced by sequestration too.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    discount: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    quality_withhold: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    withhold_base: Literal["benchmark", "discounted_benchmark"] = "benchmark"
    bands: list[Band]
    loss_bands: list[Band] | None = None
    sequestration: Rate = 0.0
    sequestration_on_losses: bool = False

    @model_validator(mode="after")
    def _bands_are_a_partition(self) -> "CorridorTerms":
        _check_bands(self.bands, "bands")
        if self.loss_bands is not None:
            _check_bands(self.loss_bands, "loss_bands")
        return self


def corridor_retained(amount: np.ndarray, base: np.ndarray, bands: list) -> np.ndarray:
    """Share of ``|amount|`` kept through the corridor ``bands`` (fractions of ``base``), unsigned."""
    amount = np.abs(np.asarray(amount, dtype=float))
    kept = np.zeros(np.broadcast(amount, base).shape)
    for lo, hi, share in bands:
        width = np.inf if hi is None else (hi - lo) * base
        kept += share * np.clip(amount - lo * base, 0.0, width)
    return kept


def settle(terms: CorridorTerms, panel: PanelYear) -> Settlement:
    """Settle every simulation; see the module docstring for the formula."""
    b = np.asarray(panel.benchmark, dtype=float)
    b_adj = b * (1.0 - terms.discount)
    w = terms.quality_withhold * (b if terms.withhold_base == "benchmark" else b_adj)
    # the earned-back withhold returns to the benchmark before the corridor
    earned = w * np.asarray(panel.quality_score, dtype=float)
    s = b_adj - w + earned - np.asarray(panel.expenditure, dtype=float)
    gains = corridor_retained(s, b_adj, terms.bands)
    losses = corridor_retained(s, b_adj, terms.loss_bands or terms.bands)
    net = np.where(s > 0, gains, np.where(s < 0, -losses, 0.0))
    cut = np.where(net > 0, terms.sequestration, terms.sequestration if terms.sequestration_on_losses else 0.0)
    net = net * (1.0 - cut)
    return Settlement(net=net, gain_shared=s > 0)


def caps(terms: CorridorTerms) -> tuple[CapSpec, ...]:
    """REACH benchmarks and expenditures are not truncated per beneficiary here."""
    return (UNCAPPED,)


def reference_settlement(terms: CorridorTerms, benchmark: float, expenditure: float, quality_score: float) -> float:
    """Slow scalar transcription of the corridor rules, for tests. Dollars to the provider."""
    b_adj = benchmark * (1.0 - terms.discount)
    base = benchmark if terms.withhold_base == "benchmark" else b_adj
    withhold = terms.quality_withhold * base
    earned_withhold = withhold * quality_score  # added back to the benchmark, inside the corridor
    s = (b_adj - withhold + earned_withhold) - expenditure
    bands = terms.bands if s >= 0 else (terms.loss_bands or terms.bands)
    remaining, kept = abs(s), 0.0
    for lo, hi, share in bands:
        band_width = float("inf") if hi is None else (hi - lo) * b_adj
        in_band = min(max(abs(s) - lo * b_adj, 0.0), band_width)
        kept += share * in_band
        remaining -= in_band
    assert remaining <= 1e-6 * max(1.0, abs(s))  # the bands cover every dollar
    net = kept if s >= 0 else -kept
    if net > 0 or terms.sequestration_on_losses:
        net *= 1.0 - terms.sequestration
    return net
