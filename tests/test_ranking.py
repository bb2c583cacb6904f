"""Ranking contracts against a risk appetite, and the plain-words reasons."""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest
import xarray as xr

from simsuite.analysis.ranking import certainty_equivalent, merge_appetite, rank
from simsuite.cli.options import parse_fraction, parse_money
from simsuite.results.risk import MEASURES, summarize
from simsuite.scenario.schema import RiskAppetite


def results(nets: dict[str, np.ndarray]) -> xr.Dataset:
    """A minimal results Dataset (net, summary, summary_se) from given per-sim results."""
    names = list(nets)
    summary = np.empty((len(names), len(MEASURES)))
    se = np.empty_like(summary)
    for i, n in enumerate(names):
        v, e = summarize(nets[n], nets[n] > 0)
        summary[i] = [v[m] for m in MEASURES]
        se[i] = [e[m] for m in MEASURES]
    return xr.Dataset(
        {"net": (("contract", "sim"), np.vstack(list(nets.values()))),
         "summary": (("contract", "measure"), summary), "summary_se": (("contract", "measure"), se)},
        coords={"contract": names, "measure": list(MEASURES)},
    )


@pytest.fixture(scope="module")
def three():
    z = np.random.default_rng(7).standard_normal(40_000)
    # SAFE never loses; MID loses rarely; BOLD earns most but has a 1-in-20 loss of ~$1.3M.
    return results({
        "SAFE": 100_000 + 0 * z,
        "MID": 300_000 + 300_000 * z,
        "BOLD": 600_000 + 1_150_000 * z,
    })


def test_limit_excludes_the_riskiest_and_recommends_the_best_of_the_rest(three):
    r = rank(three, RiskAppetite(max_var95=1_000_000))
    assert r.recommended == "MID" and r.qualifying == ["SAFE", "MID"]
    first = r.reasons[0]
    assert first.startswith("MID is recommended: highest expected result $29") and "within your $1.00M limit" in first
    bold = next(s for s in r.reasons if s.startswith("BOLD"))
    assert bold.startswith("BOLD is excluded: its 1-in-20 loss $1.30M") and "exceeds your $1.00M limit" in bold
    assert "only just" not in bold


def test_a_figure_within_two_standard_errors_of_the_limit_is_called_out(three):
    var = float(three["summary"].sel(contract="MID", measure="VaR95"))
    se = float(three["summary_se"].sel(contract="MID", measure="VaR95"))
    assert se > 0
    r = rank(three, RiskAppetite(max_var95=var + se))  # passes on the estimate, within 2 SE
    assert r.recommended == "MID" and "Caution" in r.reasons[0] and "within 2 standard errors" in r.reasons[0]
    r = rank(three, RiskAppetite(max_var95=var - se))  # fails on the estimate, within 2 SE
    assert r.recommended == "SAFE"
    assert "only just" in next(s for s in r.reasons if s.startswith("MID"))
    r = rank(three, RiskAppetite(max_var95=var + 3 * se))  # clear pass: no caution
    assert "Caution" not in r.reasons[0]


def test_probability_limit_and_no_contract_qualifying(three):
    r = rank(three, RiskAppetite(max_p_loss=0.01, min_expected_result=200_000))
    assert r.recommended is None
    assert r.reasons[0].startswith("No contract meets all your limits")
    assert "probability of a loss at most 1.0%" in r.reasons[0]


def test_indistinguishable_leader_is_flagged():
    z = np.random.default_rng(3).standard_normal(5_000)
    ds = results({"A": 1000 + 100_000 * z, "B": 990 + 100_000 * z + 20_000 * np.random.default_rng(4).standard_normal(5_000)})
    r = rank(ds, RiskAppetite())
    assert "within Monte Carlo error" in r.reasons[0] and "not distinguishable" in r.reasons[0]


def test_certainty_equivalent_of_a_normal_and_of_a_coin_flip():
    # For a normal result, CE = mu - a sigma^2 / 2 exactly.
    z = np.random.default_rng(1).standard_normal(400_000)
    a, mu, sigma = 1e-6, 500_000.0, 800_000.0
    ce, se = certainty_equivalent(mu + sigma * z, a)
    assert abs(ce - (mu - a * sigma**2 / 2)) < 4 * se
    # +-$1M with equal chances at a = 1e-6: CE = -log(cosh(1)) x $1M (no sampling error).
    ce, se = certainty_equivalent(np.array([1e6, -1e6]), a)
    assert ce == pytest.approx(-math.log(math.cosh(1.0)) * 1e6) and se >= 0
    # large losses do not overflow
    ce, _ = certainty_equivalent(np.array([-1e9, 0.0]), 1e-5)
    assert math.isfinite(ce) and ce < -1e8


def test_risk_aversion_can_reverse_the_ranking(three):
    assert rank(three, RiskAppetite()).recommended == "BOLD"
    r = rank(three, RiskAppetite(risk_aversion=2e-6))
    assert r.objective == "certainty equivalent" and r.recommended == "MID"
    assert "certainty equivalent" in r.reasons[0] and "risk tolerance $500.0k" in r.reasons[0]


def test_appetite_model_and_parsers():
    assert RiskAppetite().is_empty()
    with pytest.raises(pydantic.ValidationError):
        RiskAppetite(max_p_loss=1.5)
    with pytest.raises(pydantic.ValidationError):
        RiskAppetite(max_var_95=1.0)
    merged = merge_appetite(RiskAppetite(max_var95=2e6, max_p_loss=0.1), max_var95=1e6, risk_aversion=None)
    assert merged.max_var95 == 1e6 and merged.max_p_loss == 0.1
    assert parse_money("1.5M") == 1.5e6 and parse_money("$250k") == 250e3 and parse_money("1,000,000") == 1e6
    assert parse_fraction("10%") == pytest.approx(0.1) and parse_fraction("0.05") == 0.05
    for bad in ("-1M", "lots", "1.5B"):
        with pytest.raises(ValueError):
            parse_money(bad)
    with pytest.raises(ValueError):
        parse_fraction("150%")
