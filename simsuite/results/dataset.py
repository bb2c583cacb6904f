"""The results Dataset: per-simulation figures, the risk summary, and provenance.

Layout (dims ``contract``, ``sim``, ``measure``):

* ``net(contract, sim)``: money to the provider, dollars per year (loss < 0);
* ``gain_shared(contract, sim)``: 1 if shared savings were paid;
* ``expenditure(contract, sim)``: panel cost the contract settles on (truncated as
  it requires), dollars;
* ``benchmark(contract)``: the benchmark the contract compares with, dollars, averaged over
  simulations where it varies (NaN for FFS; for episode contracts the sum of target
  prices);
* ``savings_rate(contract, sim)``: ``(benchmark - expenditure) / benchmark`` with each
  simulation's own benchmark;
* ``panel_cost(sim)``: untruncated panel cost, dollars;
* ``quality_score(sim)``: the quality score of each simulation (fraction);
* ``summary(contract, measure)`` and ``summary_se(contract, measure)``: the measures of
  `simsuite.results.risk.MEASURES` and their Monte Carlo standard errors;
* ``guarantee(contract)``: the financial guarantee the contract requires, dollars (the
  MSSP repayment mechanism of two-sided contracts, 42 CFR 425.204(f)(4); NaN = none), and
  ``p_owed_exceeds_guarantee(contract)`` (with ``_se``): the probability that what the
  organisation owes under the contract in the year exceeds it.

Attributes hold the scenario text, the seed, the number of simulations, the simsuite
version and ``rules``: the rules in effect a reader must know (stated defaults, thresholds
and their sources, approximations), one per line. The exact method's Dataset (`exact_dataset`) and a sweep's
(`sweep_dataset`) are built here too, so the three share their coordinates and
provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from simsuite import __version__
from simsuite.contracts import PathContract
from simsuite.errors import NonFiniteResult
from simsuite.results.arrays import AgreementArrays, SimulationArrays
from simsuite.results.risk import MEASURES, summarize
from simsuite.scenario.load import Scenario

SIGN_CONVENTION = "positive = money to the provider; risk measures on loss = -net"


#: The summaries a user reads, each with how an error names one of its values and the
#: measures that may be NaN by meaning: the median payback year when the median simulation
#: does not pay back within the horizon (shown "not within the horizon") and its error. A
#: contract without a financial guarantee has NaN in ``guarantee`` and
#: ``p_owed_exceeds_guarantee``, and FFS a NaN ``benchmark``; those are not summaries and
#: are not checked.
CHECKED_SUMMARIES: dict[str, tuple[str, frozenset[str]]] = {
    "summary": ("{}", frozenset()),
    "summary_se": ("the standard error of {}", frozenset()),
    "summary_error": ("the exact method's error estimate of {}", frozenset()),
    "summary_by_year": ("{}", frozenset()),
    "summary_by_year_se": ("the standard error of {}", frozenset()),
    "finance_summary": ("{}", frozenset({"payback_year"})),
    "finance_summary_se": ("the standard error of {}", frozenset({"payback_year"})),
}


def check_finite(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` unchanged if every summary of `CHECKED_SUMMARIES` in it is finite.

    Every engine calls this where its results Dataset is assembled, before anything is
    written, so that no NaN or infinity reaches a table, a file or a report.

    Raises
    ------
    NonFiniteResult
        Naming the scenario, the first contract and the measure (with its year, if any)
        whose value is NaN or infinite.
    """
    source = str(ds.attrs.get("scenario_source", "scenario"))
    for name, (label, may_be_nan) in CHECKED_SUMMARIES.items():
        if name not in ds:
            continue
        var = ds[name]
        measure_dim = var.dims[-1]
        bad = ~np.isfinite(var.values)
        if may_be_nan:
            exempt = np.isin(var[measure_dim].values, list(may_be_nan))
            bad &= ~exempt  # broadcast along the last (measure) dimension
        if not bad.any():
            continue
        where = tuple(int(i[0]) for i in np.nonzero(bad))
        at = {d: var[d].values[i] for d, i in zip(var.dims, where)}
        measure = label.format(at[measure_dim])
        others = [f"{d} {at[d]}" for d in var.dims if d not in ("contract", measure_dim)]
        if others:
            measure += f" ({', '.join(others)})"
        raise NonFiniteResult(source, str(at["contract"]), measure, float(var.values[where]))
    return ds


def measure_row(values: dict[str, float]) -> list[float]:
    """A dict of measures as a row in the order of `MEASURES`."""
    return [values[m] for m in MEASURES]


def summary_arrays(net: np.ndarray, gain_shared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``summary`` and ``summary_se`` of every contract: arrays ``(C, len(MEASURES))``.

    ``net`` and ``gain_shared`` have one row per contract (``(C, S)``).
    """
    values = np.empty((net.shape[0], len(MEASURES)))
    errors = np.empty_like(values)
    for i in range(net.shape[0]):
        v, e = summarize(net[i], gain_shared[i])
        values[i] = measure_row(v)
        errors[i] = measure_row(e)
    return values, errors


def exceedance(exceeds: np.ndarray, guarantee: np.ndarray, simulations: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """P(owed > guarantee) of each contract and its binomial standard error, NaN where no guarantee.

    ``exceeds`` is ``(C, S)`` booleans, or ``(C,)`` counts of ``simulations`` simulations.
    """
    exceeds = np.asarray(exceeds)
    if simulations is None:
        simulations = exceeds.shape[-1]
        counts = exceeds.sum(axis=-1)
    else:
        counts = exceeds
    p = counts / simulations
    se = np.sqrt(p * (1.0 - p) / simulations)
    none = np.isnan(np.asarray(guarantee, dtype=float))
    return np.where(none, np.nan, p), np.where(none, np.nan, se)


def guarantee_vars(guarantee: np.ndarray, p: np.ndarray, se: np.ndarray) -> dict[str, Any]:
    """The Dataset variables of the contracts' financial guarantees (see the module docstring)."""
    return {
        "guarantee": (("contract",), np.asarray(guarantee, dtype=float),
                      {"units": "USD", "long_name": "financial guarantee the contract requires (MSSP repayment "
                                                    "mechanism, 42 CFR 425.204(f)(4)); NaN = none"}),
        "p_owed_exceeds_guarantee": (("contract",), p, {"units": "1", "long_name": "probability that what is "
                                                        "owed under the contract in the year exceeds the guarantee"}),
        "p_owed_exceeds_guarantee_se": (("contract",), se, {"units": "1", "long_name": "Monte Carlo standard "
                                                            "error of p_owed_exceeds_guarantee"}),
    }


def contract_coords(scenario: Scenario) -> dict[str, Any]:
    """The ``contract`` coordinate and its per-contract labels (preset, family, status)."""
    return {
        "contract": [c.name for c in scenario.contracts],
        "preset": ("contract", [c.preset for c in scenario.contracts]),
        "family": ("contract", [c.family for c in scenario.contracts]),
        "status": ("contract", [c.status for c in scenario.contracts]),
    }


def assemble(scenario: Scenario, seed: int, arrays: SimulationArrays) -> xr.Dataset:
    """Build the results Dataset from the per-simulation arrays of a run (``seed``: the run's)."""
    net, gain_shared, expenditure = arrays.net, arrays.gain_shared, arrays.expenditure
    benchmark, panel_cost, quality_score = arrays.benchmark, arrays.panel_cost, arrays.quality_score
    values, errors = summary_arrays(net, gain_shared)
    with np.errstate(invalid="ignore", divide="ignore"):
        savings_rate = (benchmark - expenditure) / benchmark
    p_exceeds, p_exceeds_se = exceedance(arrays.exceeds_guarantee, arrays.guarantee)

    ds = xr.Dataset(
        data_vars={
            "net": (("contract", "sim"), net, {"units": "USD", "long_name": "money to the provider (loss < 0)"}),
            "gain_shared": (("contract", "sim"), gain_shared.astype(np.int8), {"long_name": "shared savings paid (1) or not (0)"}),
            "expenditure": (("contract", "sim"), expenditure, {"units": "USD", "long_name": "panel expenditure the contract settles on"}),
            "benchmark": (("contract",), benchmark.mean(axis=1), {"units": "USD", "long_name": "benchmark the contract compares with (mean over simulations)"}),
            "savings_rate": (("contract", "sim"), savings_rate, {"units": "1", "long_name": "(benchmark - expenditure) / benchmark"}),
            "panel_cost": (("sim",), panel_cost, {"units": "USD", "long_name": "untruncated panel cost"}),
            "quality_score": (("sim",), quality_score, {"units": "1", "long_name": "quality score"}),
            "summary": (("contract", "measure"), values, {"long_name": "risk summary (money in USD, probabilities as fractions)"}),
            "summary_se": (("contract", "measure"), errors, {"long_name": "Monte Carlo standard error of summary"}),
            **guarantee_vars(arrays.guarantee, p_exceeds, p_exceeds_se),
        },
        coords={
            **contract_coords(scenario),
            "sim": np.arange(arrays.first_sim, arrays.first_sim + net.shape[1], dtype=np.int64),
            "measure": list(MEASURES),
        },
        attrs={
            "title": scenario.spec.name,
            "scenario_source": scenario.source,
            "scenario": scenario.text,
            "performance_year": scenario.spec.performance_year,
            "beneficiaries": scenario.n_beneficiaries,
            "panel": panel_description(scenario),
            "seed": seed,
            "simulations": net.shape[1],
            "simsuite_version": __version__,
            "sign_convention": SIGN_CONVENTION,
            "rules": "\n".join(arrays.rules),
        },
    )
    return ds


def panel_description(scenario: Scenario) -> str:
    """What the contracts settle on, in words: beneficiaries, episodes, or both."""
    parts = []
    if any(c.has_benchmark and not c.uses_episodes for c in scenario.contracts):
        parts.append(f"{scenario.n_beneficiaries:,} beneficiaries")
    if any(c.uses_episodes for c in scenario.contracts):
        volumes = ", ".join(f"{e.category} {e.annual_volume:g}/yr" for e in scenario.spec.episodes)
        parts.append(f"episodes: {volumes}")
    return "; ".join(parts) or f"{scenario.n_beneficiaries:,} beneficiaries"


def exact_dataset(scenario: Scenario, values: np.ndarray, errors: np.ndarray, benchmarks: np.ndarray,
                  attrs: dict[str, Any]) -> xr.Dataset:
    """The exact method's results Dataset (`simsuite.engines.exact.run_exact`).

    ``values`` and ``errors`` are ``(C, len(MEASURES))``: the measures and the method's
    own error estimate; ``benchmarks`` ``(C,)`` dollars; ``attrs`` the method's
    diagnostics and settings, to which the provenance is added.
    """
    spec = scenario.spec
    ds = xr.Dataset(
        data_vars={
            "summary": (("contract", "measure"), values,
                        {"long_name": "risk summary (money in USD, probabilities as fractions)"}),
            "summary_se": (("contract", "measure"), np.zeros_like(values),
                           {"long_name": "Monte Carlo standard error of summary (none: exact method)"}),
            "summary_error": (("contract", "measure"), errors,
                              {"long_name": "first-order estimate of the exact method's own error"}),
            "benchmark": (("contract",), benchmarks, {"units": "USD", "long_name": "updated benchmark"}),
        },
        coords={**contract_coords(scenario), "measure": list(MEASURES)},
        attrs={
            **attrs,
            "title": spec.name,
            "method": "exact (FFT)",
            "scenario_source": scenario.source,
            "scenario": scenario.text,
            "performance_year": spec.performance_year,
            "beneficiaries": scenario.n_beneficiaries,
            "simsuite_version": __version__,
            "sign_convention": SIGN_CONVENTION,
        },
    )
    return check_finite(ds)


def sweep_dataset(scenario: Scenario, param_path: str, values: Sequence[Any], seed: int, simulations: int,
                  points: list[xr.Dataset]) -> xr.Dataset:
    """The sweep Dataset from each point's ``summary``, ``summary_se`` and ``benchmark``
    (in the order of ``values``); shared by local and distributed sweeps.

    ``summary(sweep, contract, measure)``, ``summary_se``, ``benchmark(sweep, contract)``;
    coordinate ``sweep`` holds the values, attribute ``param`` the path.
    """
    out = xr.concat(points, dim="sweep", coords="minimal", compat="override", join="outer")
    out = out.assign_coords(sweep=("sweep", _coordinate(values), {"long_name": param_path}))
    out.attrs = {
        "title": scenario.spec.name,
        "param": param_path,
        "scenario_source": scenario.source,
        "scenario": scenario.text,
        "seed": seed,
        "simulations": simulations,
        "beneficiaries": scenario.n_beneficiaries,
        "sign_convention": SIGN_CONVENTION,
    }
    return out


def _coordinate(values: Sequence[Any]) -> np.ndarray:
    """Numbers as a float (or int) array, anything else as strings."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        arr = np.asarray(values)
        return arr.astype(np.int64) if all(isinstance(v, int) for v in values) else arr.astype(float)
    return np.asarray([str(v) for v in values])


def write_netcdf(ds: xr.Dataset, path: str | Path) -> None:
    """Write ``ds`` to ``path`` (netCDF-4). Callers make it atomic (`simsuite.io.files`)."""
    ds.to_netcdf(path, engine="netcdf4")


def assemble_years(scenario: Scenario, seed: int, arrays: AgreementArrays) -> xr.Dataset:
    """The results Dataset of a multi-year run (dims ``contract``, ``sim``, ``year``, ``measure``).

    The single-year layout holds the *cumulative* result over the performance years, so
    that every table, figure, ranking and sweep reads it as it reads a one-year run:

    * ``net(contract, sim)``: the sum of the years' results, dollars;
    * ``gain_shared(contract, sim)``: 1 if shared savings were paid in any year;
    * ``expenditure``, ``savings_rate`` ((sum of benchmarks - sum of expenditures) / sum
      of benchmarks), ``benchmark(contract)`` (mean yearly benchmark), ``panel_cost(sim)``
      (sum over the years), ``quality_score(sim)`` (mean over the years);
    * ``summary(contract, measure)`` and ``summary_se``: the measures of the cumulative result.

    and by year:

    * ``net_by_year``, ``benchmark_by_year``, ``expenditure_by_year``,
      ``savings_rate_by_year`` (contract, sim, year), ``level(contract, year)``,
      ``repayment_mechanism(contract, sim, year)`` (0 where none is required),
      ``owed(contract, sim, year)`` (shared losses owed to the payer),
      ``guardrail(contract, sim, year)``;
    * ``summary_by_year(contract, year, measure)`` and ``summary_by_year_se``;
    * ``p_any_loss_year(contract)``, ``p_loss_above_rm(contract, year)`` (P(the shared losses
      owed for the year exceed its repayment mechanism), where one is required) and
      ``p_loss_above_rm_any(contract)``, each with ``*_se``;
    * ``effort_by_year(sim, year)``: the effort's cost included in ``net_by_year``, if any;

    and with a ``finance`` section the cash flows of `simsuite.results.cashflow.cash_variables`
    (dims ``cash_year``, ``cash_item``, ``finance_measure``: cash by year, net present value,
    lowest balance, payback, the reserve, their summaries and Monte Carlo errors).
    """
    net = arrays.net
    n_c, n_s, n_y = net.shape
    total = net.sum(axis=2)
    gain_any = np.asarray(arrays.gain_shared.any(axis=2))
    values, errors = summary_arrays(total, gain_any)
    by_year = np.empty((n_c, n_y, len(MEASURES)))
    by_year_se = np.empty_like(by_year)
    for p in range(n_y):
        v, e = summary_arrays(net[:, :, p], arrays.gain_shared[:, :, p])
        by_year[:, p], by_year_se[:, p] = v, e
    loss_year = net < 0.0
    p_any = loss_year.any(axis=2).mean(axis=1)
    rm = arrays.repayment_mechanism
    # The shared losses owed to the payer against the guarantee, as in a one-year run: the
    # effort's cost in `net` is not owed to anyone.
    above = (rm > 0.0) & (arrays.owed > rm)
    p_above = above.mean(axis=1)
    p_above_any = above.any(axis=2).mean(axis=1)

    def se(p: np.ndarray) -> np.ndarray:
        return np.sqrt(p * (1.0 - p) / n_s)

    with np.errstate(invalid="ignore", divide="ignore"):
        rate_by_year = (arrays.benchmark - arrays.expenditure) / arrays.benchmark
        bench_total = arrays.benchmark.sum(axis=2)
        rate = (bench_total - arrays.expenditure.sum(axis=2)) / bench_total
    years = np.array(arrays.years, dtype=np.int64)
    horizon = scenario.spec.horizon
    assert horizon is not None
    usd = {"units": "USD"}
    ds = xr.Dataset(
        data_vars={
            "net": (("contract", "sim"), total, {**usd, "long_name": "money to the provider over the years (loss < 0)"}),
            "gain_shared": (("contract", "sim"), gain_any.astype(np.int8),
                            {"long_name": "shared savings paid in any year (1) or not (0)"}),
            "expenditure": (("contract", "sim"), arrays.expenditure.sum(axis=2),
                            {**usd, "long_name": "expenditure the contract settled on, summed over the years"}),
            "benchmark": (("contract",), arrays.benchmark.mean(axis=(1, 2)),
                          {**usd, "long_name": "benchmark, mean over simulations and years"}),
            "savings_rate": (("contract", "sim"), rate, {"units": "1", "long_name": "savings rate over the years"}),
            "panel_cost": (("sim",), arrays.panel_cost.sum(axis=1), {**usd, "long_name": "untruncated panel cost"}),
            "quality_score": (("sim",), arrays.quality_score.mean(axis=1), {"units": "1",
                                                                            "long_name": "mean quality score"}),
            "summary": (("contract", "measure"), values,
                        {"long_name": "risk summary of the result over the years (money in USD)"}),
            "summary_se": (("contract", "measure"), errors, {"long_name": "Monte Carlo standard error of summary"}),
            "net_by_year": (("contract", "sim", "year"), net, {**usd, "long_name": "money to the provider"}),
            "benchmark_by_year": (("contract", "sim", "year"), arrays.benchmark, usd),
            "expenditure_by_year": (("contract", "sim", "year"), arrays.expenditure, usd),
            "savings_rate_by_year": (("contract", "sim", "year"), rate_by_year, {"units": "1"}),
            "repayment_mechanism": (("contract", "sim", "year"), rm,
                                    {**usd, "long_name": "repayment mechanism required (42 CFR 425.204(f)(4))"}),
            "owed": (("contract", "sim", "year"), arrays.owed,
                     {**usd, "long_name": "shared losses owed to the payer (the settlement's loss, without the "
                                          "effort's cost)"}),
            "guardrail": (("contract", "sim", "year"), arrays.guardrail.astype(np.int8),
                          {"long_name": "ACPT loss guardrail applied (42 CFR 425.652(b)(5))"}),
            "level": (("contract", "year"), np.array(arrays.levels, dtype=str), {"long_name": "track or level"}),
            "summary_by_year": (("contract", "year", "measure"), by_year, {"long_name": "risk summary of each year"}),
            "summary_by_year_se": (("contract", "year", "measure"), by_year_se, {}),
            "p_any_loss_year": (("contract",), p_any, {"long_name": "P(a loss in at least one year)"}),
            "p_any_loss_year_se": (("contract",), se(p_any), {}),
            "p_loss_above_rm": (("contract", "year"), p_above,
                                {"long_name": "P(the year's loss exceeds its repayment mechanism)"}),
            "p_loss_above_rm_se": (("contract", "year"), se(p_above), {}),
            "p_loss_above_rm_any": (("contract",), p_above_any, {"long_name": "P(that happens in some year)"}),
            "p_loss_above_rm_any_se": (("contract",), se(p_above_any), {}),
        },
        coords={
            **contract_coords(scenario),
            "sim": np.arange(arrays.first_sim, arrays.first_sim + n_s, dtype=np.int64),
            "year": years,
            "measure": list(MEASURES),
        },
        attrs={
            "title": scenario.spec.name,
            "scenario_source": scenario.source,
            "scenario": scenario.text,
            "performance_year": int(years[0]),
            "years": f"{years[0]}-{years[-1]}",
            "agreement_start": horizon.agreement_start,
            "agreement_number": horizon.agreement_number,
            "beneficiaries": scenario.n_beneficiaries,
            "panel": panel_description(scenario),
            "seed": seed,
            "simulations": n_s,
            "simsuite_version": __version__,
            "sign_convention": SIGN_CONVENTION,
            "notes": "; ".join(dict.fromkeys(n for c in scenario.contracts if isinstance(c, PathContract)
                                             for n in c.plan.notes)),
            "rules": "\n".join(arrays.rules),
        },
    )
    if arrays.effort is not None:
        ds["effort_by_year"] = (("sim", "year"), arrays.effort,
                                {**usd, "long_name": "the effort's cost included in net_by_year (every contract)"})
    if scenario.spec.finance is not None:
        from simsuite.results.cashflow import cash_variables

        data_vars, coords, attrs = cash_variables(scenario, arrays)
        ds = ds.assign_coords(coords).assign(data_vars).assign_attrs(attrs)
    return ds


def assemble_any(scenario: Scenario, seed: int, arrays: SimulationArrays | AgreementArrays) -> xr.Dataset:
    """`assemble` for a one-year run, `assemble_years` for a multi-year one, checked by `check_finite`."""
    ds = assemble_years(scenario, seed, arrays) if isinstance(arrays, AgreementArrays) else \
        assemble(scenario, seed, arrays)
    return check_finite(ds)
