"""The multi-year engine: the years of agreement periods, simulated and settled.

A scenario with a ``horizon`` simulates every calendar year from the first agreement's
first benchmark year to its last performance year: the multi-year kernel
(`simsuite.kernels.panel_years`) draws each year's panel totals by enrollment type and
cap, with beneficiaries' costs persisting and the panel churning; the per-year factors
(`simsuite.model.dynamics`) move them with the region's trend and the organisation's
savings and performance. Then

* a path contract (`simsuite.contracts.programs`) settles on the whole history (its
  benchmark built from the simulated benchmark years, rebased at renewal);
* a single-year contract settles each performance year on that year's `PanelYear`
  (`simsuite.engines.settlement_inputs`), with its own rules, as in a one-year run.

The effort's cost (care management, FFS margin lost) is subtracted each year. Results
depend only on the scenario, the seed and the simulations' global indices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from simsuite.contracts import PathContract
from simsuite.contracts.base import UNCAPPED, CapSpec, EpisodeTotals, PanelHistory
from simsuite.engines.montecarlo import BLOCK_UNIT, RunOptions, draw_episodes
from simsuite.engines.settlement_inputs import SettlementInputs, primary_cap
from simsuite.kernels import stream_key
from simsuite.kernels.panel_years import panel_year_totals
from simsuite.kernels.streams import YEAR_SPAN, Stream, episode_stream, year_key
from simsuite.kernels.threads import numba_threads
from simsuite.model.dynamics import YearFactors, risk_ratios, year_factors
from simsuite.model.factors import effort_cost
from simsuite.model.variance import spread_note
from simsuite.results.arrays import AgreementArrays
from simsuite.scenario.load import Scenario


def scenario_in_year(scenario: Scenario, year: int) -> Scenario:
    """``scenario`` as if its performance year were ``year`` (costs trended to it)."""
    return replace(scenario, spec=scenario.spec.model_copy(update={"performance_year": year}))


def simulate_years(inputs: SettlementInputs, totals_caps: np.ndarray, factors: YearFactors, options: RunOptions,
                   keep: float, bands: int, first_year: int,
                   progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Per-simulation, per-year panel totals by cap and cohort, shape ``(S, Y, K, C)``, dollars,
    of the calendar years from ``first_year`` on."""
    panel = inputs.panel
    key = np.uint64(stream_key(np.uint64(options.seed), np.uint64(Stream.PANEL_YEARS)))
    n_years = totals_caps.shape[0]
    out = np.empty((options.simulations, n_years, totals_caps.shape[1], len(panel.cohorts)))
    chunk = max(BLOCK_UNIT, -(-max(1, options.chunk // n_years) // BLOCK_UNIT) * BLOCK_UNIT)
    shift = np.ascontiguousarray(factors.cost_log_shift)
    with numba_threads(options.threads):
        for start in range(0, options.simulations, chunk):
            stop = min(start + chunk, options.simulations)
            panel_year_totals(key, options.first_sim + start, year_key(first_year), YEAR_SPAN, panel.log_mean_expected,
                              np.ascontiguousarray(shift[start:stop]), panel.cohort_start, panel.zero_share,
                              panel.severity, totals_caps, keep, float(bands), out[start:stop])
            if progress is not None:
                progress(stop - start)
    return out


@dataclass(frozen=True)
class AgreementDraws:
    """What a multi-year run draws before it settles, for simulations ``first_sim ..``.

    Attributes
    ----------
    by_year : list of SettlementInputs
        The scenario as of each simulated calendar year (costs trended to it).
    factors : YearFactors
        The per-simulation, per-year factors (trends, the organisation, quality).
    totals : ndarray, shape (S, Y, K, C)
        Panel totals by year, cap and cohort, dollars.
    """

    by_year: list[SettlementInputs]
    factors: YearFactors
    totals: np.ndarray


def draw_agreement(scenario: Scenario, options: RunOptions,
                   progress: Callable[[int], None] | None = None) -> AgreementDraws:
    """Draw the years of simulations ``first_sim .. first_sim + simulations - 1`` of a
    multi-year scenario (the first agreement's benchmark years, then every performance
    year): the per-year factors and the panel totals they move."""
    spec = scenario.spec
    horizon = spec.horizon
    assert horizon is not None
    years = horizon.years
    by_year = [SettlementInputs.of(scenario_in_year(scenario, y)) for y in years]
    caps = np.stack([inp.caps for inp in by_year])  # (Y, K, C)
    factors = year_factors(spec, years, options.simulations, options.seed, options.first_sim,
                           scenario.n_beneficiaries)
    dyn = spec.dynamics
    totals = simulate_years(by_year[0], caps, factors, options, (1.0 - dyn.churn) * dyn.stay, dyn.cost_bands,
                            years[0], progress)
    return AgreementDraws(by_year=by_year, factors=factors, totals=totals)


def path_histories(scenario: Scenario, draws: AgreementDraws) -> dict[CapSpec, PanelHistory]:
    """What the path contracts settle on: one `PanelHistory` per truncation of spending they
    use (none without a path)."""
    caps = dict.fromkeys(c.caps[0] for c in scenario.contracts if isinstance(c, PathContract))
    return {cap: _history(scenario, draws.by_year, draws.totals, draws.factors, cap) for cap in caps}


def simulate_agreement(scenario: Scenario, options: RunOptions,
                       progress: Callable[[int], None] | None = None) -> AgreementArrays:
    """Draw and settle simulations ``first_sim .. first_sim + simulations - 1`` of a
    multi-year scenario: every contract in every performance year."""
    return settle_agreement(scenario, draw_agreement(scenario, options, progress), options)


def settle_agreement(scenario: Scenario, draws: AgreementDraws, options: RunOptions) -> AgreementArrays:
    """Settle every contract in every performance year on ``draws`` (`draw_agreement`)."""
    spec = scenario.spec
    horizon = spec.horizon
    assert horizon is not None
    by_year, factors, totals = draws.by_year, draws.factors, draws.totals
    years, pys = horizon.years, horizon.performance_years
    specs = by_year[0].specs
    histories = path_histories(scenario, draws)
    first_py = years.index(pys[0])
    n_sims, n_py = totals.shape[0], len(pys)
    raw = totals[:, first_py:, specs.index(UNCAPPED), :].sum(axis=-1)  # (S, P)
    effort = _effort(scenario, raw, factors.savings[:, first_py:])
    episodes = _episodes(scenario, by_year, options, first_py)

    n_c = len(scenario.contracts)
    fields = {k: np.zeros((n_c, n_sims, n_py))
              for k in ("net", "benchmark", "expenditure", "repayment_mechanism", "owed")}
    gain = np.zeros((n_c, n_sims, n_py), dtype=bool)
    guard = np.zeros((n_c, n_sims, n_py), dtype=bool)
    levels: list[tuple[str, ...]] = []
    for i, contract in enumerate(scenario.contracts):
        if isinstance(contract, PathContract):
            settled = contract.settle_path(histories[contract.caps[0]])
            fields["net"][i], gain[i] = settled.net, settled.gain_shared
            fields["benchmark"][i], fields["expenditure"][i] = settled.benchmark, settled.expenditure
            fields["repayment_mechanism"][i], guard[i] = settled.repayment_mechanism, settled.guardrail
            levels.append(settled.levels)
            continue
        levels.append(("",) * n_py)
        for p in range(n_py):
            t = first_py + p
            sums = by_year[t].sums(totals[:, t, :, :].sum(axis=-1))
            year = by_year[t].panel_year(contract, sums, factors.quality[:, t], factors.regional_shock[:, t],
                                         None if episodes is None else episodes[p], factors.alternative[:, t])
            result = contract.settle(year)
            fields["net"][i, :, p] = result.net
            gain[i, :, p] = result.gain_shared
            fields["expenditure"][i, :, p] = sums[primary_cap(contract)] if result.expenditure is None \
                else result.expenditure
            fields["benchmark"][i, :, p] = (result.benchmark if result.benchmark is not None
                                            else year.benchmark if contract.has_benchmark else np.nan)
    # What is owed to the payer: the settlement's loss, before the effort's cost, which is
    # not owed to anyone (what a repayment mechanism secures, 425.204(f)).
    fields["owed"] = np.maximum(-fields["net"], 0.0)
    if effort is not None:
        fields["net"] += effort[None, :, :]
    # National per capita spending by performance year (what prepaid shared savings scale by),
    # from the history of the first path; None without a path.
    history = next(iter(histories.values()), None)
    national = None
    if history is not None:
        shares = history.person_years / history.person_years.sum()
        national = (history.national_per_capita[:, first_py:, :] * shares).sum(axis=-1)
    return AgreementArrays(first_sim=options.first_sim, years=tuple(pys), levels=tuple(levels),
                           net=fields["net"], gain_shared=gain, benchmark=fields["benchmark"],
                           expenditure=fields["expenditure"], repayment_mechanism=fields["repayment_mechanism"],
                           owed=fields["owed"], guardrail=guard, panel_cost=raw,
                           quality_score=factors.quality[:, first_py:], rules=_rule_notes(scenario, by_year[first_py:]),
                           effort=effort, national_per_capita=national)


def _rule_notes(scenario: Scenario, by_year: list[SettlementInputs]) -> tuple[str, ...]:
    """The rules in effect a reader must know (`SettlementInputs.rule_notes`), for every
    performance year: the one-year contracts' and each year's contract of every path."""
    lines: list[str] = []
    for p, inputs in enumerate(by_year):
        lines += inputs.rule_notes()
        for contract in scenario.contracts:
            if isinstance(contract, PathContract):
                year_contract = contract.plan.contracts[p]
                lines += year_contract.spec.notes(year_contract.terms, inputs.expected_year(year_contract))
    spread = spread_note(scenario.spec, scenario.n_beneficiaries)
    return merge_years(lines) + (() if spread is None else (spread,))


def merge_years(lines: list[str]) -> tuple[str, ...]:
    """Lines without repeats, those that differ only in one performance year (``PY2027``)
    merged into one with the years' span (``PY2027-2031``), in order of first appearance."""
    years: dict[str, list[int]] = {}
    for line in lines:
        found = re.search(r"PY(\d{4})\b", line)
        template = line if found is None else line[:found.start()] + "PY{}" + line[found.end():]
        if found is not None:
            years.setdefault(template, []).append(int(found.group(1)))
        else:
            years.setdefault(template, [])
    out = []
    for template, ys in years.items():
        if not ys:
            out.append(template)
            continue
        lo, hi = min(ys), max(ys)
        span = str(lo) if lo == hi else f"{lo}-{hi}" if sorted(set(ys)) == list(range(lo, hi + 1)) \
            else ", ".join(map(str, sorted(set(ys))))
        out.append(template.replace("PY{}", f"PY{span}", 1))
    return tuple(out)


def _history(scenario: Scenario, by_year: list[SettlementInputs], totals: np.ndarray,
             factors: YearFactors, cap: CapSpec) -> PanelHistory:
    """The `PanelHistory` a path contract whose spending is truncated at ``cap`` settles on."""
    spec = scenario.spec
    setup = scenario.agreement
    assert setup is not None and spec.horizon is not None
    specs = by_year[0].specs
    panel = by_year[0].panel
    person_years = np.diff(panel.cohort_start).astype(float)
    counts = np.where(person_years > 0, person_years, 1.0)
    truncated = totals[:, :, specs.index(cap), :]  # cap_specs drew every contract's caps
    raw = totals[:, :, specs.index(UNCAPPED), :]
    # The ACO's expected per capita spending without its effort (truncated, deterministic
    # trend, the first year's case mix) sets its region's and the nation's through the
    # scenario's ratios; their simulated trend shocks then move them. Both are risk-neutral
    # growth series: the ACO's own risk growth reaches its benchmark only through the risk
    # ratio (425.605(a)(1)) and, for the regional adjustment, through the case-mix factor the
    # program applies at BY3 (425.656(b)(3)).
    expected = np.stack([inp.costs.expected_by_cohort(inp.caps_for_spec(cap)) / counts for inp in by_year])
    region = spec.region
    regional = expected[None, :, :] / region.aco_to_region * factors.regional_shock[:, :, None]
    national = (expected[None, :, :] / (region.aco_to_region * region.region_to_nation)
                * factors.national_shock[:, :, None])
    # The same, untruncated: its ratio to the truncated puts the region and the nation on the
    # basis of programs that settle on untruncated spending (LEAD, commercial).
    raw_expected = np.stack([inp.costs.expected_by_cohort(inp.caps_for_spec(UNCAPPED)) / counts for inp in by_year])
    hcc, demographic = risk_ratios(spec, spec.horizon.years)
    # The aged/dual share of the mix stands for the dual share when the scenario gives none [INF]:
    # the mix has no dual ESRD or disabled beneficiaries.
    dual = region.dual_share if region.dual_share is not None else float(spec.population.mix.aged_dual)
    risk_score = float(np.mean(panel.risk_score))  # the panel's first-year prospective HCC score
    return PanelHistory(years=np.array(spec.horizon.years), person_years=person_years, truncated=truncated, raw=raw,
                        regional_per_capita=regional, national_per_capita=national, hcc_ratio=hcc,
                        demographic_ratio=demographic, risk_score=risk_score, quality=factors.quality,
                        alternative_draw=factors.alternative, facts=scenario.facts, aco_share=region.aco_share,
                        dual_share=dual, setup=setup,
                        untruncated_ratio=np.divide(raw_expected, expected, out=np.ones_like(expected),
                                                    where=expected > 0))


def _effort(scenario: Scenario, raw: np.ndarray, savings: np.ndarray) -> np.ndarray | None:
    """The effort's cost in each simulation and performance year (never positive), or None."""
    a = scenario.spec.assumptions
    if a.care_management_pmpm == 0.0 and a.ffs_margin_lost == 0.0:
        return None
    months = 12 * scenario.n_beneficiaries
    return np.column_stack([effort_cost(a, months, raw[:, p], savings[:, p]) for p in range(raw.shape[1])])


def _episodes(scenario: Scenario, by_year: list[SettlementInputs], options: RunOptions,
              first_py: int) -> list[EpisodeTotals] | None:
    """Each performance year's episode totals (a stream of their own per calendar year), or None."""
    pricing = by_year[0].episodes
    if pricing is None:
        return None
    out = []
    for p in range(len(by_year) - first_py):
        year_pricing = by_year[first_py + p].episodes
        assert year_pricing is not None
        out.append(draw_episodes(year_pricing, options.seed, options.simulations, sim_start=options.first_sim,
                                 threads=options.threads, chunk=options.chunk,
                                 stream=episode_stream(scenario.spec.performance_year + p)))
    return out
