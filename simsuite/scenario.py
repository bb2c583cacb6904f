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
from simsuite.costmodel import ENROLLMENT_TYPES, PUF_YEAR, national_ffs_2018
from simsuite.episodes import EpisodeSpec, check_episodes
from simsuite.ranking import RiskAppetite
from simsuite.errors import FieldProblem, InputError, located_problem
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
    """Who is in the panel."""

    model_config = _STRICT
    beneficiaries: Annotated[int, Field(gt=0, le=10_000_000)]
    mix: ByType = Field(default_factory=_default_mix)
    risk_score: RiskScoreSpec = Field(default_factory=RiskScoreSpec)

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
    zero_cost_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.10
    severity_sigma: Annotated[float, Field(gt=0.0, le=5.0)] = 1.25
    risk_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = 1.0

    @model_validator(mode="after")
    def _positive_means(self) -> "CostModelSpec":
        for t, v in self.mean_cost.as_dict().items():
            if v <= 0:
                raise FieldProblem(("mean_cost", t), f"must be a positive dollar amount (got {v})")
        return self


class Assumptions(BaseModel):
    """What the organisation expects of its benchmark, its savings and its quality."""

    model_config = _STRICT
    benchmark_margin: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.0
    true_savings: Annotated[float, Field(gt=-0.5, lt=0.5)] = 0.0
    quality_score: Fraction = 0.90
    quality_score_sd: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    quality_standard: Literal["met", "alternative", "not_met"] = "met"
    participant_revenue_to_benchmark: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    low_revenue: bool = False

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
    """

    spec: ScenarioSpec
    contracts: tuple[Contract, ...]
    source: str
    text: str


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
        err = exc.errors()[0]
        loc, problem = located_problem(err)
        if err["type"] == "extra_forbidden":
            problem = _unknown_field(loc)
        raise fail(loc, problem) from None

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
            raise fail(("population", "beneficiaries"), f"{problem} (contracts[{i}] '{contract.name}')")
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
    return Scenario(spec=spec, contracts=tuple(contracts), source=source, text=text)


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
