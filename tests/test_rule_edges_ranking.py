"""Ranking's building blocks (`simsuite.analysis.ranking`) at their edges, by hand: the
certainty equivalent's standard error, a figure exactly at a limit, "too close to call" exactly
at 2 standard errors, the wording of floors, and which contract is the nearest miss."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsuite.analysis.ranking import (
    Assessment,
    Check,
    _check,
    _failure_phrase,
    _limits_phrase,
    _none_qualifies,
    certainty_equivalent,
)
from simsuite.scenario.schema import Limit

VAR = Limit("VaR95", 1_000_000.0, True)       # 1-in-20 loss at most $1.00M
P_LOSS = Limit("p_loss", 0.1, True)           # probability of a loss at most 10 %
FLOOR = Limit("mean", -1_000_000.0, False)    # expected result at least -$1.00M


def test_certainty_equivalent_and_its_error_by_hand():
    # a = 1 per dollar, results 0 and -ln 3: exp(-a net) = 1 and 3; shifted by the largest (ln 3): 1/3 and 1.
    # m = 2/3; CE = -(ln 3 + ln(2/3)) = -ln 2. sd (ddof 1) of {1/3, 1} = sqrt(2)/3;
    # SE = (sqrt(2)/3) / (sqrt(2) x 1 x 2/3) = 1/2.
    ce, se = certainty_equivalent(np.array([0.0, -math.log(3.0)]), 1.0)
    assert ce == pytest.approx(-math.log(2.0), rel=1e-12)
    assert se == pytest.approx(0.5, rel=1e-12)
    # One simulation: no error estimate, 0.
    assert certainty_equivalent(np.array([5.0]), 1.0) == (pytest.approx(5.0, rel=1e-12), 0.0)


def test_a_figure_exactly_at_its_limit_is_within_it():
    assert _check(VAR, 1_000_000.0, 0.0).verdict == "within"
    assert _check(FLOOR, -1_000_000.0, 0.0).verdict == "within"
    assert _check(VAR, 1_000_000.5, 0.0).verdict == "exceeds"
    assert _check(FLOOR, -1_000_000.5, 0.0).verdict == "exceeds"


def test_too_close_to_call_up_to_exactly_two_standard_errors():
    # SE $0.50: 2 SE = $1.00 from the limit is still close; $1.50 is not; with no error nothing is close.
    assert _check(VAR, 1_000_001.0, 0.5).close
    assert not _check(VAR, 1_000_001.5, 0.5).close
    assert not _check(VAR, 1_000_000.0, 0.0).close


def test_floors_are_worded_as_floors():
    assert _limits_phrase([VAR, FLOOR]) == ("whose 1-in-20 loss is within your $1.00M limit and "
                                            "whose expected result reaches your -$1.00M floor")
    c = Check(FLOOR, -1_500_000.0, 100_000.0, "exceeds", False)
    assert _failure_phrase(c) == "its expected result -$1.50M ± 100.0k falls short of your -$1.00M floor"
    c = Check(VAR, 1_100_000.0, 100_000.0, "exceeds", True)
    assert _failure_phrase(c) == ("its 1-in-20 loss $1.10M ± 100.0k exceeds your $1.00M limit (but only just: "
                                  "within Monte Carlo error; more simulations could change this)")


def _miss(name: str, *checks: tuple[Limit, float, str]) -> Assessment:
    return Assessment(name, tuple(Check(lim, v, 0.0, verdict, False) for lim, v, verdict in checks), 0.0, 0.0)


def test_nearest_miss_counts_each_failure_relative_to_its_limit():
    # A misses the $1M VaR limit by $0.5M (0.5 of the limit); B misses the 10 % P(loss) limit by 15 points
    # (1.5 of the limit): A is nearer, although B's miss is smaller in raw numbers.
    a = _miss("A", (VAR, 1_500_000.0, "exceeds"), (P_LOSS, 0.05, "within"))
    b = _miss("B", (VAR, 200_000.0, "within"), (P_LOSS, 0.25, "exceeds"))
    text = _none_qualifies([b, a], [VAR, P_LOSS])
    assert text == ("No contract meets all your limits (1-in-20 loss at most $1.00M; probability of a loss at most "
                    "10.0%); the nearest is A. Consider a larger panel, a contract with lower loss caps, or a wider "
                    "risk appetite.")


def test_nearest_miss_adds_the_failures_and_ignores_what_is_within():
    # C misses two limits by 0.2 each (total 0.4); D misses one by 0.5 and is far inside the other: C is nearer.
    c = _miss("C", (VAR, 1_200_000.0, "exceeds"), (P_LOSS, 0.12, "exceeds"))
    d = _miss("D", (VAR, 1_500_000.0, "exceeds"), (P_LOSS, 0.0, "within"))
    assert "the nearest is C." in _none_qualifies([d, c], [VAR, P_LOSS])
    # A floor: E misses -$1M by $0.5M (0.5) and is far inside the loss limit; F misses the VaR limit by 0.6.
    e = _miss("E", (FLOOR, -1_500_000.0, "exceeds"), (VAR, 0.0, "within"))
    f = _miss("F", (FLOOR, 0.0, "within"), (VAR, 1_600_000.0, "exceeds"))
    text = _none_qualifies([f, e], [FLOOR, VAR])
    assert "(expected result at least -$1.00M; 1-in-20 loss at most $1.00M)" in text
    assert "the nearest is E." in text
