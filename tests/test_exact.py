"""The exact (FFT) method against closed forms, Monte Carlo, the normal approximation and `aggregate`.

Tolerances are derived, not picked: Monte Carlo comparisons allow ``K_SE`` = 3.5 Monte
Carlo standard errors (computed from the sample) plus the exact method's own error estimate
(``summary_error``); discretisation checks use the bucket size; the normal closed form at
N = 60,000 is compared after its first Edgeworth (skewness) correction.

Means are compared with a control-variate estimate (`controlled_mean`): the panel total the
contract settles on has a closed-form mean and sd, so the part of the settlement that moves
with the total (linearly or quadratically) is removed from the Monte Carlo noise. With it,
and enough simulations, every compared mean's tolerance is under 5% of the mean
(`test_tolerances_are_small_against_the_means`), and a 1% error in the exact method's
expected result fails the comparison (`test_a_wrong_settlement_would_be_caught`). These
comparisons test the distribution of the total and its integration, not the settlement
rules: both methods call the same ``settle``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from oracles.normal_settlement import mssp_net_of_savings, normal_expected_settlement, normal_piecewise_expectation
from scipy import integrate, special

import simsuite
from simsuite.contracts.base import PanelYear
from simsuite.engines.exact import diagnostics_of, run_exact
from simsuite.engines.exact.bands import Bands, capped_cumulants, capped_moment
from simsuite.engines.exact.lattice import discretise_capped, total_distribution
from simsuite.errors import InputError
from simsuite.model.population import build_panel
from simsuite.model.variance import systemic_sd
from simsuite.results.risk import tail_value_at_risk, value_at_risk, weighted_tail_value_at_risk, weighted_value_at_risk

SIGMA, P0 = 1.25, 0.10
MSSP = [
    {"preset": "ffs"},
    {"preset": "mssp-basic-a", "name": "BASIC A"},
    {"preset": "mssp-basic-e", "name": "BASIC E", "overrides": {"msr": "variable"}},
    {"preset": "mssp-enhanced", "name": "ENHANCED"},
]


def scenario(n: int, contracts=MSSP, **assumptions) -> simsuite.Scenario:
    # low_revenue explicit: these tests were written for a high-revenue ACO (derived from a
    # revenue of 25% of the benchmark it would be low revenue, 42 CFR 425.20).
    base = {"true_savings": 0.01, "quality_score": 0.85, "participant_revenue_to_benchmark": 0.25,
            "low_revenue": False}
    return simsuite.scenario_from_dict({
        "name": f"exact-{n}",
        "population": {"beneficiaries": n},
        "assumptions": {**base, **assumptions},
        "contracts": contracts,
    })


# ---- building blocks ------------------------------------------------------------------------


def test_weighted_risk_measures_equal_the_sample_ones_for_equal_weights():
    rng = np.random.default_rng(3)
    loss = np.concatenate([rng.normal(size=997), np.full(40, 0.5)])  # with an atom
    w = np.ones_like(loss)
    for p in (0.5, 0.95, 0.99):
        assert weighted_value_at_risk(loss, w, p) == value_at_risk(loss, p)
        assert weighted_tail_value_at_risk(loss, w, p) == pytest.approx(tail_value_at_risk(loss, p), rel=1e-12)


def test_weighted_tvar_counts_the_part_of_the_atom_in_the_tail():
    # Loss 0 w.p. 0.9, 10 w.p. 0.08, 100 w.p. 0.02: TVaR95 = (0.02 x 100 + 10 x 0.03) / 0.05.
    loss, w = np.array([100.0, 0.0, 10.0]), np.array([0.02, 0.9, 0.08])
    assert weighted_value_at_risk(loss, w, 0.95) == 10.0
    assert weighted_tail_value_at_risk(loss, w, 0.95) == pytest.approx(46.0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_capped_moments_against_quadrature(k):
    mu, cap = math.log(9000.0), 120_000.0
    density = lambda x: math.exp(-0.5 * ((math.log(x) - mu) / SIGMA) ** 2) / (x * SIGMA * math.sqrt(2 * math.pi))
    below = integrate.quad(lambda x: x**k * density(x), 0, cap, limit=400, points=[math.exp(mu)])[0]
    tail = special.ndtr((mu - math.log(cap)) / SIGMA)
    expected = (1 - P0) * (below + cap**k * tail)
    assert float(capped_moment(mu, SIGMA, P0, cap, k)) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("h", [37.0, 500.0, 4000.0])
def test_discretisation_keeps_mass_and_mean_and_adds_at_most_h2_over_4_variance(h):
    mu, cap = math.log(6000.0), 95_500.0
    pmf = discretise_capped(mu, SIGMA, P0, cap, h)
    x = h * np.arange(pmf.size)
    m1, m2 = (float(capped_moment(mu, SIGMA, P0, cap, k)) for k in (1, 2))
    assert pmf.min() >= 0 and pmf.sum() == pytest.approx(1.0, abs=1e-13)
    assert pmf[0] >= P0
    assert np.dot(x, pmf) == pytest.approx(m1, rel=1e-11)
    extra = np.dot(x * x, pmf) - m2
    assert -1e-9 * m2 <= extra <= h * h / 4


def test_total_distribution_moments_match_closed_form_and_the_window_holds_the_mass():
    bands = Bands(np.array([700, 250, 50]), np.log([3000.0, 9000.0, 40_000.0]), np.full(3, SIGMA),
                  np.full(3, P0), np.array([90_000.0, 90_000.0, 400_000.0]))
    dist = total_distribution(bands, log2_buckets=16)
    mean, var = bands.moments()
    assert dist.aliasing_bound < 1e-13
    assert dist.mean == pytest.approx(mean, rel=1e-10)
    # Rounding adds at most h^2/4 of variance per beneficiary.
    assert 0.0 <= dist.var - var <= bands.count.sum() * dist.h**2 / 4 + 1e-9 * var


# ---- the exact method against Monte Carlo ----------------------------------------------------------


# 400,000 simulations (about 15 s of one core): enough that BASIC E's mean, the noisiest here,
# is known to 0.16% (one control-variate SE), so a 1% error in the exact mean is caught.
SMALL_PANEL_SIMS = 400_000


@pytest.fixture(scope="module")
def small_exact():
    sc = scenario(3000)
    return sc, run_exact(sc, bands_per_cohort=32, log2_buckets=18)


@pytest.fixture(scope="module")
def small_panel(small_exact):
    sc, exact = small_exact
    mc = simsuite.run(sc, simsuite.RunOptions(simulations=SMALL_PANEL_SIMS, seed=11))
    return sc, exact, mc


def checks_of(ds, label: str):
    """The exact method's self-checks of the distribution called ``label``."""
    found = [d for d in diagnostics_of(ds.attrs) if d.label == label]
    assert len(found) == 1, [d.label for d in diagnostics_of(ds.attrs)]
    return found[0]


P99 = "panel total capped at the 99th percentile"


def test_exact_moments_agree_with_closed_form():
    # The claims total alone (no systemic factor): its lattice against the closed forms.
    sc = scenario(3000, systemic_sd=0.0)
    exact = run_exact(sc, bands_per_cohort=32, log2_buckets=18)
    a = checks_of(exact, P99)
    assert a.systemic_sd is None
    assert abs(a.mean_rel_error) < 1e-10
    # The variance error is banding plus discretisation, each reported separately.
    assert abs(a.var_rel_error - a.banding_var_rel_error - a.discretisation_var_rel_error) < 1e-6
    # Rounding to the lattice adds at most h^2/4 of variance per beneficiary (measured 7.2e-6 of
    # the variance against this bound's 1.2e-5); banding 32 risk bands per type moves it by
    # -6.8e-5 (measured): both at their real size, not at 1e-3.
    assert 0.0 <= a.discretisation_var_rel_error <= 3000 * a.bucket_usd**2 / 4 / a.model_sd**2
    assert abs(a.banding_var_rel_error) < 1e-4
    assert abs(a.var_rel_error) < 1e-4
    assert a.aliasing_bound < 1e-12
    # The model moments are the panel's own (every beneficiary), independently summed.
    panel = build_panel(sc.spec)
    caps = panel.caps_at(0.99)
    assert a.model_mean == pytest.approx(panel.expected_total(caps, 0.99), rel=1e-12)


def test_systemic_factor_moments_agree_with_closed_form(small_exact):
    """With the one-year systemic factor (the default): the mixture's moments are the product's,
    ``E[f T] = E[T]`` and ``Var[f T] = exp(s^2) (Var T + E[T]^2) - E[T]^2``."""
    sc, exact = small_exact
    a = checks_of(exact, P99)
    s = systemic_sd(sc.spec, 3000)
    assert a.systemic_sd == pytest.approx(s) and s > 0.02
    plain = checks_of(run_exact(scenario(3000, systemic_sd=0.0), bands_per_cohort=32, log2_buckets=18), P99)
    assert a.model_mean == pytest.approx(plain.model_mean, rel=1e-12)
    assert a.model_sd**2 == pytest.approx(math.exp(s * s) * (plain.model_sd**2 + plain.model_mean**2)
                                          - plain.model_mean**2, rel=1e-10)
    assert abs(a.mean_rel_error) < 1e-9
    assert abs(a.var_rel_error) < 1e-3


MSSP_NAMES = ["BASIC A", "BASIC E", "ENHANCED"]


@pytest.mark.slow
@pytest.mark.parametrize("contract", MSSP_NAMES)
@pytest.mark.parametrize("measure", ["mean", "sd", "VaR95", "TVaR95", "p_loss", "p_shared_savings", "VaR99",
                                     "TVaR99"])
def test_monte_carlo_agrees_with_exact(small_panel, contract, measure):
    _, exact, mc = small_panel
    ok, detail = within(mc, exact, contract, measure, total=P99)
    assert ok, detail


def test_ffs_is_exactly_zero(small_exact):
    _, exact = small_exact
    assert np.all(exact["summary"].sel(contract="ffs").values == 0.0)


@pytest.mark.slow
def test_a_wrong_settlement_would_be_caught(small_panel):
    """The comparison can fail: an exact expected result 1% too high or too low is outside
    the tolerance of `within` for every MSSP track (whose tolerance is under 0.8% of the mean)."""
    _, exact, mc = small_panel
    for c in MSSP_NAMES:
        assert within(mc, exact, c, "mean", total=P99)[0]
        for factor in (0.99, 1.01):
            wrong = exact.copy(deep=True)
            wrong["summary"].loc[{"contract": c, "measure": "mean"}] *= factor
            ok, detail = within(mc, wrong, c, "mean", total=P99)
            assert not ok, (c, factor, detail)


# ---- refusals ----------------------------------------------------------------------------------------


def test_uncertain_quality_is_refused_in_one_line():
    sc = scenario(1000, quality_score_sd=0.05, alternative_standard_probability=1.0)
    with pytest.raises(InputError, match="quality_score_sd") as info:
        run_exact(sc)
    assert "\n" not in str(info.value)


def test_uncapped_contract_is_computed_with_a_strict_tail_bound():
    """Uncapped totals used to be refused; now their window comes from a Chernoff bound."""
    sc = scenario(1000, contracts=[{"preset": "mssp-basic-a", "overrides": {"truncation_percentile": 1.0}}])
    exact = run_exact(sc, bands_per_cohort=16, log2_buckets=16)
    a = checks_of(exact, "panel total, uncapped")
    assert a.aliasing_bound <= 2.1e-9
    assert a.aliasing_bound_kind.startswith("strict")
    assert abs(a.mean_rel_error) < 1e-8
    assert abs(a.var_rel_error) < 1e-3  # measured -2.5e-4 (16 bands per type, with the systemic factor)


# ---- the normal closed form ------------------------------------------------------------------------


def test_piecewise_normal_expectation_is_the_option_formula():
    # E[(B - X - m)+] = sigma phi(z) + (mu_B - m) Phi(z), z = (mu_B - m) / sigma.
    mu_d, sd, m = 3.0e6, 2.0e6, 1.5e6
    z = (mu_d - m) / sd
    formula = sd * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) + (mu_d - m) * special.ndtr(z)
    got = normal_piecewise_expectation(mu_d, sd, np.array([-np.inf, m, np.inf]), np.array([0.0, -m]),
                                       np.array([0.0, 1.0]))
    assert got == pytest.approx(formula, rel=1e-13)


@pytest.mark.parametrize("preset", ["mssp-basic-a", "mssp-basic-e", "mssp-enhanced"])
def test_normal_closed_form_equals_integrating_the_settlement(preset):
    sc = scenario(6000, contracts=[{"preset": preset}], low_revenue=True)
    contract, a = sc.contracts[0], sc.spec.assumptions
    std = "met"  # quality 0.85 >= the PY2026 standard 0.7385 in every simulation
    b, mean, sd = 6.0e7, 5.95e7, 1.6e6
    closed = normal_expected_settlement(contract.terms, b, mean, sd, 6000, a.quality_score,
                                        std, 0.25 * b, True)
    net = lambda x: float(contract.settle(PanelYear(6000, np.array([b]), np.array([x]), np.array([a.quality_score]),
                                                    std, 0.25 * b, True)).net[0])
    dens = lambda x: math.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    # Integrate piece by piece between the settlement's kinks and jumps (in expenditure).
    _, breaks = mssp_net_of_savings(contract.terms, b, 6000, a.quality_score, std, 0.25 * b, True)
    lo, hi = mean - 12 * sd, mean + 12 * sd
    kinks = sorted({lo, hi, *[b - d for d in breaks if lo < b - d < hi]})
    numeric = sum(integrate.quad(lambda x: net(x) * dens(x), lo, hi, limit=200, epsabs=1e-3)[0]
                  for lo, hi in zip(kinks[:-1], kinks[1:]))
    assert closed == pytest.approx(numeric, rel=1e-6, abs=1.0)


@pytest.mark.slow
def test_normal_closed_form_at_60000_after_the_skewness_correction():
    """At N = 60,000 the normal closed form is the exact answer up to skewness.

    The first Edgeworth term ``gamma / 6 E[g(X) He3(Z)]`` is computed from the exact
    third cumulant; what it leaves must be of the next order (gamma times it).
    """
    sc = scenario(60_000, contracts=MSSP[1:], systemic_sd=0.0)  # the claims total's closed form
    exact = run_exact(sc, bands_per_cohort=32, log2_buckets=19)
    mean, sd = checks_of(exact, P99).model_mean, checks_of(exact, P99).model_sd
    panel = build_panel(sc.spec)
    caps = panel.caps_at(0.99)
    k3 = 0.0
    for c, model in enumerate(panel.models):
        theta = panel.log_mean_expected[panel.cohort_start[c]:panel.cohort_start[c + 1]] + math.log(0.99)
        k3 += capped_cumulants(theta, model.severity, model.zero_share, caps[c])[2]
    gamma = k3 / sd**3
    z = np.linspace(-10, 10, 200_001)
    w = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * (z[1] - z[0])
    a = sc.spec.assumptions
    for i, contract in enumerate(sc.contracts):
        b = float(exact["benchmark"][i])
        # quality 0.85 meets the PY2026 standard (0.7385) in every simulation
        normal = normal_expected_settlement(contract.terms, b, mean, sd, 60_000, a.quality_score,
                                            "met", 0.25 * b, bool(a.low_revenue))
        x = mean + sd * z
        g = contract.settle(PanelYear(60_000, np.full(x.shape, b), x, np.full(x.shape, a.quality_score),
                                      "met", 0.25 * b, bool(a.low_revenue))).net
        edgeworth = gamma / 6 * float(np.sum(g * w * (z**3 - 3 * z)))
        value = float(exact["summary"][i].sel(measure="mean"))
        own = float(exact["summary_error"][i].sel(measure="mean"))
        assert abs(value - normal - edgeworth) <= 2 * gamma * abs(edgeworth) + own + 1e-6 * b, contract.name


# ---- an independent check: the `aggregate` package --------------------------------------------------


def test_one_cohort_against_the_aggregate_package():
    """`aggregate` (a test-only dependency) builds the same iid cohort independently:
    Binomial(n, 1 - p0) costly patients, each a lognormal capped at ``cap``."""
    import warnings

    from aggregate import build  # test extra: "aggregate>=0.30,<1"

    n, mu, cap, bs = 1000, math.log(8000.0) - 0.5 * SIGMA**2, 95_000.0, 250.0
    bands = Bands(np.array([n]), np.array([mu]), np.array([SIGMA]), np.array([P0]), np.array([cap]))
    ours = total_distribution(bands, log2_buckets=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agg = build(f"agg Cohort {n * (1 - P0)} claims {cap} xs 0 sev {math.exp(mu)} * lognorm {SIGMA} "
                    f"binomial {1 - P0}", log2=16, bs=bs)
    xa, pa = np.asarray(agg.xs, dtype=float), np.clip(np.asarray(agg.agg_density, dtype=float), 0, None)
    mean, var = bands.moments()
    # aggregate's closed-form moments (its own implementation) equal ours.
    assert agg.agg_m == pytest.approx(mean, rel=1e-9)
    assert agg.agg_var == pytest.approx(var, rel=1e-8)
    # Distributions: each lattice moves a point by at most its bucket, so CDFs differ by at most
    # the largest probability within (h + bs) and quantiles by at most h + bs.
    slack = ours.h + bs
    # Ours keeps the mean exactly; aggregate's rounding moves it by what it reports itself.
    assert ours.mean == pytest.approx(mean, rel=1e-10)
    assert abs(np.dot(xa, pa) - mean) <= abs(agg.est_m - agg.agg_m) * 1.01 + 1e-9 * mean
    for p in (0.01, 0.5, 0.95, 0.99):
        assert abs(weighted_value_at_risk(ours.values, ours.pmf, p) - weighted_value_at_risk(xa, pa, p)) <= slack
    sd = math.sqrt(var)
    grid = np.linspace(mean - 5 * sd, mean + 6 * sd, 301)
    f_ours = np.cumsum(ours.pmf)[np.searchsorted(ours.values, grid, side="right") - 1]
    f_agg = np.cumsum(pa)[np.searchsorted(xa, grid, side="right") - 1]
    peak = 1.2 / math.sqrt(2 * math.pi * var)  # the density's height, with room for its skew
    assert np.abs(f_ours - f_agg).max() <= peak * slack


# ---- every contract family against Monte Carlo ----------------------------------------------------
#
# Tolerance: K_SE Monte Carlo standard errors plus the exact method's own error estimate
# (``summary_error``). With K_SE = 3.5 and ~60 comparisons, a correct method fails a run
# with probability about 60 x 5e-4 = 3% at most if the comparisons were independent (they
# are strongly correlated, so less); the seed is fixed, so the suite is deterministic.

K_SE = 3.5
MEASURES_CHECKED = ("mean", "sd", "VaR95", "TVaR95", "p_loss", "p_shared_savings", "VaR99", "TVaR99")
PANEL_FAMILIES = [
    {"preset": "reach-professional-2026", "name": "REACH Professional"},
    {"preset": "reach-global-2026", "name": "REACH Global"},
    {"preset": "capitation-full-risk", "name": "capitation stop-loss",
     "overrides": {"revenue_to_benchmark": 1.0, "specific_attachment": 60_000.0, "specific_coinsurance": 0.1,
                   "specific_premium_loading": 0.15, "aggregate_attachment": 1.05,
                   "aggregate_coinsurance": 0.1}},
    {"preset": "capitation-full-risk", "name": "capitation no stop-loss", "overrides": {"revenue_to_benchmark": 1.0}},
    # coinsurance 0: the claims are the capped total itself, the benchmark still the raw expected cost
    {"preset": "capitation-full-risk", "name": "capitation full stop-loss",
     "overrides": {"revenue_to_benchmark": 0.9, "specific_attachment": 80_000.0, "specific_coinsurance": 0.0,
                   "aggregate_attachment": 0.95, "aggregate_coinsurance": 0.1, "aggregate_premium": 0.01}},
    {"preset": "pcf-general", "name": "PCF", "overrides": {"visits_per_beneficiary": 3.0, "ffs_displaced_pbpm": 30.0}},
    {"preset": "pcmh-hybrid", "name": "PCMH", "overrides": {"fixed_pmpm": 4.0, "bonus_pmpm": 2.0}},
    {"family": "shared_risk", "name": "MA shared risk", "terms": {
        "arrangement": "shared_risk", "savings_share": 0.5, "loss_share": 0.5, "msr": 0.01, "mlr": 0.01,
        "loss_cap": 0.05}},
]
# True savings of 4-6%, above TEAM's 2-3% discount: at savings equal to the discount the
# expected reconciliation is close to 0 (about -$1,200 of a $1.6M target), and no Monte Carlo
# tolerance is small against it; here every track's mean is $45,000-65,000.
EPISODES = [
    {"category": "LEJR", "annual_volume": 30, "mean_cost": 24000, "cost_cv": 0.3, "complication_rate": 0.07,
     "complication_cost": 25000, "complication_cv": 1.5, "true_savings": 0.06},
    {"category": "SHFFT", "annual_volume": 12, "mean_cost": 45000, "cost_cv": 0.4, "complication_rate": 0.15,
     "complication_cost": 30000, "complication_cv": 1.5, "true_savings": 0.05},
    {"category": "SPINAL_FUSION", "annual_volume": 8, "volume_model": "fixed", "mean_cost": 50000,
     "cost_cv": 0.35, "true_savings": 0.04},
]


def episode_scenario(episodes=EPISODES) -> simsuite.Scenario:
    return simsuite.scenario_from_dict({
        "name": "exact-episodes",
        "performance_year": 2027,
        "population": {"beneficiaries": 100},
        "assumptions": {"quality_score": 0.75},
        "episodes": episodes,
        "contracts": [{"preset": "ffs"}, {"preset": "team-track1", "name": "TEAM 1"},
                      {"preset": "team-track2", "name": "TEAM 2"}, {"preset": "team-track3", "name": "TEAM 3"}],
    })


def controlled_mean(net: np.ndarray, total: np.ndarray, mean: float, sd: float) -> tuple[float, float]:
    """Control-variate estimate of ``E[net]`` and its standard error, from the sample.

    The controls are ``z`` and ``z**2 - 1`` with ``z = (total - mean) / sd``, where ``mean``
    and ``sd`` are the closed-form moments of the simulated ``total`` (so both controls have
    expectation exactly 0). The estimate is the intercept of the least-squares fit of ``net``
    on them (``mean(net) - beta . mean(controls)``); its standard error is the residuals'
    sd over ``sqrt(S)`` (the error of the fitted ``beta`` is of order ``1/S``, negligible).
    A settlement linear in the total is then estimated exactly; the more of it the total
    explains, the smaller the error.
    """
    z = (np.asarray(total, dtype=float) - mean) / sd
    design = np.column_stack([np.ones_like(z), z, z * z - 1.0])
    coef, *_ = np.linalg.lstsq(design, net, rcond=None)
    residual = net - design @ coef
    return float(coef[0]), float(np.sqrt(residual @ residual / (z.size - design.shape[1]) / z.size))


def within(mc, exact, contract, measure, k=K_SE, total=None):
    """Whether the Monte Carlo and exact ``measure`` of ``contract`` agree within ``k`` Monte
    Carlo standard errors plus the exact method's own error, and the numbers compared.

    ``total``: the label of the exact method's distribution that the contract's expenditure
    is (its closed-form moments give the controls of a mean, `controlled_mean`, and the
    simulated totals must agree with them, `controls_agree_with_closed_form`); without it
    the mean is the plain sample mean with its sample SE, as every other measure.
    """
    v = float(mc["summary"].sel(contract=contract, measure=measure))
    se = float(mc["summary_se"].sel(contract=contract, measure=measure))
    controls_ok = True
    if measure == "mean" and total is not None:
        a = checks_of(exact, total)
        v, se = controlled_mean(mc["net"].sel(contract=contract).values,
                                mc["expenditure"].sel(contract=contract).values, a.model_mean, a.model_sd)
        controls_ok = controls_agree_with_closed_form(mc, exact, contract, total, k)
    e = float(exact["summary"].sel(contract=contract, measure=measure))
    own = float(exact["summary_error"].sel(contract=contract, measure=measure))
    return controls_ok and abs(v - e) <= k * se + own + 1e-9 * max(1.0, abs(e)), (v, se, e, own)


def controls_agree_with_closed_form(mc, exact, contract, total, k=K_SE):
    """The simulated total's ``z`` and ``z**2 - 1`` (`controlled_mean`) average to 0 within
    ``k`` sample SEs: the closed-form mean and sd the control variates rely on are those of
    the totals Monte Carlo draws (so the controls cannot hide a bias in the draws)."""
    a = checks_of(exact, total)
    z = (mc["expenditure"].sel(contract=contract).values - a.model_mean) / a.model_sd
    return all(abs(c.mean()) <= k * c.std(ddof=1) / math.sqrt(c.size) for c in (z, z * z - 1.0))


# Every panel family here settles on the uncapped panel total (its expenditure).
UNCAPPED_TOTAL = "panel total, uncapped"
# True savings 2%: at 1% REACH Professional's expected result is $30k on a $22M benchmark and
# the exact method's own error bound alone (about $2,100, from its systemic-factor lattice)
# is 7% of it. At 2% it is $110k, and 160,000 simulations put every family's mean tolerance
# (control variates) under 3.1% of the mean.
FAMILY_SAVINGS = 0.02
FAMILY_SIMS = 160_000
# Episodes have no control here (the target moves with the episode count): plain sample
# means, 100,000 simulations for a tolerance of about 2% of each TEAM mean.
EPISODE_SIMS = 100_000


@pytest.fixture(scope="module")
def family_panel():
    sc = scenario(1500, contracts=PANEL_FAMILIES, true_savings=FAMILY_SAVINGS)
    exact = run_exact(sc, bands_per_cohort=16, log2_buckets=17)
    mc = simsuite.run(sc, simsuite.RunOptions(simulations=FAMILY_SIMS, seed=23))
    return sc, exact, mc


@pytest.fixture(scope="module")
def family_episodes():
    sc = episode_scenario()
    exact = run_exact(sc)
    mc = simsuite.run(sc, simsuite.RunOptions(simulations=EPISODE_SIMS, seed=29))
    return sc, exact, mc


@pytest.mark.parametrize("contract", [c["name"] for c in PANEL_FAMILIES])
@pytest.mark.parametrize("measure", MEASURES_CHECKED)
def test_monte_carlo_agrees_with_exact_for_panel_families(family_panel, contract, measure):
    _, exact, mc = family_panel
    ok, detail = within(mc, exact, contract, measure, total=UNCAPPED_TOTAL)
    assert ok, detail


@pytest.mark.slow
def test_control_totals_agree_with_their_closed_forms(small_panel, family_panel):
    for (_, exact, mc), contract, total in ((small_panel, "BASIC E", P99),
                                             (family_panel, "REACH Professional", UNCAPPED_TOTAL)):
        assert controls_agree_with_closed_form(mc, exact, contract, total), contract


@pytest.mark.slow
def test_tolerances_are_small_against_the_means(small_panel, family_panel, family_episodes):
    """Every compared mean has a tolerance under 5% of itself, so an error of a few percent in
    an expected result cannot pass."""
    cases = [(small_panel, c, P99) for c in MSSP_NAMES]
    cases += [(family_panel, c["name"], UNCAPPED_TOTAL) for c in PANEL_FAMILIES]
    cases += [(family_episodes, c, None) for c in ("TEAM 1", "TEAM 2", "TEAM 3")]
    for (_, exact, mc), contract, total in cases:
        _, (_, se, value, own) = within(mc, exact, contract, "mean", total=total)
        assert K_SE * se + own < 0.05 * abs(value), (contract, se, value, own)


@pytest.mark.parametrize("contract", ["TEAM 1", "TEAM 2", "TEAM 3"])
@pytest.mark.parametrize("measure", MEASURES_CHECKED)
def test_monte_carlo_agrees_with_exact_for_episodes(family_episodes, contract, measure):
    _, exact, mc = family_episodes
    ok, detail = within(mc, exact, contract, measure)
    assert ok, detail


def test_episode_self_checks(family_episodes):
    _, exact, _ = family_episodes
    for category in ("LEJR", "SHFFT", "SPINAL_FUSION"):
        a = checks_of(exact, f"{category} episode cost capped at the 99th percentile")
        assert abs(a.mean_rel_error) < 1e-5
        assert 0.0 <= a.var_rel_error < 1e-3  # rounding adds variance, never removes it
        assert a.aliasing_bound < 1e-9
    # The expected sum of target prices: E[K] x price per episode, summed (Poisson and fixed counts).
    from simsuite.contracts.base import HighCostCap
    from simsuite.model.episode_costs import EpisodeCostModel
    from simsuite.scenario.schema import EpisodeSpec

    cap = HighCostCap(kind="percentile", value=0.99)
    expected = 0.0
    for e in EPISODES:
        m = EpisodeCostModel.of(EpisodeSpec(**e))
        expected += e["annual_volume"] * m.expected_capped(m.cap_dollars(cap)) * 0.98
    assert float(exact["benchmark"].sel(contract="TEAM 2")) == pytest.approx(expected, rel=1e-9)


def test_quality_payment_is_a_point_mass(family_panel):
    _, exact, mc = family_panel
    assert float(exact["summary"].sel(contract="PCMH", measure="sd")) == 0.0
    assert float(exact["summary"].sel(contract="PCMH", measure="mean")) == pytest.approx(
        float(mc["summary"].sel(contract="PCMH", measure="mean")), rel=1e-12)


def test_capitation_settles_on_claims_alone():
    """The exact method passes the claims R + c (raw - R) as both raw and R: capitation's own
    settlement must give the same net as with the separate (raw, R) it gets from the engine."""
    from simsuite.engines.settlement_inputs import SettlementInputs

    sc = scenario(1500, contracts=PANEL_FAMILIES[2:3])
    contract = sc.contracts[0]
    key = contract.spec.exact_total(contract.terms)
    rng = np.random.default_rng(5)
    raw = rng.uniform(1.0e7, 3.0e7, 400)
    retained = raw * rng.uniform(0.8, 1.0, 400)
    claims = retained + key.coins * (raw - retained)
    year = SettlementInputs.of(sc).panel_year_at_total(contract, claims, sc.spec.assumptions.quality_score)
    engine_like = PanelYear(year.n_beneficiaries, year.benchmark, raw, year.quality_score, year.quality_standard,
                            year.participant_revenue, year.low_revenue, raw=raw,
                            capped={contract.caps[0]: raw, contract.caps[1]: retained}, expected=year.expected)
    assert np.allclose(contract.settle(year).net, contract.settle(engine_like).net, rtol=1e-12, atol=1e-6)


@pytest.mark.slow
def test_a_perturbed_input_is_caught(family_panel, family_episodes):
    """The comparisons can fail: the exact method run with the wrong effort (true_savings 2% ->
    3%; LEJR episodes 6% -> 8%) disagrees with Monte Carlo far beyond the tolerance."""
    sc, _, mc = family_panel
    wrong = run_exact(scenario(1500, contracts=PANEL_FAMILIES[:3], true_savings=FAMILY_SAVINGS + 0.01),
                      bands_per_cohort=16, log2_buckets=16)
    for c in ("REACH Professional", "REACH Global", "capitation stop-loss"):
        assert not within(mc, wrong, c, "mean", total=UNCAPPED_TOTAL)[0]
    episodes = [dict(e, true_savings=0.08) if e["category"] == "LEJR" else e for e in EPISODES]
    wrong_ep = run_exact(episode_scenario(episodes))
    _, _, mc_ep = family_episodes
    assert not within(mc_ep, wrong_ep, "TEAM 3", "mean")[0]


def test_uncapped_total_against_brute_force_and_its_bound():
    """The uncapped (and stop-loss) lattice totals keep the closed-form mean, add only rounding
    variance, and hold all but the strict bound of mass in their window."""
    from simsuite.engines.exact.lattice import _unbounded_window

    for cap, coins in ((np.inf, None), (50_000.0, 0.1)):
        bands = Bands(np.array([700, 250, 50]), np.log([3000.0, 9000.0, 40_000.0]), np.full(3, SIGMA),
                      np.full(3, P0), np.full(3, cap), None if coins is None else np.full(3, coins))
        window = _unbounded_window(bands, 1e-9)
        assert window.lower_bound <= 1e-9 and window.upper_bound <= 1e-9
        dist = total_distribution(bands, 17, 1e-9, window=window)
        mean, var = bands.moments()
        assert dist.mean == pytest.approx(mean, rel=1e-8)
        assert -1e-6 <= dist.var / var - 1 <= bands.count.sum() * dist.h**2 / 4 / var + 1e-6
        assert dist.aliasing_bound <= 2.1e-9
