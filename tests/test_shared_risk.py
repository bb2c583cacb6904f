"""The one-year commercial / Medicare Advantage shared-risk family (`simsuite.contracts.shared_risk`)
at its edges, computed by hand.

Sources (notes/issue18-21-rules.md Part D, all Low: negotiated terms): Axene Health Partners'
MSR example (example D-1); corridors as REACH's structure (Pearl Health); upside-only ->
shared risk -> capitation (Axene; LAN categories 3A, 3B, 4).
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import build_custom_contract
from simsuite.contracts.base import PanelYear
from simsuite.contracts.shared_risk import SharedRiskTerms, reference_settlement, shared_result
from simsuite.errors import FieldProblem

# D-1 (Axene): target $500.00 PMPM, 125,000 member months -> $62,500,000.
TARGET = 500.0 * 125_000


def pay(expenditure_pmpm: float, **terms) -> float:
    t = SharedRiskTerms(**{"arrangement": "upside_only", "savings_share": 0.5, **terms})
    got = float(shared_result(t, TARGET, TARGET - expenditure_pmpm * 125_000))
    assert got == pytest.approx(reference_settlement(t, TARGET, expenditure_pmpm * 125_000), rel=1e-12, abs=1e-9)
    return got


def test_d1_axene_minimum_savings_rate():
    # actual $495.50: savings (500 - 495.50) x 125,000 = $562,500 (0.9% of target)
    assert pay(495.50) == pytest.approx(281_250.0, rel=1e-12)          # no MSR: 50%
    assert pay(495.50, msr=0.01) == 0.0                                # 0.9% < 1%: nothing
    # "$495.00 PMPM or lower": exactly 1% qualifies, shared from the first dollar
    assert pay(495.00, msr=0.01) == pytest.approx(312_500.0, rel=1e-12)
    assert pay(495.01, msr=0.01) == 0.0
    # sharing only the excess over the MSR: at 495.00 nothing is above it; at 494.00 $125,000 is
    assert pay(495.00, msr=0.01, threshold_sharing="excess") == 0.0
    assert pay(494.00, msr=0.01, threshold_sharing="excess") == pytest.approx(62_500.0, rel=1e-12)


def test_upside_only_shares_no_losses_and_shared_risk_does_from_the_mlr():
    assert pay(510.0) == 0.0
    shared = {"arrangement": "shared_risk", "loss_share": 0.4, "mlr": 0.02}
    # loss $10 PMPM = 2% of the target: exactly at the MLR -> 40% x 1,250,000 = 500,000 owed
    assert pay(510.0, **shared) == pytest.approx(-500_000.0, rel=1e-12)
    assert pay(509.99, **shared) == 0.0                               # just below the MLR
    # a loss cap of 1% of the target: owes at most 625,000
    assert pay(520.0, loss_cap=0.01, **shared) == pytest.approx(-625_000.0, rel=1e-12)  # 40% x 2.5M = 1M -> cap
    assert pay(480.0, savings_cap=0.01, **shared) == pytest.approx(625_000.0, rel=1e-12)  # 50% x 2.5M -> cap


def test_capitation_keeps_the_whole_result():
    t = SharedRiskTerms(arrangement="capitation", loss_cap=0.05)
    # paid the target, bears the cost: +2,500,000 at $480; -2,500,000 at $520; loss capped at 5%
    assert float(shared_result(t, TARGET, 2_500_000.0)) == 2_500_000.0
    assert float(shared_result(t, TARGET, -2_500_000.0)) == -2_500_000.0
    assert float(shared_result(t, TARGET, -4_000_000.0)) == pytest.approx(-3_125_000.0, rel=1e-12)


def test_corridor_bands_instead_of_a_flat_share():
    t = SharedRiskTerms(arrangement="shared_risk", savings_bands=[[0.0, 0.05, 0.8], [0.05, None, 0.4]],
                        loss_share=0.5)
    # savings 8% of 1,000: 5% x 80% + 3% x 40% = 40 + 12 = 52
    assert float(shared_result(t, 1000.0, 80.0)) == pytest.approx(52.0, rel=1e-12)
    assert float(shared_result(t, 1000.0, 50.0)) == pytest.approx(40.0, rel=1e-12)   # the band edge
    assert float(shared_result(t, 1000.0, -80.0)) == pytest.approx(-40.0, rel=1e-12)


def test_family_settles_target_minus_cost_and_matches_the_reference():
    contract = build_custom_contract("shared_risk", {"arrangement": "shared_risk", "savings_share": 0.5,
                                                     "loss_share": 0.5, "msr": 0.01, "mlr": 0.01}, "MA")
    rng = np.random.default_rng(7)
    x = rng.uniform(0.9, 1.1, 3000) * 1e7
    settled = contract.settle(PanelYear(n_beneficiaries=1000, benchmark=np.full(3000, 1e7), expenditure=x,
                                        quality_score=np.ones(3000)))
    ref = [reference_settlement(contract.terms, 1e7, xi) for xi in x]
    np.testing.assert_allclose(settled.net, ref, rtol=1e-12, atol=1e-6)
    assert (settled.gain_shared == (settled.net > 0)).all()


@pytest.mark.parametrize("terms, loc, fragment", [
    ({"arrangement": "upside_only"}, ("savings_share",), "needs savings_share or savings_bands"),
    ({"arrangement": "upside_only", "savings_share": 0.5, "loss_share": 0.5}, ("loss_share",), "shares no losses"),
    ({"arrangement": "upside_only", "savings_share": 0.5, "mlr": 0.01}, ("mlr",), "no minimum loss rate"),
    ({"arrangement": "shared_risk", "savings_share": 0.5}, ("loss_share",), "needs loss_share or loss_bands"),
    ({"arrangement": "shared_risk", "savings_share": 0.5, "savings_bands": [[0.0, None, 0.5]], "loss_share": 0.5},
     ("savings_share",), "one of them"),
    ({"arrangement": "capitation", "savings_share": 1.0}, ("savings_share",), "keeps all of the result"),
    ({"arrangement": "capitation", "msr": 0.01}, ("msr",), "no minimum savings"),
])
def test_inconsistent_terms_are_refused_with_the_field_named(terms, loc, fragment):
    with pytest.raises(FieldProblem) as info:
        build_custom_contract("shared_risk", terms, "MA")
    assert info.value.loc[-len(loc):] == loc and fragment in info.value.problem
