"""The variance model against CMS's MSSP results: the data, the statistics, the shipped
defaults, the one-year factor and its exact quadrature.

The calibration test recomputes the observed statistics from the shipped PUF files and
simulates the model at the shipped defaults: a change to the data, to the linkage, to the
engine or to the defaults that breaks the calibration fails here.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simsuite
from simsuite.data.reference import mssp_file, variance_defaults
from simsuite.engines.exact.diagnostics import TotalDiagnostics
from simsuite.engines.exact.lattice import TotalDistribution
from simsuite.engines.exact.systemic import factor_nodes, with_systemic_factor
from simsuite.errors import InputError
from simsuite.model.variance import one_year_systemic_sd, performance_sd, systemic_sd
from simsuite.results.risk import weighted_value_at_risk
from simsuite.tools import calibrate_variance as cv
from simsuite.tools import savings_rate_model as srm
from simsuite.tools import variance_targets as vt
from simsuite.tools.mssp_panel import linked_panel, normalised_name

# md5 sums in simsuite/data/mssp/README.md (the shared data README's).
MD5 = {
    "derived/mssp_financial_panel_2013_2024.csv": "065c8616145243e3c7bf39130e369bc4",
    "derived/mssp_all_years_2013_2021_samstearns.csv": "5b2ac7ee131fae9f903155110f434055",
    "derived/aco_id_crosswalk_samstearns.csv": "d82bf9f0b6e9da0242de324635f3576a",
    "raw/mssp_puf_py2013.csv": "d87069f50e78d75d2601134644cb7ce2",
    "raw/mssp_puf_py2014.csv": "f7e6542fc87aa10cfe66470f991cb066",
    "raw/mssp_puf_py2018.csv": "ebb11d49a5b12731d6bdcf56c01de17a",
    "raw/mssp_puf_py2022.csv": "9bf0ec6117339d69bcd40fc60fbe9e24",
    "raw/mssp_puf_py2023.csv": "d3bd888277dfc75bb173cc2b1925592d",
    "raw/mssp_puf_py2024.csv": "ebd8a69b4ee8982ae441b9244afda7f6",
}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return linked_panel()


@pytest.fixture(scope="module")
def design(panel) -> vt.PanelDesign:
    return vt.PanelDesign.of(panel)


# ---- the data and the linkage ------------------------------------------------------------------


@pytest.mark.parametrize("relative", sorted(MD5))
def test_shipped_puf_files_are_unchanged_copies(relative):
    assert hashlib.md5(mssp_file(relative).read_bytes()).hexdigest() == MD5[relative]


def test_linked_panel_has_every_aco_year_once(panel):
    by_year = panel.year.value_counts().sort_index()
    # ACO-years by PY as the shared data README lists them.
    assert list(by_year) == [220, 333, 392, 432, 472, 548, 475, 513, 475, 482, 453, 476]
    assert not panel.duplicated(["year", "link_id"]).any()
    # 2013-2014 through the crosswalk, 2018 on by ACO_ID, 2015-2017 by name or among themselves.
    stages = panel.groupby("year").link_stage.agg(set)
    assert stages[2013] == stages[2014] == {"crosswalk"}
    assert all(stages[y] == {"id"} for y in range(2018, 2025))
    assert stages[2016] == {"name", "name-only"}
    middle = panel[panel.year.between(2015, 2017)]
    assert (middle.link_stage == "name").mean() > 0.85
    assert middle[middle.link_stage == "name"].link_id.str.fullmatch(r"A\d{4}").all()
    # Six-month PY2019 ACOs (the shared README: 166).
    assert int(panel.six_month_2019.sum()) == 166


def test_savings_rate_is_the_puf_ratio(panel):
    raw = pd.read_csv(mssp_file("derived/mssp_financial_panel_2013_2024.csv").open("r", encoding="utf-8-sig"))
    # (PY2015-2017 keys are names, unique only with the size.)
    merged = panel.merge(raw, left_on=["year", "aco_key", "n_ab"], right_on=["performance_year", "aco_key", "n_ab"])
    assert len(merged) == len(panel)
    np.testing.assert_allclose(merged.sr, 100 * merged.sav_rate_calc, rtol=1e-12)


def test_names_are_compared_without_legal_form_and_punctuation():
    assert normalised_name("The Acme Accountable Care Organization, LLC") == "acme aco"
    assert normalised_name("Smith & Jones ACO, Inc.") == normalised_name("smith and jones aco")


def test_agreement_periods_follow_the_start_dates(panel):
    # Within a (link_id, agreement_start) group, years are consecutive from 0.
    ok = panel.dropna(subset=["agreement_start"])
    first = ok.groupby(["link_id", "agreement_start"]).year.transform("min")
    assert (ok.year_in_agreement == ok.year - first).all()
    # The first renewals began on 1 January 2016: every PY2013-2015 row is a first agreement.
    assert (panel[panel.year <= 2015].agreement_number == 1).all()


# ---- the statistics -----------------------------------------------------------------------------


def _toy() -> pd.DataFrame:
    """Three ACOs over PY2013-2015, one agreement each; ACO C renews in 2015."""
    rows = [("A", 2013, 10.0, "2012-04-01"), ("A", 2014, 12.0, "2012-04-01"), ("A", 2015, 11.0, "2012-04-01"),
            ("B", 2013, 4.0, "2013-01-01"), ("B", 2014, 2.0, "2013-01-01"), ("B", 2015, 6.0, "2013-01-01"),
            ("C", 2013, 1.0, "2012-07-01"), ("C", 2014, 4.0, "2012-07-01"), ("C", 2015, 1.0, "2015-01-01")]
    out = pd.DataFrame(rows, columns=["link_id", "year", "sr", "agreement_start"])
    out["agreement_start"] = pd.to_datetime(out.agreement_start)
    out["n_ab"] = 8000.0
    out["agreement_number"] = [1, 1, 1, 1, 1, 1, 1, 1, 2]
    out["year_in_agreement"] = [0, 1, 2, 0, 1, 2, 0, 1, 0]
    return out


def test_statistics_by_hand_on_a_toy_panel():
    s = vt.statistics(vt.PanelDesign.of(_toy()), (2013, 2015))
    # Year means 5, 6, 6: demeaned rates A 5 6 5, B -1 -4 0, C -4 -2 -5.
    d = np.array([5, 6, 5, -1, -4, 0, -4, -2, -5], dtype=float)
    assert s["sd"][5] == pytest.approx(np.std(d, ddof=1))
    change = np.array([1, -1, -3, 4, 2, -3], dtype=float)  # A 13-14 14-15, B ..., C ...
    assert s["sd_change"][5] == pytest.approx(np.std(change, ddof=1) / math.sqrt(2))
    # Within: A both pairs, B both, C 2013-14; across: C 2014-15 only (one pair: no correlation).
    x, y = np.array([5, 6, -1, -4, -4.0]), np.array([6, 5, -4, 0, -2.0])
    assert s["corr_within"][5] == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert s["within"][5] == 5 and s["across"][5] == 1 and math.isnan(s["corr_across"][5])
    # Lag 2 within one agreement: A and B (C renewed).
    assert s["lag2"][5] == 2


def test_bootstrap_weights_reproduce_a_duplicated_panel():
    toy = _toy()
    doubled = pd.concat([toy, toy.assign(link_id=toy.link_id + "2")], ignore_index=True)
    w = vt.statistics(vt.PanelDesign.of(toy), (2013, 2015), np.full(len(toy), 2.0))
    d = vt.statistics(vt.PanelDesign.of(doubled), (2013, 2015))
    for k in ("sd", "sd_change", "corr_within"):
        assert w[k][5] == pytest.approx(d[k][5])


def test_observed_statistics_are_the_shipped_targets(design):
    """Recomputed from the data files, they equal those the defaults were fitted to."""
    shipped = variance_defaults()
    for name, years in (("in_sample", vt.IN_SAMPLE), ("out_of_sample", vt.OUT_OF_SAMPLE)):
        recorded = shipped[name]["observed"]
        s = vt.statistics(design, years)
        np.testing.assert_allclose(s["sd"][:5], recorded["sd"], atol=6e-4)
        np.testing.assert_allclose(s["sd_change"][:5], recorded["sd_change"], atol=6e-4)
        for k in vt.POOLED_STATISTICS:
            assert s[k][5] == pytest.approx(recorded[k], abs=6e-4)
    # The in-sample table of the calibration notes (shared/notes/calib, quintile bands).
    s = vt.statistics(design, vt.IN_SAMPLE)
    assert s["sd"][:5] == pytest.approx([6.24, 5.48, 4.57, 4.05, 3.33], abs=0.01)
    assert s["corr_within"][5] == pytest.approx(0.667, abs=0.002)


# ---- the shipped defaults reproduce CMS's results -------------------------------------------------


@pytest.fixture(scope="module")
def model_at_defaults():
    samples = cv.observed(0)
    simulator = cv.Simulator(claims_sims=800, systemic_sims=3000, threads=None)
    parameters = cv.shipped_parameters()
    return samples, simulator, parameters, {n: simulator.statistics(parameters, s) for n, s in samples.items()}


@pytest.mark.slow
def test_shipped_defaults_reproduce_the_in_sample_statistics(model_at_defaults):
    """SDs within 15% in every band and the within-agreement correlation within 0.07 of
    CMS's PY2013-2021 results, allowing 3 Monte Carlo standard errors of the simulation."""
    samples, simulator, _, model = model_at_defaults
    obs, sim = samples["in_sample"].statistics, model["in_sample"]
    mc_sd = 1.0 / math.sqrt(2.0 * simulator.claims_sims)  # relative SE of an SD (normal)
    for key in ("sd", "sd_change"):
        rel = np.abs(sim[key][:5] / obs[key][:5] - 1.0)
        assert np.all(rel <= cv.SD_TOLERANCE + 3 * mc_sd), (key, rel)
    corr_se = (1 - obs["corr_within"][5] ** 2) / math.sqrt(simulator.claims_sims)
    assert abs(sim["corr_within"][5] - obs["corr_within"][5]) <= cv.CORR_TOLERANCE + 3 * corr_se
    # And they are the statistics recorded with the defaults, within the simulation's error.
    recorded = variance_defaults()["in_sample"]["model"]
    np.testing.assert_allclose(sim["sd"][:5], recorded["sd"], rtol=4 * mc_sd)
    np.testing.assert_allclose(sim["sd_change"][:5], recorded["sd_change"], rtol=4 * mc_sd)


@pytest.mark.slow
def test_engine_runs_reproduce_the_decomposed_model(model_at_defaults):
    """The full engine (claims and systemic parts drawn together, at the band's size) gives
    the statistics the fit computes from the two parts apart: smallest and largest band."""
    samples, simulator, parameters, model = model_at_defaults
    sample = samples["in_sample"]
    sims = 500
    for band in (0, 4):
        size = int(round(sample.scales.harmonic()[band]))
        sd = parameters.sd_at(sample.scales.systemic(parameters.size_exponent)[band])
        scenario = srm.world_scenario("in_sample", size, sd, parameters.performance_ar)
        options = simsuite.RunOptions(simulations=sims, seed=77)
        from simsuite.engines.agreement import draw_agreement

        rates = srm.savings_rates(scenario, draw_agreement(scenario, options), options)
        engine = srm.band_statistics([np.cov(rates, rowvar=False)], sample.layout,
                                     {k: v[[band, 5]] for k, v in sample.pair_counts.items()})
        se = 1.0 / math.sqrt(2.0 * sims)
        for key in ("sd", "sd_change"):
            assert engine[key][0] == pytest.approx(model["in_sample"][key][band], rel=4 * se), (band, key)


def test_out_of_sample_is_recorded_with_its_misses():
    oos = variance_defaults()["out_of_sample"]
    assert oos["years"] == [2022, 2024]
    assert set(oos["within_tolerance"]) == {"sd", "sd_change", "corr_within"}


# ---- defaults by size and the one-year factor -----------------------------------------------------


def _one_year(n: int, **assumptions) -> simsuite.Scenario:
    return simsuite.scenario_from_dict({
        "name": "one year", "performance_year": 2026, "population": {"beneficiaries": n},
        "assumptions": {"quality_score": 0.9, **assumptions},
        "contracts": [{"preset": "mssp-enhanced", "name": "ENHANCED"}]})


def test_performance_sd_shrinks_with_size_by_the_fitted_power():
    d = variance_defaults()
    ref, beta = d["reference_beneficiaries"], d["organisation"]["size_exponent"]["value"]
    spec = _one_year(1000).spec
    for n in (2500, 10_000, 80_000):
        expected = d["organisation"]["performance_sd"]["value"] * (n / ref) ** -beta
        assert performance_sd(spec, n) == pytest.approx(expected, rel=1e-12)
    given = spec.model_copy(update={"organisation": spec.organisation.model_copy(update={"performance_sd": 0.01})})
    assert performance_sd(given, 123) == 0.01


def test_one_year_systemic_sd_by_hand():
    d = variance_defaults()
    table, ref = d["one_year"], d["reference_beneficiaries"]
    beta = d["organisation"]["size_exponent"]["value"]
    # The benchmark's claims part (1/N) and the organisation's drift (N^-2 beta), year t's.
    for n, t in ((20_000, 2), (4_000, 0), (60_000, 4)):
        expected = (table["benchmark_claims_variance"][t] * ref / n
                    + table["systemic_variance"][t] * (n / ref) ** (-2 * beta))
        assert one_year_systemic_sd(n, t) == pytest.approx(math.sqrt(expected) / 100, rel=1e-12)
    # Past the fifth year the last year's value; before the first, the first's.
    assert one_year_systemic_sd(20_000, 7) == one_year_systemic_sd(20_000, 4)
    # The scenario's year of the agreement: performance year less agreement start (default: 0).
    n = 20_000
    assert systemic_sd(_one_year(n).spec, n) == pytest.approx(one_year_systemic_sd(n, 0))
    assert systemic_sd(_one_year(n, agreement_start=2024).spec, n) == pytest.approx(one_year_systemic_sd(n, 2))
    assert systemic_sd(_one_year(n, systemic_sd=0.0).spec, n) == 0.0


def test_a_horizon_refuses_the_one_year_factor():
    """Refused when the scenario is read, before anything runs."""
    with pytest.raises(InputError, match="assumptions.systemic_sd: a scenario with a horizon"):
        simsuite.scenario_from_dict({
            "name": "h", "horizon": {"agreement_start": 2027}, "population": {"beneficiaries": 6000},
            "assumptions": {"quality_score": 0.9, "quality_threshold": 0.74, "systemic_sd": 0.02},
            "contracts": [{"name": "EN", "path": {"program": "mssp", "track": "ENHANCED"}}]})


def test_one_year_factor_spreads_the_savings_rate_by_its_sd():
    """Without the factor the savings rate's variance is the claims'; with it, the claims'
    plus the factor's (independent draws, on spending)."""
    n, sims = 20_000, 4000
    plain = simsuite.run(_one_year(n, systemic_sd=0.0), simsuite.RunOptions(simulations=sims, seed=5))
    spread = simsuite.run(_one_year(n), simsuite.RunOptions(simulations=sims, seed=5))
    sd = systemic_sd(_one_year(n).spec, n)

    def ratio(ds):  # spending over the (fixed) benchmark
        return 1.0 - ds.savings_rate.sel(contract="ENHANCED").values

    r0, r1 = ratio(plain), ratio(spread)
    # Same claims draws: the factor is exactly the ratio of the two runs' spending.
    f = r1 / r0
    assert np.log(f).std() == pytest.approx(sd, rel=4 / math.sqrt(2 * sims))
    assert f.mean() == pytest.approx(1.0, abs=4 * sd / math.sqrt(sims))


# ---- the exact method's quadrature over the factor ---------------------------------------------------


def test_quadrature_nodes_have_mean_one_and_the_lognormal_variance():
    f, w = factor_nodes(0.05, 0.03)
    assert w.sum() == pytest.approx(1.0) and np.dot(w, f) == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, f * f) == pytest.approx(math.exp(0.05**2), rel=1e-12)


def test_systemic_mixture_of_a_point_mass_is_the_lognormal():
    dist = TotalDistribution(values=np.array([1.0e6]), pmf=np.array([1.0]), h=1.0, aliasing_bound=0.0)
    checks = TotalDiagnostics(label="point", buckets=1, bucket_usd=1.0, model_mean=1.0e6, model_sd=0.0,
                              mean_rel_error=0.0, var_rel_error=0.0, aliasing_bound=0.0, aliasing_bound_kind="none")
    sd = 0.04
    mixed, mixed_checks = with_systemic_factor(dist, checks, sd)
    assert abs(mixed_checks.mean_rel_error) < 1e-12
    assert abs(mixed_checks.var_rel_error) < 1e-4
    # Quantiles of exp(sd z - sd^2/2) x 1e6, to within the grid's spacing (0.01 sd).
    for p in (0.05, 0.5, 0.95, 0.99):
        exact = 1.0e6 * math.exp(sd * stats.norm.ppf(p) - sd * sd / 2)
        got = -weighted_value_at_risk(-mixed.values, mixed.pmf, 1 - p) if p < 0.5 else \
            weighted_value_at_risk(mixed.values, mixed.pmf, p)
        assert got == pytest.approx(exact, rel=0.012 * sd + 1e-6), p


# ---- the command ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_calibrate_variance_command_prints_both_samples_and_writes_the_figure(tmp_path):
    # Through the installed console script, so the subcommand's registration is tested too.
    from conftest import run_simsuite

    res = run_simsuite("calibrate", "variance", "--sims", "200", "--systemic-sims", "300", "--bootstrap", "20",
                       "--out", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "In sample, PY2013-2021" in res.stdout and "Out of sample, PY2022-2024" in res.stdout
    assert "within tolerance" in res.stdout and "6,050" in res.stdout
    assert (tmp_path / "variance_fit.png").stat().st_size > 10_000


def test_calibrate_variance_refuses_to_write_without_standard_errors_and_mixed_options(tmp_path):
    from conftest import run_simsuite

    res = run_simsuite("calibrate", "variance", "--write", "--bootstrap", "0", cwd=tmp_path)
    assert res.returncode == 2 and "--bootstrap 100" in res.stderr and "Traceback" not in res.stderr
    res = run_simsuite("calibrate", "--zero-share", "0.1", "variance", cwd=tmp_path)
    assert res.returncode == 2 and "belongs to the cost-model fit" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
def test_a_one_year_run_has_the_multi_year_models_spread_of_that_year():
    """The first performance year of a new agreement (2027, 8,000 beneficiaries): the one-year
    run's savings-rate sd (claims plus the calibrated factor) equals the multi-year engine's
    (claims, benchmark years, the organisation's drift; without the national trend, which the
    one-year factor leaves to the multi-year engine and its ACPT guardrail)."""
    n, sims = 8_000, 3_000
    common = {"population": {"beneficiaries": n},
              "assumptions": {"quality_score": 0.9, "quality_standard": "met"}}
    multi = simsuite.scenario_from_dict({
        "name": "years", "horizon": {"agreement_start": 2027}, **common, "trends": {"national_sd": 0.0},
        "contracts": [{"name": "EN", "path": {"program": "mssp", "track": "ENHANCED"}}]})
    single = simsuite.scenario_from_dict({
        "name": "one year", "performance_year": 2027, **common,
        "contracts": [{"preset": "mssp-enhanced", "name": "EN"}]})
    from simsuite.engines.agreement import simulate_agreement

    years = simulate_agreement(multi, simsuite.RunOptions(simulations=sims, seed=31))
    sr_multi = 1.0 - years.expenditure[0, :, 0] / years.benchmark[0, :, 0]
    sr_single = simsuite.run(single, simsuite.RunOptions(simulations=sims, seed=32))["savings_rate"].sel(contract="EN")
    se = math.sqrt(2.0 / (2.0 * sims))  # relative SE of the ratio of two independent SDs
    assert float(sr_single.std()) / float(sr_multi.std()) == pytest.approx(1.0, abs=4 * se)
