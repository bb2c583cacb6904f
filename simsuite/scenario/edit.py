"""Editing a loaded scenario by dotted field path (``population.beneficiaries``), re-validated.

Used by sweeps and sensitivity: a swept value gets exactly the checks a value written
in a scenario file gets, because the edited scenario goes through `scenario_from_dict`.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from pydantic import BaseModel

from simsuite.errors import InputError
from simsuite.io.yamlfile import did_you_mean
from simsuite.scenario.load import Scenario, scenario_from_dict
from simsuite.scenario.schema import ScenarioSpec

PARAM = "--param"


def scenario_data(scenario: Scenario) -> dict:
    """The scenario as the plain dict it was loaded from (its YAML text, parsed)."""
    data = yaml.safe_load(scenario.text)
    if not isinstance(data, dict):
        raise InputError(scenario.source, "", "the scenario text is not a mapping")
    return data


def _check_path(parts: list[str], path: str) -> None:
    """Raise a one-line `InputError` unless ``parts`` walks the scenario schema.

    Free-form mappings (contract ``overrides``) are not checked here: the contract's
    own validation names unknown terms when the scenario is re-validated.
    """
    kind: Any = ScenarioSpec
    for i, part in enumerate(parts):
        where = ".".join(parts[:i]) or "the scenario"
        if kind is dict:
            return
        if isinstance(kind, tuple):  # ("list", item kind): the part must be an index
            if not part.isdigit():
                raise InputError(PARAM, path, f"'{where}' is a list: give an index, e.g. {where}.0")
            kind = kind[1]
            continue
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            raise InputError(PARAM, path, f"'{where}' is a value, not a section")
        fields = kind.model_fields
        if part not in fields:
            raise InputError(PARAM, path, f"unknown field '{part}' in {where}{did_you_mean(part, list(fields))}")
        annotation = fields[part].annotation
        kind = _field_kind(annotation)
    # A field that is a number or a section (true_savings: 0.02 or {mean, sd}) takes a number.
    if kind is not None and not _admits_value(annotation):
        raise InputError(PARAM, path, "names a whole section or list; give a field inside it")


def _admits_value(annotation: Any) -> bool:
    """Whether a union field also accepts a plain value (a number, text) besides a section."""
    args = getattr(annotation, "__args__", ())
    return any(a is not type(None) and not (isinstance(a, type) and issubclass(a, BaseModel))
               and getattr(a, "__origin__", None) not in (list, dict) for a in args)


def _field_kind(annotation: Any) -> Any:
    """What a field holds: its model class, ``("list", item kind)``, ``dict``, or ``None`` (a value)."""
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if origin is list:
        return ("list", _field_kind(args[0]) if args else None)
    if origin is dict:
        return dict
    for c in (annotation, *args):
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
        if getattr(c, "__origin__", None) is not None and c is not annotation:
            inner = _field_kind(c)
            if inner is not None:
                return inner
    return None


def with_value(data: dict, path: str, value: Any) -> dict:
    """A deep copy of scenario ``data`` with the field at dotted ``path`` set to ``value``.

    Raises
    ------
    InputError
        ``--param``: the path is not a field of the scenario schema.
    """
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise InputError(PARAM, path, "give a dotted field path such as population.beneficiaries")
    _check_path(parts, path)
    out = copy.deepcopy(data)
    node: Any = out
    for part in parts[:-1]:
        if isinstance(node, list):
            index = int(part)
            if index >= len(node):
                raise InputError(PARAM, path, f"index {index} is out of range (the list has {len(node)} items)")
            node = node[index]
        else:
            node = node.setdefault(part, {})
            if node is None:  # an empty section in YAML loads as None
                node = {}
    if isinstance(node, list):
        raise InputError(PARAM, path, "cannot replace a whole list item")
    node[parts[-1]] = value
    return out


def scenario_with(scenario: Scenario, path: str, value: Any) -> Scenario:
    """``scenario`` with one field changed, validated as a scenario file would be.

    Raises
    ------
    InputError
        One line naming ``--param``, the path and the value, e.g.
        ``--param: population.beneficiaries=-5: Input should be greater than 0``.
    """
    data = with_value(scenario_data(scenario), path, value)
    try:
        return scenario_from_dict(data, source=scenario.source)
    except InputError as exc:
        raise InputError(PARAM, f"{path}={value!r}", f"{exc.field}: {exc.problem}" if exc.field != path else exc.problem) from None


def parse_values(text: str) -> list[Any]:
    """Sweep values from ``"1000,2000,5000"`` (each item read as YAML: 0.01, true, 5000).

    Raises
    ------
    InputError
        ``--values`` is empty or an item is empty.
    """
    items = [s.strip() for s in str(text).split(",")]
    if not items or any(not s for s in items):
        raise InputError("--values", "", f"give comma-separated values such as 1000,2000,5000 (got {text!r})")
    return [yaml.safe_load(s) for s in items]
