"""A contract ready to settle: a family's validated terms, from a preset or written in a scenario."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from simsuite.contracts.base import CapSpec, HighCostCap, PanelYear, RuleFacts, Settlement
from simsuite.contracts.presets import INPUT, get_preset
from simsuite.contracts.registry import FAMILIES, Family
from simsuite.errors import FieldProblem, located_problem
from simsuite.io.yamlfile import did_you_mean

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Contract(Generic[T]):
    """A contract ready to settle: a preset with the scenario's overrides applied.

    Attributes
    ----------
    name : str
        The contract's name in results (unique within a scenario).
    preset : str
        The preset it came from (``"custom"`` for a contract written in the scenario).
    family : str
        Its payment family (a key of `simsuite.contracts.FAMILIES`).
    terms : pydantic model
        The family's validated terms.
    status : str
        ``current``, ``proposed``, ``announced``, ``ended`` or ``custom``.
    """

    name: str
    preset: str
    family: str
    terms: T
    status: str

    @property
    def spec(self) -> Family[T]:
        """The family's registry entry (settlement, caps, inputs, exact method)."""
        return FAMILIES[self.family]

    @property
    def caps(self) -> tuple[CapSpec, ...]:
        """Per-beneficiary caps whose panel sums the contract settles on (first = primary)."""
        return self.spec.caps(self.terms)

    def panel_problem(self, n_beneficiaries: int) -> str | None:
        """Why this contract cannot settle a panel of this size, or None."""
        return self.spec.panel_problem(self.terms, n_beneficiaries)

    def rule_problem(self, facts: RuleFacts) -> str | None:
        """Why the contract's rules refuse a scenario with these facts (`Family.check`), or None."""
        try:
            self.spec.check(self.terms, facts)
        except FieldProblem as exc:
            return f"{'.'.join(map(str, exc.loc))}: {exc.problem}"
        return None

    @property
    def uses_episodes(self) -> bool:
        """Whether the contract settles on simulated episodes (bundled payments)."""
        return "episodes" in self.spec.reads

    @property
    def episode_cap(self) -> HighCostCap | None:
        """The cap on each episode's cost this contract reads (episode contracts only)."""
        hook = self.spec.episode_cap
        return None if hook is None else hook(self.terms)

    def prices_episode(self, category: str, group: str | None) -> bool:
        """Whether the contract reconciles episodes of ``category`` (in pricing ``group``)."""
        hook = self.spec.prices_episode
        return hook is not None and hook(self.terms, category, group)

    @property
    def episode_names(self) -> tuple[str, ...]:
        """The episode categories and groups the contract's terms name (episode contracts only)."""
        hook = self.spec.episode_names
        return () if hook is None else hook(self.terms)

    @property
    def has_benchmark(self) -> bool:
        """Whether the contract settles against a panel benchmark (FFS and episodes do not)."""
        return bool(self.caps)

    def settle(self, panel: PanelYear) -> Settlement:
        """Settle every simulation of ``panel``."""
        return self.spec.settle(self.terms, panel)


def build_contract(
    preset_id: str,
    overrides: dict[str, Any] | None,
    performance_year: int,
    name: str | None = None,
) -> Contract:
    """Apply ``overrides`` to a preset and validate the result.

    Raises
    ------
    FieldProblem
        Unknown preset, a performance year the preset does not cover, an unknown term
        or an impossible value; ``loc`` is relative to the contract entry.
    """
    preset = get_preset(preset_id)
    if preset.performance_years and performance_year not in preset.performance_years:
        years = ", ".join(map(str, preset.performance_years))
        raise FieldProblem(
            ("preset",),
            f"preset '{preset_id}' covers performance years {years}, not {performance_year}",
        )
    overrides = overrides or {}
    merged = {**preset.terms, **overrides}
    for key, value in merged.items():
        if value == INPUT:
            raise FieldProblem(
                ("overrides", key),
                f"preset '{preset_id}' has no published value for this term; set it under overrides",
            )
    terms = validate_terms(preset.family, merged, ("overrides",), known_keys=overrides)
    return Contract(
        name=name or preset.id,
        preset=preset.id,
        family=preset.family,
        terms=terms,
        status=preset.status,
    )


def validate_terms(family_name: str, terms: dict[str, Any], loc: tuple = ("terms",),
                   known_keys: dict[str, Any] | None = None) -> BaseModel:
    """Validate a family's terms; unknown keys (of ``known_keys``, default all) get 'did you mean'."""
    family = FAMILIES[family_name]
    known = list(family.terms.model_fields)
    for key in terms if known_keys is None else known_keys:
        if key not in known:
            raise FieldProblem(
                loc + (key,), f"unknown term for a {family_name} contract{did_you_mean(key, known)}"
            )
    try:
        return family.terms.model_validate(terms)
    except ValidationError as exc:
        err = exc.errors()[0]
        where, problem = located_problem(err)
        raise FieldProblem(loc + where, problem) from None


def build_custom_contract(family_name: str, terms: dict[str, Any], name: str) -> Contract:
    """A contract defined in the scenario from a family's building blocks, without a preset."""
    if family_name not in FAMILIES:
        raise FieldProblem(
            ("family",),
            f"unknown contract family '{family_name}'{did_you_mean(family_name, list(FAMILIES))}; "
            f"families: {', '.join(FAMILIES)}",
        )
    validated = validate_terms(family_name, terms)
    return Contract(name=name, preset="custom", family=family_name, terms=validated, status="custom")
