"""Benchmark contracts with risk corridors: ACO REACH Professional and Global, LEAD.

Rules (``shared/reference/payment-rules.md`` §2, except where the withhold is earned back)::

    B_adj    = B (1 - discount)                     # Global only has a discount
    W        = withhold x (B or B_adj)              # quality withhold
    S        = B_adj - W + W x QS - X               # = B_adj - W (1 - QS) - X; savings (+) or losses (-)
    retained = sign(S) x sum_b share_b x clip(|S| - lo_b B_adj, 0, (hi_b - lo_b) B_adj)
    net      = retained x (1 - sequestration)   on gains
    net      = retained x (1 + sequestration)   on losses, where the terms say so: it
                                                increases what is owed (LEAD)
    net     += administrative_add_on x B        paid apart from the corridors (LEAD)

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

Sequestration on losses [Low: LEAD notes R6 "2% sequestration applies to shared savings and
losses"; the R6 workbook takes 2% of the gross amount before the corridors, its column notes
2% of the shared amount; the two agree within the first corridor]. ``sequestration_base``
chooses: ``shared`` (default, as on gains: ``x (1 -+ rate)`` of the retained amount) or
``gross`` (the workbook's arithmetic: ``rate x |S|`` taken off whatever the sign). The
administrative add-on [Low: R6 column notes "1.5% x Benchmark PBPM before discount ... Paid
separately from the benchmark"] is paid outside the corridors and not sequestered (neither
is stated).

Risk-score growth (`risk_ratio`): the benchmark follows the panel's risk ratio within
``1 +- risk_score_cap`` (REACH 3% from 2022, CMS PY2026 quick reference [Med]; LEAD 3% for
aged/disabled and ESRD [Low, R6]); REACH PY2026 then caps growth since 2019 at
``risk_cap_since_2019`` (3%), "after the application of the current Cap and CIF policy",
with no floor (CMS PY2026 quick reference; Milliman [Med]). The coding intensity factor
and High Needs rules are not modelled.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, Field, model_validator

from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal, PanelYear, RiskGrowth, RuleFacts, Settlement
from simsuite.contracts.mssp_rules import symmetric_risk_ratio
from simsuite.contracts.registry import Family, register_family
from simsuite.errors import FieldProblem

# YAML gives each band as a list; read it as a (low, high, share) triple.
Band = Annotated[
    tuple[Annotated[float, Field(ge=0.0)], Annotated[float, Field(gt=0.0)] | None, Rate],
    BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v),
]


def check_bands(bands: list, name: str) -> None:
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
        Whether sequestration applies to losses too: it then *increases* what is owed by
        the rate (LEAD).
    sequestration_base : {"shared", "gross"}
        What sequestration is a percentage of: the retained (shared) amount, or the gross
        savings or losses before the corridors (the R6 LEAD workbook); the same inside a
        100% first corridor.
    administrative_add_on : float
        Payment apart from the corridors, fraction of the benchmark before discount (LEAD
        higher-spending ACOs: 0.015).
    risk_score_cap : float or None
        Symmetric cap on the benchmark's risk ratio: it follows the panel's risk within
        ``1 +- cap`` (None: in full).
    risk_cap_since_2019 : float or None
        REACH PY2026: growth since 2019 capped at this, after ``risk_score_cap`` (no floor).
    """

    model_config = STRICT

    discount: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    quality_withhold: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    withhold_base: Literal["benchmark", "discounted_benchmark"] = "benchmark"
    bands: list[Band]
    loss_bands: list[Band] | None = None
    sequestration: Rate = 0.0
    sequestration_on_losses: bool = False
    sequestration_base: Literal["shared", "gross"] = "shared"
    administrative_add_on: Annotated[float, Field(ge=0.0, lt=0.2)] = 0.0
    risk_score_cap: Annotated[float, Field(gt=0.0, lt=0.5)] | None = None
    risk_cap_since_2019: Annotated[float, Field(gt=0.0, lt=0.5)] | None = None

    @model_validator(mode="after")
    def _bands_are_a_partition(self) -> CorridorTerms:
        check_bands(self.bands, "bands")
        if self.loss_bands is not None:
            check_bands(self.loss_bands, "loss_bands")
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
    # Sequestration cuts a payment and, where it applies to losses, adds to what is owed:
    # (1 - rate) on a gain, (1 + rate) on a loss (its magnitude grows); on the gross basis,
    # rate x |S| is taken off either way.
    on_losses = terms.sequestration if terms.sequestration_on_losses else 0.0
    if terms.sequestration_base == "gross":
        rate = np.where(s > 0, terms.sequestration, np.where(s < 0, on_losses, 0.0))
        net = net - rate * np.abs(s)
    else:
        net = np.where(net > 0, net * (1.0 - terms.sequestration), net * (1.0 + on_losses))
    net = net + terms.administrative_add_on * b
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
    if terms.sequestration_base == "gross":
        if s > 0:
            net -= terms.sequestration * s
        elif s < 0 and terms.sequestration_on_losses:
            net -= terms.sequestration * abs(s)  # owed grows by 2% of the gross loss
    elif net > 0:
        net *= 1.0 - terms.sequestration
    elif terms.sequestration_on_losses:
        net *= 1.0 + terms.sequestration  # owed grows: -3,000,000 -> -3,060,000 at 2%
    return net + terms.administrative_add_on * benchmark


def risk_ratio(terms: CorridorTerms, growth: RiskGrowth) -> np.ndarray:
    """The risk ratio the benchmark follows: within ``1 +- risk_score_cap``, then (REACH PY2026)
    growth since 2019 at most ``risk_cap_since_2019``; see the module docstring."""
    ratio = np.asarray(growth.hcc_ratio, dtype=float)
    if terms.risk_score_cap is not None:
        ratio = symmetric_risk_ratio(ratio, terms.risk_score_cap)
    if terms.risk_cap_since_2019 is not None:
        if growth.ratio_since_2019 is None:  # `check` asks the scenario for it
            raise ValueError("the cap on risk growth since 2019 needs the 2019 risk score")
        # The score may grow at most (1 + cap) over the 2019 score, which is the base score
        # x (base -> PY ratio) / (2019 -> PY ratio): as a ratio to the base, (1 + cap) h / h2019.
        ceiling = (1.0 + terms.risk_cap_since_2019) * growth.hcc_ratio / growth.ratio_since_2019
        ratio = np.minimum(ratio, ceiling)
    return ratio


def check(terms: CorridorTerms, facts: RuleFacts) -> None:
    """Refuse a scenario whose risk-score cap needs the 2019 risk score it does not give."""
    if terms.risk_cap_since_2019 is not None and facts.benchmark_risk_score and not facts.risk_score_2019:
        raise FieldProblem(("assumptions", "risk_score_2019"),
                           f"this contract caps risk-score growth since 2019 at {100 * terms.risk_cap_since_2019:g}% "
                           "after its symmetric cap (ACO REACH PY2026); give the panel's 2019 risk score, overall "
                           "or by enrollment type")


FAMILY = register_family(Family(
    name="corridor",
    title="benchmark with risk corridors and a quality withhold (ACO REACH, LEAD)",
    terms=CorridorTerms, settle=settle, caps=caps, reads=frozenset({"panel", "quality"}),
    exact="panel_total", exact_total=lambda terms: PanelTotal(UNCAPPED),
    reference=reference_settlement, risk_ratio=risk_ratio, check=check,
))
