"""Which contracts suit a risk appetite, which one to choose, and why, in plain words.

A `RiskAppetite` holds limits on the loss (1-in-20 loss VaR95, tail mean TVaR95,
probability of any loss), an optional floor on the expected result, and an optional
risk-aversion coefficient. `rank` checks every contract of a results Dataset against
the limits, allowing for Monte Carlo error: a figure within 2 standard errors of a
limit is called out as too close to call rather than silently passed or failed.

Conventions: money in dollars per year from the provider's side (positive = money
received); VaR95 and TVaR95 are losses (positive = money lost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math
import re
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simsuite.summary_table import money

if TYPE_CHECKING:  # xarray (and pandas) load only when results are built
    import xarray as xr

#: A figure within this many standard errors of a limit is "too close to call".
MARGIN_SE = 2.0

Verdict = Literal["within", "exceeds"]


class RiskAppetite(BaseModel):
    """How much risk the organisation accepts (``risk_appetite:`` section of a scenario).

    Every field is optional; an empty appetite ranks contracts by expected result.

    Attributes
    ----------
    max_var95 : float or None
        Largest acceptable 1-in-20 loss (VaR95), dollars per year (positive = a loss).
    max_tvar95 : float or None
        Largest acceptable mean loss in the worst 5% of years (TVaR95), dollars.
    max_p_loss : float or None
        Largest acceptable probability of any loss, a fraction (0.1 = 10%).
    min_expected_result : float or None
        Smallest acceptable expected result, dollars per year (may be negative).
    risk_aversion : float or None
        Coefficient ``a`` of the exponential utility ``u(x) = -exp(-a x)``, per dollar;
        when given, contracts are ranked by their certainty equivalent
        ``-log(E[exp(-a net)]) / a`` instead of their expected result. ``1/a`` is the
        risk tolerance: with ``a = 1e-6`` (a tolerance of $1M) a 50-50 gamble of
        +$1M or -$1M is worth the same as a sure loss of $0.43M.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    max_var95: Annotated[float, Field(ge=0.0)] | None = None
    max_tvar95: Annotated[float, Field(ge=0.0)] | None = None
    max_p_loss: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    min_expected_result: float | None = None
    risk_aversion: Annotated[float, Field(gt=0.0, le=1.0)] | None = None

    def limits(self) -> list["Limit"]:
        """The limits that are set, in a fixed order."""
        out = []
        for field, measure in (("max_var95", "VaR95"), ("max_tvar95", "TVaR95"), ("max_p_loss", "p_loss")):
            value = getattr(self, field)
            if value is not None:
                out.append(Limit(measure, value, upper=True))
        if self.min_expected_result is not None:
            out.append(Limit("mean", self.min_expected_result, upper=False))
        return out

    def is_empty(self) -> bool:
        """Whether no limit and no risk aversion are set."""
        return not self.limits() and self.risk_aversion is None


_LABELS = {
    "VaR95": "1-in-20 loss",
    "TVaR95": "average loss in the worst 1-in-20 years (TVaR95)",
    "p_loss": "probability of a loss",
    "mean": "expected result",
}


@dataclass(frozen=True)
class Limit:
    """One limit: a measure of `simsuite.risk.MEASURES` and its bound.

    ``upper=True``: the measure must not exceed ``value``; else it must reach it.
    """

    measure: str
    value: float
    upper: bool

    @property
    def label(self) -> str:
        return _LABELS[self.measure]

    def show(self, x: float) -> str:
        """``x`` in this limit's unit (percent for probabilities, dollars otherwise)."""
        return f"{100 * x:.1f}%" if self.measure == "p_loss" else money(x)

    def show_se(self, se: float) -> str:
        return f"{100 * se:.1f} points" if self.measure == "p_loss" else money(se).lstrip("$")


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
    """

    appetite: RiskAppetite
    objective: str
    assessments: tuple[Assessment, ...]
    recommended: str | None
    reasons: tuple[str, ...]

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


def assess(ds: xr.Dataset, appetite: RiskAppetite) -> list[Assessment]:
    """Check every contract of a results Dataset against ``appetite`` and score it."""
    out = []
    for name in ds["contract"].values:
        v = ds["summary"].sel(contract=name)
        e = ds["summary_se"].sel(contract=name)
        checks = tuple(_check(lim, float(v.sel(measure=lim.measure)), float(e.sel(measure=lim.measure)))
                       for lim in appetite.limits())
        if appetite.risk_aversion is not None:
            score, score_se = certainty_equivalent(ds["net"].sel(contract=name).values, appetite.risk_aversion)
        else:
            score, score_se = float(v.sel(measure="mean")), float(e.sel(measure="mean"))
        out.append(Assessment(str(name), checks, score, score_se))
    return out


def rank(ds: xr.Dataset, appetite: RiskAppetite | None = None) -> Ranking:
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
    """
    appetite = appetite or RiskAppetite()
    objective = "certainty equivalent" if appetite.risk_aversion is not None else "expected result"
    assessments = assess(ds, appetite)
    qualifying = sorted((a for a in assessments if a.qualifies), key=lambda a: a.score, reverse=True)
    reasons: list[str] = []
    best = qualifying[0] if qualifying else None
    if best is None:
        reasons.append(_none_qualifies(assessments, appetite))
    else:
        reasons.append(_recommend(best, qualifying, ds, appetite, objective))
    for a in assessments:
        if best is not None and a.contract == best.contract:
            continue
        reasons.append(_explain_other(a, objective, best))
    return Ranking(appetite, objective, tuple(assessments), best.contract if best else None, tuple(reasons))


def _limits_phrase(appetite: RiskAppetite) -> str:
    parts = []
    for lim in appetite.limits():
        if lim.upper:
            parts.append(f"whose {lim.label} is within your {lim.show(lim.value)} limit")
        else:
            parts.append(f"whose {lim.label} reaches your {lim.show(lim.value)} floor")
    return " and ".join(parts)


def _score_phrase(a: Assessment, objective: str) -> str:
    return f"{objective} {money(a.score)} ± {money(a.score_se).lstrip('$')}"


def _recommend(best: Assessment, qualifying: list[Assessment], ds: xr.Dataset,
               appetite: RiskAppetite, objective: str) -> str:
    scope = f"among contracts {_limits_phrase(appetite)}" if appetite.limits() else "among all contracts (no risk limits given)"
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


def _none_qualifies(assessments: list[Assessment], appetite: RiskAppetite) -> str:
    # The nearest miss: the contract that breaks its limits by the least, in units of
    # each limit (so dollars and probabilities can be compared).
    def excess(a: Assessment) -> float:
        return sum(abs(c.value - c.limit.value) / max(abs(c.limit.value), 1e-9)
                   for c in a.checks if c.verdict == "exceeds")

    nearest = min(assessments, key=excess)
    wanted = "; ".join(f"{lim.label} {'at most' if lim.upper else 'at least'} {lim.show(lim.value)}"
                       for lim in appetite.limits())
    return (f"No contract meets all your limits ({wanted}); "
            f"the nearest is {nearest.contract}. Consider a larger panel, a contract with lower loss "
            f"caps, or a wider risk appetite.")


_MONEY = re.compile(r"^\s*\$?\s*([0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)\s*([kKmM]?)\s*$")


def parse_money(text: str) -> float:
    """Dollars from ``"1000000"``, ``"$1,000,000"``, ``"250k"`` or ``"1.5M"``.

    Raises
    ------
    ValueError
        If ``text`` is not such an amount (negative amounts are not accepted).
    """
    m = _MONEY.match(str(text))
    if not m:
        raise ValueError(f"not a dollar amount: {text!r} (e.g. 1000000, 250k, 1.5M)")
    scale = {"": 1.0, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    return float(m.group(1).replace(",", "")) * scale


def parse_fraction(text: str) -> float:
    """A probability from ``"0.1"`` or ``"10%"``.

    Raises
    ------
    ValueError
        If ``text`` is not a number in [0, 1] (or a percentage in [0, 100]).
    """
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    except ValueError:
        raise ValueError(f"not a probability: {text!r} (e.g. 0.1 or 10%)") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a probability must be between 0 and 1 (or 0% and 100%), got {text!r}")
    return value


def merge_appetite(base: RiskAppetite | None, **overrides: float | None) -> RiskAppetite:
    """``base`` (e.g. the scenario's) with every non-None override applied."""
    data = (base or RiskAppetite()).model_dump()
    data.update({k: v for k, v in overrides.items() if v is not None})
    return RiskAppetite.model_validate(data)
