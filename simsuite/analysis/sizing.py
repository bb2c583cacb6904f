"""Before a run: will it fit and how long will it take; after it: are the tails precise enough."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba

from simsuite.engines.montecarlo import RunOptions
from simsuite.engines.settlement_inputs import cap_specs
from simsuite.errors import InputError
from simsuite.scenario.load import Scenario

if TYPE_CHECKING:
    import xarray as xr

# Conservative patient draws per second per thread (the kernels do better; see benchmarks/).
DRAWS_PER_SECOND_PER_THREAD = 30e6
# Refuse runs whose per-simulation results would take more than this share of memory.
MEMORY_SHARE = 0.5
# Warn when a tail measure's Monte Carlo error exceeds this share of its size.
TAIL_ERROR_SHARE = 0.10
_TAILS = {"VaR95": "1-in-20 loss (VaR95)", "TVaR95": "TVaR95", "VaR99": "1-in-100 loss (VaR99)", "TVaR99": "TVaR99"}


@dataclass(frozen=True)
class Estimate:
    """Resources a run will need."""

    bytes: int
    seconds: float

    @property
    def gigabytes(self) -> float:
        return self.bytes / 2**30


def physical_memory() -> int:
    """Bytes of physical memory on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def estimate(scenario: Scenario, options: RunOptions) -> Estimate:
    """Memory and time of a run, from its size.

    Memory counts the kernel totals (one column per cap), four arrays per contract
    (net, expenditure, savings rate, and the copy made when stacking them) and the
    sort done for the risk measures; time assumes `DRAWS_PER_SECOND_PER_THREAD`.
    """
    s = options.simulations
    n = scenario.n_beneficiaries
    contracts = len(scenario.contracts)
    caps = len(cap_specs(scenario))
    h = scenario.spec.horizon
    years, pys = (1, 1) if h is None else (len(h.years), len(h.performance_years))
    # A horizon keeps totals by year, cap and enrollment type (4), and six arrays per
    # contract and performance year.
    per_sim = (8 * caps + contracts * (8 * 4 + 1) + 8 * 3 if h is None else
               8 * years * caps * 4 + contracts * pys * (8 * 6 + 2) + 8 * 4 * years)
    threads = options.threads or numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    seconds = n * s * years / (DRAWS_PER_SECOND_PER_THREAD * threads)
    return Estimate(bytes=int(s * per_sim + 64 * n), seconds=seconds)


def check_size(scenario: Scenario, options: RunOptions) -> Estimate:
    """The run's `Estimate`, or an `InputError` saying what to change if it cannot fit."""
    est = estimate(scenario, options)
    limit = MEMORY_SHARE * physical_memory()
    if est.bytes > limit:
        fits = int(options.simulations * limit / est.bytes)
        raise InputError(
            scenario.source,
            "run.simulations",
            f"{options.simulations:,} simulations of {len(scenario.contracts)} contracts need about "
            f"{est.gigabytes:.1f} GB, more than half of this machine's {physical_memory() / 2**30:.0f} GB; "
            f"use at most about {fits:,} simulations (--sims) or fewer contracts",
        )
    return est


def precision_warnings(ds: xr.Dataset) -> list[str]:
    """One line per tail measure whose Monte Carlo error is large relative to its size.

    The size is the larger of the measure itself and a quarter of the contract's
    standard deviation, so a measure that is near zero does not trigger a warning.
    """
    lines = []
    for name in ds["contract"].values:
        value = ds["summary"].sel(contract=name)
        error = ds["summary_se"].sel(contract=name)
        scale_floor = 0.25 * float(value.sel(measure="sd"))
        for measure, label in _TAILS.items():
            v, e = float(value.sel(measure=measure)), float(error.sel(measure=measure))
            scale = max(abs(v), scale_floor)
            if scale > 0 and e > TAIL_ERROR_SHARE * scale:
                lines.append(
                    f"{name}: {label} has a Monte Carlo error of ±{100 * e / scale:.0f}% of its size; "
                    "run more simulations (--sims) before relying on it"
                )
    return lines
