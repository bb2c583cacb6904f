"""Safe YAML reading that remembers where each field sits in the file.

Only safe loading is used (``yaml.SafeLoader``; libyaml's ``CSafeLoader``, the same safe
construction, for the package's own files): no tag can construct a Python object, and no
value is ever evaluated.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from simsuite.errors import InputError

Location = tuple[Any, ...]

# libyaml's C parser where PyYAML was built with it: the same safe construction, about ten
# times faster on the preset tables that every run reads.
_PACKAGE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_package_yaml(stream: Any) -> Any:
    """Safe-load YAML shipped inside the package (presets, fitted defaults).

    Scenario files go through `load_yaml` instead: its pure-Python parser gives the
    error messages and line numbers users see.
    """
    return yaml.load(stream, Loader=_PACKAGE_LOADER)


def read_text(path: Path, what: str = "file") -> str:
    """Return the UTF-8 text of ``path`` or raise a one-line `InputError`."""
    if not path.exists():
        raise InputError(path, "", f"{what} not found")
    if path.is_dir():
        raise InputError(path, "", f"expected a {what}, found a directory")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, "", f"cannot read {what} ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            path, "", f"not valid UTF-8 text (byte {exc.start}); save the {what} as UTF-8"
        ) from None


def load_yaml(path: Path) -> tuple[Any, dict[Location, int]]:
    """Safe-load a YAML file.

    Returns
    -------
    data : object
        The plain Python value (dicts, lists, str, int, float, bool, None).
    lines : dict
        1-based line of every mapping key and sequence item, keyed by its
        location tuple (e.g. ``("contracts", 1, "preset")``).
    """
    text = read_text(path, "scenario file")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        # e.g. !!python/object tags: only plain YAML is accepted, nothing is constructed.
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(path, "", "YAML tags that build objects are not allowed (plain YAML only)", line=line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or str(exc)).strip()
        raise InputError(path, "", f"YAML syntax error: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(path, "", f"YAML error: {exc}") from None
    lines: dict[Location, int] = {}
    if node is not None:
        duplicate = _index_lines(node, (), lines)
        if duplicate is not None:
            loc, line, first = duplicate
            raise InputError(path, dotted(loc), f"appears twice (also on line {first}); keep one", line=line)
    return data, lines


def _index_lines(node: yaml.Node, loc: Location, lines: dict[Location, int]) -> tuple | None:
    """Record the line of every field; return (location, line, first line) of the first
    duplicated mapping key, which YAML loaders would otherwise resolve silently."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = loc + (key_node.value,)
            if child in lines:
                return child, key_node.start_mark.line + 1, lines[child]
            lines[child] = key_node.start_mark.line + 1
            found = _index_lines(value_node, child, lines)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = loc + (i,)
            lines[child] = item.start_mark.line + 1
            found = _index_lines(item, child, lines)
            if found is not None:
                return found
    return None


def line_of(lines: dict[Location, int], loc: Location) -> int | None:
    """Line of ``loc`` or of its nearest ancestor present in the file."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return None


def dotted(loc: Location) -> str:
    """``("contracts", 1, "preset")`` -> ``"contracts[1].preset"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def did_you_mean(word: str, choices: list[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` if nothing is close."""
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
