"""The calibrated spread of an ACO's result beyond one year's claims: defaults by panel size.

An ACO's savings rate (benchmark less spending, over the benchmark) varies from its
expectation for reasons simsuite models as named parts, each a scenario field:

* claims noise: the cost model, beneficiary by beneficiary (``cost_model``);
* persistence of beneficiaries' costs and panel churn (``dynamics``);
* benchmark noise: a multi-year run builds the benchmark from its simulated benchmark
  years, whose claims noise it carries;
* the organisation's performance: its cost relative to its benchmark's trend, an AR(1)
  (``organisation.performance_sd``, ``performance_ar``) plus a permanent part
  (``permanent_sd``);
* national and regional trend shocks (``trends.national_sd``, ``regional_sd``);
* quality-score noise (``assumptions.quality_score_sd``).

The defaults of the systemic parts are fitted to (or, for the national trend, estimated from)
CMS's MSSP results, PY2013-2021
(``simsuite/data/variance_defaults.yaml``, `simsuite.tools.calibrate_variance`). The
organisation's part shrinks with the panel's size ``N`` as a power,
``performance_sd(N) = performance_sd(N_ref) (N / N_ref) ** -size_exponent``: larger ACOs
average over more practices [INF], and CMS's results show their systemic spread smaller
(though by less than the ``N ** -0.5`` of claims noise).

A one-year run (no ``horizon``) has no benchmark years and no year-to-year dynamics; it
draws one lognormal factor per simulation on the panel's spending (``assumptions.systemic_sd``)
whose variance is what the calibrated multi-year model adds to that year's claims noise
(`one_year_systemic_sd`): the benchmark's claims noise and the organisation's drift since
the benchmark years.
"""

from __future__ import annotations

import math

from simsuite.data.reference import variance_defaults
from simsuite.scenario.schema import ScenarioSpec


def size_factor(beneficiaries: int) -> float:
    """``(N / N_ref) ** -size_exponent``: the organisation's spread at size ``N`` relative to
    the reference size of the defaults."""
    d = variance_defaults()
    return (max(beneficiaries, 1) / d["reference_beneficiaries"]) ** -d["organisation"]["size_exponent"]["value"]


def performance_sd(spec: ScenarioSpec, beneficiaries: int) -> float:
    """The organisation's persistent-performance log-sd: the scenario's
    ``organisation.performance_sd``, or the calibrated default for a panel of ``beneficiaries``."""
    given = spec.organisation.performance_sd
    if given is not None:
        return given
    return variance_defaults()["organisation"]["performance_sd"]["value"] * size_factor(beneficiaries)


def one_year_systemic_sd(beneficiaries: int, year_of_agreement: int) -> float:
    """Log-sd of a one-year run's systemic factor on the panel's spending (default of
    ``assumptions.systemic_sd``).

    Its square is what the calibrated multi-year model (a first agreement of five years)
    gives for year ``year_of_agreement`` (0 = the first PY, clipped to 0-4) beyond that
    year's claims noise:

    * the benchmark's claims noise, net of its covariance with the year's own claims
      (variance proportional to ``1 / N``);
    * the organisation's drift from its benchmark years (proportional to
      ``N ** (-2 size_exponent)``).

    The national trend is left out: in agreements from 2024 it reaches the savings rate
    through the ACPT's third of the benchmark update, but the ACPT loss guardrail
    (42 CFR 425.652(b)(5)) gives back its downside, which one symmetric factor cannot say;
    the multi-year engine simulates both.

    Parameters
    ----------
    beneficiaries : int
        Panel size ``N``.
    year_of_agreement : int
        Performance year minus the agreement's start year.
    """
    d = variance_defaults()
    table = d["one_year"]
    t = min(max(year_of_agreement, 0), len(table["systemic_variance"]) - 1)
    n_ref = d["reference_beneficiaries"]
    variance_pp = (table["benchmark_claims_variance"][t] * n_ref / max(beneficiaries, 1)
                   + table["systemic_variance"][t] * size_factor(beneficiaries) ** 2)
    return math.sqrt(max(variance_pp, 0.0)) / 100.0


#: The smallest ACOs the fit saw: MSSP's minimum (42 CFR 425.110(a)); the smallest size band's median is 6,050.
FITTED_MIN_BENEFICIARIES = 5000


def spread_note(spec: ScenarioSpec, beneficiaries: int) -> str | None:
    """The run header's line on the calibrated spread a run takes by default, or None when the
    scenario states every systemic part itself: a default fitted to MSSP ACOs must never apply
    unsaid, least of all to a smaller panel or another family (docs/variance.md)."""
    source = "calibrated to CMS's MSSP results PY2013-2021, docs/variance.md"
    outside = (f"; extrapolated below the {FITTED_MIN_BENEFICIARIES:,} beneficiaries of the smallest ACOs fitted"
               if beneficiaries < FITTED_MIN_BENEFICIARIES else "")
    if spec.horizon is None:
        if spec.assumptions.systemic_sd is not None:
            return None
        return (f"spread: systemic factor log-sd {systemic_sd(spec, beneficiaries):.3f} on the panel's spending "
                f"beyond claims noise ({source}; assumptions.systemic_sd overrides){outside}")
    parts = []
    if spec.organisation.performance_sd is None:
        parts.append(f"organisation performance log-sd {performance_sd(spec, beneficiaries):.3f}")
    if "national_sd" not in spec.trends.model_fields_set:
        parts.append(f"national trend log-sd {spec.trends.national_sd:.3f}")
    if not parts:
        return None
    return f"spread: {', '.join(parts)} for {beneficiaries:,} beneficiaries ({source}; organisation and trends override){outside}"


def systemic_sd(spec: ScenarioSpec, beneficiaries: int) -> float:
    """A one-year scenario's systemic log-sd: ``assumptions.systemic_sd``, or the calibrated
    default for its size and year of the agreement (`one_year_systemic_sd`)."""
    a = spec.assumptions
    if a.systemic_sd is not None:
        return a.systemic_sd
    start = a.agreement_start if a.agreement_start is not None else spec.performance_year
    return one_year_systemic_sd(beneficiaries, spec.performance_year - start)

