"""The uncertain quality score: Beta parameters and the drawn scores' mean and sd (mutation M15 of
``shared/reviews/test-audit.md``: swapping the parameters turns a mean of 0.85 into 0.15)."""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.model.factors import beta_parameters, quality_scores


def test_beta_parameters_by_hand():
    # mean 0.85, sd 0.05: k = 0.85 x 0.15 / 0.05^2 - 1 = 0.1275 / 0.0025 - 1 = 50;
    # a = 0.85 x 50 = 42.5, b = 0.15 x 50 = 7.5 (mean a / (a + b) = 0.85).
    a, b = beta_parameters(0.85, 0.05)
    assert a == pytest.approx(42.5, rel=1e-12) and b == pytest.approx(7.5, rel=1e-12)


def test_drawn_scores_have_the_requested_mean_and_sd():
    n = 10_000
    q = quality_scores(0.85, 0.05, n, seed=11)
    assert q.shape == (n,) and np.all((q > 0.0) & (q < 1.0))
    # Standard error of the mean: 0.05 / sqrt(10,000) = 5e-4; 4 SE = 2e-3 (a swap would give 0.15).
    assert abs(q.mean() - 0.85) < 4 * 0.05 / np.sqrt(n)
    # The sample sd's SE is about sd / sqrt(2 n) = 3.5e-4 (Beta(42.5, 7.5) is near normal); 4 SE = 1.4e-3.
    assert abs(q.std() - 0.05) < 4 * 0.05 / np.sqrt(2 * n)


def test_zero_sd_is_the_mean_for_every_simulation():
    assert np.array_equal(quality_scores(0.85, 0.0, 5, seed=11), np.full(5, 0.85))
