"""The effective share of savings: how much of what the organisation truly saves a contract
pays it, over the years of a horizon.

``share = E[sum_t paid_t] / E[sum_t G_t]`` where ``paid_t`` is the contract's settlement of
performance year ``t`` (before the effort's own cost) and ``G_t`` the spending the effort
avoided that year, ``raw_t s_t / (1 - s_t)`` (`simsuite.model.factors.avoided_spending`: the
panel's untruncated cost without the effort is ``raw_t / (1 - s_t)`` on the same draws).
A "50/50" contract whose target is rebased on the organisation's own cost keeps far less
than half (Milliman, "Five common pitfalls in commercial ACO shared risk arrangements",
2016); MSSP's rebasing and LEAD's fixed baseline can be compared on the same footing.

The Monte Carlo standard error is the ratio estimator's (delta method):
``sd(paid - share G) / (sqrt(S) E[G])``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsuite.engines.agreement import simulate_agreement
from simsuite.engines.montecarlo import RunOptions, options_for
from simsuite.model.dynamics import savings_path
from simsuite.model.factors import avoided_spending, effort_cost, simulation_factors
from simsuite.scenario.load import Scenario


@dataclass(frozen=True)
class EffectiveShare:
    """One contract's effective share of savings over a horizon.

    Attributes
    ----------
    share, se : float
        Paid over truly saved, and its Monte Carlo standard error.
    paid, saved : float
        Mean total paid by the contract and mean total spending the effort avoided, dollars.
    """

    share: float
    se: float
    paid: float
    saved: float


def effective_share(scenario: Scenario, options: RunOptions | None = None) -> dict[str, EffectiveShare]:
    """Each contract's effective share of the organisation's true savings over the horizon.

    Parameters
    ----------
    scenario : Scenario
        A multi-year scenario (with a ``horizon``) whose organisation saves something.
    options : RunOptions, optional
        Simulations and seed (default: the scenario's ``run`` section).

    Raises
    ------
    ValueError
        No horizon, or the effort avoids no spending (the share is undefined).
    """
    spec = scenario.spec
    if spec.horizon is None:
        raise ValueError("the effective share of savings is measured over the years of a horizon")
    options = options or options_for(scenario)
    arrays = simulate_agreement(scenario, options)
    full = simulation_factors(spec.assumptions, options.simulations, options.seed, options.first_sim).savings
    rates = savings_path(spec, list(arrays.years), full)
    avoided = avoided_spending(arrays.panel_cost, rates)  # (S, P)
    saved = avoided.sum(axis=1)
    if not saved.mean() > 0.0:
        raise ValueError("the organisation's effort avoids no spending in this scenario: no share to measure")
    months = 12 * scenario.n_beneficiaries
    effort = sum(effort_cost(spec.assumptions, months, arrays.panel_cost[:, p], rates[:, p])
                 for p in range(rates.shape[1]))
    out = {}
    for i, contract in enumerate(scenario.contracts):
        paid = arrays.net[i].sum(axis=1) - effort  # the settlement alone, before the effort's cost
        share = float(paid.mean() / saved.mean())
        se = float(np.std(paid - share * saved, ddof=1) / (np.sqrt(saved.size) * saved.mean()))
        out[contract.name] = EffectiveShare(share=share, se=se, paid=float(paid.mean()), saved=float(saved.mean()))
    return out
