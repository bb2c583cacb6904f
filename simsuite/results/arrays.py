"""Per-simulation results of a range of simulations, before any summary (no xarray here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulationArrays:
    """Per-simulation results of a range of simulations, before any summary.

    Arrays have shape ``(C, S)`` (one row per contract) or ``(S,)``; money in dollars per
    year, positive = to the provider.

    ``guarantee`` ``(C,)`` is the financial guarantee each contract requires (the MSSP
    repayment mechanism), dollars, NaN where none; ``exceeds_guarantee`` ``(C, S)`` whether
    what the organisation owes under the contract that year (its settlement's loss, before
    the cost of the effort) exceeds it. ``rules`` are the run header's lines on the rules in
    effect (`simsuite.engines.settlement_inputs.SettlementInputs.rule_notes`).
    """

    first_sim: int
    net: np.ndarray
    gain_shared: np.ndarray
    expenditure: np.ndarray
    benchmark: np.ndarray
    panel_cost: np.ndarray
    quality_score: np.ndarray
    exceeds_guarantee: np.ndarray
    guarantee: np.ndarray
    rules: tuple[str, ...] = ()

    @staticmethod
    def concatenate(parts: list[SimulationArrays]) -> SimulationArrays:
        """Join consecutive ranges of simulations (in order) into one."""
        parts = sorted(parts, key=lambda p: p.first_sim)
        joined = {
            name: np.concatenate([getattr(p, name) for p in parts], axis=-1)
            for name in ("net", "gain_shared", "expenditure", "benchmark", "panel_cost", "quality_score",
                         "exceeds_guarantee")
        }
        return SimulationArrays(first_sim=parts[0].first_sim, guarantee=parts[0].guarantee, rules=parts[0].rules,
                                **joined)


@dataclass(frozen=True)
class AgreementArrays:
    """Per-simulation, per-performance-year results of a multi-year run, before any summary.

    Arrays have shape ``(C, S, P)`` (contract, simulation, performance year) or
    ``(S, P)``; money in dollars per year, positive = to the provider.

    Attributes
    ----------
    first_sim : int
        Global index of the first simulation.
    years : tuple of int
        The ``P`` performance years.
    levels : tuple of tuple of str
        Track or level of each contract in each year (``""`` for single-year contracts).
    net, gain_shared, benchmark, expenditure : ndarray
        As `SimulationArrays`, by year (``benchmark`` NaN where a contract has none).
    repayment_mechanism : ndarray
        Repayment mechanism required in the year, dollars (0 where none is required).
    owed : ndarray
        Shared losses owed to the payer in the year, dollars >= 0 (the settlement's loss,
        without the effort's cost).
    guardrail : ndarray of bool
        Where MSSP's ACPT loss guardrail applied.
    panel_cost, quality_score : ndarray, shape (S, P)
        Untruncated panel cost (dollars) and quality score of each year.
    rules : tuple of str
        The run header's lines on the rules in effect, as `SimulationArrays.rules`.
    effort : ndarray, shape (S, P), or None
        The effort's cost included in ``net`` (never positive, dollars; the same for every
        contract), None if the scenario has none: ``net - effort`` is what the contract settled.
    national_per_capita : ndarray, shape (S, P), or None
        National per capita A+B spending of each year, a person-year weighted single value
        (dollars; what MSSP's rules cap amounts at), None if no path reads it.
    """

    first_sim: int
    years: tuple[int, ...]
    levels: tuple[tuple[str, ...], ...]
    net: np.ndarray
    gain_shared: np.ndarray
    benchmark: np.ndarray
    expenditure: np.ndarray
    repayment_mechanism: np.ndarray
    owed: np.ndarray
    guardrail: np.ndarray
    panel_cost: np.ndarray
    quality_score: np.ndarray
    rules: tuple[str, ...] = ()
    effort: np.ndarray | None = None
    national_per_capita: np.ndarray | None = None

    @staticmethod
    def concatenate(parts: list[AgreementArrays]) -> AgreementArrays:
        """Join consecutive ranges of simulations (in order) into one."""
        parts = sorted(parts, key=lambda p: p.first_sim)
        by_contract = ("net", "gain_shared", "benchmark", "expenditure", "repayment_mechanism", "owed", "guardrail")
        joined = {name: np.concatenate([getattr(p, name) for p in parts], axis=1) for name in by_contract}
        joined.update({name: np.concatenate([getattr(p, name) for p in parts], axis=0)
                       for name in ("panel_cost", "quality_score")})
        def optional(name: str) -> np.ndarray | None:
            given = [getattr(p, name) for p in parts]
            return None if any(g is None for g in given) else np.concatenate(given, axis=0)

        return AgreementArrays(first_sim=parts[0].first_sim, years=parts[0].years, levels=parts[0].levels,
                               rules=parts[0].rules, effort=optional("effort"),
                               national_per_capita=optional("national_per_capita"), **joined)
