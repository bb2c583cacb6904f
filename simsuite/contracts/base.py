"""What every contract family shares: the per-simulation inputs it settles on and its output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CapSpec:
    """A per-beneficiary cap whose panel sum a contract needs.

    Attributes
    ----------
    percentile : float or None
        Cap each beneficiary's annual cost at this national percentile of its
        enrollment type (MSSP truncation: 0.99).
    dollars : float or None
        Cap each beneficiary's annual cost at a flat amount, dollars (a specific
        stop-loss attachment point).

    ``CapSpec()`` (neither set) means uncapped.
    """

    percentile: float | None = None
    dollars: float | None = None


UNCAPPED = CapSpec()


@dataclass(frozen=True)
class PanelYear:
    """Per-simulation totals of one performance year, as a contract sees them.

    All money is in dollars for the whole panel and the whole year. Arrays have
    shape ``(S,)``, one value per simulation.

    Attributes
    ----------
    n_beneficiaries : int
        Assigned (or attributed) beneficiaries; sets size-based rules such as the MSR.
    benchmark : ndarray
        Updated, risk-adjusted benchmark total, dollars (before any contract discount).
    expenditure : ndarray
        Actual Parts A and B expenditure, truncated per beneficiary as the contract
        requires, dollars.
    quality_score : ndarray
        Quality score as a fraction in [0, 1].
    quality_standard : str
        ``"met"``, ``"alternative"`` (alternative quality standard met) or ``"not_met"``.
    participant_revenue : float or None
        ACO participants' total Parts A and B FFS revenue, dollars; ``None`` if unknown
        (then revenue-based loss limits are not applied).
    low_revenue : bool
        Whether the ACO is low-revenue in the MSSP sense (eligible for reduced savings
        below the MSR).
    raw : ndarray or None
        Untruncated panel cost, dollars, shape ``(S,)``.
    capped : mapping of CapSpec to ndarray
        Panel sums of per-beneficiary costs under every cap the contract asked for.
    episodes : object or None
        Per-simulation episode totals for episode-payment contracts.
    expected : mapping of CapSpec to float
        Expected panel sum under each cap without the organisation's savings effort,
        dollars (what an insurer would price on).
    """

    n_beneficiaries: int
    benchmark: np.ndarray
    expenditure: np.ndarray
    quality_score: np.ndarray
    quality_standard: str = "met"
    participant_revenue: float | None = None
    low_revenue: bool = False
    raw: np.ndarray | None = None
    capped: Mapping[CapSpec, np.ndarray] = field(default_factory=dict)
    episodes: Any = None
    expected: Mapping[CapSpec, float] = field(default_factory=dict)

    @property
    def member_months(self) -> int:
        """Beneficiary-months in the year (12 per beneficiary)."""
        return 12 * self.n_beneficiaries


@dataclass(frozen=True)
class Settlement:
    """Result of settling one contract on every simulation.

    Attributes
    ----------
    net : ndarray
        Money to the provider, dollars per year (positive = paid to the provider,
        negative = owed by it), shape ``(S,)``.
    gain_shared : ndarray of bool
        Whether the contract paid any shared savings (or positive reconciliation) in
        that simulation, shape ``(S,)``.
    benchmark, expenditure : ndarray or None
        What the contract actually compared, dollars, shape ``(S,)``, when it is not the
        panel's benchmark and expenditure (e.g. episode target prices and spending).
    """

    net: np.ndarray
    gain_shared: np.ndarray
    benchmark: np.ndarray | None = None
    expenditure: np.ndarray | None = None
