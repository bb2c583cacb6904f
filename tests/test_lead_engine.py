"""LEAD and the commercial program inside the multi-year engine: what the engine hands them
and what comes back, checked against an independent recomputation from the results.

The example scenario scenarios/reach-aco-2027-lead-or-mssp.yaml (quality score fixed at
0.90, lower-spending region) at a few simulations.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import simsuite
from simsuite.engines.agreement import simulate_agreement
from simsuite.engines.montecarlo import RunOptions

LEAD_EXAMPLE = ROOT / "scenarios" / "reach-aco-2027-lead-or-mssp.yaml"


@pytest.fixture(scope="module")
def lead_run():
    from simsuite.scenario.edit import scenario_with

    # Without national trend shocks, so that LEAD's benchmark growth is known by hand.
    sc = scenario_with(simsuite.load_scenario(LEAD_EXAMPLE), "trends.national_sd", 0.0)
    return sc, simulate_agreement(sc, RunOptions(simulations=256, seed=5))


def corridor_global(s: np.ndarray, b_adj: np.ndarray) -> np.ndarray:
    """LEAD Global corridors (R6 [Low]) with 2% sequestration of the shared amount, by hand."""
    bands = [(0.0, 0.15, 1.0), (0.15, 0.35, 0.5), (0.35, 0.50, 0.25), (0.50, np.inf, 0.10)]
    kept = sum(share * np.clip(np.abs(s) - lo * b_adj, 0.0, (hi - lo) * b_adj) for lo, hi, share in bands)
    return np.where(s > 0, 0.98 * kept, -1.02 * kept)


def lower_spending_sims(sc, i: int) -> np.ndarray:
    """Which of the fixture's simulations class LEAD contract ``i`` lower-spending at entry
    (its baseline below the region's, `lead_rules.lower_spending`): most, not all."""
    from simsuite.contracts.lead_agreement import baseline
    from simsuite.engines.agreement import draw_agreement, path_histories

    contract = sc.contracts[i]
    history = path_histories(sc, draw_agreement(sc, RunOptions(simulations=256, seed=5)))[contract.caps[0]]
    lower = baseline(contract.plan, history).lower
    assert 0.5 < lower.mean() < 1.0  # both classes occur: the organisation's own level varies
    return lower


def test_lead_global_settles_untruncated_spending_against_its_discounted_benchmark(lead_run):
    sc, arrays = lead_run
    i = [c.name for c in sc.contracts].index("LEAD Global")
    assert arrays.levels[i] == ("LEAD Global",) * 10 and arrays.years == tuple(range(2027, 2037))
    # LEAD reads the untruncated panel cost (MSSP the truncated one, lower)
    np.testing.assert_array_equal(arrays.expenditure[i], arrays.panel_cost)
    mssp = [c.name for c in sc.contracts].index("MSSP ENHANCED")
    assert (arrays.expenditure[mssp] < arrays.panel_cost).all()
    # Most simulations are lower-spending here (5% below the region): a 3% discount, no
    # add-on; the reported benchmark is after the discount. Withhold 3% of it, QS 0.90: 0.3% lost.
    lower = lower_spending_sims(sc, i)
    b_adj = arrays.benchmark[i][lower]
    s = b_adj * (1.0 - 0.03 * (1.0 - 0.90)) - arrays.panel_cost[lower]
    np.testing.assert_allclose(arrays.net[i][lower], corridor_global(s, b_adj), rtol=1e-10)
    # the financial guarantee: 4% of BY3 (2026) spending, the same in every year
    rm = arrays.repayment_mechanism[i]
    assert (rm > 0).all() and np.allclose(rm, rm[:, :1])


def test_lead_baseline_is_never_rebased_while_mssp_rebases_in_2032(lead_run):
    sc, arrays = lead_run
    names = [c.name for c in sc.contracts]
    lead, mssp = names.index("LEAD Global"), names.index("MSSP ENHANCED")
    # No trend shocks: LEAD's benchmark grows from 2031 to 2032 by the expected trend (3%) x
    # the risk ratio, 1.005^6 = 1.0304 capped at 1.03 over 1.005^5 = 1.02525: 1.03 x 1.03 /
    # 1.02525 = 1.03477, in every simulation. MSSP's is rebuilt in 2032 from the ACO's own
    # 2029-2031 spending, 3% lower than before its effort: it grows far less on average.
    lower = lower_spending_sims(sc, lead)  # a higher-spending one's discount changes in 2032
    lead_growth = arrays.benchmark[lead][lower, 5] / arrays.benchmark[lead][lower, 4]
    mssp_growth = arrays.benchmark[mssp][:, 5] / arrays.benchmark[mssp][:, 4]
    np.testing.assert_allclose(lead_growth, 1.03 * 1.03 / 1.005 ** 5, rtol=1e-9)
    assert mssp_growth.mean() < lead_growth[0] - 0.02
