"""Contract presets: data files in ``simsuite/presets``, resolved into validated contracts.

A preset file holds one program's presets. Each preset has a title, the performance
years it applies to, a status (current / proposed / announced / ended), its terms,
and for each term a ``[confidence, source]`` pair. ``inherits`` copies another
preset's terms and sources, then overrides them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from simsuite.contracts import (
    capitation,
    corridors,
    episode,
    ffs,
    primary_care_first,
    quality_payments,
    shared_savings,
)
from simsuite.contracts.base import CapSpec, PanelYear, Settlement
from simsuite.contracts.tables import preset_file
from simsuite.errors import FieldProblem, located_problem
from simsuite.yamlfile import did_you_mean


INPUT = "input"  # a preset term with no published value: the scenario must set it


@dataclass(frozen=True)
class Family:
    """A payment family: its terms schema, its vectorised settlement function, and the
    per-beneficiary caps whose panel sums it settles on (the first one sets the
    benchmark and the expenditure; none = the contract needs no cost at all)."""

    terms: type[BaseModel]
    settle: Callable[[Any, PanelYear], Settlement]
    caps: Callable[[Any], tuple[CapSpec, ...]]
    uses_episodes: bool = False
    panel_problem: Callable[[Any, int], str | None] = lambda terms, n: None


FAMILIES: dict[str, Family] = {
    "ffs": Family(ffs.FFSTerms, ffs.settle, lambda terms: ()),
    "shared_savings": Family(
        shared_savings.SharedSavingsTerms, shared_savings.settle, shared_savings.caps,
        panel_problem=shared_savings.panel_problem,
    ),
    "corridor": Family(corridors.CorridorTerms, corridors.settle, corridors.caps),
    "capitation": Family(capitation.CapitationTerms, capitation.settle, capitation.caps),
    "primary_care_first": Family(
        primary_care_first.PrimaryCareFirstTerms, primary_care_first.settle, primary_care_first.caps
    ),
    "quality_payment": Family(quality_payments.QualityPaymentTerms, quality_payments.settle, quality_payments.caps),
    "episode": Family(episode.EpisodeTerms, episode.settle, episode.caps, uses_episodes=True),
}


@dataclass(frozen=True)
class Preset:
    """One preset as read from its data file (inheritance resolved)."""

    id: str
    title: str
    program: str
    family: str
    performance_years: tuple[int, ...]
    status: str
    terms: dict[str, Any]
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Contract:
    """A contract ready to settle: a preset with the scenario's overrides applied."""

    name: str
    preset: str
    family: str
    terms: BaseModel
    status: str

    @property
    def caps(self) -> tuple[CapSpec, ...]:
        """Per-beneficiary caps whose panel sums the contract settles on (first = primary)."""
        return FAMILIES[self.family].caps(self.terms)

    def panel_problem(self, n_beneficiaries: int) -> str | None:
        """Why this contract cannot settle a panel of this size, or None."""
        return FAMILIES[self.family].panel_problem(self.terms, n_beneficiaries)

    @property
    def uses_episodes(self) -> bool:
        """Whether the contract settles on simulated episodes (bundled payments)."""
        return FAMILIES[self.family].uses_episodes

    @property
    def has_benchmark(self) -> bool:
        """Whether the contract settles against a benchmark (FFS does not)."""
        return bool(self.caps)

    def settle(self, panel: PanelYear) -> Settlement:
        """Settle every simulation of ``panel``."""
        return FAMILIES[self.family].settle(self.terms, panel)


def _preset_files() -> list[str]:
    folder = resources.files("simsuite.presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@lru_cache(maxsize=None)
def all_presets() -> dict[str, Preset]:
    """Every preset shipped with simsuite, by id."""
    raw: dict[str, tuple[dict, str, str]] = {}
    for name in _preset_files():
        content = preset_file(name)
        for pid, spec in content.get("presets", {}).items():
            raw[pid] = (spec, content["program"], content["family"])

    resolved: dict[str, Preset] = {}

    def resolve(pid: str, seen: tuple = ()) -> Preset:
        if pid in resolved:
            return resolved[pid]
        spec, program, family = raw[pid]
        terms: dict[str, Any] = {}
        sources: dict[str, tuple[str, str]] = {}
        years, status = (), "current"
        if "inherits" in spec:
            if spec["inherits"] in seen:
                raise RuntimeError(f"preset inheritance cycle at {pid}")
            parent = resolve(spec["inherits"], seen + (pid,))
            terms.update(parent.terms)
            sources.update(parent.sources)
            years, status = parent.performance_years, parent.status
        terms.update(spec.get("terms") or {})
        sources.update({k: tuple(v) for k, v in (spec.get("sources") or {}).items()})
        preset = Preset(
            id=pid,
            title=spec.get("title", pid),
            program=program,
            family=family,
            performance_years=tuple(spec.get("performance_years", years)),
            status=spec.get("status", status),
            terms=terms,
            sources=sources,
        )
        resolved[pid] = preset
        return preset

    for pid in raw:
        resolve(pid)
    return resolved


def get_preset(preset_id: str) -> Preset:
    """The preset ``preset_id``, or a `FieldProblem` that suggests the nearest name."""
    presets = all_presets()
    if preset_id not in presets:
        raise FieldProblem(
            ("preset",),
            f"unknown preset '{preset_id}'{did_you_mean(preset_id, list(presets))}; "
            "`simsuite contracts list` shows them",
        )
    return presets[preset_id]


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
