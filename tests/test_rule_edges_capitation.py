"""Capitation (`simsuite.contracts.capitation`) at edges the older tests did not reach: the exact
net without stop-loss, which cost total is read, a break-even year, and the premium without
specific stop-loss. Every expected value is computed by hand below."""

from __future__ import annotations

import numpy as np

from simsuite.contracts.base import PanelYear
from simsuite.contracts.capitation import CapitationTerms, settle, specific_premium

N = 10_000  # beneficiaries: 120,000 member months


def panel(raw, expenditure=None, benchmark=100_000_000.0) -> PanelYear:
    raw_ = None if raw is None else np.atleast_1d(np.asarray(raw, dtype=float))
    x = np.atleast_1d(np.asarray(raw if expenditure is None else expenditure, dtype=float))
    return PanelYear(n_beneficiaries=N, benchmark=np.full(x.shape, benchmark), expenditure=x,
                     quality_score=np.zeros(x.shape), raw=raw_, capped={}, expected={})


def test_net_without_stop_loss_is_revenue_minus_raw_cost_to_the_dollar():
    # $1,000 PMPM x 120,000 = $120,000,000 revenue; raw cost $110,000,000: net $10,000,000, no premium.
    t = CapitationTerms(pmpm=1_000.0)
    assert settle(t, panel(110_000_000.0)).net.tolist() == [10_000_000.0]


def test_the_raw_cost_is_read_not_the_truncated_expenditure():
    # Raw $110M, truncated $105M: capitation bears the whole raw cost: 120M - 110M = $10M.
    t = CapitationTerms(pmpm=1_000.0)
    assert settle(t, panel(110_000_000.0, expenditure=105_000_000.0)).net.tolist() == [10_000_000.0]
    # Without a raw total the expenditure is the cost: 120M - 105M = $15M.
    assert settle(t, panel(None, expenditure=105_000_000.0)).net.tolist() == [15_000_000.0]


def test_a_break_even_year_is_not_a_shared_gain():
    # Net 0 (120M - 120M) is no gain; net $0.50 is.
    t = CapitationTerms(pmpm=1_000.0)
    out = settle(t, panel([120_000_000.0, 119_999_999.5]))
    assert out.net.tolist() == [0.0, 0.5]
    assert out.gain_shared.tolist() == [False, True]


def test_no_specific_stop_loss_costs_no_premium():
    t = CapitationTerms(pmpm=1_000.0, specific_premium_pmpm=25.0)
    assert specific_premium(t, 120_000, 1e8, 9e7) == 0.0
    # With it, priced per member month: $25 x 120,000 = $3,000,000.
    t = CapitationTerms(pmpm=1_000.0, specific_attachment=250_000.0, specific_coinsurance=0.1,
                        specific_premium_pmpm=25.0)
    assert specific_premium(t, 120_000, 1e8, 9e7) == 3_000_000.0
    # Priced by loading 20 %: 1.2 x (1 - 0.1) x (100M - 90M) = $10,800,000.
    t = CapitationTerms(pmpm=1_000.0, specific_attachment=250_000.0, specific_coinsurance=0.1,
                        specific_premium_loading=0.2)
    assert abs(specific_premium(t, 120_000, 1e8, 9e7) - 10_800_000.0) < 1e-6


def test_caps_and_the_exact_total_follow_the_specific_attachment():
    from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal
    from simsuite.contracts.capitation import caps, exact_total

    # Without specific stop-loss the raw cost is all the settlement reads.
    plain = CapitationTerms(pmpm=1_000.0)
    assert caps(plain) == (UNCAPPED,)
    assert exact_total(plain) == PanelTotal(UNCAPPED, 0.0)
    # Attaching at $250,000 with 10 % coinsurance: the raw cost and the cost capped at $250,000;
    # the exact total is sum_i min(C_i, 250,000) + 0.10 x (C_i - 250,000)+.
    stop = CapitationTerms(pmpm=1_000.0, specific_attachment=250_000.0, specific_coinsurance=0.1)
    assert caps(stop) == (UNCAPPED, CapSpec(dollars=250_000.0))
    assert exact_total(stop) == PanelTotal(CapSpec(dollars=250_000.0), 0.1)
