"""What every contract family shares: the per-simulation inputs it settles on and its output."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """

    n_beneficiaries: int
    benchmark: np.ndarray
    expenditure: np.ndarray
    quality_score: np.ndarray
    quality_standard: str = "met"
    participant_revenue: float | None = None
    low_revenue: bool = False


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
    """

    net: np.ndarray
    gain_shared: np.ndarray
