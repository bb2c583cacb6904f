"""What moves from year to year in a multi-year scenario, per simulation: trends, the
organisation's savings and performance, its quality score, and risk-score growth.

Every draw comes from stream `Stream.DYNAMICS` (quality: `Stream.QUALITY`, uncertain
savings: `Stream.SAVINGS`) keyed by (seed, simulation, index), with the index naming the
year and the component: results never depend on threads, chunks or workers.

Log levels, year ``t = 0, 1, ...`` from the first simulated year (BY1):

* national per capita spending: ``n_t = t log(1 + g) + sum_{u=1..t} (s_n e_u - s_n^2/2)``
  (``g`` the expected trend, ``cost_model.annual_trend``; ``s_n`` = ``trends.national_sd``);
  a trend shock is permanent in the level, as a year of high growth is;
* the region: ``r_t = n_t + sum_{u=1..t} (s_r f_u - s_r^2/2)`` (``trends.regional_sd``);
* the organisation: a permanent part ``p`` (sd ``permanent_sd``) and an AR(1) ``a_t``
  (stationary sd ``performance_sd``, by default fitted for the panel's size,
  `simsuite.model.variance`; coefficient ``performance_ar``), each entering as a
  mean-one factor ``exp(x - sd^2/2)``;
* its true savings ``s_t``: ``assumptions.true_savings`` reached linearly over
  ``organisation.ramp_years`` from ``organisation.effort_start``.

The panel's cost in year ``t`` is its first-year cost times
``exp(r_t) (1 + d)^t (1 - s_t) exp(p - ...) exp(a_t - ...)``: the organisation's costs
follow its region's trend, and its demographic risk growth beyond the nation's ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsuite.kernels.streams import Stream, year_key
from simsuite.model.factors import alternative_draws, quality_scores, simulation_factors, standard_normals
from simsuite.model.variance import performance_sd
from simsuite.scenario.schema import ScenarioSpec

#: Index of a dynamics draw: ``COMPONENTS * year_key(year) + component`` (the permanent part: its
#: component alone, below every year's index since simulated years start after 2000).
COMPONENTS = 8
NATIONAL, REGIONAL, PERFORMANCE, PERMANENT = 0, 1, 2, 3


@dataclass(frozen=True)
class YearFactors:
    """Per-simulation, per-year factors of a multi-year run, arrays of shape ``(S, Y)``.

    Attributes
    ----------
    national, regional : ndarray
        Log per capita spending of the nation and of the region relative to the first
        year (deterministic trend included).
    expected : ndarray, shape (Y,)
        The deterministic part: ``t log(1 + g)``.
    organisation : ndarray
        Log factor of the organisation's own cost level (permanent and AR(1) parts).
    savings : ndarray
        True savings of the organisation's effort in each year, fractions.
    quality : ndarray
        Quality score of each year (fraction).
    alternative : ndarray
        Uniforms deciding whether the alternative quality standard is met in each year.
    demographic : ndarray, shape (Y,)
        Log of the panel's demographic risk relative to the first year beyond the
        nation's (``risk_growth.demographic``): it raises the panel's costs.
    """

    national: np.ndarray
    regional: np.ndarray
    expected: np.ndarray
    organisation: np.ndarray
    savings: np.ndarray
    quality: np.ndarray
    alternative: np.ndarray
    demographic: np.ndarray

    @property
    def cost_log_shift(self) -> np.ndarray:
        """Log of the panel's cost in each year relative to the first year's model cost."""
        return self.regional + self.demographic[None, :] + np.log1p(-self.savings) + self.organisation

    @property
    def regional_shock(self) -> np.ndarray:
        """The region's spending relative to its deterministic trend (a factor, mean about 1)."""
        return np.exp(self.regional - self.expected)

    @property
    def national_shock(self) -> np.ndarray:
        """The nation's spending relative to its deterministic trend."""
        return np.exp(self.national - self.expected)


def _draw_index(year: int, component: int) -> int:
    """Index of a dynamics draw of calendar ``year``: keyed by the year (`year_key`), so a year
    draws the same shock whatever the horizon around it."""
    return COMPONENTS * year_key(year) + component


def _shocks(component: int, sd: float, years: list[int], simulations: int, seed: int, first_sim: int) -> np.ndarray:
    """Mean-one log increments ``sd e_t - sd^2/2`` of the years after the first (which has
    none), shape (S, Y)."""
    out = np.zeros((simulations, len(years)))
    if sd == 0.0:
        return out
    for t in range(1, len(years)):
        z = standard_normals(Stream.DYNAMICS, _draw_index(years[t], component), simulations, seed, first_sim)
        out[:, t] = sd * z - 0.5 * sd * sd
    return out


def savings_path(spec: ScenarioSpec, years: list[int], savings: np.ndarray) -> np.ndarray:
    """True savings of each simulation in each calendar year, fractions, shape (S, Y).

    ``savings`` is each simulation's full saving (``assumptions.true_savings``, fixed or
    drawn); it ramps up linearly over ``ramp_years`` from ``effort_start`` (default: the
    first performance year of a first agreement; BY1 of a renewal, whose benchmark years
    follow years of saving) and is 0 before.
    """
    assert spec.horizon is not None
    org = spec.organisation
    if org.effort_start is not None:
        start = org.effort_start
    elif spec.horizon.agreement_number >= 2:
        # A renewing ACO saved in the years before its agreement (its prior_savings say so): the
        # benchmark years it is rebased on include the saving.
        start = spec.horizon.first_year
    else:
        start = spec.horizon.agreement_start
    ramp = np.array([0.0 if y < start else min(1.0, (y - start + 1) / org.ramp_years) for y in years])
    return savings[:, None] * ramp[None, :]


def year_factors(spec: ScenarioSpec, years: list[int], simulations: int, seed: int, first_sim: int = 0,
                 beneficiaries: int | None = None) -> YearFactors:
    """Every per-simulation, per-year factor of a multi-year scenario (see the module docstring).

    ``beneficiaries`` (the panel's size) sets the default of ``organisation.performance_sd``
    (`simsuite.model.variance.performance_sd`); without it the scenario must give it.
    """
    n_years = len(years)
    trend, org = spec.trends, spec.organisation
    expected = np.arange(n_years) * np.log1p(spec.cost_model.annual_trend)
    national = expected[None, :] + np.cumsum(_shocks(NATIONAL, trend.national_sd, years, simulations, seed,
                                                      first_sim), axis=1)
    regional = national + np.cumsum(_shocks(REGIONAL, trend.regional_sd, years, simulations, seed, first_sim),
                                    axis=1)
    level = np.zeros((simulations, n_years))
    if org.permanent_sd > 0.0:
        p = standard_normals(Stream.DYNAMICS, PERMANENT, simulations, seed, first_sim)  # below every year's index
        level += (org.permanent_sd * p - 0.5 * org.permanent_sd**2)[:, None]
    if beneficiaries is not None:
        performance = performance_sd(spec, beneficiaries)
    elif org.performance_sd is not None:
        performance = org.performance_sd
    else:
        raise ValueError("year_factors: the default organisation.performance_sd depends on the panel's size; "
                         "pass beneficiaries")
    if performance > 0.0:
        phi, sd = org.performance_ar, performance
        # Stationary start in the first year, an innovation in each later one.
        a = sd * standard_normals(Stream.DYNAMICS, _draw_index(years[0], PERFORMANCE), simulations, seed, first_sim)
        for t in range(n_years):
            if t > 0:
                e = standard_normals(Stream.DYNAMICS, _draw_index(years[t], PERFORMANCE), simulations, seed,
                                     first_sim)
                a = phi * a + np.sqrt(1.0 - phi * phi) * sd * e
            level[:, t] += a - 0.5 * sd * sd
    full = simulation_factors(spec.assumptions, simulations, seed, first_sim).savings
    a_ = spec.assumptions
    # Calendar year y's score is draw 2 year_key(y) of the quality stream, its alternative-
    # standard uniform the next (a one-year run uses draws 0 and 1: year 2000, never simulated).
    quality = np.column_stack([quality_scores(a_.quality_score, a_.quality_score_sd, simulations, seed, first_sim,
                                              index=2 * year_key(y)) for y in years])
    alternative = np.column_stack([alternative_draws(simulations, seed, first_sim, index=2 * year_key(y) + 1)
                                   for y in years])
    demographic = np.arange(n_years) * np.log1p(spec.risk_growth.demographic)
    return YearFactors(national=national, regional=regional, expected=expected, organisation=level,
                       savings=savings_path(spec, years, full), quality=quality, alternative=alternative,
                       demographic=demographic)


def risk_ratios(spec: ScenarioSpec, years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The panel's average prospective HCC and demographic risk scores relative to the first
    year, shape (Y,): growing at ``(1 + demographic)(1 + coding) - 1`` and ``demographic``."""
    g = spec.risk_growth
    t = np.arange(len(years))
    return ((1.0 + g.demographic) * (1.0 + g.coding)) ** t, (1.0 + g.demographic) ** t
