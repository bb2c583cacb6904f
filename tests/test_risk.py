"""Risk measures against values known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simsuite.results.risk import summarize, tail_value_at_risk, value_at_risk


def test_var_is_the_lower_quantile_and_tvar_counts_the_mass_at_var():
    # Loss 0 with probability 0.9, 10 with 0.08, 100 with 0.02 (100 equally likely draws).
    loss = np.array([0.0] * 90 + [10.0] * 8 + [100.0] * 2)
    assert value_at_risk(loss, 0.95) == 10.0
    # Acerbi-Tasche: (2 x 100 + 10 x (98 - 95)) / (100 x 0.05) = 230 / 5
    assert tail_value_at_risk(loss, 0.95) == pytest.approx(46.0)
    assert value_at_risk(loss, 0.98) == 10.0
    assert tail_value_at_risk(loss, 0.98) == pytest.approx(100.0)
    assert value_at_risk(loss, 0.90) == 0.0
    # TVaR_0.9 = mean of the worst 10% = (8 x 10 + 2 x 100) / 10
    assert tail_value_at_risk(loss, 0.90) == pytest.approx(28.0)


def test_normal_sample_measures_and_errors():
    rng = np.random.default_rng(0)
    mu, sigma, n = 10.0, 20.0, 400_000
    net = rng.normal(mu, sigma, n)
    v, e = summarize(net, net > 0)
    z95 = stats.norm.ppf(0.95)
    exact = {
        "mean": mu,
        "sd": sigma,
        "p_loss": stats.norm.cdf(-mu / sigma),
        "VaR95": -mu + sigma * z95,
        "TVaR95": -mu + sigma * stats.norm.pdf(z95) / 0.05,
        "VaR99": -mu + sigma * stats.norm.ppf(0.99),
    }
    for k, x in exact.items():
        assert abs(v[k] - x) < 4 * e[k] + 1e-12, k
    # the standard errors have the right size (sd / sqrt(n) for the mean)
    assert e["mean"] == pytest.approx(sigma / math.sqrt(n), rel=0.01)
    # VaR95 se of a normal: sqrt(p(1-p)/n) / pdf(z). The estimate reads the density from the
    # spacing of about 2 n h order statistics (Hall-Sheather h = 0.0029 here), so it is itself
    # noisy by about 1 / sqrt(2 n h) = 2.1% (measured: 1.6% over 20 seeds): 4 of those.
    h = n ** (-1 / 3) * 1.96 ** (2 / 3) * (1.5 * stats.norm.pdf(z95) ** 2 / (2 * z95**2 + 1)) ** (1 / 3)
    assert e["VaR95"] == pytest.approx(sigma * math.sqrt(0.95 * 0.05 / n) / stats.norm.pdf(z95),
                                       rel=4 / math.sqrt(2 * n * h))


def test_constant_result_has_zero_risk_and_no_negative_zero():
    v, e = summarize(np.zeros(1000), np.zeros(1000, bool))
    assert all(x == 0.0 and math.copysign(1, x) == 1 for x in v.values())
    assert all(x == 0.0 for x in e.values())


def test_var_error_at_a_jump_matches_the_spread_of_repeated_estimates():
    # P(loss) exactly 5%: VaR95 lands on "no loss" or on a loss of at least 400k,
    # depending on the sample. The reported error must reflect that spread.
    rng = np.random.default_rng(11)
    estimates, errors = [], []
    for _ in range(300):
        loss = np.where(rng.random(2000) < 0.05, rng.uniform(400_000, 1_200_000, 2000), 0.0)
        v, e = summarize(-loss, loss < 0)
        estimates.append(v["VaR95"])
        errors.append(e["VaR95"])
    spread = float(np.std(estimates))
    assert spread > 100_000  # the estimator really is bimodal here
    assert 0.6 < float(np.mean(errors)) / spread < 1.6
