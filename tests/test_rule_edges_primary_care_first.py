"""Primary Care First's quality gate at its edge (mutation M6 of ``shared/reviews/test-audit.md``).

A score below ``quality_gate`` loses the positive part of the performance adjustment; a
score at the gate keeps it. With the gate off (0.0) even a score of 0 keeps it.

Panel: 10,000 beneficiaries, 120,000 member months, 3 visits each, $30 PBPM of FFS displaced,
the ``pcf-general`` preset ($28 PBPM, $40 a visit, adjustment -10 % .. +50 % for savings
-5 % .. +5 %). Hand arithmetic:
    total primary care payment = 28 x 120,000 + 40 x 3 x 10,000 = 3,360,000 + 1,200,000 = $4,560,000
    displaced FFS              = 30 x 120,000                    = $3,600,000
    savings 5 % => adjustment +50 %:  net = 4,560,000 x 1.5 - 3,600,000 = $3,240,000
    positive part withheld        :  net = 4,560,000 x 1.0 - 3,600,000 =   $960,000
    savings -5 % => adjustment -10 %: net = 4,560,000 x 0.9 - 3,600,000 =   $504,000 (gate or not)
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import build_contract
from simsuite.contracts.base import PanelYear

B = 100_000_000.0
N = 10_000


def pcf_net(quality: float, gate: float, savings_rate: float = 0.05) -> float:
    c = build_contract("pcf-general",
                       {"visits_per_beneficiary": 3.0, "ffs_displaced_pbpm": 30.0, "quality_gate": gate}, 2026)
    x = np.array([B * (1.0 - savings_rate)])
    panel = PanelYear(n_beneficiaries=N, benchmark=np.array([B]), expenditure=x,
                      quality_score=np.array([quality]), raw=x, capped={}, expected={})
    return float(c.settle(panel).net[0])


def test_gate_off_pays_the_full_adjustment_at_quality_zero():
    assert pcf_net(quality=0.0, gate=0.0) == pytest.approx(3_240_000.0, abs=1e-6)


def test_score_exactly_at_the_gate_passes_it():
    assert pcf_net(quality=0.5, gate=0.5) == pytest.approx(3_240_000.0, abs=1e-6)


def test_score_just_below_the_gate_loses_the_positive_adjustment():
    assert pcf_net(quality=0.4999, gate=0.5) == pytest.approx(960_000.0, abs=1e-6)


def test_the_gate_never_removes_a_negative_adjustment():
    assert pcf_net(quality=0.0, gate=0.5, savings_rate=-0.05) == pytest.approx(504_000.0, abs=1e-6)
    assert pcf_net(quality=0.9, gate=0.5, savings_rate=-0.05) == pytest.approx(504_000.0, abs=1e-6)


def pcf_settlement(quality: float, gate: float, savings_rate: float):
    c = build_contract("pcf-general",
                       {"visits_per_beneficiary": 3.0, "ffs_displaced_pbpm": 30.0, "quality_gate": gate}, 2026)
    x = np.array([B * (1.0 - savings_rate)])
    panel = PanelYear(n_beneficiaries=N, benchmark=np.array([B]), expenditure=x,
                      quality_score=np.array([quality]), raw=x, capped={}, expected={})
    return c.settle(panel)


def test_a_savings_rate_between_the_ends_is_interpolated():
    # Savings 1 %: the adjustment runs -10 % .. +50 % over -5 % .. +5 %, i.e. 6 points per point:
    # -0.10 + 6 x (0.01 + 0.05) = +0.26; net = 4,560,000 x 1.26 - 3,600,000 = 5,745,600 - 3,600,000 = $2,145,600.
    assert float(pcf_settlement(0.9, 0.5, 0.01).net[0]) == pytest.approx(2_145_600.0, abs=1e-6)
    # Savings -2 %: -0.10 + 6 x 0.03 = +0.08; net = 4,560,000 x 1.08 - 3,600,000 = $1,324,800.
    assert float(pcf_settlement(0.9, 0.5, -0.02).net[0]) == pytest.approx(1_324_800.0, abs=1e-6)


def test_a_gain_is_shared_only_when_the_adjustment_is_positive():
    # +50 % at 5 % savings: a shared gain. +8 % at -2 % savings: also one (the panel cost more than
    # its benchmark, yet the adjustment is positive). -10 % at -5 %: none.
    assert pcf_settlement(0.9, 0.5, 0.05).gain_shared.tolist() == [True]
    assert pcf_settlement(0.9, 0.5, -0.02).gain_shared.tolist() == [True]
    assert pcf_settlement(0.9, 0.5, -0.05).gain_shared.tolist() == [False]
    # Below the gate the +50 % is cut to min(0.5, 0) = 0 exactly: net $960,000 but no shared gain.
    s = pcf_settlement(0.4, 0.5, 0.05)
    assert float(s.net[0]) == pytest.approx(960_000.0, abs=1e-6)
    assert s.gain_shared.tolist() == [False]
