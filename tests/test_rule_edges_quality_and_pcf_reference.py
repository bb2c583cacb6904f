"""Quality payments' shared-gain flag and the scalar reference transcriptions of Primary Care First
and capitation at their edges (the references are the oracles of the vectorised-vs-reference
tests, so a wrong reference would hide a wrong settlement). Hand arithmetic in comments."""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import build_contract, capitation, primary_care_first
from simsuite.contracts.base import PanelYear
from simsuite.contracts.quality_payments import QualityPaymentTerms, settle

B = 100_000_000.0


def quality_panel(q) -> PanelYear:
    q = np.atleast_1d(np.asarray(q, dtype=float))
    return PanelYear(n_beneficiaries=1_000, benchmark=np.full(q.shape, B), expenditure=np.full(q.shape, B),
                     quality_score=q, raw=None, capped={}, expected={})


def test_a_fixed_fee_alone_is_not_a_shared_gain():
    # $5 PMPM x 12,000 member months = $60,000 at any quality; the variable part is 0: no gain shared.
    t = QualityPaymentTerms(fixed_pmpm=5.0)
    out = settle(t, quality_panel([0.0, 1.0]))
    assert out.net.tolist() == [60_000.0, 60_000.0]
    assert out.gain_shared.tolist() == [False, False]


def test_a_bonus_of_fifty_cents_is_a_shared_gain():
    # Bonus 50 % of a $1 base, earned in full at the target: variable = $0.50 > 0.
    t = QualityPaymentTerms(base_dollars=1.0, bonus=0.5, quality_threshold=0.5, quality_target=0.8)
    out = settle(t, quality_panel([0.8, 0.5]))
    assert out.net.tolist() == [0.5, 0.0]
    assert out.gain_shared.tolist() == [True, False]


PCF = dict(visits_per_beneficiary=3.0, ffs_displaced_pbpm=30.0)


@pytest.mark.parametrize("quality, gate, savings, expected", [
    # total = 28 x 120,000 + 40 x 3 x 10,000 = $4,560,000; displaced = 30 x 120,000 = $3,600,000
    (0.0, 0.0, 0.05, 4_560_000 * 1.5 - 3_600_000),   # gate off, +50 %: $3,240,000
    (0.5, 0.5, 0.05, 4_560_000 * 1.5 - 3_600_000),   # at the gate: passes
    (0.4, 0.5, 0.05, 4_560_000 * 1.0 - 3_600_000),   # below: +50 % withheld, $960,000
    (0.4, 0.5, -0.05, 4_560_000 * 0.9 - 3_600_000),  # below, -10 % kept: $504,000
    (0.9, 0.0, 0.0, 4_560_000 * 1.2 - 3_600_000),    # savings 0: -10 % + (0.5 x 60 %) = +20 %: $1,872,000
    (0.9, 0.0, 0.025, 4_560_000 * 1.35 - 3_600_000),  # savings 2.5 %: -10 % + 0.75 x 60 % = +35 %: $2,556,000
])
def test_pcf_reference_by_hand(quality, gate, savings, expected):
    t = build_contract("pcf-general", {**PCF, "quality_gate": gate}, 2026).terms
    got = primary_care_first.reference_settlement(t, B, B * (1.0 - savings), quality, 10_000)
    assert got == pytest.approx(expected, rel=1e-12)


def test_capitation_reference_by_hand():
    # 3 patients: $50,000, $300,000, $1,000,000; specific attachment $250,000 with 10 % coinsurance:
    # claims = 50,000 + (250,000 + 5,000) + (250,000 + 75,000) = $630,000.
    # Aggregate attachment 0.5 % of B = $500,000 with 20 % coinsurance: 500,000 + 0.2 x 130,000 = $526,000.
    # Premiums: specific $10 PMPM x 12 x 3 = $360; aggregate 0.1 % x B = $100,000.
    # Revenue $2,000 PMPM x 36 = $72,000. Net = 72,000 - 526,000 - 360 - 100,000 = -$554,360.
    t = capitation.CapitationTerms(pmpm=2_000.0, specific_attachment=250_000.0, specific_coinsurance=0.1,
                                   specific_premium_pmpm=10.0, aggregate_attachment=0.005,
                                   aggregate_coinsurance=0.2, aggregate_premium=0.001)
    costs = np.array([50_000.0, 300_000.0, 1_000_000.0])
    assert capitation.reference_settlement(t, B, costs, 3) == pytest.approx(-554_360.0, rel=1e-12)
    # Premium priced by loading: the given dollars replace the PMPM premium: -554,360 + 360 - 1,234.
    t2 = t.model_copy(update={"specific_premium_loading": 0.2})
    assert capitation.reference_settlement(t2, B, costs, 3, 1_234.0) == pytest.approx(-555_234.0, rel=1e-12)
