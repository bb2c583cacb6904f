"""No NaN or infinity reaches a user: the tiny-spread quality score, and the guard where every
engine assembles its results (`simsuite.results.dataset.check_finite`)."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import xarray as xr
from scipy import special
from test_scenario_fuzz import BASE

from simsuite.cli.app import main
from simsuite.engines.montecarlo import run
from simsuite.errors import FieldProblem, InputError, NonFiniteResult
from simsuite.model.factors import BETA_NORMAL_PRECISION, beta_parameters, quality_quantile, quality_scores
from simsuite.results import dataset
from simsuite.results.cashflow import FINANCE_MEASURES
from simsuite.results.risk import MEASURES
from simsuite.scenario.load import load_scenario, scenario_from_dict

# ---- the quality score's spread -------------------------------------------------------------------


def test_a_spread_of_6_9e_90_gives_the_mean_in_every_simulation():
    # 0.85 + 6.9e-90 z rounds to 0.85 for every |z| <= 8.3: the score is the mean, exactly.
    q = quality_scores(0.85, 6.9e-90, 5000, seed=7)
    assert np.all(q == 0.85)
    # sd**2 underflows to 0 here; the Beta's parameters cannot be computed at all.
    assert quality_scores(0.5, 1e-170, 10, seed=7).tolist() == [0.5] * 10


def test_the_fuzzed_scenario_with_that_spread_settles_as_with_a_fixed_score():
    """Hypothesis's example: every MSSP summary was NaN. With every score exactly 0.85 the
    run draws what a fixed score of 0.85 draws (the standard is met either way: 0.85 is above
    PY2026's threshold), so the summaries are those of ``quality_score_sd: 0``, bit for bit."""
    def summary(sd: float) -> np.ndarray:
        data = copy.deepcopy(BASE)
        data["assumptions"]["quality_score_sd"] = sd
        return run(scenario_from_dict(data, source="fuzz.yaml"))["summary"].values

    tiny = summary(6.9e-90)
    assert np.isfinite(tiny).all()
    np.testing.assert_array_equal(tiny, summary(0.0))


@pytest.mark.parametrize("mean", [0.01, 0.3, 0.5, 0.85, 0.99])
def test_the_normal_quantile_takes_over_from_the_beta_without_a_jump(mean):
    """Just inside the switch (a + b = BETA_NORMAL_PRECISION) the Beta quantile and the normal
    one agree within 5e-9 (the bound of the Cornish-Fisher term is 23 / (a + b) = 2.3e-11; the
    rest is betaincinv's own error at the extreme uniforms), i.e. within 1% of the sd."""
    u = np.r_[2.0**-54, np.linspace(1e-9, 1 - 1e-9, 2001), 1 - 2.0**-53]
    sd_at_switch = math.sqrt(mean * (1 - mean) / (BETA_NORMAL_PRECISION + 1.0))
    a, b = beta_parameters(mean, sd_at_switch * 1.000001)  # just on the Beta side
    beta = special.betaincinv(a, b, u)
    normal = quality_quantile(mean, sd_at_switch * 0.999999, u)  # just on the normal side
    assert np.abs(beta - normal).max() < 5e-9
    assert np.abs(beta - normal).max() < 0.01 * sd_at_switch


@pytest.mark.parametrize("mean, sd", [(0.85, 0.05), (0.3, 0.1), (0.85, 1e-5), (0.85, 1e-9), (0.999, 0.03)])
def test_quality_scores_have_the_mean_and_sd_asked_for(mean, sd):
    """20,000 scores: the sample mean within 4 standard errors (sd / sqrt(n)), the sample sd
    within 4 of its own (about sd / sqrt(2 n) for a near-normal Beta; 6% at the skewed
    (0.999, 0.03), whose kurtosis widens it: checked at 10% there)."""
    n = 20_000
    q = quality_scores(mean, sd, n, seed=11)
    assert np.all((q >= 0.0) & (q <= 1.0))
    assert abs(q.mean() - mean) < 4 * sd / math.sqrt(n)
    tol = 0.10 if mean == 0.999 else 4 / math.sqrt(2 * n)
    assert q.std(ddof=1) == pytest.approx(sd, rel=tol)


# ---- the guard ----------------------------------------------------------------------------------

SMALL_CONTRACTS = ["ffs", "mssp-basic-a", "mssp-basic-e", "mssp-enhanced"]


def _summary_ds(values: np.ndarray, **extra: tuple) -> xr.Dataset:
    return xr.Dataset({"summary": (("contract", "measure"), values), **extra},
                      coords={"contract": SMALL_CONTRACTS, "measure": list(MEASURES)},
                      attrs={"scenario_source": "s.yaml"})


def test_a_nan_summary_names_the_scenario_contract_and_measure():
    values = np.zeros((4, len(MEASURES)))
    values[2, MEASURES.index("TVaR95")] = np.nan
    with pytest.raises(NonFiniteResult) as info:
        dataset.check_finite(_summary_ds(values))
    message = str(info.value)
    assert message.startswith("s.yaml: contract 'mssp-basic-e': TVaR95 is nan") and "\n" not in message


def test_an_infinite_standard_error_and_a_year_are_named():
    ds = _summary_ds(np.zeros((4, len(MEASURES))))
    by_year = np.zeros((4, 2, len(MEASURES)))
    by_year[1, 1, MEASURES.index("mean")] = -np.inf
    ds["summary_by_year_se"] = (("contract", "year", "measure"), by_year)
    ds = ds.assign_coords(year=[2027, 2028])
    with pytest.raises(NonFiniteResult, match=r"^s\.yaml: contract 'mssp-basic-a': the standard error of mean "
                                              r"\(year 2028\) is -inf"):
        dataset.check_finite(ds)


def test_a_payback_year_not_within_the_horizon_is_not_an_error_but_a_nan_npv_is():
    """The median payback year is NaN when the median simulation has not paid back by the end
    of the horizon (shown "not within the horizon"), and so is its error; nothing else of
    the finance summary may be."""
    finance = np.zeros((4, len(FINANCE_MEASURES)))
    finance[:, FINANCE_MEASURES.index("payback_year")] = np.nan
    ds = _summary_ds(np.zeros((4, len(MEASURES))))
    ds = ds.assign_coords(finance_measure=list(FINANCE_MEASURES))
    ds["finance_summary"] = (("contract", "finance_measure"), finance)
    ds["finance_summary_se"] = (("contract", "finance_measure"), finance.copy())
    # Not summaries: no guarantee (NaN) and the FFS benchmark (NaN) are meaningful.
    ds["guarantee"] = ("contract", [np.nan, np.nan, 1e5, 1e5])
    ds["benchmark"] = ("contract", [np.nan, 1e7, 1e7, 1e7])
    assert dataset.check_finite(ds) is ds
    ds["finance_summary"][3, FINANCE_MEASURES.index("npv")] = np.nan
    with pytest.raises(NonFiniteResult, match="contract 'mssp-enhanced': npv is nan"):
        dataset.check_finite(ds)


def test_the_exact_methods_dataset_is_guarded(small_scenario):
    values = np.zeros((4, len(MEASURES)))
    errors = np.zeros_like(values)
    errors[3, MEASURES.index("VaR99")] = np.inf
    with pytest.raises(NonFiniteResult, match="contract 'mssp-enhanced': the exact method's error estimate of "
                                              "VaR99 is inf"):
        dataset.exact_dataset(load_scenario(small_scenario), values, errors, np.zeros(4), {})


def test_the_cli_refuses_a_non_finite_result_in_one_line_and_writes_nothing(small_scenario, tmp_path, monkeypatch,
                                                                             capsys):
    """A run whose summary comes out infinite (forced here: no input does it today) ends with
    exit status 2, one line naming the file, the contract and the measure, and no output file."""
    real = dataset.summary_arrays

    def poisoned(net: np.ndarray, gain_shared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, errors = real(net, gain_shared)
        values[2, MEASURES.index("VaR95")] = np.inf
        return values, errors

    monkeypatch.setattr(dataset, "summary_arrays", poisoned)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["run", str(small_scenario), "--sims", "200", "--out", str(out)])
    assert info.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith(f"simsuite: {small_scenario}: contract 'mssp-basic-e': VaR95 is inf")
    assert "expected result" not in captured.out  # no table printed either
    assert not out.exists() or not any(out.iterdir())


def test_one_line_errors_cross_a_process_boundary_whole():
    """A Dask worker's error is pickled to the client: it must come back as the same type
    with the same line (they used to fail to unpickle: their __init__ takes more arguments
    than the message)."""
    for error in (NonFiniteResult("s.yaml", "BASIC E", "mean", math.nan), InputError("s.yaml", "finance.x", "bad", 4),
                  FieldProblem(("overrides", "msr"), "bad")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
