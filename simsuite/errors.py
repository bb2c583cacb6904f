"""Exceptions that carry a one-line, user-facing message.

The CLI prints ``str(error)`` of these and exits with status 2 (bad input); any
other exception is a bug or a runtime failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any


class SimsuiteError(Exception):
    """Base class of every error simsuite reports to a user in one line."""


class InputError(SimsuiteError):
    """Bad input: a file, a field of it, and what is wrong.

    Parameters
    ----------
    source : str or path
        The file (or other origin, e.g. ``"--sims"``) that holds the bad value.
    field : str
        Dotted path of the field inside that source, ``""`` if the whole source is bad.
    problem : str
        What is wrong and what was expected.
    line : int, optional
        1-based line of the field in the source, where known.
    """

    def __init__(self, source: str | PathLike[str], field: str, problem: str, line: int | None = None):
        self.source = str(source)
        self.field = field
        self.problem = problem
        self.line = line
        super().__init__(self._format())

    def __reduce__(self) -> tuple:
        # Pickled by its arguments (a Dask worker's error reaches the client whole).
        return type(self), (self.source, self.field, self.problem, self.line)

    def _format(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        text = f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        return one_line(text)


class NonFiniteResult(SimsuiteError):
    """A result simsuite would report is NaN or infinite: nothing is reported instead.

    Parameters
    ----------
    source : str
        The scenario file the run read.
    contract : str
        The contract whose result is not finite.
    measure : str
        The measure (e.g. ``mean``, ``VaR95``; with the variable and any other coordinate,
        e.g. ``summary_by_year[2027] mean``).
    value : float
        The value found (NaN or +-inf).
    """

    def __init__(self, source: str, contract: str, measure: str, value: float):
        self.source, self.contract, self.measure, self.value = source, contract, measure, value
        super().__init__(one_line(
            f"{source}: contract '{contract}': {measure} is {value}, not a number simsuite can report; no "
            "result was written (this is a bug or an input beyond the model's range: please report it with "
            "the scenario)"))

    def __reduce__(self) -> tuple:
        # Pickled by its arguments (a Dask worker's error reaches the client whole).
        return type(self), (self.source, self.contract, self.measure, self.value)


def one_line(text: str) -> str:
    """``text`` with control characters escaped (``\\n``), so a message stays on one line
    whatever names or values a file put into it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class FieldProblem(SimsuiteError, ValueError):
    """A problem with one field, before the file it came from is known.

    The scenario loader turns it into an `InputError` naming the file and line. It is a
    `ValueError` so that pydantic validators may raise it.

    Parameters
    ----------
    loc : tuple
        Location of the field relative to the object being checked, e.g. ``("overrides", "msr")``.
    problem : str
        What is wrong.
    """

    def __init__(self, loc: tuple, problem: str):
        self.loc = tuple(loc)
        self.problem = problem
        super().__init__(f"{'.'.join(map(str, self.loc))}: {problem}")

    def __reduce__(self) -> tuple:
        return type(self), (self.loc, self.problem)


def located_problem(err: Mapping[str, Any]) -> tuple[tuple, str]:
    """Location and one-line text of one pydantic error, unwrapping `FieldProblem`.

    A validator that raises `FieldProblem` names a field below the model it checks;
    its location is appended to the one pydantic reports.
    """
    parts = tuple(err["loc"])
    # An unknown field's own name ends the location, even a name like 'none' or 'int'.
    last = len(parts) - 1 if err.get("type") == "extra_forbidden" else -1
    loc = tuple(p for i, p in enumerate(parts) if i == last or not _is_union_tag(p))
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, FieldProblem):
        return loc + ctx_error.loc, ctx_error.problem
    return loc, pydantic_problem(err)


def _is_union_tag(part: object) -> bool:
    """pydantic names the member of a union that failed ('int', "literal['variable']"...)."""
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "none", "tuple"}
        or part.startswith(("constrained-", "function-", "literal[", "list[", "tuple["))
    )


def pydantic_problem(err: Mapping[str, Any]) -> str:
    """One-line text of one pydantic error (``ValidationError.errors()`` item)."""
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        return "required field is missing"
    got = err.get("input")
    if err["type"] == "value_error" or isinstance(got, (dict, list)):
        return msg
    return f"{msg} (got {got!r})"
