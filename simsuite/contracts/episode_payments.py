"""Episode-based (bundled) payments: BPCI Advanced, CJR and TEAM.

Rules (``shared/reference/payment-rules.md`` §3), per performance year, for the
categories the contract prices (others stay plain FFS and are not reconciled):

* target price per episode ``TP_c = benchmark_c * (1 - discount_c)``, where the
  benchmark is the expected cost of an episode capped at the high-cost cap, without
  the hospital's effort (`simsuite.model.episode_costs`); CJR lowers the discount by its quality
  tier (510.315(f)) and may use a separate discount for repayments (510.300(c));
* actual spending: every episode's cost capped at the same high-cost cap
  (99th percentile: TEAM, BPCI Advanced; mean + 2 SD: CJR);
* ``NPRA = sum TP - sum capped actual``, clamped to
  ``[-stop_loss * sum TP, +stop_gain * sum TP]`` (no losses if one-sided);
* quality (TEAM / BPCI Advanced style): a positive amount is reduced by up to
  ``quality_adjustment_gain`` (all of it at quality score 0, none at 1), a negative
  amount by up to ``quality_adjustment_loss`` (all of it at quality score 1);
* CJR gate: no reconciliation *payment* below ``quality_gate_points`` (repayments are
  still owed);
* sequestration, if any, reduces payments to the hospital.

The quality score of a simulation is a fraction in [0, 1]; CJR's composite quality
score in points is ``quality_points_scale * score``. Money is dollars for the hospital
and the year; positive = paid to the hospital.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simsuite.contracts._types import STRICT, Rate
from simsuite.contracts.base import CapSpec, EpisodeTotals, HighCostCap, PanelYear, Settlement
from simsuite.contracts.registry import Family, register_family
from simsuite.errors import FieldProblem


class QualityTier(BaseModel):
    """A CJR quality tier: from ``min_points`` of composite quality score, the discount
    is lowered by ``discount_reduction`` (a fraction: 0.01 = one percentage point)."""

    model_config = STRICT
    min_points: Annotated[float, Field(ge=0.0)]
    inclusive: bool = True
    discount_reduction: Rate


class EpisodeTerms(BaseModel):
    """Terms of an episode-payment contract. Rates are fractions.

    Attributes
    ----------
    discount : dict of str to float
        Discount off the benchmark by episode category (``LEJR``...) or by group
        (``medical`` / ``surgical``); the category's own entry wins. Categories it
        does not name are not part of the contract.
    repayment_discount : dict of str to float or None
        CJR PY2-3: discount of the target price used when the hospital owes money;
        ``None`` = the same as ``discount``.
    two_sided : bool
        Whether the hospital repays spending above the target (TEAM Track 1: false).
    stop_gain : float or None
        Cap on a positive amount, fraction of the sum of target prices (None = no cap).
    stop_loss : float or None
        Cap on a repayment, fraction of the sum of target prices (None = no cap).
    quality_adjustment_gain, quality_adjustment_loss : float
        Most a positive amount is reduced for low quality, and most a negative amount
        is reduced for high quality (fractions; linear in the quality score).
    limits_before_quality : bool
        Apply the stop-gain/stop-loss limits before the quality adjustment (the order
        of the reference pseudocode) or after it.
    quality_points_scale : float
        CJR composite quality score, points, at a quality score of 1.
    quality_gate_points : float or None
        No reconciliation payment below this many points (CJR: 5.0); None = no gate.
    quality_discount_reduction : list of QualityTier
        CJR: discount reductions by quality tier; the highest tier reached applies.
    high_cost_cap : HighCostCap or None
        Cap on each episode's cost (None = uncapped).
    sequestration : float
        Reduction of payments to the hospital (fraction).
    """

    model_config = STRICT

    discount: dict[str, Rate]
    repayment_discount: dict[str, Rate] | None = None
    two_sided: bool
    stop_gain: Rate | None = None
    stop_loss: Rate | None = None
    quality_adjustment_gain: Rate = 0.0
    quality_adjustment_loss: Rate = 0.0
    limits_before_quality: bool = True
    quality_points_scale: Annotated[float, Field(gt=0.0, le=1000.0)] = 20.0
    quality_gate_points: Annotated[float, Field(ge=0.0)] | None = None
    quality_discount_reduction: list[QualityTier] = Field(default_factory=list)
    high_cost_cap: HighCostCap | None = None
    sequestration: Rate = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> EpisodeTerms:
        if not self.discount:
            raise FieldProblem(("discount",), "name at least one episode category or group")
        if not self.two_sided and self.stop_loss is not None:
            raise FieldProblem(("stop_loss",), "a one-sided (upside-only) contract has no stop-loss; "
                                               "set two_sided: true or drop stop_loss")
        if not self.two_sided and self.repayment_discount is not None:
            raise FieldProblem(("repayment_discount",), "a one-sided contract never repays")
        if self.repayment_discount is not None and set(self.repayment_discount) != set(self.discount):
            raise FieldProblem(("repayment_discount",),
                               f"must name the same categories as discount ({', '.join(self.discount)})")
        return self


def priced_discount(discount: dict[str, float], category: str, group: str | None) -> float | None:
    """The discount of ``category`` (its own entry, else its group's), or None if not priced."""
    if category in discount:
        return discount[category]
    if group is not None and group in discount:
        return discount[group]
    return None


def caps(terms: EpisodeTerms) -> tuple[CapSpec, ...]:
    """Episode contracts need no per-beneficiary panel sums: they settle on episodes."""
    return ()


def quality_points(terms: EpisodeTerms, quality_score: np.ndarray) -> np.ndarray:
    """CJR composite quality score, points, of each simulation."""
    return terms.quality_points_scale * np.asarray(quality_score, dtype=float)


def discount_reduction(terms: EpisodeTerms, points: np.ndarray) -> np.ndarray:
    """Reduction of the discount (fraction) earned by each simulation's quality points."""
    points = np.asarray(points, dtype=float)
    out = np.zeros(points.shape)
    # Tiers may be listed in any order: the highest reached wins, not the last listed.
    for tier in terms.quality_discount_reduction:
        reached = points >= tier.min_points if tier.inclusive else points > tier.min_points
        out = np.where(reached, np.maximum(out, tier.discount_reduction), out)
    return out


def _discount_vector(table: dict[str, float], totals: EpisodeTotals) -> np.ndarray:
    """Per-category discount, NaN where the contract does not price the category."""
    return np.array([np.nan if (d := priced_discount(table, c, g)) is None else d
                     for c, g in zip(totals.categories, totals.groups)], dtype=float)


@dataclass(frozen=True)
class EpisodeOutcome:
    """Intermediate figures of an episode reconciliation, arrays of shape ``(S,)``, dollars.

    Attributes
    ----------
    target : ndarray
        Sum of target prices.
    target_repayment : ndarray
        Sum of target prices used when the hospital owes money (CJR PY2-3).
    actual : ndarray
        Sum of capped actual spending.
    npra : ndarray
        ``target - actual`` before limits and quality.
    net : ndarray
        Money to the hospital.
    """

    target: np.ndarray
    target_repayment: np.ndarray
    actual: np.ndarray
    npra: np.ndarray
    net: np.ndarray


def settle_episodes(terms: EpisodeTerms, totals: EpisodeTotals, quality_score: np.ndarray) -> EpisodeOutcome:
    """Reconcile every simulation; returns the intermediate figures (arrays of shape (S,)).

    Parameters
    ----------
    terms : EpisodeTerms
    totals : EpisodeTotals
        Episode counts and cost sums (`simsuite.engines.montecarlo.draw_episodes`).
    quality_score : array_like
        Quality score of each simulation, fraction in [0, 1].

    Returns
    -------
    EpisodeOutcome
    """
    n_sims = totals.count.shape[0]
    q = np.broadcast_to(np.asarray(quality_score, dtype=float), (n_sims,))
    bench = totals.benchmark_per_episode(terms.high_cost_cap)  # (C,)
    spent = totals.sums(terms.high_cost_cap)  # (S, C)
    d = _discount_vector(terms.discount, totals)
    r = d if terms.repayment_discount is None else _discount_vector(terms.repayment_discount, totals)
    priced = ~np.isnan(d)
    points = quality_points(terms, q)
    cut = discount_reduction(terms, points)[:, None]  # (S, 1)
    n = totals.count[:, priced].astype(float)
    b = bench[priced]
    target = (n * b * (1.0 - np.maximum(d[priced] - cut, 0.0))).sum(axis=1)
    target_repay = (n * b * (1.0 - np.maximum(r[priced] - cut, 0.0))).sum(axis=1)
    actual = spent[:, priced].sum(axis=1)

    gain = target - actual
    loss = np.where(gain > 0, 0.0, np.minimum(target_repay - actual, 0.0))
    gain = np.maximum(gain, 0.0)
    if not terms.two_sided:
        loss = np.zeros(n_sims)
    gain_factor = 1.0 - terms.quality_adjustment_gain * (1.0 - q)
    loss_factor = 1.0 - terms.quality_adjustment_loss * q
    gain_limit = np.inf if terms.stop_gain is None else terms.stop_gain * target
    loss_limit = np.inf if terms.stop_loss is None else terms.stop_loss * target_repay
    if terms.limits_before_quality:
        gain = np.minimum(gain, gain_limit) * gain_factor
        loss = np.maximum(loss, -loss_limit) * loss_factor
    else:
        gain = np.minimum(gain * gain_factor, gain_limit)
        loss = np.maximum(loss * loss_factor, -loss_limit)
    if terms.quality_gate_points is not None:
        gain = np.where(points >= terms.quality_gate_points, gain, 0.0)
    gain = gain * (1.0 - terms.sequestration)
    return EpisodeOutcome(target=target, target_repayment=target_repay, actual=actual,
                          npra=target - actual, net=gain + loss)


def settle(terms: EpisodeTerms, panel: PanelYear) -> Settlement:
    """Settle every simulation on ``panel.episodes`` (the engine's entry point)."""
    if panel.episodes is None:
        raise ValueError("an episode contract needs panel.episodes (built by simsuite.engines.settlement_inputs)")
    out = settle_episodes(terms, panel.episodes, panel.quality_score)
    return Settlement(net=out.net, gain_shared=out.net > 0, benchmark=out.target, expenditure=out.actual)


def reference_settlement(terms: EpisodeTerms, categories: list[str], groups: list[str | None],
                         counts: list[int], benchmarks: list[float], capped_sums: list[float],
                         quality_score: float) -> float:
    """Slow scalar transcription of the rules, for tests. Returns dollars to the hospital.

    ``benchmarks[c]`` is the benchmark price per episode of category ``c`` (capped as
    the contract caps, dollars) and ``capped_sums[c]`` its capped actual spending.
    """
    points = terms.quality_points_scale * quality_score
    reduction = 0.0
    for tier in terms.quality_discount_reduction:
        if points > tier.min_points or (tier.inclusive and points == tier.min_points):
            reduction = max(reduction, tier.discount_reduction)
    repay_table = terms.repayment_discount or terms.discount
    target = target_repay = actual = 0.0
    for cat, grp, n, bench, spent in zip(categories, groups, counts, benchmarks, capped_sums):
        d = terms.discount.get(cat, terms.discount.get(grp) if grp else None)
        if d is None:
            continue  # not in this model: paid FFS, not reconciled
        rd = repay_table.get(cat, repay_table.get(grp) if grp else None)
        assert rd is not None  # the terms check repayment_discount names discount's categories
        target += n * bench * (1.0 - max(d - reduction, 0.0))
        target_repay += n * bench * (1.0 - max(rd - reduction, 0.0))
        actual += spent

    if target - actual > 0:
        amount = target - actual
        limit = terms.stop_gain * target if terms.stop_gain is not None else None
        factor = 1.0 - terms.quality_adjustment_gain * (1.0 - quality_score)
        if terms.limits_before_quality:
            amount = (min(amount, limit) if limit is not None else amount) * factor
        else:
            amount = amount * factor
            amount = min(amount, limit) if limit is not None else amount
        if terms.quality_gate_points is not None and points < terms.quality_gate_points:
            return 0.0
        return amount * (1.0 - terms.sequestration)

    owed = actual - target_repay
    if owed <= 0 or not terms.two_sided:
        return 0.0
    limit = terms.stop_loss * target_repay if terms.stop_loss is not None else None
    factor = 1.0 - terms.quality_adjustment_loss * quality_score
    if terms.limits_before_quality:
        owed = (min(owed, limit) if limit is not None else owed) * factor
    else:
        owed = owed * factor
        owed = min(owed, limit) if limit is not None else owed
    return -owed


def exact_refusal(terms: EpisodeTerms) -> str | None:
    """The exact method conditions on capped episode costs; uncapped ones it refuses."""
    if terms.high_cost_cap is None:
        return "does not cap episode costs; the exact method needs a high-cost cap"
    return None


FAMILY = register_family(Family(
    name="episode",
    title="episode (bundled) payments: BPCI Advanced, CJR, TEAM",
    terms=EpisodeTerms, settle=settle, caps=caps, reads=frozenset({"episodes", "quality"}),
    exact="episodes", exact_refusal=exact_refusal, reference=reference_settlement,
    episode_cap=lambda terms: terms.high_cost_cap,
    prices_episode=lambda terms, category, group: priced_discount(terms.discount, category, group) is not None,
    episode_names=lambda terms: tuple(terms.discount),
))
