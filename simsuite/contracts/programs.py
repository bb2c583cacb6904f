"""Multi-year programs: contracts that run over agreement periods, as paths through a program's tracks.

A single-year family (`simsuite.contracts.registry`) settles one year at a time; in a
multi-year scenario it repeats each year with its own rules. A *program* is different:
its benchmark is built from the organisation's own simulated history and its terms
change along a path (e.g. MSSP's BASIC glide path, renewal and rebasing). Each program
module registers a `Program`: its path schema, how a path is resolved year by year for
a horizon (`plan`), and how it settles on a `PanelHistory` (`settle`). A scenario names a
program in ``contracts[i].path.program``; nothing else in simsuite names a program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from simsuite.contracts.base import UNCAPPED, AgreementSetup, CapSpec, PanelHistory, PathSettlement, RuleFacts
from simsuite.contracts.contract import Contract
from simsuite.errors import FieldProblem, located_problem
from simsuite.io.yamlfile import did_you_mean


@dataclass(frozen=True)
class PathPlan:
    """A path resolved for a horizon: each performance year's label and contract.

    Attributes
    ----------
    years : tuple of int
        Performance years.
    levels : tuple of str
        Track or level of each year (e.g. ``"BASIC A"``).
    contracts : tuple of Contract
        The single-year contract whose terms settle each year.
    notes : tuple of str
        What the plan assumed (e.g. later years settled under the latest published rules).
    guarantee_rule : str or None
        What the program requires the organisation to hold against losses, with its source
        (e.g. MSSP's repayment mechanism in a two-sided year, LEAD's financial guarantee);
        None: nothing. A ``finance`` section must then price it
        (``finance.repayment_mechanism_fee``), checked when the scenario is loaded.
    rebased_at : tuple of int or None
        First performance years of the agreements whose benchmark is rebuilt from the
        organisation's own recent spending (MSSP: each renewal); None: the horizon's agreement
        starts.
    no_ratchet : str or None
        Why the path has no ratchet to measure, in the program's own terms (e.g. LEAD's
        baseline is fixed for its ten years); None: measure it where it has several agreements.
    assumed_terms : frozenset of (str, int, str)
        ``(variant, year, term)`` of terms whose value is the scenario's assumption rather than
        the preset's source (e.g. LEAD's higher-spending discount in PY2028-2031); listings
        mark them as stated.
    """

    years: tuple[int, ...]
    levels: tuple[str, ...]
    contracts: tuple[Contract, ...]
    notes: tuple[str, ...] = ()
    guarantee_rule: str | None = None
    rebased_at: tuple[int, ...] | None = None
    no_ratchet: str | None = None
    assumed_terms: frozenset[tuple[str, int, str]] = frozenset()

    def variants(self) -> tuple[tuple[str, tuple[Contract, ...]], ...]:
        """Every set of yearly contracts the path may settle under, each with a label (e.g.
        LEAD's lower- and higher-spending classes, decided per simulation); the plain path:
        ``(("", contracts),)``. For listings of terms (the workbook)."""
        return (("", self.contracts),)


@dataclass(frozen=True)
class Program:
    """A multi-year program and what the engine needs to know about it.

    Attributes
    ----------
    name : str
        The program's name in scenario files (``path: {program: mssp}``).
    title : str
        One line for listings.
    spec : type of pydantic model
        The path schema (``contracts[i].path``).
    plan : callable
        ``plan(spec, setup, name) -> PathPlan``; raises `FieldProblem` for a path the
        rules do not allow.
    settle : callable
        ``settle(plan, history) -> PathSettlement``.
    caps : tuple of CapSpec
        Per-beneficiary caps whose sums its settlement reads (the first: its expenditure).
    check : callable or None
        ``check(plan, setup, facts)``: raises `FieldProblem` (located from the scenario's
        root) for a scenario some year of the path cannot settle.
    """

    name: str
    title: str
    spec: type[BaseModel]
    plan: Callable[[Any, AgreementSetup, str], PathPlan]
    settle: Callable[[PathPlan, PanelHistory], PathSettlement]
    caps: tuple[CapSpec, ...] = (UNCAPPED,)
    check: Callable[[PathPlan, AgreementSetup, RuleFacts], None] | None = None


PROGRAMS: dict[str, Program] = {}


def register_program(program: Program) -> Program:
    """Add ``program`` to `PROGRAMS` (called once by each program module at import)."""
    if program.name in PROGRAMS and PROGRAMS[program.name] is not program:
        raise ValueError(f"program '{program.name}' is registered twice")
    PROGRAMS[program.name] = program
    return program


@dataclass(frozen=True)
class PathContract:
    """A contract of a multi-year scenario that is a path through a program's tracks.

    It stands beside `Contract` in `simsuite.scenario.load.Scenario.contracts` and
    answers the same questions a table or a figure asks (name, preset, family, status).
    """

    name: str
    program: str
    path: BaseModel
    plan: PathPlan
    setup: AgreementSetup

    @property
    def preset(self) -> str:
        return "path"

    @property
    def family(self) -> str:
        return f"{self.program} path"

    @property
    def status(self) -> str:
        statuses = {c.status for c in self.plan.contracts}
        if len(statuses) == 1:
            return statuses.pop()  # e.g. "announced" for LEAD, "custom" for a commercial path
        return "proposed" if "proposed" in statuses else "mixed"

    @property
    def caps(self) -> tuple[CapSpec, ...]:
        return PROGRAMS[self.program].caps

    @property
    def uses_episodes(self) -> bool:
        return False

    @property
    def has_benchmark(self) -> bool:
        return True

    @property
    def agreement_starts(self) -> list[int]:
        """First performance years of the path's agreements (each rebuilds its benchmark)."""
        starts = self.plan.rebased_at
        return list(starts) if starts is not None else self.setup.agreement_starts()

    def panel_problem(self, n_beneficiaries: int) -> str | None:
        """Why a year's contract cannot settle a panel of this size, or None."""
        for contract in self.plan.contracts:
            problem = contract.panel_problem(n_beneficiaries)
            if problem:
                return problem
        return None

    def check(self, facts: RuleFacts) -> None:
        """Refuse (`FieldProblem`) a scenario some year of the path cannot settle."""
        program = PROGRAMS[self.program]
        if program.check is not None:
            program.check(self.plan, self.setup, facts)

    def rule_problem(self, facts: RuleFacts) -> str | None:
        """Why some year's rules refuse a scenario with these facts, or None."""
        try:
            self.check(facts)
        except FieldProblem as exc:
            return f"{'.'.join(map(str, exc.loc))}: {exc.problem}"
        return None

    def settle_path(self, history: PanelHistory) -> PathSettlement:
        """Settle every performance year of every simulation."""
        return PROGRAMS[self.program].settle(self.plan, history)


def build_path_contract(path: dict[str, Any], setup: AgreementSetup, name: str) -> PathContract:
    """Validate ``path`` against its program's schema and resolve it for ``setup``.

    Raises
    ------
    FieldProblem
        Unknown program, a bad or unknown field, or a path the rules do not allow;
        ``loc`` is relative to the ``path`` entry.
    """
    program_name = path.get("program", "mssp")
    if program_name not in PROGRAMS:
        raise FieldProblem(("program",), f"unknown program '{program_name}'"
                                         f"{did_you_mean(str(program_name), list(PROGRAMS))}; "
                                         f"programs: {', '.join(sorted(PROGRAMS))}")
    program = PROGRAMS[program_name]
    known = list(program.spec.model_fields)
    for key in path:
        if key not in known:
            raise FieldProblem((key,), f"unknown field of a {program_name} path{did_you_mean(key, known)}")
    try:
        spec = program.spec.model_validate(path)
    except ValidationError as exc:
        where, problem = located_problem(exc.errors()[0])
        raise FieldProblem(where, problem) from None
    return PathContract(name=name, program=program_name, path=spec, plan=program.plan(spec, setup, name),
                        setup=setup)
