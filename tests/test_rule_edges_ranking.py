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


# --- rank(): every sentence, word for word, on a hand-built results Dataset -------------------

def _results(rows: dict[str, tuple[float, float, float, float, list[float]]]):
    """A results Dataset by hand: per contract (mean, its SE, VaR95, its SE, net per simulation)."""
    import xarray as xr

    from simsuite.results.risk import MEASURES

    names = list(rows)
    summary = np.zeros((len(names), len(MEASURES)))
    se = np.zeros_like(summary)
    for i, (mean, mean_se, var, var_se, _) in enumerate(rows.values()):
        summary[i, MEASURES.index("mean")], se[i, MEASURES.index("mean")] = mean, mean_se
        summary[i, MEASURES.index("VaR95")], se[i, MEASURES.index("VaR95")] = var, var_se
    return xr.Dataset(
        {"net": (("contract", "sim"), np.array([r[4] for r in rows.values()], dtype=float)),
         "summary": (("contract", "measure"), summary), "summary_se": (("contract", "measure"), se)},
        coords={"contract": names, "measure": list(MEASURES)},
    )


# A: expected $2,000 (SE $1,000), VaR95 $998,500 (SE $1,000): within the $1M limit, but by $1,500 <= 2 SE.
# B: expected $1,000 (SE $500), VaR95 $999,000 (SE $1,000): within, by $1,000 <= 2 SE.
# C: expected $9,000 (the best), VaR95 $1.2M: excluded.
# Paired difference A - B per simulation: [3500, 1500, 1500, 1500] - 1000 = [2500, 500, 500, 500]:
# mean 1,000; deviations 1500, -500, -500, -500, squares 3.0M, sample variance 3.0M / 3 = 1.0M,
# sd 1,000, SE 1,000 / sqrt(4) = 500; the lead of $1,000 is exactly 2 SE, so still "not distinguishable".
THREE = {
    "A": (2_000.0, 1_000.0, 998_500.0, 1_000.0, [3_500.0, 1_500.0, 1_500.0, 1_500.0]),
    "B": (1_000.0, 500.0, 999_000.0, 1_000.0, [1_000.0] * 4),
    "C": (9_000.0, 100.0, 1_200_000.0, 1_000.0, [9_000.0] * 4),
}
LEAD_A_OVER_B = [
    "A is recommended: highest expected result $2.0k ± 1.0k among contracts whose 1-in-20 loss is within "
    "your $1.00M limit. Caution: its 1-in-20 loss $998.5k ± 1.0k is within 2 standard errors of your $1.00M "
    "limit; run more simulations (--sims) to settle it. Its lead over B ($1.0k ± 500) is within Monte Carlo "
    "error: the two are not distinguishable at this number of simulations.",
    "B qualifies but ranks lower: expected result $1.0k ± 500 against $2.0k for A. Its 1-in-20 loss $999.0k "
    "± 1.0k is within Monte Carlo error of your limit.",
    "C is excluded: its 1-in-20 loss $1.20M ± 1.0k exceeds your $1.00M limit.",
]


def test_rank_sentences_word_for_word():
    from simsuite.analysis.ranking import rank
    from simsuite.scenario.schema import RiskAppetite

    appetite = RiskAppetite(max_var95=1_000_000.0)
    r = rank(_results(THREE), appetite)
    assert r.recommended == "A"
    assert list(r.reasons) == LEAD_A_OVER_B
    assert r.text() == "\n".join(LEAD_A_OVER_B)
    assert r.appetite is appetite and r.objective == "expected result"
    assert r.limits == (VAR,)


def test_rank_uses_the_limits_it_is_given_not_the_appetites():
    from simsuite.analysis.ranking import assess, rank
    from simsuite.scenario.schema import RiskAppetite

    # An appetite with no limits, and the $1M VaR limit passed explicitly (as `decision` does):
    # C is still excluded, the same sentences as above.
    ds = _results(THREE)
    r = rank(ds, RiskAppetite(), limits=[VAR])
    assert r.recommended == "A" and list(r.reasons) == LEAD_A_OVER_B and r.limits == (VAR,)
    # assess with explicit limits checks those, not the appetite's (here: none, then a $1.1M limit).
    checks = [a.checks for a in assess(ds, RiskAppetite(max_var95=1_100_000.0), [VAR])]
    assert [[c.verdict for c in cs] for cs in checks] == [["within"], ["within"], ["exceeds"]]
    assert [c.limit for cs in checks for c in cs] == [VAR, VAR, VAR]
    # Without limits, assess checks the appetite's ($1.3M): all three VaR95s are within it.
    checks = [a.checks for a in assess(ds, RiskAppetite(max_var95=1_300_000.0))]
    assert [[(c.limit.value, c.verdict) for c in cs] for cs in checks] == [[(1_300_000.0, "within")]] * 3


def test_a_lead_of_more_than_two_standard_errors_is_not_flagged():
    from simsuite.analysis.ranking import rank
    from simsuite.scenario.schema import RiskAppetite

    # A's simulations [3500.5, 1500.5, ...]: the lead is $1,000.50 against 2 SE = $1,000 (same spread).
    rows = dict(THREE)
    rows["A"] = (2_000.5, 1_000.0, 998_500.0, 1_000.0, [3_500.5, 1_500.5, 1_500.5, 1_500.5])
    r = rank(_results(rows), RiskAppetite(max_var95=1_000_000.0))
    assert "Its lead over" not in r.reasons[0]
    assert r.reasons[0].endswith("run more simulations (--sims) to settle it.")


def test_rank_by_certainty_equivalent_word_for_word():
    from simsuite.analysis.ranking import rank
    from simsuite.scenario.schema import RiskAppetite

    # a = 0.001 per dollar. A's results 0 and -1000 ln 3: exp(-a net) = 1 and 3, mean 2, CE = -1000 ln 2
    # = -$693; its SE (as in the first test, scaled by 1/a) = $500. B's are A's less $500: CE -$1,193, SE $500.
    # Lead -693 - (-1,193) = $500; its SE sqrt(500^2 + 500^2) = $707 (in quadrature); 500 <= 2 x 707.
    ln3 = math.log(3.0)
    rows = {
        "A": (0.0, 0.0, 0.0, 0.0, [0.0, -1_000.0 * ln3]),
        "B": (0.0, 0.0, 0.0, 0.0, [-500.0, -500.0 - 1_000.0 * ln3]),
    }
    r = rank(_results(rows), RiskAppetite(risk_aversion=0.001))
    assert r.recommended == "A" and r.objective == "certainty equivalent"
    assert list(r.reasons) == [
        "A is recommended: highest certainty equivalent -$693 ± 500 among all contracts (no risk limits given) "
        "(risk aversion 0.001 per dollar, i.e. risk tolerance $1.0k). Its lead over B ($500 ± 707) is within "
        "Monte Carlo error: the two are not distinguishable at this number of simulations.",
        "B qualifies but ranks lower: certainty equivalent -$1.2k ± 500 against -$693 for A.",
    ]
