"""Loading a scenario: read the file, validate it, resolve its contracts, read its data files.

Every problem becomes one `InputError` line naming the file, the line, the field and
the problem. The schema itself is `simsuite.scenario.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simsuite.contracts import Contract, PathContract, build_contract, build_custom_contract, build_path_contract
from simsuite.contracts.base import AGREEMENT_YEARS, AgreementSetup, RuleFacts
from simsuite.data.reference import ENROLLMENT_TYPES
from simsuite.errors import FieldProblem, InputError, located_problem
from simsuite.io.yamlfile import did_you_mean, dotted, line_of, load_yaml
from simsuite.scenario.finance import check_finance
from simsuite.scenario.owndata import CostHistory, PatientTable, read_costs, read_patients
from simsuite.scenario.schema import ByType, EpisodeSpec, SavingsDistribution, ScenarioSpec, split_counts


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
    contracts: tuple[Contract | PathContract, ...]
    source: str
    text: str
    patients: PatientTable | None = None
    cost_history: CostHistory | None = None

    @property
    def single_year_contracts(self) -> tuple[Contract, ...]:
        """The contracts settled one year at a time: all of a one-year scenario's (the schema
        refuses paths without a horizon), all but the paths of a multi-year one."""
        return tuple(c for c in self.contracts if isinstance(c, Contract))

    @property
    def agreement(self) -> AgreementSetup | None:
        """The agreement periods of a multi-year scenario (None for a single year)."""
        return agreement_setup(self.spec)

    @property
    def n_beneficiaries(self) -> int:
        """Beneficiaries of the panel (the ``population`` section, or the patients file's rows)."""
        return _panel_size(self.spec)

    @property
    def facts(self) -> RuleFacts:
        """What the contracts' rules read about the organisation and its choices (`RuleFacts`)."""
        return rule_facts(self.spec)


def rule_facts(spec: ScenarioSpec) -> RuleFacts:
    """The `RuleFacts` of a validated scenario (its panel size already set by any patients file)."""
    a = spec.assumptions
    setup = agreement_setup(spec)
    start = (setup.agreement_start_of(spec.performance_year) if setup is not None
             else spec.performance_year if a.agreement_start is None else a.agreement_start)
    return RuleFacts(
        performance_year=spec.performance_year,
        agreement_start=start,
        agreement_start_given=setup is not None or a.agreement_start is not None,
        n_beneficiaries=_panel_size(spec),
        quality_score=a.quality_score,
        quality_score_sd=a.quality_score_sd,
        quality_standard=a.quality_standard,
        quality_threshold=a.quality_threshold,
        alternative_standard_probability=a.alternative_standard_probability,
        participant_revenue_to_benchmark=a.participant_revenue_to_benchmark,
        low_revenue=a.low_revenue,
        benchmark_risk_score=a.benchmark_risk_score is not None,
        demographic_risk_growth=a.demographic_risk_growth is not None,
        risk_score_2019=a.risk_score_2019 is not None,
    )


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

    if spec.horizon is not None and "performance_year" not in spec.model_fields_set:
        # A multi-year scenario's single-year contracts take the terms of its first year.
        spec = spec.model_copy(update={"performance_year": spec.horizon.agreement_start})
    setup = agreement_setup(spec)
    contracts: list[Contract | PathContract] = []
    seen: dict[str, int] = {}
    facts = rule_facts(spec)
    for i, c in enumerate(spec.contracts):
        contract: Contract | PathContract
        try:
            if c.preset is not None:
                contract = build_contract(c.preset, c.overrides, spec.performance_year, c.name)
            elif c.path is not None:
                assert setup is not None and c.name is not None  # the schema checks both
                try:
                    contract = build_path_contract(c.path, setup, c.name)
                except FieldProblem as exc:
                    raise FieldProblem(("path",) + exc.loc, exc.problem) from None
            else:
                assert c.family is not None and c.name is not None  # ContractSpec checks it
                contract = build_custom_contract(c.family, c.terms, c.name)
        except FieldProblem as exc:
            raise fail(("contracts", i) + exc.loc, exc.problem) from None
        size_problem = contract.panel_problem(_panel_size(spec))
        if size_problem:
            # A patients file sets the panel size: point at it rather than at a field not written.
            where = "patients_file" if spec.population.patients_file is not None else "beneficiaries"
            raise fail(("population", where), f"{size_problem} (contracts[{i}] '{contract.name}')")
        if contract.name in seen:
            raise fail(
                ("contracts", i, "name"),
                f"two contracts are named '{contract.name}' (also contracts[{seen[contract.name]}]); give each a distinct name",
            )
        seen[contract.name] = i
        try:
            if isinstance(contract, PathContract):
                contract.check(facts)
            elif setup is not None:
                # A one-year contract of a horizon settles every performance year under its rules.
                for year in setup.performance_years:
                    contract.spec.check(contract.terms, setup.facts_in(facts, year))
            else:
                contract.spec.check(contract.terms, facts)
        except FieldProblem as exc:
            # The rules of this contract need (or forbid) a scenario field, often one not
            # written: point at it, at its section, or else at the contract.
            loc = exc.loc
            if loc == ("population", "beneficiaries") and spec.population.patients_file is not None:
                loc = ("population", "patients_file")
            line = line_of(lines, loc) or line_of(lines, ("contracts", i))
            raise InputError(source, dotted(loc), f"{exc.problem} (contracts[{i}] '{contract.name}')",
                             line=line) from None
        contracts.append(contract)

    try:
        check_episodes(list(spec.episodes), [c for c in contracts if isinstance(c, Contract)])
        if spec.finance is not None:
            assert spec.horizon is not None  # the schema checks it
            a = spec.assumptions
            check_finance(spec.finance, contracts, spec.horizon.agreement_number,
                          low_revenue_known=a.low_revenue is not None or a.participant_revenue_to_benchmark is not None)
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
        counts = (patients.counts() if patients is not None
                  else split_counts(_panel_size(spec), pop.mix.as_dict()))
        for t in ENROLLMENT_TYPES:
            if counts[t] > 0 and history.rows(t) == 0:
                raise FieldProblem(("cost_model", "bootstrap_file"),
                                   f"{name} has no {t} rows to resample, but the panel has "
                                   f"{counts[t]} {t} beneficiaries")
    return spec, patients, history


def check_episodes(specs: list[EpisodeSpec], contracts: list[Contract]) -> None:
    """Raise `FieldProblem` if episode contracts lack an ``episodes:`` section, or an
    episode category is priced by none of them (most likely a misspelt name)."""
    contracts = [c for c in contracts if isinstance(c, Contract) and c.uses_episodes]
    if not contracts:
        return
    if not specs:
        names = ", ".join(c.name for c in contracts)
        raise FieldProblem(("episodes",), f"the episode contracts ({names}) need an episodes: section "
                                          "listing the hospital's episodes")
    for i, spec in enumerate(specs):
        if not any(c.prices_episode(spec.category, spec.pricing_group) for c in contracts):
            known = sorted({k for c in contracts for k in c.episode_names})
            raise FieldProblem(
                ("episodes", i, "category"),
                f"no episode contract here prices '{spec.category}'{did_you_mean(spec.category, known)} "
                f"(they price: {', '.join(known)}; a BPCI Advanced episode needs group: medical or surgical)",
            )


def agreement_setup(spec: ScenarioSpec) -> AgreementSetup | None:
    """The agreement periods of a scenario's ``horizon`` (None without one)."""
    h = spec.horizon
    if h is None:
        return None
    return AgreementSetup(start=h.agreement_start, number=h.agreement_number, agreements=h.agreements,
                          years_per_agreement=h.years_per_agreement, last_agreement_years=AGREEMENT_YEARS,
                          prior_savings=None if h.prior_savings is None else tuple(h.prior_savings),
                          experienced=h.experienced,
                          acpt=spec.cost_model.annual_trend if h.acpt is None else h.acpt,
                          dual_lis_share=_dual_lis_share(spec))


def _dual_lis_share(spec: ScenarioSpec) -> float:
    """The share of dual or LIS beneficiaries: the region section's, else its dual share, else
    the mix's aged/dual share (a lower bound: LIS-only beneficiaries are not in the mix)."""
    r = spec.region
    if r.dual_lis_share is not None:
        return r.dual_lis_share
    return r.dual_share if r.dual_share is not None else float(spec.population.mix.aged_dual)


def _panel_size(spec: ScenarioSpec) -> int:
    """The panel size once the patients file (if any) has been read."""
    n = spec.population.beneficiaries
    assert n is not None, "the schema requires beneficiaries or a patients file, which sets it"
    return n


# Union members that are models: pydantic names them in an error's location.
_UNION_MODELS = {"SavingsDistribution": SavingsDistribution, "ByType": ByType}


def _best_error(errors: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
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
