"""The multi-year sections of a scenario: the horizon, and what moves from year to year.

A scenario with a ``horizon`` simulates the years of one or more agreement periods:
its benchmark years and performance years, beneficiaries whose costs persist and who
come and go (``dynamics``), an organisation whose savings ramp up and whose
performance persists (``organisation``), national and regional trends (``trends``),
risk-score growth (``risk_growth``) and the ACO's region (``region``). Contracts are
then paths through a program's tracks over the years (``contracts[i].path``, e.g.
"BASIC A then glide"; `simsuite.contracts.programs`), or single-year contracts repeated
each year. A scenario without a horizon runs one year.

The defaults of the spread parameters (``organisation.*``, ``trends.*_sd``) are fitted to
CMS's MSSP results, PY2013-2021 (`simsuite.data.reference.variance_defaults`;
`simsuite.model.variance` says what each part is); the beneficiary persistence and churn
defaults are calibrated to and taken from published figures
(`simsuite.data.reference.dynamics_defaults`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.contracts.base import AGREEMENT_YEARS
from simsuite.data.reference import dynamics_defaults, variance_defaults
from simsuite.errors import FieldProblem

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]

#: Benchmark years before an agreement (42 CFR 425.652(a)).
BENCHMARK_YEARS = 3


class Horizon(BaseModel):
    """The agreement periods a scenario simulates.

    Attributes
    ----------
    agreement_start : int
        First performance year of the first simulated agreement period. Its three
        benchmark years, the years before it, are simulated too.
    agreement_number : int
        That agreement's number for the ACO: 1 = its first (10/30/60 benchmark-year
        weights, no prior savings adjustment); 2 or more = a renewal.
    agreements : int
        Agreement periods simulated, one after another (each renewal rebuilds the
        benchmark from the last three simulated years).
    early_renewal_after : int or None
        Renew early after this many performance years of each agreement (2 to 4).
    prior_savings : list of 3 floats or None
        For a renewing ACO (``agreement_number`` >= 2): its savings rates in the three
        performance years before ``agreement_start`` (fractions of the benchmark, losses
        negative), for the prior savings adjustment (42 CFR 425.658).
    experienced : bool
        Experienced with performance-based risk (42 CFR 425.600(g)(2)): BASIC Level E or
        ENHANCED only.
    acpt : float or None
        The Accountable Care Prospective Trend: annual growth fixed at each agreement's
        start (425.652(b), 425.660). Default: ``cost_model.annual_trend`` (CMS projects
        national growth; the expected trend is the scenario's best guess of it).
    """

    model_config = _STRICT
    agreement_start: Annotated[int, Field(ge=2013, le=2040)]
    agreement_number: Annotated[int, Field(ge=1, le=9)] = 1
    agreements: Annotated[int, Field(ge=1, le=4)] = 1
    early_renewal_after: Annotated[int, Field(ge=2, le=4)] | None = None
    prior_savings: Annotated[list[Annotated[float, Field(gt=-0.5, lt=0.5)]],
                             Field(min_length=3, max_length=3)] | None = None
    experienced: bool = False
    acpt: Annotated[float, Field(gt=-0.2, lt=0.3)] | None = None

    @model_validator(mode="after")
    def _renewal_has_prior_savings(self) -> Horizon:
        if self.agreement_number >= 2 and self.prior_savings is None:
            raise FieldProblem(("prior_savings",), "a renewing ACO (agreement_number 2 or more) needs its savings "
                                                   "rates of the three prior performance years, e.g. [0.02, 0.03, 0.01] "
                                                   "(42 CFR 425.658 prior savings adjustment)")
        if self.early_renewal_after is not None and self.agreements == 1:
            raise FieldProblem(("early_renewal_after",), "renews early into a next agreement: set agreements to 2 "
                                                         "or more (the last simulated agreement runs its 5 years)")
        if self.agreement_number == 1 and self.prior_savings is not None:
            raise FieldProblem(("prior_savings",), "a first agreement has no prior savings adjustment; "
                                                   "remove prior_savings or set agreement_number")
        return self

    @property
    def years_per_agreement(self) -> int:
        """Performance years of each simulated agreement but the last (shortened by early renewal)."""
        return self.early_renewal_after or AGREEMENT_YEARS

    @property
    def performance_years(self) -> list[int]:
        """Calendar years of every simulated performance year: early renewal shortens every
        agreement but the last, which runs its five years."""
        n = (self.agreements - 1) * self.years_per_agreement + AGREEMENT_YEARS
        return list(range(self.agreement_start, self.agreement_start + n))

    @property
    def first_year(self) -> int:
        """The first simulated calendar year (BY1 of the first agreement)."""
        return self.agreement_start - BENCHMARK_YEARS

    @property
    def years(self) -> list[int]:
        """Every simulated calendar year: the first agreement's benchmark years, then its PYs."""
        return list(range(self.first_year, self.performance_years[-1] + 1))


def _default_churn() -> float:
    return float(dynamics_defaults()["churn"]["value"])


def _default_stay() -> float:
    return float(dynamics_defaults()["stay"]["value"])


def _fitted(section: str, name: str) -> float:
    """A default of the variance model (``simsuite/data/variance_defaults.yaml``)."""
    return float(variance_defaults()[section][name]["value"])


class PanelDynamics(BaseModel):
    """Beneficiaries over the years (``dynamics:``).

    Attributes
    ----------
    churn : float
        Share of the assigned beneficiaries replaced each year (a newcomer brings no cost
        history). Default: 15.6% (84.38% of 2013 assignees stayed with the same ACO in
        2014: Leighton et al., Am J Manag Care 2019).
    stay : float
        Probability that a beneficiary who stays keeps their decile of the cost
        distribution next year (their position within it drawn afresh). Default:
        calibrated so that 28.1% of the costliest tenth stay in it for both following
        years (Health Affairs 2019, doi:10.1377/hlthaff.2018.05160).
    cost_bands : int
        Bands of the cost distribution a beneficiary keeps (10: deciles).
    """

    model_config = _STRICT
    churn: Fraction = Field(default_factory=_default_churn)
    stay: Fraction = Field(default_factory=_default_stay)
    cost_bands: Annotated[int, Field(ge=1, le=1000)] = 10


class OrganisationDynamics(BaseModel):
    """The organisation over the years (``organisation:``).

    The cost of the organisation's whole panel moves each year by the factor
    ``(1 - s_t) exp(p + a_t)``: ``s_t`` its true savings (``assumptions.true_savings``,
    reached linearly over ``ramp_years`` from ``effort_start``); ``p`` a permanent part,
    normal with sd ``permanent_sd``, drawn once per simulation; ``a_t`` a persistent part,
    an AR(1) with coefficient ``performance_ar`` and stationary sd ``performance_sd``.
    Both enter the benchmark years as they enter the performance years, so the savings
    rate sees ``a_t`` drift from its benchmark years' values, and ``p`` only through the
    regional adjustment.

    Attributes
    ----------
    effort_start : int or None
        First calendar year of the savings effort (default: the first performance year; for a
        renewing ACO, ``agreement_number`` >= 2, BY1, since its benchmark years follow years of saving).
    ramp_years : int
        Years to reach the full saving (1 = at once).
    performance_sd : float or None
        Log-scale stationary sd of the persistent part. Default (None): fitted to CMS's
        MSSP results, PY2013-2021, for the panel's size: ``performance_sd(N_ref) (N /
        N_ref) ** -size_exponent`` (`simsuite.model.variance.performance_sd`).
    performance_ar : float
        Year-to-year correlation of the persistent part (default fitted with it).
    permanent_sd : float
        Log-scale sd of the permanent part. Default 0: it cancels from the savings rate
        (in the benchmark years too) except through the regional adjustment, so CMS's
        results cannot measure it.
    """

    model_config = _STRICT
    effort_start: Annotated[int, Field(ge=2000, le=2050)] | None = None
    ramp_years: Annotated[int, Field(ge=1, le=10)] = 1
    performance_sd: Annotated[float, Field(ge=0.0, le=0.5)] | None = None
    performance_ar: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default_factory=lambda: _fitted("organisation", "performance_ar"))
    permanent_sd: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        default_factory=lambda: _fitted("organisation", "permanent_sd"))


class TrendDynamics(BaseModel):
    """National and regional per capita spending growth (``trends:``).

    Expected growth is ``cost_model.annual_trend`` everywhere. Each year national growth
    deviates from it by a normal shock with sd ``national_sd`` (log scale), and the
    region's growth deviates from the nation's by another with sd ``regional_sd``. The
    organisation's costs follow its region; its benchmark is updated by the
    national-regional blend and the ACPT.

    Defaults (``simsuite/data/variance_defaults.yaml``): ``national_sd`` the sd of the
    yearly growth of CMS's published benchmarks of continuing ACOs (a national shock is
    common to every ACO of a year, so the year-demeaned results the rest is fitted to
    cannot show it); ``regional_sd`` 0: in CMS's results a region's growth beyond the
    nation's moved savings rates as the organisation's own drift does (benchmarks were
    updated by national growth until 2017-2019 agreements), and the fitted organisation
    part carries both.
    """

    model_config = _STRICT
    national_sd: Annotated[float, Field(ge=0.0, le=0.2)] = Field(
        default_factory=lambda: _fitted("trends", "national_sd"))
    regional_sd: Annotated[float, Field(ge=0.0, le=0.2)] = Field(
        default_factory=lambda: _fitted("trends", "regional_sd"))


class RiskGrowth(BaseModel):
    """Annual growth of the panel's average risk scores beyond the nation's (``risk_growth:``),
    fractions per year.

    The trends (``cost_model.annual_trend``, ``trends``) are growth of risk-adjusted per
    capita spending, as CMS's benchmark update uses it; these fields are how much faster
    the ACO's own risk scores grow. ``demographic``: its demographic risk score, which
    raises its costs too (an older panel costs more); ``coding``: prospective HCC score
    growth beyond it (coding intensity), which does not. The HCC score grows at
    ``(1 + demographic)(1 + coding) - 1`` a year; MSSP's benchmark follows it up to the cap
    of 42 CFR 425.605(a)(1), so coding raises the benchmark, never the costs.
    """

    model_config = _STRICT
    demographic: Annotated[float, Field(gt=-0.2, lt=0.2)] = 0.0
    coding: Annotated[float, Field(gt=-0.2, lt=0.2)] = 0.0


class Region(BaseModel):
    """The ACO's regional service area (``region:``), as the MSSP benchmark rules need it.

    Attributes
    ----------
    aco_to_region : float
        The ACO's risk-adjusted per capita spending absent its savings effort, over its
        region's (0.9: 10% below its region, a "lower-spending" ACO).
    region_to_nation : float
        The region's per capita spending over the nation's.
    aco_share : float
        Share of the region's assignable beneficiaries assigned to the ACO: the weight of
        national growth in the trend blend (425.652(a)(5)(iv), (b)(2)(iii)).
    dual_share : float or None
        Share of the ACO's BY3 assigned beneficiaries dually eligible (the negative
        regional adjustment's offset, 425.656(c)(4)); default: the panel's aged/dual share.
    dual_lis_share : float or None
        Share dually eligible or enrolled in the Part D low-income subsidy. From 2025 an ACO
        with 15% or more may get a population (health equity) benchmark adjustment whose
        formula simsuite does not hold, so such agreements are refused; default: the dual share.
    """

    model_config = _STRICT
    aco_to_region: Annotated[float, Field(gt=0.2, lt=5.0)] = 1.0
    region_to_nation: Annotated[float, Field(gt=0.2, lt=5.0)] = 1.0
    aco_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    dual_share: Fraction | None = None
    dual_lis_share: Fraction | None = None
