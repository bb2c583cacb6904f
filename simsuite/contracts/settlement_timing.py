"""When a performance year's settlement moves cash, by program or family.

Cash flows (`simsuite.results.cashflow`) date each year's settlement: a written notice some
months after the year ends, shared savings paid some months after it, shared losses due a
fixed time after the notice. Each program (a path's ``program``) or single-year family whose
dates are known from a source registers them in `SETTLEMENT_TIMING`; a scenario with a
``finance`` section whose contract has none must state the dates (``finance.settlement``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """When a performance year's result moves cash, in whole months after the year ends
    (December = month 0).

    Attributes
    ----------
    notice_months : int
        The written notice of the year's result.
    savings_paid_months : int
        Shared savings paid.
    loss_months_after_notice : int
        Shared losses due, after the notice's month.
    source : str
        Where the dates come from, with confidence tags.
    """

    notice_months: int
    savings_paid_months: int
    loss_months_after_notice: int
    source: str

    @property
    def loss_paid_months(self) -> int:
        """Months from the year's end to the payment of shared losses."""
        return self.notice_months + self.loss_months_after_notice


#: Settlement dates by program name (paths) or family name (single-year contracts). A
#: program module adds its own entry when a source gives its dates.
SETTLEMENT_TIMING: dict[str, Timing] = {}


def register_timing(names: tuple[str, ...], timing: Timing) -> None:
    """Record ``timing`` for each program or family name in ``names``."""
    for name in names:
        SETTLEMENT_TIMING[name] = timing


#: The family that settles nothing: fee-for-service, the reference point.
NO_SETTLEMENT_FAMILY = "ffs"


def settles(contract: Any) -> bool:
    """Whether ``contract`` (a `Contract` or `PathContract`) settles with a payer at all:
    all but fee-for-service. Only such contracts pay the costs of taking part."""
    return contract.family != NO_SETTLEMENT_FAMILY


def timing_key(contract: Any) -> str:
    """The name ``contract``'s settlement dates are registered under: a path's program, else its family."""
    program = getattr(contract, "program", None)
    return program if isinstance(program, str) else contract.family


def timing_of(contract: Any, stated: Timing | None = None) -> Timing | None:
    """The dates ``contract``'s settlements move cash: ``stated`` (the scenario's), else its
    program's or family's registered ones; None if neither is known."""
    return stated if stated is not None else SETTLEMENT_TIMING.get(timing_key(contract))


def required_guarantee(contract: Any) -> str | None:
    """What a path requires the organisation to hold against losses (its plan's
    ``guarantee_rule``: a repayment mechanism, a financial guarantee), with the source; None
    for a path that requires nothing and for single-year contracts of a horizon (they record
    none)."""
    plan = getattr(contract, "plan", None)
    return None if plan is None else plan.guarantee_rule
