"""Contract presets: data files in ``simsuite/presets``, read and resolved (inheritance).

A preset file holds one program's presets. Each preset has a title, the performance
years it applies to, a status (current / proposed / announced / ended), its terms,
and for each term a ``[confidence, source]`` pair. ``inherits`` copies another
preset's terms and sources, then overrides them. `simsuite.contracts.contract` turns a
preset (with a scenario's overrides) into a validated `Contract`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from simsuite.contracts.tables import INPUT, preset_file
from simsuite.errors import FieldProblem
from simsuite.io.yamlfile import did_you_mean

__all__ = ["INPUT", "Preset", "all_presets", "get_preset"]


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


def _preset_files() -> list[str]:
    folder = resources.files("simsuite.presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
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
        years: tuple[int, ...] = ()
        status = "current"
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
