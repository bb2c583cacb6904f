"""The random streams: every draw is a hash of (seed, stream, simulation, index).

Each kind of draw has its own stream, so turning one source of randomness on or off
never changes another's draws.
"""

from __future__ import annotations

from enum import IntEnum


class Stream(IntEnum):
    """Stream numbers of `simsuite.kernels.rng.stream_key`."""

    COST = 1  # patient costs (index: patient)
    QUALITY = 2  # the quality score (index 0) and the alternative standard (1); year t of a horizon: 2t, 2t + 1
    EPISODES = 3  # episode counts and costs (index: category and slot)
    SHOCKS = 4  # systemic trend shocks (index 0: cost, 1: the benchmark's own part)
    SAVINGS = 5  # uncertain true savings (index 0)
    PANEL_YEARS = 6  # beneficiaries over the years of an agreement (index: slot, year, purpose)
    DYNAMICS = 7  # the organisation, trends and quality over the years (index: year and component)
    SYSTEMIC = 8  # a one-year run's systemic factor on the panel's spending (index 0)


#: Draws of a multi-year run are keyed by calendar year, counted from `YEAR_ORIGIN`, so that
#: the same year draws the same numbers whatever the horizon around it (one agreement or two,
#: early renewal or not, from the same first agreement start): comparisons of horizons keep their
#: common random numbers.
YEAR_ORIGIN = 2000
#: Years a multi-year draw index can hold (2000-2063; a horizon covers 2010-2060 at most).
YEAR_SPAN = 64

#: Episode draws of calendar year ``y`` of a multi-year run use stream ``EPISODE_YEARS + y - YEAR_ORIGIN``.
EPISODE_YEARS = 100


def year_key(year: int) -> int:
    """Calendar ``year`` as the index multi-year draws are keyed by (0 for `YEAR_ORIGIN`)."""
    k = int(year) - YEAR_ORIGIN
    if not 0 <= k < YEAR_SPAN:
        raise ValueError(f"year {year} is outside the {YEAR_ORIGIN}-{YEAR_ORIGIN + YEAR_SPAN - 1} span of the draws")
    return k


def episode_stream(year: int) -> int:
    """The stream of the episode draws of calendar ``year`` of a multi-year run; a one-year
    run uses `Stream.EPISODES`."""
    return EPISODE_YEARS + year_key(year)
