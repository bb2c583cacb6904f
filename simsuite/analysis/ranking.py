"""Which contracts suit a risk appetite, which one to choose, and why, in plain words.

A `RiskAppetite` (`simsuite.scenario.schema`) holds limits on the loss (1-in-20 loss VaR95, tail mean TVaR95,
probability of any loss), an optional floor on the expected result, and an optional
risk-aversion coefficient. `rank` checks every contract of a results Dataset against
the limits, allowing for Monte Carlo error: a figure within 2 standard errors of a
limit is called out as too close to call rather than silently passed or failed.

Conventions: money in dollars per year from the provider's side (positive = money
received); VaR95 and TVaR95 are losses (positive = money lost).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from simsuite.formatting import money
from simsuite.scenario.schema import Limit, RiskAppetite

if TYPE_CHECKING:  # xarray (and pandas) load only when results are built
    import xarray as xr

#: A figure within this many standard errors of a limit is "too close to call".
MARGIN_SE = 2.0

Verdict = Literal["within", "exceeds"]


@dataclass(frozen=True)
class Check:
    """One contract against one limit.

    Attributes
    ----------
    verdict : {"within", "exceeds"}
        On the point estimate.
    close : bool
        The estimate is within `MARGIN_SE` standard errors of the limit, so Monte
        Carlo error could reverse the verdict.
    """

    limit: Limit
    value: float
    se: float
    verdict: Verdict
    close: bool


@dataclass(frozen=True)
class Assessment:
    """One contract: its checks, and the score used to rank it (dollars per year)."""

    contract: str
    checks: tuple[Check, ...]
    score: float
    score_se: float

    @property
    def qualifies(self) -> bool:
        return all(c.verdict == "within" for c in self.checks)


@dataclass(frozen=True)
class Ranking:
    """The outcome of `rank`.

    Attributes
    ----------
    objective : str
        ``"expected result"`` or ``"certainty equivalent"``.
    assessments : tuple of Assessment
        One per contract, in the Dataset's order.
    recommended : str or None
        The recommended contract, ``None`` if none meets every limit.
    reasons : tuple of str
        Plain sentences: the recommendation first, then one per other contract.
    limits : tuple of Limit
        The limits checked (``appetite.limits()``, or those `rank` was given).
    """

    appetite: RiskAppetite
    objective: str
    assessments: tuple[Assessment, ...]
    recommended: str | None
    reasons: tuple[str, ...]
    limits: tuple[Limit, ...] = ()

    @property
    def qualifying(self) -> list[str]:
        return [a.contract for a in self.assessments if a.qualifies]

    def text(self) -> str:
        """The recommendation and the reasons, one sentence a line."""
        return "\n".join(self.reasons)


def certainty_equivalent(net: np.ndarray, risk_aversion: float) -> tuple[float, float]:
    """Exponential-utility certainty equivalent of a sample of results and its MC error.

    ``CE = -log(mean(exp(-a net))) / a``, dollars (positive = worth receiving). The
    standard error is the delta-method one, ``sd(exp(-a net)) / (sqrt(n) a mean(exp(-a net)))``.

    Parameters
    ----------
    net : ndarray
        Money to the provider per simulation, dollars.
    risk_aversion : float
        ``a`` > 0, per dollar.
    """
    net = np.asarray(net, dtype=float)
    x = -risk_aversion * net
    # Factor out the largest exponent so that exp() cannot overflow for big losses.
    shift = float(x.max())
    w = np.exp(x - shift)
    m = float(w.mean())
    ce = -(shift + math.log(m)) / risk_aversion
    se = float(w.std(ddof=1)) / (math.sqrt(net.size) * risk_aversion * m) if net.size > 1 else 0.0
    return ce, se


def _check(limit: Limit, value: float, se: float) -> Check:
    ok = value <= limit.value if limit.upper else value >= limit.value
    close = abs(value - limit.value) <= MARGIN_SE * se and se > 0
    return Check(limit, value, se, "within" if ok else "exceeds", close)


def assess(ds: xr.Dataset, appetite: RiskAppetite, limits: list[Limit] | None = None) -> list[Assessment]:
    """Check every contract of a results Dataset against ``appetite`` (or ``limits``, measures
    of its ``summary``) and score it."""
    limits = appetite.limits() if limits is None else limits
    out = []
    for name in ds["contract"].values:
        v = ds["summary"].sel(contract=name)
        e = ds["summary_se"].sel(contract=name)
        checks = tuple(_check(lim, float(v.sel(measure=lim.measure)), float(e.sel(measure=lim.measure)))
                       for lim in limits)
        if appetite.risk_aversion is not None:
            score, score_se = certainty_equivalent(ds["net"].sel(contract=name).values, appetite.risk_aversion)
        else:
            score, score_se = float(v.sel(measure="mean")), float(e.sel(measure="mean"))
        out.append(Assessment(str(name), checks, score, score_se))
    return out


def rank(ds: xr.Dataset, appetite: RiskAppetite | None = None, limits: list[Limit] | None = None,
         objective: str | None = None) -> Ranking:
    """Which contracts meet ``appetite``, which one to choose, and why.

    Among the contracts that meet every limit (on the point estimates), the one with
    the highest expected result (or certainty equivalent, if ``risk_aversion`` is
    set) is recommended. Sentences flag every figure within `MARGIN_SE` standard
    errors of a limit, and a lead over the runner-up that Monte Carlo error could
    reverse (the error of the difference is computed on the paired simulations).

    Parameters
    ----------
    ds : xarray.Dataset
        Results of `simsuite.run` (needs ``summary``, ``summary_se`` and ``net``).
    appetite : RiskAppetite, optional
        Limits and risk aversion; none by default.
    limits : list of Limit, optional
        The limits to check, measures of ``ds["summary"]`` (default: ``appetite.limits()``;
        `simsuite.analysis.decision` passes the agreement's).
    objective : str, optional
        What the score is called in the sentences (default: "expected result", or
        "certainty equivalent" with a risk aversion).
    """
    appetite = appetite or RiskAppetite()
    limits = appetite.limits() if limits is None else limits
    if objective is None:
        objective = "certainty equivalent" if appetite.risk_aversion is not None else "expected result"
    assessments = assess(ds, appetite, limits)
    qualifying = sorted((a for a in assessments if a.qualifies), key=lambda a: a.score, reverse=True)
    reasons: list[str] = []
    best = qualifying[0] if qualifying else None
    if best is None:
        reasons.append(_none_qualifies(assessments, limits))
    else:
        reasons.append(_recommend(best, qualifying, ds, appetite, objective, limits))
    for a in assessments:
        if best is not None and a.contract == best.contract:
            continue
        reasons.append(_explain_other(a, objective, best))
    return Ranking(appetite, objective, tuple(assessments), best.contract if best else None, tuple(reasons),
                   tuple(limits))


def _limits_phrase(limits: list[Limit]) -> str:
    parts = []
    for lim in limits:
        if lim.upper:
            parts.append(f"whose {lim.label} is within your {lim.show(lim.value)} limit")
        else:
            parts.append(f"whose {lim.label} reaches your {lim.show(lim.value)} floor")
    return " and ".join(parts)


def _score_phrase(a: Assessment, objective: str) -> str:
    return f"{objective} {money(a.score)} ± {money(a.score_se).lstrip('$')}"


def _recommend(best: Assessment, qualifying: list[Assessment], ds: xr.Dataset,
               appetite: RiskAppetite, objective: str, limits: list[Limit]) -> str:
    scope = f"among contracts {_limits_phrase(limits)}" if limits else "among all contracts (no risk limits given)"
    text = f"{best.contract} is recommended: highest {_score_phrase(best, objective)} {scope}"
    if appetite.risk_aversion is not None:
        text += f" (risk aversion {appetite.risk_aversion:g} per dollar, i.e. risk tolerance {money(1 / appetite.risk_aversion)})"
    text += "."
    close = [c for c in best.checks if c.close]
    if close:
        text += " Caution: " + "; ".join(
            f"its {c.limit.label} {c.limit.show(c.value)} ± {c.limit.show_se(c.se)} is within "
            f"{MARGIN_SE:g} standard errors of your {c.limit.show(c.limit.value)} limit" for c in close
        ) + "; run more simulations (--sims) to settle it."
    if len(qualifying) > 1:
        second = qualifying[1]
        diff, diff_se = _paired_difference(ds, best.contract, second.contract, appetite)
        if diff <= MARGIN_SE * diff_se:
            text += (f" Its lead over {second.contract} ({money(diff)} ± {money(diff_se).lstrip('$')}) is within "
                     f"Monte Carlo error: the two are not distinguishable at this number of simulations.")
    return text


def _paired_difference(ds: xr.Dataset, a: str, b: str, appetite: RiskAppetite) -> tuple[float, float]:
    """Score of ``a`` minus score of ``b`` and its standard error on the same draws."""
    net_a = ds["net"].sel(contract=a).values
    net_b = ds["net"].sel(contract=b).values
    if appetite.risk_aversion is None:
        d = net_a - net_b
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
    # Certainty equivalents: the errors of two CEs on the same draws are positively
    # correlated, so adding them in quadrature overstates the error of the difference;
    # a conservative bound is still honest wording for "too close to call".
    ce_a, se_a = certainty_equivalent(net_a, appetite.risk_aversion)
    ce_b, se_b = certainty_equivalent(net_b, appetite.risk_aversion)
    return ce_a - ce_b, math.hypot(se_a, se_b)


def _failure_phrase(c: Check) -> str:
    direction = "exceeds" if c.limit.upper else "falls short of"
    text = (f"its {c.limit.label} {c.limit.show(c.value)} ± {c.limit.show_se(c.se)} {direction} "
            f"your {c.limit.show(c.limit.value)} {'limit' if c.limit.upper else 'floor'}")
    if c.close:
        text += " (but only just: within Monte Carlo error; more simulations could change this)"
    return text


def _explain_other(a: Assessment, objective: str, best: Assessment | None) -> str:
    failed = [c for c in a.checks if c.verdict == "exceeds"]
    if failed:
        return f"{a.contract} is excluded: " + "; ".join(_failure_phrase(c) for c in failed) + "."
    text = f"{a.contract} qualifies but ranks lower: {_score_phrase(a, objective)}"
    if best is not None:
        text += f" against {money(best.score)} for {best.contract}"
    text += "."
    close = [c for c in a.checks if c.close]
    if close:
        text += " Its " + "; ".join(
            f"{c.limit.label} {c.limit.show(c.value)} ± {c.limit.show_se(c.se)}" for c in close
        ) + " is within Monte Carlo error of your limit."
    return text


def _none_qualifies(assessments: list[Assessment], limits: list[Limit]) -> str:
    # The nearest miss: the contract that breaks its limits by the least, in units of
    # each limit (so dollars and probabilities can be compared).
    def excess(a: Assessment) -> float:
        return sum(abs(c.value - c.limit.value) / max(abs(c.limit.value), 1e-9)
                   for c in a.checks if c.verdict == "exceeds")

    nearest = min(assessments, key=excess)
    wanted = "; ".join(f"{lim.label} {'at most' if lim.upper else 'at least'} {lim.show(lim.value)}"
                       for lim in limits)
    return (f"No contract meets all your limits ({wanted}); "
            f"the nearest is {nearest.contract}. Consider a larger panel, a contract with lower loss "
            f"caps, or a wider risk appetite.")


def merge_appetite(base: RiskAppetite | None, **overrides: float | None) -> RiskAppetite:
    """``base`` (e.g. the scenario's) with every non-None override applied."""
    data = (base or RiskAppetite()).model_dump()
    data.update({k: v for k, v in overrides.items() if v is not None})
    return RiskAppetite.model_validate(data)
