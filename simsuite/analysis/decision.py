"""The path to take over an agreement: paths compared on their net present value under a
multi-year risk appetite, and the value of the option to stay in BASIC Level A.

A multi-year run with a ``finance`` section carries each contract's cash flows
(`simsuite.results.cashflow`). `decide` ranks the contracts (the paths of a program and
any single-year contracts) by expected net present value, or its certainty equivalent,
among those within the risk appetite, read over the whole agreement (`agreement_limits`):

* ``max_p_loss``: the chance that the cash over the horizon sums to a loss;
* ``max_var95``, ``max_tvar95``: the 1-in-20 loss of that sum and its tail mean;
* ``min_expected_result``: the expected net present value;
* ``min_cash_balance``: the 1-in-20 lowest cumulative cash balance.

The sentences are those of `simsuite.analysis.ranking` (a figure within two Monte Carlo
standard errors of a limit is called too close to call). Nothing here names a program:
LEAD or commercial paths join as any path does.

The option to stay in Level A (`option_values`): an ACO entering BASIC at Level A "and
currently at Level A may elect to remain in Level A ... for all subsequent performance
years of the agreement period" (42 CFR 425.600(a)(4)(i)(C)(3)). The election must be made
while the ACO is still in Level A, before the automatic advance to Level B for PY2 -- when
no performance year has been reconciled (PY1's results come about 8 months after it ends).
So it is a choice made on what is known at entry, and its value is defined as

    V = max(0, E[NPV(stay in A)] - E[NPV(glide)]),

the expected net present value the election adds over the automatic glide path it
replaces (both on the same simulated years, so the difference has a small paired error).
The election also changes the risk: the function reports the difference in P(loss over
the agreement), the 1-in-20 loss and the 1-in-20 lowest cash balance, and whether each path
meets the risk appetite -- where the glide breaks a limit and staying does not, the option
is what makes the agreement acceptable at all. The ACO keeps the right to step up later
(425.600(a)(4)(i)(C)(3)(iii), 425.226(a)(2)(i)); that right is not simulated, so ``V`` is a
lower bound on what the flexibility is worth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simsuite.analysis.ranking import Ranking, rank
from simsuite.contracts import PathContract
from simsuite.formatting import money
from simsuite.scenario.schema import Limit, RiskAppetite

if TYPE_CHECKING:
    import xarray as xr

    from simsuite.scenario.load import Scenario

#: The measures of `simsuite.results.cashflow.FINANCE_MEASURES` a decision reads.
DECISION_MEASURES = ("npv", "p_cumulative_loss", "cumulative_VaR95", "cumulative_TVaR95", "cash_low_1in20")


def has_cash(ds: xr.Dataset) -> bool:
    """Whether ``ds`` carries cash flows (a multi-year run with a ``finance`` section)."""
    return "npv" in ds


def agreement_limits(appetite: RiskAppetite) -> list[Limit]:
    """``appetite``'s limits read over the agreement (see the module docstring), in a fixed order."""
    out = []
    for value, measure, upper in ((appetite.max_var95, "cumulative_VaR95", True),
                                  (appetite.max_tvar95, "cumulative_TVaR95", True),
                                  (appetite.max_p_loss, "p_cumulative_loss", True),
                                  (appetite.min_expected_result, "npv", False),
                                  (appetite.min_cash_balance, "cash_low_1in20", False)):
        if value is not None:
            out.append(Limit(measure, value, upper=upper))
    return out


def decision_view(ds: xr.Dataset) -> xr.Dataset:
    """The Dataset `simsuite.analysis.ranking.rank` reads, made of the cash flows:
    ``net`` is each simulation's net present value, ``summary`` holds `DECISION_MEASURES`
    and ``mean`` (the expected net present value)."""
    import xarray as xr

    def table(name: str) -> xr.DataArray:
        values = ds[name].sel(finance_measure=list(DECISION_MEASURES))
        mean = values.sel(finance_measure=["npv"]).assign_coords(finance_measure=["mean"])
        return xr.concat([mean, values], dim="finance_measure").rename(finance_measure="measure")

    return xr.Dataset({"summary": table("finance_summary"), "summary_se": table("finance_summary_se"),
                       "net": ds["npv"]})


def decide(ds: xr.Dataset, appetite: RiskAppetite | None = None) -> Ranking:
    """Which path to take: the highest expected net present value (or certainty equivalent
    of it, with ``risk_aversion``) among the contracts within ``appetite`` over the agreement.

    Parameters
    ----------
    ds : xarray.Dataset
        A multi-year run with cash flows (`has_cash`).
    appetite : RiskAppetite, optional
        Limits and risk aversion (see the module docstring); none by default.
    """
    appetite = appetite or RiskAppetite()
    objective = ("certainty equivalent of the net present value" if appetite.risk_aversion is not None
                 else "expected net present value")
    return rank(decision_view(ds), appetite, limits=agreement_limits(appetite), objective=objective)


def choose(ds: xr.Dataset, appetite: RiskAppetite | None = None) -> Ranking:
    """`decide` for a run with cash flows, `simsuite.analysis.ranking.rank` otherwise."""
    return decide(ds, appetite) if has_cash(ds) else rank(ds, appetite)


# ---- the option to stay in Level A ---------------------------------------------------------------

@dataclass(frozen=True)
class OptionValue:
    """The value of electing a path (``with_option``) instead of the one it replaces (``without``).

    Money in dollars (net present value); probabilities as fractions. ``*_se``: Monte Carlo
    standard errors (the differences on paired simulations).
    """

    option: str
    with_option: str
    without: str
    npv_gain: float
    npv_gain_se: float
    p_loss: tuple[float, float]
    var95: tuple[float, float]
    cash_low: tuple[float, float]
    qualifies: tuple[bool, bool] | None

    @property
    def value(self) -> float:
        """``max(0, npv_gain)``: what having the election is worth, dollars."""
        return max(0.0, self.npv_gain)

    def text(self) -> str:
        """The option's value and what it does to the risk, in plain words."""
        gain = (f"adds {money(self.npv_gain)}" if self.npv_gain >= 0 else f"gives up {money(-self.npv_gain)}")
        text = (f"The option to {self.option} is worth {money(self.value)} of expected net present value: "
                f"electing it ({self.with_option}) {gain} ± {money(self.npv_gain_se).lstrip('$')} against "
                f"{self.without}, and moves the chance of a loss over the agreement from {100 * self.p_loss[1]:.1f}% "
                f"to {100 * self.p_loss[0]:.1f}%, the 1-in-20 loss over it from {money(self.var95[1])} to "
                f"{money(self.var95[0])}, the 1-in-20 lowest cash balance from {money(self.cash_low[1])} to "
                f"{money(self.cash_low[0])}.")
        if self.npv_gain < 0 and abs(self.npv_gain) <= 2.0 * self.npv_gain_se:
            text += " The difference is within Monte Carlo error."
        if self.qualifies is not None and self.qualifies[0] != self.qualifies[1]:
            which = self.with_option if self.qualifies[0] else self.without
            text += f" Only {which} is within your risk appetite."
        return text


def stay_in_level_a_pairs(scenario: Scenario) -> list[tuple[str, str]]:
    """``(stay, glide)`` contract names: paths that differ only in electing to stay in Level A
    (a path field ``stay_in_a``; programs without it have no such pair)."""
    paths = [c for c in scenario.contracts if isinstance(c, PathContract)]
    pairs = []
    for stay in paths:
        if not getattr(stay.path, "stay_in_a", False):
            continue
        twin = stay.path.model_copy(update={"stay_in_a": False})
        for other in paths:
            if other.program == stay.program and other.path == twin:
                pairs.append((stay.name, other.name))
    return pairs


def option_value(ds: xr.Dataset, with_option: str, without: str, option: str,
                 ranking: Ranking | None = None) -> OptionValue:
    """`OptionValue` of contract ``with_option`` against ``without`` (see the module docstring)."""
    a = ds["npv"].sel(contract=with_option).values
    b = ds["npv"].sel(contract=without).values
    d = a - b
    se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
    s = ds["finance_summary"]

    def pair(measure: str) -> tuple[float, float]:
        return (float(s.sel(contract=with_option, finance_measure=measure)),
                float(s.sel(contract=without, finance_measure=measure)))

    qualifies = None
    if ranking is not None and ranking.limits:
        ok = {x.contract: x.qualifies for x in ranking.assessments}
        qualifies = (ok[with_option], ok[without])
    return OptionValue(option=option, with_option=with_option, without=without, npv_gain=float(np.mean(d)),
                       npv_gain_se=se, p_loss=pair("p_cumulative_loss"), var95=pair("cumulative_VaR95"),
                       cash_low=pair("cash_low_1in20"), qualifies=qualifies)


def option_values(ds: xr.Dataset, scenario: Scenario, ranking: Ranking | None = None) -> list[OptionValue]:
    """The value of the option to stay in Level A for every such pair of paths in the scenario."""
    return [option_value(ds, stay, glide, "stay in BASIC Level A (42 CFR 425.600(a)(4)(i)(C)(3))", ranking)
            for stay, glide in stay_in_level_a_pairs(scenario)]
