"""The default cost model against published facts, its closed forms against samples drawn with
the kernel's own transform, its truncation thresholds, and the reproducibility of its calibration.

Published facts (shared/reference/cost-calibration.md):

* concentration, FFS age >= 65, 2007-2018 (Wallis et al., EClinicalMedicine 2021,
  doi:10.1016/j.eclinm.2021.100873): top 1/5/10/20/50% -> 14.9/41.5/60.0/79.1/95.7% of spending;
* 2018 national per-capita spending by enrollment type, person-year-weighted from the CMS 2018
  SSP county FFS PUF: ESRD $85,402, disabled $11,158, aged/dual $17,244, aged/non-dual $10,173.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

import simsuite
from simsuite.contracts.base import CapSpec
from simsuite.data.reference import ENROLLMENT_TYPES, cost_model_defaults, default_shape
from simsuite.errors import InputError
from simsuite.kernels import panel_totals, stream_key
from simsuite.model.costmodel import LognormalMixture, TypeCostModel, expected_capped_cost
from simsuite.model.population import build_panel
from simsuite.tools.calibrate import PUBLISHED_TOP_SHARES, fit, model_top_shares

# Table of shared/reference/cost-calibration.md ("Means by enrollment type", 2018 dollars).
PUBLISHED_MEANS_2018 = {"esrd": 85_402, "disabled": 11_158, "aged_dual": 17_244, "aged_non_dual": 10_173}
PUBLISHED_SHARES = {0.01: 0.149, 0.05: 0.415, 0.10: 0.600, 0.20: 0.791, 0.50: 0.957}


def _scenario(**cost_model):
    return simsuite.scenario_from_dict({
        "name": "cost model test",
        "performance_year": 2026,
        "population": {"beneficiaries": 4_000},
        "cost_model": cost_model,
        "contracts": [{"preset": "mssp-basic-a"}],
    })


@pytest.fixture(scope="module")
def panel():
    return build_panel(_scenario().spec)


# ---- the published facts ------------------------------------------------------------------


# The shipped fit misses the published shares by at most 0.67 points (the top 1%; the README
# states "within 0.7 points"); a fit noticeably worse than that fails.
CONCENTRATION_TOLERANCE = 0.008


def test_default_concentration_within_0_8_points_of_published():
    model = model_top_shares(default_shape(), q=list(PUBLISHED_SHARES))
    published = np.array(list(PUBLISHED_SHARES.values()))
    assert np.all(np.abs(model - published) <= CONCENTRATION_TOLERANCE), 100 * (model - published)


def test_the_concentration_check_can_fail():
    # The previous default (a single lognormal, sigma 1.25, elasticity 1) misses the top 1%
    # by 7.2 points: the check above is not vacuous.
    legacy = {"zero_share": 0.10, "tail_weight": 0.0, "body_sigma": 1.25, "tail_sigma": 1.0,
              "tail_mean_ratio": 1.0, "risk_elasticity": 1.0}
    model = model_top_shares(legacy, q=list(PUBLISHED_SHARES))
    assert np.max(np.abs(model - np.array(list(PUBLISHED_SHARES.values())))) > CONCENTRATION_TOLERANCE


def test_means_by_type_match_cms_2018(panel):
    spec = _scenario().spec
    trend = (1.0 + spec.cost_model.annual_trend) ** (spec.performance_year - spec.cost_model.mean_cost_year)
    for t, model in zip(panel.cohorts, panel.models):
        # The closed-form mean of the type (risk scores mixed in), un-trended to 2018: the
        # calibration matches the published whole-dollar means to within 2.5e-5 (rounding to a
        # dollar alone is up to 5e-5 of the aged/non-dual mean).
        assert model.national().mean() / trend == pytest.approx(PUBLISHED_MEANS_2018[t], rel=1e-4)
        # The panel's own beneficiaries (risk scores at n evenly spaced quantiles) have that mean
        # up to the quantile rule's error, which falls as 1/n: measured 0.04/n to 0.12/n here
        # (1.6e-3 for the 42 ESRD beneficiaries, 4e-5 for the 3,022 aged/non-dual).
        lo, hi = panel.cohort_start[panel.cohorts.index(t)], panel.cohort_start[panel.cohorts.index(t) + 1]
        mean = expected_capped_cost(panel.log_mean_expected[lo:hi], model.severity, model.zero_share, math.inf)
        assert mean.mean() / trend == pytest.approx(PUBLISHED_MEANS_2018[t], rel=0.15 / (hi - lo))


# ---- sampling with the kernel's transform ---------------------------------------------------


def kernel_sample(model: TypeCostModel, n_scores: int = 2_000, per_score: int = 500, seed: int = 7) -> np.ndarray:
    """``n_scores * per_score`` costs of beneficiaries of ``model``'s type, drawn by `panel_totals`.

    Risk scores sit at evenly spaced quantiles of the type's distribution (stratified
    sampling); each is one patient simulated ``per_score`` times, in distinct simulations.
    """
    scores = model.risk_scores(n_scores)
    theta = model.patient_log_mean(scores)
    key = np.uint64(stream_key(np.uint64(seed), np.uint64(1)))
    severity = model.severity.kernel_row()[None, :]
    out = np.empty((n_scores, per_score, 1))
    for j in range(n_scores):
        panel_totals(key, j * per_score, theta[j:j + 1], np.zeros(per_score), np.array([0, 1], dtype=np.int64),
                     np.array([model.zero_share]), severity, np.array([[np.inf]]), out[j])
    return out.ravel()


@pytest.fixture(scope="module")
def samples(panel):
    return {t: kernel_sample(m) for t, m in zip(panel.cohorts, panel.models) if t in ("esrd", "aged_non_dual")}


def _z(sample_values: np.ndarray, expected: float) -> float:
    return (sample_values.mean() - expected) / (sample_values.std() / math.sqrt(sample_values.size))


@pytest.mark.parametrize("t", ["esrd", "aged_non_dual"])
def test_truncation_threshold_is_the_model_99th_percentile(panel, samples, t):
    c = panel.cohorts.index(t)
    model = panel.models[c]
    cap = panel.caps_for(CapSpec(percentile=0.99))[c]
    assert cap == model.national_quantile(0.99)
    assert model.national_cdf(cap) == pytest.approx(0.99, abs=1e-12)
    x = samples[t]
    above = np.mean(x > cap)
    assert abs(above - 0.01) < 4 * math.sqrt(0.01 * 0.99 / x.size), above


def test_truncation_by_type_overrides_the_model():
    dollars = {"esrd": 500_000.0, "disabled": 90_000.0, "aged_dual": 120_000.0, "aged_non_dual": 80_000.0}
    p = build_panel(_scenario(truncation_by_type=dollars).spec)
    assert list(p.caps_for(CapSpec(percentile=0.99))) == [dollars[t] for t in ENROLLMENT_TYPES]
    # Other percentiles are still the model's.
    assert p.caps_at(0.995)[0] == p.models[0].national_quantile(0.995)


@pytest.mark.parametrize("t", ["esrd", "aged_non_dual"])
def test_closed_forms_against_kernel_samples(panel, samples, t):
    model = panel.models[panel.cohorts.index(t)]
    mix = model.national()
    x = samples[t]
    assert abs(_z(x, mix.mean())) < 4
    for p in (0.5, 0.9, 0.99):
        cap = mix.quantile(p)
        capped = np.minimum(x, cap)
        assert abs(_z(capped, mix.capped_moment(cap, 1))) < 4
        assert abs(_z(capped**2, mix.capped_moment(cap, 2))) < 4
        # The sample's own p-quantile lies where the model's CDF is p, within binomial error.
        q_hat = np.quantile(x, p)
        assert abs(mix.cdf(q_hat) - p) < 4 * math.sqrt(p * (1 - p) / x.size) + 1e-4


def test_top_share_against_a_sample(panel, samples):
    model = panel.models[panel.cohorts.index("aged_non_dual")]
    x = np.sort(samples["aged_non_dual"])[::-1]
    for q in (0.01, 0.05, 0.2):
        k = int(round(q * x.size))
        share = x[:k].sum() / x.sum()
        # Sampling error of a top share at 1e6 draws with this tail: well under half a point.
        assert model.national().top_share(q) == pytest.approx(share, abs=0.005)


def test_mixture_closed_forms_against_quadrature():
    mix = TypeCostModel(mean=12_000.0, zero_share=0.1, sigma=1.2, risk_cv=0.8, elasticity=0.5,
                        tail_weight=0.12, tail_sigma=0.4, tail_mean_ratio=9.0).national()

    def density(x):
        return float(np.sum(mix.weight * np.exp(-0.5 * ((np.log(x) - mix.mu) / mix.sd) ** 2)
                            / (x * mix.sd * math.sqrt(2 * math.pi))))

    cap = 80_000.0
    for k in (1, 2):
        body = integrate.quad(lambda x, k=k: x**k * density(x), 0, cap, limit=400, points=[1e3, 1e4])[0]
        assert mix.capped_moment(cap, k) == pytest.approx(body + cap**k * mix.sf(cap), rel=1e-7)
    above = integrate.quad(lambda x: x * density(x), cap, np.inf, limit=400)[0]
    assert mix.moment_above(cap) == pytest.approx(above, rel=1e-7)
    for p in (0.2, 0.5, 0.95, 0.999):
        assert mix.cdf(mix.quantile(p)) == pytest.approx(p, abs=1e-13)
    assert mix.quantile(0.05) == 0.0  # inside the zero mass


def test_single_lognormal_is_the_old_closed_form():
    # tail_weight 0 must reproduce the hurdle lognormal's closed-form percentile.
    m = TypeCostModel(mean=10_000.0, zero_share=0.1, sigma=1.25, risk_cv=0.8, elasticity=1.0)
    s = math.hypot(1.25, math.sqrt(math.log1p(0.64)))
    mu = math.log(10_000.0 / 0.9) - 0.5 * s * s
    from scipy.special import ndtri

    assert m.national_quantile(0.99) == pytest.approx(math.exp(mu + s * ndtri((0.99 - 0.1) / 0.9)), rel=1e-12)
    assert isinstance(m.national(), LognormalMixture)


def test_a_single_lognormal_and_mixture_fields_together_are_one_line_error():
    with pytest.raises(InputError, match="severity_sigma sets a single lognormal"):
        _scenario(severity_sigma=1.25, tail_weight=0.1)


# ---- calibration ----------------------------------------------------------------------------


def test_calibration_reproduces_the_shipped_defaults():
    """The shipped shape is an optimum of the fit: it reproduces the published shares with the
    fit's error, and a fresh fit reaches no better.

    The parameters themselves are not compared: the concentration curve does not identify
    them (two shapes, body/tail sigma 1.183/0.365 and 1.143/0.202 with elasticities 0.451 and
    0.624, give the same curve to 1e-15), so which of them least squares returns depends on
    the last bits of scipy's arithmetic and changed with scipy 1.17.
    """
    result = fit()
    shipped = cost_model_defaults()
    shape = {k: float(v) for k, v in shipped["shape"].items()}
    q = sorted(PUBLISHED_TOP_SHARES)
    errors = 100 * (model_top_shares(shape, result.risk_cv, q=q) - np.array([PUBLISHED_TOP_SHARES[v] for v in q]))
    assert float(np.max(np.abs(errors))) == pytest.approx(shipped["fit"]["max_abs_error_pp"], abs=1e-3)
    assert result.max_error_pp == pytest.approx(shipped["fit"]["max_abs_error_pp"], abs=1e-3)
    assert {float(k): v for k, v in shipped["targets"]["top_share"].items()} == PUBLISHED_TOP_SHARES == PUBLISHED_SHARES


def test_scenario_defaults_read_the_shipped_shape():
    cm = _scenario().spec.cost_model
    shape = default_shape()
    assert (cm.zero_cost_share, cm.tail_weight, cm.body_sigma, cm.tail_sigma, cm.tail_mean_ratio,
            cm.risk_elasticity) == (shape["zero_share"], shape["tail_weight"], shape["body_sigma"],
                                    shape["tail_sigma"], shape["tail_mean_ratio"], shape["risk_elasticity"])
    assert cm.severity_sigma is None


def test_calibrate_command_prints_table_and_writes_figure(tmp_path):
    # Through the installed console script, so the command's registration is tested too.
    from conftest import run_simsuite

    res = run_simsuite("calibrate", "--out", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "published" in res.stdout and "14.9%" in res.stdout
    assert (tmp_path / "concentration.png").stat().st_size > 10_000
