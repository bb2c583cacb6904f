"""The scenario file: its schema, its defaults, and loading it with one-line errors.

A scenario has six sections: ``population``, ``cost_model``, ``assumptions``,
``contracts``, ``run`` and the header fields (``name``, ``performance_year``).
Every field is documented in ``scenarios/aco-5000.yaml``. Rates are fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simsuite.contracts.presets import Contract, build_contract, build_custom_contract
from simsuite.costmodel import ENROLLMENT_TYPES, PUF_YEAR, default_shape, national_ffs_2018
from simsuite.episodes import EpisodeSpec, check_episodes
from simsuite.ranking import RiskAppetite
from simsuite.errors import FieldProblem, InputError, located_problem
from simsuite.owndata import CostHistory, PatientTable, read_costs, read_patients
from simsuite.yamlfile import did_you_mean, dotted, line_of, load_yaml

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
    `simsuite.owndata`) whose rows are the beneficiaries."""

    model_config = _STRICT
    beneficiaries: Annotated[int, Field(gt=0, le=10_000_000)] | None = None
    mix: ByType = Field(default_factory=_default_mix)
    risk_score: RiskScoreSpec = Field(default_factory=RiskScoreSpec)
    patients_file: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _size_given(self) -> "Population":
        if self.patients_file is None and self.beneficiaries is None:
            raise FieldProblem(("beneficiaries",), "required field is missing (or give a patients_file)")
        if self.patients_file is not None and "mix" in self.model_fields_set:
            raise FieldProblem(("mix",), "the patients_file sets the mix; remove mix")
        return self

    @model_validator(mode="after")
    def _mix_is_a_distribution(self) -> "Population":
        values = self.mix.as_dict()
        for t, v in values.items():
            if not 0.0 <= v <= 1.0:
                raise FieldProblem(("mix", t), f"must be a fraction in [0, 1] (got {v})")
        total = sum(values.values())
        if abs(total - 1.0) > 1e-6:
            raise FieldProblem(("mix",), f"shares must add up to 1 (they add up to {total:.6g})")
        return self


class CostModelSpec(BaseModel):
    """Per-beneficiary annual cost model (see `simsuite.costmodel`)."""

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
    def _positive_means(self) -> "CostModelSpec":
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
    def _stays_credible(self) -> "SavingsDistribution":
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
    subtracted from every contract's net (see `simsuite.systemic.effort_cost`).
    """

    model_config = _STRICT
    benchmark_margin: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.0
    true_savings: Annotated[float, Field(gt=-0.5, lt=0.5)] | SavingsDistribution = 0.0
    # Panel's average risk score in the benchmark's base year (overall, or by type); the
    # benchmark follows the current score, growth capped at 3% (MSSP). None: no growth.
    benchmark_risk_score: Annotated[float, Field(gt=0.0, le=20.0)] | ByType | None = None
    cost_trend_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    benchmark_trend_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    trend_correlation: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    care_management_pmpm: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    ffs_margin_lost: Fraction = 0.0
    quality_score: Fraction = 0.90
    quality_score_sd: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    quality_standard: Literal["met", "alternative", "not_met"] = "met"
    participant_revenue_to_benchmark: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    low_revenue: bool = False

    @property
    def savings_mean(self) -> float:
        """Expected true savings (fraction), whether fixed or uncertain."""
        ts = self.true_savings
        return ts.mean if isinstance(ts, SavingsDistribution) else float(ts)

    @model_validator(mode="after")
    def _benchmark_risk_positive(self) -> "Assumptions":
        if isinstance(self.benchmark_risk_score, ByType):
            for t, v in self.benchmark_risk_score.as_dict().items():
                if not 0.0 < v <= 20.0:
                    raise FieldProblem(("benchmark_risk_score", t), f"must be a positive risk score (got {v})")
        return self

    @model_validator(mode="after")
    def _quality_spread_fits(self) -> "Assumptions":
        q, sd = self.quality_score, self.quality_score_sd
        if sd > 0 and sd * sd >= q * (1.0 - q):
            limit = (q * (1.0 - q)) ** 0.5
            raise FieldProblem(
                ("quality_score_sd",),
                f"{sd} is too wide for a mean quality score of {q} (must be below {limit:.3g})",
            )
        return self


class ContractSpec(BaseModel):
    """One contract of the comparison: a preset with optional overrides of its terms, or a
    custom contract built from a family's terms (``family``, ``terms`` and ``name``)."""

    model_config = _STRICT
    preset: str | None = None
    name: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    family: str | None = None
    terms: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _preset_or_custom(self) -> "ContractSpec":
        if (self.preset is None) == (self.family is None):
            raise FieldProblem(("preset",), "give either a preset or a family with terms (not both)")
        if self.family is not None and not self.name:
            raise FieldProblem(("name",), "a custom contract needs a name")
        if self.family is not None and self.overrides:
            raise FieldProblem(("overrides",), "a custom contract takes terms, not overrides")
        return self


class RunSettings(BaseModel):
    """How to run the simulation."""

    model_config = _STRICT
    simulations: Annotated[int, Field(ge=100, le=100_000_000)] = 20_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 20240101
    threads: Annotated[int, Field(ge=1, le=1024)] | None = None


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


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with its contracts resolved from presets.

    Attributes
    ----------
    spec : ScenarioSpec
        The validated fields, defaults filled in.
    contracts : tuple of Contract
        Contracts in the order the file lists them.
    source : str
        Where the scenario came from (its path, or ``"<dict>"``).
    text : str
        The scenario as YAML text (stored in results for provenance).
    patients : PatientTable or None
        The panel read from ``population.patients_file``.
    cost_history : CostHistory or None
        The costs read from ``cost_model.bootstrap_file``.
    """

    spec: ScenarioSpec
    contracts: tuple[Contract, ...]
    source: str
    text: str
    patients: PatientTable | None = None
    cost_history: CostHistory | None = None


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file.

    Raises
    ------
    InputError
        One line naming the file, the line, the field and the problem.
    """
    path = Path(path)
    data, lines = load_yaml(path)
    text = path.read_text(encoding="utf-8-sig")
    return scenario_from_dict(data, source=str(path), lines=lines, text=text)


def scenario_from_dict(
    data: Any,
    source: str = "<dict>",
    lines: dict | None = None,
    text: str | None = None,
) -> Scenario:
    """Validate a scenario given as a plain dict (as loaded from YAML)."""
    lines = lines or {}

    def fail(loc: tuple, problem: str) -> InputError:
        return InputError(source, dotted(loc), problem, line=line_of(lines, loc))

    if not isinstance(data, dict):
        raise InputError(source, "", "a scenario must be a mapping of sections (population:, contracts:, ...)")
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        err = _best_error(exc.errors())
        loc, problem = located_problem(err)
        if err["type"] == "extra_forbidden":
            problem = _unknown_field(loc)
        raise fail(loc, problem) from None

    patients, history = None, None
    try:
        spec, patients, history = _read_own_data(spec, source)
    except FieldProblem as exc:
        raise fail(exc.loc, exc.problem) from None

    contracts = []
    seen: dict[str, int] = {}
    for i, c in enumerate(spec.contracts):
        try:
            if c.preset is not None:
                contract = build_contract(c.preset, c.overrides, spec.performance_year, c.name)
            else:
                contract = build_custom_contract(c.family, c.terms, c.name)
        except FieldProblem as exc:
            raise fail(("contracts", i) + exc.loc, exc.problem) from None
        problem = contract.panel_problem(spec.population.beneficiaries)
        if problem:
            # A patients file sets the panel size: point at it rather than at a field not written.
            where = "patients_file" if spec.population.patients_file is not None else "beneficiaries"
            raise fail(("population", where), f"{problem} (contracts[{i}] '{contract.name}')")
        if contract.name in seen:
            raise fail(
                ("contracts", i, "name"),
                f"two contracts are named '{contract.name}' (also contracts[{seen[contract.name]}]); give each a distinct name",
            )
        seen[contract.name] = i
        contracts.append(contract)

    try:
        check_episodes(list(spec.episodes), contracts)
    except FieldProblem as exc:
        raise fail(exc.loc, exc.problem) from None

    if text is None:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    return Scenario(spec=spec, contracts=tuple(contracts), source=source, text=text,
                    patients=patients, cost_history=history)


def _read_own_data(spec: ScenarioSpec, source: str
                   ) -> tuple[ScenarioSpec, PatientTable | None, CostHistory | None]:
    """Read the patients and costs files a scenario names; the panel size becomes the
    patients file's row count. Raises `FieldProblem` located at the scenario field."""
    pop, patients, history = spec.population, None, None
    if pop.patients_file is not None:
        try:
            patients = read_patients(pop.patients_file, source)
        except FieldProblem as exc:
            raise FieldProblem(("population", "patients_file"), exc.problem) from None
        if pop.beneficiaries is not None and pop.beneficiaries != len(patients):
            raise FieldProblem(("population", "beneficiaries"),
                               f"is {pop.beneficiaries} but {pop.patients_file} lists {len(patients)} "
                               "patients; remove beneficiaries (the patients file defines the panel)")
        pop = pop.model_copy(update={"beneficiaries": len(patients)})
        spec = spec.model_copy(update={"population": pop})
    if spec.cost_model.bootstrap_file is not None:
        name = spec.cost_model.bootstrap_file
        try:
            history = read_costs(name, source)
        except FieldProblem as exc:
            raise FieldProblem(("cost_model", "bootstrap_file"), exc.problem) from None
        from simsuite.population import split_counts  # population imports this module

        counts = (patients.counts() if patients is not None
                  else split_counts(pop.beneficiaries, pop.mix.as_dict()))
        for t in ENROLLMENT_TYPES:
            if counts[t] > 0 and history.rows(t) == 0:
                raise FieldProblem(("cost_model", "bootstrap_file"),
                                   f"{name} has no {t} rows to resample, but the panel has "
                                   f"{counts[t]} {t} beneficiaries")
    return spec, patients, history


# Union members that are models: pydantic names them in an error's location.
_UNION_MODELS = {"SavingsDistribution": SavingsDistribution, "ByType": ByType}


def _best_error(errors: list[dict]) -> dict:
    """The error to report. A mapping given for a number-or-mapping field (e.g.
    ``true_savings: {mean: 0.02}``) fails both members; the mapping member's error says
    what is wrong, the number member's ("should be a valid number") does not."""
    first = errors[0]
    if isinstance(first.get("input"), dict):
        for err in errors:
            # pydantic tags the member "SavingsDistribution", or "function-after[...,
            # SavingsDistribution]" when the model has an after-validator.
            parts = [p for p in err["loc"] if isinstance(p, str)
                     and any(p == m or p.endswith(f" {m}]") for m in _UNION_MODELS)]
            if parts:
                return {**err, "loc": tuple(p for p in err["loc"] if p not in parts)}
    return first


def _unknown_field(loc: tuple) -> str:
    """'unknown field' with the closest known name of the enclosing section."""
    model = _model_at(loc[:-1])
    choices = list(model.model_fields) if model is not None else []
    return f"unknown field '{loc[-1]}'{did_you_mean(str(loc[-1]), choices)}"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class found by walking ``loc`` from `ScenarioSpec`."""
    model: Any = ScenarioSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nxt is None:
            return None
        model = nxt
    return model
