"""The scenario file's schema: every section and field, with its defaults and checks.

A scenario has these sections: the header fields (``name``, ``performance_year``),
``population``, ``cost_model``, ``assumptions``, ``contracts``, ``episodes``,
``risk_appetite`` and ``run``; a multi-year one adds ``horizon`` and the sections of
`simsuite.scenario.horizon`, and may add ``finance`` (`simsuite.scenario.finance`). Every field is documented in ``scenarios/aco-5000.yaml``.
Rates are fractions; money is dollars. Models are strict (unknown fields, wrong types
and non-finite numbers are refused) and frozen.

This module holds the declarations only; `simsuite.scenario.load` reads a file,
resolves the contracts and turns validation errors into one-line messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.data.reference import ENROLLMENT_TYPES, PUF_YEAR, default_shape, national_ffs_2018
from simsuite.errors import FieldProblem
from simsuite.formatting import money
from simsuite.scenario.finance import Finance
from simsuite.scenario.horizon import (
    Horizon,
    OrganisationDynamics,
    PanelDynamics,
    Region,
    RiskGrowth,
    TrendDynamics,
)

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(gt=0.0)]

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class ByType(BaseModel):
    """One number per Medicare enrollment type."""

    model_config = _STRICT
    esrd: float
    disabled: float
    aged_dual: float
    aged_non_dual: float

    def as_dict(self) -> dict[str, float]:
        return {t: getattr(self, t) for t in ENROLLMENT_TYPES}


def _default_mix() -> ByType:
    return ByType(**national_ffs_2018()["share"])


def _default_means() -> ByType:
    return ByType(**national_ffs_2018()["mean"])


class RiskScoreSpec(BaseModel):
    """Spread of HCC risk scores within each enrollment type (lognormal, mean 1)."""

    model_config = _STRICT
    cv: Annotated[float, Field(ge=0.0, le=5.0)] = 0.8


class Population(BaseModel):
    """Who is in the panel: a size and a mix (a representative panel is generated), or a
    ``patients_file`` (CSV: ``id``, ``enrollment_type``, ``risk_score``; see
    `simsuite.scenario.owndata`) whose rows are the beneficiaries."""

    model_config = _STRICT
    beneficiaries: Annotated[int, Field(gt=0, le=10_000_000)] | None = None
    mix: ByType = Field(default_factory=_default_mix)
    risk_score: RiskScoreSpec = Field(default_factory=RiskScoreSpec)
    patients_file: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _size_given(self) -> Population:
        if self.patients_file is None and self.beneficiaries is None:
            raise FieldProblem(("beneficiaries",), "required field is missing (or give a patients_file)")
        if self.patients_file is not None and "mix" in self.model_fields_set:
            raise FieldProblem(("mix",), "the patients_file sets the mix; remove mix")
        return self

    @model_validator(mode="after")
    def _mix_is_a_distribution(self) -> Population:
        values = self.mix.as_dict()
        for t, v in values.items():
            if not 0.0 <= v <= 1.0:
                raise FieldProblem(("mix", t), f"must be a fraction in [0, 1] (got {v})")
        total = sum(values.values())
        if abs(total - 1.0) > 1e-6:
            raise FieldProblem(("mix",), f"shares must add up to 1 (they add up to {total:.6g})")
        return self


class CostModelSpec(BaseModel):
    """Per-beneficiary annual cost model (see `simsuite.model.costmodel`)."""

    model_config = _STRICT
    mean_cost: ByType = Field(default_factory=_default_means)
    mean_cost_year: Annotated[int, Field(ge=2000, le=2100)] = PUF_YEAR
    annual_trend: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.03
    # Shape defaults are the calibration in simsuite/data/cost_model_defaults.yaml
    # (`simsuite calibrate`), read when a scenario is validated, never constants here.
    zero_cost_share: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default_factory=lambda: default_shape()["zero_share"])
    # Set: a single lognormal with this log-sd (tail off), as before the mixture model.
    severity_sigma: Annotated[float, Field(gt=0.0, le=5.0)] | None = None
    tail_weight: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default_factory=lambda: default_shape()["tail_weight"])
    body_sigma: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        default_factory=lambda: default_shape()["body_sigma"])
    tail_sigma: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        default_factory=lambda: default_shape()["tail_sigma"])
    tail_mean_ratio: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        default_factory=lambda: default_shape()["tail_mean_ratio"])
    risk_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        default_factory=lambda: default_shape()["risk_elasticity"])
    # Dollars (of the performance year) replacing the model's 99th-percentile truncation thresholds.
    truncation_by_type: ByType | None = None
    # The organisation's own annual costs (CSV), resampled instead of the parametric model.
    bootstrap_file: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _positive_means(self) -> CostModelSpec:
        for t, v in self.mean_cost.as_dict().items():
            if v <= 0:
                raise FieldProblem(("mean_cost", t), f"must be a positive dollar amount (got {v})")
        if self.truncation_by_type is not None:
            for t, v in self.truncation_by_type.as_dict().items():
                if v <= 0:
                    raise FieldProblem(("truncation_by_type", t), f"must be a positive dollar amount (got {v})")
        if self.severity_sigma is not None:
            mixed = sorted({"tail_weight", "body_sigma", "tail_sigma", "tail_mean_ratio"} & self.model_fields_set)
            if mixed:
                raise FieldProblem((mixed[0],), "severity_sigma sets a single lognormal; remove it to use "
                                                "the body/tail mixture")
        return self


class SavingsDistribution(BaseModel):
    """Uncertain true savings: normal with this mean and sd (fractions), drawn per simulation."""

    model_config = _STRICT
    mean: Annotated[float, Field(gt=-0.5, lt=0.5)]
    sd: Annotated[float, Field(ge=0.0, le=0.2)]

    @model_validator(mode="after")
    def _stays_credible(self) -> SavingsDistribution:
        # Draws are clipped to [-0.9, 0.9] (the cost factor 1 - s must stay positive);
        # 5 sd of room keeps the clipping immaterial (probability < 3e-7 per simulation).
        limit = (0.9 - abs(self.mean)) / 5.0
        if self.sd > limit:
            raise FieldProblem(("sd",), f"{self.sd} is too wide for a mean of {self.mean} "
                                        f"(at most {limit:.3g}: savings must stay within +-90%)")
        return self


class Assumptions(BaseModel):
    """What the organisation expects of its benchmark, its savings and its quality.

    Money fields are from the provider's side; costs of the organisation's effort
    (``care_management_pmpm``, ``ffs_margin_lost``) are entered as positive numbers and
    subtracted from every contract's net (see `simsuite.model.factors.effort_cost`).
    """

    model_config = _STRICT
    benchmark_margin: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.0
    true_savings: Annotated[float, Field(gt=-0.5, lt=0.5)] | SavingsDistribution = 0.0
    # Panel's average HCC risk score in the benchmark's base year (overall, or by type); the
    # benchmark follows the current score under each contract family's cap on risk growth
    # (MSSP: 3%, or demographic growth + 3 points from 2024 agreements; REACH/LEAD: +-3%;
    # capitation: none). None: no growth.
    benchmark_risk_score: Annotated[float, Field(gt=0.0, le=20.0)] | ByType | None = None
    # Growth of the panel's demographic risk score since the base year (fraction, overall or
    # by type): MSSP agreements from 2024 cap HCC growth at it + 3 points (425.605(a)(1)(ii)).
    demographic_risk_growth: Annotated[float, Field(gt=-0.5, lt=1.0)] | ByType | None = None
    # Panel's average HCC risk score in 2019 (REACH PY2026 caps growth 2019 -> 2026 at 3%).
    risk_score_2019: Annotated[float, Field(gt=0.0, le=20.0)] | ByType | None = None
    # Calendar year the agreement period started (MSSP rules differ by it). None: the
    # performance year (a new agreement), said in the run header.
    agreement_start: Annotated[int, Field(ge=2012, le=2040)] | None = None
    cost_trend_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    benchmark_trend_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    trend_correlation: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    # Log-sd of one factor per simulation on the panel's spending beyond its claims noise (a one-year run):
    # where its benchmark lands and the organisation's drift since the benchmark years (not the national
    # trend: cost_trend_sd and benchmark_trend_sd carry that). None: the calibrated default for the panel's size and year of the agreement (fitted to CMS's
    # MSSP results, simsuite.model.variance); 0: claims noise only. A horizon has its own parts.
    systemic_sd: Annotated[float, Field(ge=0.0, le=0.5)] | None = None
    care_management_pmpm: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    ffs_margin_lost: Fraction = 0.0
    quality_score: Fraction = 0.90
    quality_score_sd: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    # None: each simulation's standard follows its drawn score (MSSP: met at or above the
    # year's threshold; else the alternative standard with alternative_standard_probability).
    quality_standard: Literal["met", "alternative", "not_met"] | None = None
    # The score (fraction) at which the quality standard is met; None: the year's published value.
    quality_threshold: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    # Probability that the alternative quality standard is met when the score misses the threshold.
    alternative_standard_probability: Fraction | None = None
    participant_revenue_to_benchmark: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    # None: derived from participant_revenue_to_benchmark by the 35% test (42 CFR 425.20).
    low_revenue: bool | None = None

    @property
    def savings_mean(self) -> float:
        """Expected true savings (fraction), whether fixed or uncertain."""
        ts = self.true_savings
        return ts.mean if isinstance(ts, SavingsDistribution) else float(ts)

    @model_validator(mode="after")
    def _benchmark_risk_positive(self) -> Assumptions:
        for name in ("benchmark_risk_score", "risk_score_2019"):
            value = getattr(self, name)
            if isinstance(value, ByType):
                for t, v in value.as_dict().items():
                    if not 0.0 < v <= 20.0:
                        raise FieldProblem((name, t), f"must be a positive risk score (got {v})")
        if isinstance(self.demographic_risk_growth, ByType):
            for t, v in self.demographic_risk_growth.as_dict().items():
                if not -0.5 < v < 1.0:
                    raise FieldProblem(("demographic_risk_growth", t), f"must be a growth fraction in (-0.5, 1) (got {v})")
        for name in ("demographic_risk_growth", "risk_score_2019"):
            if getattr(self, name) is not None and self.benchmark_risk_score is None:
                raise FieldProblem((name,), "is read only with benchmark_risk_score (the base-year risk score); "
                                            "give it or remove this field")
        if self.quality_threshold is not None and self.quality_standard is not None:
            raise FieldProblem(("quality_threshold",), "quality_standard already fixes the standard in every "
                                                       "simulation; give one of the two")
        return self

    @model_validator(mode="after")
    def _quality_spread_fits(self) -> Assumptions:
        q, sd = self.quality_score, self.quality_score_sd
        if sd > 0 and sd * sd >= q * (1.0 - q):
            limit = (q * (1.0 - q)) ** 0.5
            raise FieldProblem(
                ("quality_score_sd",),
                f"{sd} is too wide for a mean quality score of {q} (must be below {limit:.3g})",
            )
        return self


class ContractSpec(BaseModel):
    """One contract of the comparison: a preset with optional overrides of its terms, a
    custom contract built from a family's terms (``family``, ``terms`` and ``name``), or,
    in a scenario with a ``horizon``, a path through a program's tracks (``path`` and
    ``name``)."""

    model_config = _STRICT
    preset: str | None = None
    name: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    family: str | None = None
    terms: dict[str, Any] = Field(default_factory=dict)
    path: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _preset_or_custom(self) -> ContractSpec:
        given = sum(x is not None for x in (self.preset, self.family, self.path))
        if given != 1:
            raise FieldProblem(("preset",), "give exactly one of a preset, a family with terms, or a path")
        if self.family is not None and not self.name:
            raise FieldProblem(("name",), "a custom contract needs a name")
        if self.path is not None and not self.name:
            raise FieldProblem(("name",), "a path needs a name (e.g. \"BASIC A, glide to E\")")
        if self.family is not None and self.overrides:
            raise FieldProblem(("overrides",), "a custom contract takes terms, not overrides")
        if self.path is not None and self.overrides:
            raise FieldProblem(("overrides",), "a path takes its overrides under path.overrides")
        return self


class RunSettings(BaseModel):
    """How to run the simulation."""

    model_config = _STRICT
    simulations: Annotated[int, Field(ge=100, le=100_000_000)] = 20_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 20240101
    threads: Annotated[int, Field(ge=1, le=1024)] | None = None


# The five TEAM episode categories are surgical; any other category names its group
# itself when a contract prices by group (BPCI Advanced: medical 2%, surgical 3%).
SURGICAL_CATEGORIES = frozenset({"LEJR", "SHFFT", "SPINAL_FUSION", "CABG", "MAJOR_BOWEL"})
MAX_VOLUME = 1_000_000


class EpisodeSpec(BaseModel):
    """One episode category of the hospital (a row of the scenario's ``episodes:``).

    Attributes
    ----------
    category : str
        Episode category as the contracts name it: ``LEJR``, ``SHFFT``,
        ``SPINAL_FUSION``, ``CABG``, ``MAJOR_BOWEL`` (TEAM, CJR) or a BPCI Advanced
        clinical episode name.
    group : {"medical", "surgical"} or None
        Group for contracts that price by group (BPCI Advanced); the five TEAM
        categories default to ``surgical``.
    annual_volume : float
        Expected episodes per year (> 0).
    volume_model : {"poisson", "fixed"}
        ``poisson``: each simulation draws a Poisson count with mean ``annual_volume``;
        ``fixed``: exactly ``annual_volume`` episodes (must be a whole number).
    mean_cost : float
        Benchmark mean spending per episode, dollars, including complications, before
        any contract discount and without the hospital's effort.
    cost_cv : float
        Coefficient of variation of the log-normal body cost (without complications).
    complication_rate : float
        Probability that an episode has a complication or readmission (fraction).
    complication_cost : float or None
        Mean extra cost of a complication, dollars; required if ``complication_rate > 0``.
    complication_cv : float
        Coefficient of variation of the log-normal extra cost (a heavy right tail).
    true_savings : float
        The hospital's effect: every episode costs ``1 - true_savings`` times the
        benchmark distribution (0.03 = 3% cheaper; negative = costlier).
    """

    model_config = _STRICT

    category: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z][A-Za-z0-9_ .&/-]*$")]
    group: Literal["medical", "surgical"] | None = None
    annual_volume: Annotated[float, Field(gt=0.0, le=MAX_VOLUME)]
    volume_model: Literal["poisson", "fixed"] = "poisson"
    mean_cost: Annotated[float, Field(gt=0.0, le=1e8)]
    cost_cv: Annotated[float, Field(gt=0.0, le=5.0)] = 0.35
    complication_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    complication_cost: Annotated[float, Field(gt=0.0, le=1e8)] | None = None
    complication_cv: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    true_savings: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> EpisodeSpec:
        if self.volume_model == "fixed" and self.annual_volume != round(self.annual_volume):
            raise FieldProblem(("annual_volume",),
                               f"a fixed volume must be a whole number of episodes (got {self.annual_volume})")
        if self.complication_rate > 0 and self.complication_cost is None:
            raise FieldProblem(("complication_cost",), "required when complication_rate is above 0")
        if self.body_mean <= 0:
            raise FieldProblem(
                ("complication_cost",),
                f"complication_rate x complication_cost = {self.complication_rate * (self.complication_cost or 0):,.0f} "
                f"leaves nothing of mean_cost {self.mean_cost:,.0f} for the episode itself",
            )
        return self

    @property
    def pricing_group(self) -> str | None:
        """``group``, or ``surgical`` for the five TEAM categories."""
        if self.group is not None:
            return self.group
        return "surgical" if self.category in SURGICAL_CATEGORIES else None

    @property
    def body_mean(self) -> float:
        """Mean body cost, dollars: ``mean_cost`` less the expected complication cost."""
        return self.mean_cost - self.complication_rate * (self.complication_cost or 0.0)



class RiskAppetite(BaseModel):
    """How much risk the organisation accepts (``risk_appetite:`` section of a scenario).

    Every field is optional; an empty appetite ranks contracts by expected result.

    Attributes
    ----------
    max_var95 : float or None
        Largest acceptable 1-in-20 loss (VaR95), dollars per year (positive = a loss).
    max_tvar95 : float or None
        Largest acceptable mean loss in the worst 5% of years (TVaR95), dollars.
    max_p_loss : float or None
        Largest acceptable probability of any loss, a fraction (0.1 = 10%).
    min_expected_result : float or None
        Smallest acceptable expected result, dollars per year (may be negative).
    risk_aversion : float or None
        Coefficient ``a`` of the exponential utility ``u(x) = -exp(-a x)``, per dollar;
        when given, contracts are ranked by their certainty equivalent
        ``-log(E[exp(-a net)]) / a`` instead of their expected result. ``1/a`` is the
        risk tolerance: with ``a = 1e-6`` (a tolerance of $1M) a 50-50 gamble of
        +$1M or -$1M is worth the same as a sure loss of $0.43M.
    min_cash_balance : float or None
        Lowest acceptable cumulative cash balance, dollars (negative: the most cash the
        organisation can put in before the agreement pays back), checked on the 1-in-20 low
        point. Only with a ``finance`` section.

    With a horizon and a ``finance`` section the limits apply to the whole agreement
    (`simsuite.analysis.decision`): ``max_p_loss`` to the chance that the cash over the
    agreement sums to a loss, ``max_var95`` and ``max_tvar95`` to that sum's 1-in-20 loss
    and tail mean, ``min_expected_result`` to the expected net present value, and paths
    are ranked by expected net present value (or its certainty equivalent).
    """

    model_config = _STRICT

    max_var95: Annotated[float, Field(ge=0.0)] | None = None
    max_tvar95: Annotated[float, Field(ge=0.0)] | None = None
    max_p_loss: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    min_expected_result: float | None = None
    risk_aversion: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    min_cash_balance: float | None = None

    def limits(self) -> list[Limit]:
        """The limits that are set, in a fixed order."""
        out = []
        for field, measure in (("max_var95", "VaR95"), ("max_tvar95", "TVaR95"), ("max_p_loss", "p_loss")):
            value = getattr(self, field)
            if value is not None:
                out.append(Limit(measure, value, upper=True))
        if self.min_expected_result is not None:
            out.append(Limit("mean", self.min_expected_result, upper=False))
        return out

    def is_empty(self) -> bool:
        """Whether no limit and no risk aversion are set."""
        return not self.limits() and self.risk_aversion is None and self.min_cash_balance is None


_LABELS = {
    "VaR95": "1-in-20 loss",
    "TVaR95": "average loss in the worst 1-in-20 years (TVaR95)",
    "p_loss": "probability of a loss",
    "mean": "expected result",
    # The agreement's measures (`simsuite.analysis.decision`).
    "p_cumulative_loss": "probability of a loss over the agreement",
    "cumulative_VaR95": "1-in-20 loss over the agreement",
    "cumulative_TVaR95": "average loss over the agreement in the worst 1-in-20 cases",
    "npv": "expected net present value",
    "cash_low_1in20": "1-in-20 lowest cash balance",
}


@dataclass(frozen=True)
class Limit:
    """One limit: a measure of `simsuite.results.risk.MEASURES` and its bound.

    ``upper=True``: the measure must not exceed ``value``; else it must reach it.
    """

    measure: str
    value: float
    upper: bool

    @property
    def label(self) -> str:
        return _LABELS[self.measure]

    def show(self, x: float) -> str:
        """``x`` in this limit's unit (percent for probabilities, dollars otherwise)."""
        return f"{100 * x:.1f}%" if self.measure.startswith("p_") else money(x)

    def show_se(self, se: float) -> str:
        return f"{100 * se:.1f} points" if self.measure.startswith("p_") else money(se).lstrip("$")



class ScenarioSpec(BaseModel):
    """The whole scenario file."""

    model_config = _STRICT
    name: str
    description: str = ""
    performance_year: Annotated[int, Field(ge=2012, le=2040)] = 2026
    population: Population
    cost_model: CostModelSpec = Field(default_factory=CostModelSpec)
    assumptions: Assumptions = Field(default_factory=Assumptions)
    contracts: Annotated[list[ContractSpec], Field(min_length=1)]
    run: RunSettings = Field(default_factory=RunSettings)
    risk_appetite: RiskAppetite | None = None
    episodes: list[EpisodeSpec] = Field(default_factory=list)
    horizon: Horizon | None = None
    dynamics: PanelDynamics = Field(default_factory=PanelDynamics)
    organisation: OrganisationDynamics = Field(default_factory=OrganisationDynamics)
    trends: TrendDynamics = Field(default_factory=TrendDynamics)
    risk_growth: RiskGrowth = Field(default_factory=RiskGrowth)
    region: Region = Field(default_factory=Region)
    finance: Finance | None = None

    @model_validator(mode="after")
    def _years_need_a_horizon(self) -> ScenarioSpec:
        if self.risk_appetite is not None and self.risk_appetite.min_cash_balance is not None \
                and self.finance is None:
            raise FieldProblem(("risk_appetite", "min_cash_balance"), "a cash balance needs the cash flows of a "
                                                                      "finance section (with a horizon)")
        if self.horizon is None:
            for section in ("dynamics", "organisation", "trends", "risk_growth", "region", "finance"):
                if section in self.model_fields_set:
                    raise FieldProblem((section,), "applies to the years of an agreement: give a horizon section "
                                                   "(e.g. horizon: {agreement_start: 2027})")
            for i, c in enumerate(self.contracts):
                if c.path is not None:
                    raise FieldProblem(("contracts", i, "path"), "a path runs over years: give a horizon section "
                                                                  "(e.g. horizon: {agreement_start: 2027})")
        elif self.cost_model.bootstrap_file is not None:
            raise FieldProblem(("cost_model", "bootstrap_file"), "costs resampled from a file are not simulated over "
                                                                 "the years of a horizon; use the parametric cost model "
                                                                 "(remove bootstrap_file) or remove horizon")
        elif shock := next((n for n in ("cost_trend_sd", "benchmark_trend_sd", "trend_correlation")
                            if getattr(self.assumptions, n) != 0.0), None):
            raise FieldProblem(("assumptions", shock), "a scenario with a horizon takes its trend shocks from "
                                                       "trends.national_sd and trends.regional_sd; remove this "
                                                       "one-year shock")
        elif self.assumptions.systemic_sd is not None:
            raise FieldProblem(("assumptions", "systemic_sd"), "a scenario with a horizon simulates its systemic parts "
                                                               "year by year (organisation, trends, benchmark years); "
                                                               "remove this one-year factor")
        elif self.assumptions.agreement_start is not None:
            raise FieldProblem(("assumptions", "agreement_start"), "a scenario with a horizon starts its agreement "
                                                                   "at horizon.agreement_start; remove this one")
        elif self.performance_year != self.horizon.agreement_start and "performance_year" in self.model_fields_set:
            raise FieldProblem(("performance_year",), f"is {self.performance_year} but the horizon starts in "
                                                      f"{self.horizon.agreement_start}; remove performance_year")
        return self

    @property
    def is_multiyear(self) -> bool:
        """Whether the scenario simulates the years of an agreement (it has a horizon)."""
        return self.horizon is not None

    @model_validator(mode="after")
    def _agreement_started(self) -> ScenarioSpec:
        start = self.assumptions.agreement_start
        if start is not None and start > self.performance_year:
            raise FieldProblem(("assumptions", "agreement_start"),
                               f"{start} is after the performance year {self.performance_year}")
        return self



def split_counts(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Integer counts summing to ``total`` in the given shares (largest remainder)."""
    raw = {k: total * v for k, v in shares.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    left = total - sum(counts.values())
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[:left]:
        counts[k] += 1
    return counts
