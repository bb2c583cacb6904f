"""The effective share of savings: of each dollar the organisation's effort takes off the
cost of care, how much a contract pays it, over the years of a horizon.

It is a marginal, paired quantity. The scenario is simulated twice on the same random
draws (common random numbers): as written, and with the cost perturbed -- no saving
(``assumptions.true_savings`` = 0), so every beneficiary's cost is the same draw without the
effort's ``1 - s`` factor. Per simulation ``i``:

* ``D_i = sum_t (X0_t - X1_t)``, the change in the panel's untruncated cost over the
  performance years (dollars; 1 = as written, 0 = perturbed);
* ``G_i = sum_t (N1_t - N0_t)``, the change in the contract's settlement (money to the
  organisation, the effort's own cost excluded, dollars).

``share = E[G] / E[D]``: the change in the provider's result per dollar of change in cost.
Terms that do not depend on the saving -- a fixed target's trend guarantee running ahead of
or behind the real trend, a discount, a withhold, a corridor's payments on ordinary noise --
cancel in ``G`` (a ratio of unpaired means, ``E[N1] / E[D]``, would count them as pay for
the saving). A "50/50" contract whose target is rebased on the organisation's own cost keeps
far less than half (Milliman, "Five common pitfalls in commercial ACO shared risk
arrangements", 2016). Exact cases (`tests/test_commercial_program.py`): a 50/50 contract on
a fixed target keeps exactly 0.5 of every dollar on every draw; rebased on last year's cost
trended by ``g``, ``G_i = 0.5 (D_i - (1 + g) sum_{t < T} d_t)`` with ``d_t`` year ``t``'s change.

The Monte Carlo standard error is the ratio estimator's (delta method) on the paired draws:
``sd(G - share D) / (sqrt(S) |E[D]|)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsuite.engines.agreement import simulate_agreement
from simsuite.engines.montecarlo import RunOptions, options_for
from simsuite.results.arrays import AgreementArrays
from simsuite.scenario.edit import scenario_with
from simsuite.scenario.load import Scenario


@dataclass(frozen=True)
class EffectiveShare:
    """One contract's effective share of savings over a horizon.

    Attributes
    ----------
    share, se : float
        Change in what the contract pays per dollar of change in cost, and its Monte Carlo
        standard error (paired draws).
    paid, saved : float
        Mean change in the total paid by the contract and mean change in the panel's total
        cost over the horizon (the spending the effort avoided), dollars; ``share = paid / saved``.
    """

    share: float
    se: float
    paid: float
    saved: float


def _settlements(arrays: AgreementArrays) -> np.ndarray:
    """Each contract's settlement by simulation and year, the effort's cost excluded, shape (C, S, P)."""
    return arrays.net - (arrays.effort if arrays.effort is not None else 0.0)


def paired_shares(with_saving: AgreementArrays, perturbed: AgreementArrays, names: list[str]
                  ) -> dict[str, EffectiveShare]:
    """`EffectiveShare` of each contract from two runs on the same draws (see the module docstring).

    Raises
    ------
    ValueError
        The two runs' costs do not differ on average (no saving to share).
    """
    saved = (perturbed.panel_cost - with_saving.panel_cost).sum(axis=1)  # D_i, (S,)
    mean_saved = float(saved.mean())
    if not mean_saved > 0.0:
        raise ValueError("the organisation's effort avoids no spending in this scenario: no share to measure")
    gained = (_settlements(with_saving) - _settlements(perturbed)).sum(axis=2)  # G_i per contract, (C, S)
    out = {}
    for name, g in zip(names, gained):
        share = float(g.mean()) / mean_saved
        se = float(np.std(g - share * saved, ddof=1) / (np.sqrt(saved.size) * mean_saved)) if saved.size > 1 else 0.0
        out[name] = EffectiveShare(share=share, se=se, paid=float(g.mean()), saved=mean_saved)
    return out


def effective_share(scenario: Scenario, options: RunOptions | None = None) -> dict[str, EffectiveShare]:
    """Each contract's effective share of the organisation's savings over the horizon:
    the paired change in its settlement per dollar of change in cost (module docstring).

    Parameters
    ----------
    scenario : Scenario
        A multi-year scenario (with a ``horizon``) whose organisation saves something.
    options : RunOptions, optional
        Simulations and seed of both runs (default: the scenario's ``run`` section).

    Raises
    ------
    ValueError
        No horizon, or the effort avoids no spending (the share is undefined).
    """
    if scenario.spec.horizon is None:
        raise ValueError("the effective share of savings is measured over the years of a horizon")
    options = options or options_for(scenario)
    with_saving = simulate_agreement(scenario, options)
    perturbed = simulate_agreement(scenario_with(scenario, "assumptions.true_savings", 0.0), options)
    return paired_shares(with_saving, perturbed, [c.name for c in scenario.contracts])
