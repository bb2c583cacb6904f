"""The MSSP benchmark over an agreement period, as CMS builds it (agreements starting 2024 or later).

Plain functions of arrays, vectorised over simulations (leading axes) and enrollment
types (last axis, ``E``), each citing the paragraph of 42 CFR part 425 it implements.
Per capita amounts are dollars per person-year. Confidence High (regulation text,
eCFR copies: 425.652 and 425.658 amended through 88 FR 79548, 425.656 through
87 FR 70246, 425.600 through 87 FR 70235) unless a docstring says otherwise.

The steps (425.652):

1. historical benchmark: each benchmark year's risk-adjusted per capita spending,
   trended to BY3 by a national-regional blend, weighted 10/30/60 in a first agreement
   and equally in later ones (`trend_to_by3`, `benchmark_year_weights`,
   `historical_benchmark`);
2. the adjustment: the regional adjustment (`regional_adjustment`) or the prior savings
   adjustment (`prior_savings_adjustment`), chosen by `benchmark_adjustment`, with no
   adjustment at all when the regional one is negative overall and no prior savings
   qualify;
3. the annual update: two-thirds national-regional blend, one-third ACPT fixed at the
   agreement's start (`update_factor`), times the capped risk ratio
   (`simsuite.contracts.mssp_rules.capped_risk_ratio`);
4. the ACPT loss guardrail (`acpt_guardrail`);
5. the level of each performance year on the BASIC glide path (`glide_levels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: 425.652(a)(7): BY1, BY2, BY3 weights in an ACO's first agreement period.
FIRST_AGREEMENT_WEIGHTS = (0.10, 0.30, 0.60)
#: 425.652(c)(2): equal weights in second and later agreement periods.
RENEWAL_WEIGHTS = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0)
#: 425.656(d)(1)-(4): share of the regional difference, by how many times the benchmark
#: has been regionally adjusted (1st, 2nd, 3rd, 4th and later): lower-spending, higher-spending.
REGIONAL_WEIGHTS_LOWER = (0.35, 0.50, 0.50, 0.50)
REGIONAL_WEIGHTS_HIGHER = (0.15, 0.25, 0.35, 0.50)
#: 425.656(c)(3): caps on the per capita adjustment, fractions of national per capita
#: expenditure of the enrollment type in BY3.
REGIONAL_CAP_POSITIVE = 0.05
REGIONAL_CAP_NEGATIVE = 0.015
#: 425.658(c)(1): the PSA is the lesser of 50% of the pro-rated average per capita
#: savings and 5% of national per capita expenditure in BY3.
PSA_SHARE = 0.50
PSA_CAP = 0.05
#: 425.652(b)(4)(i): weights of the two-way blend and of the ACPT.
TWO_WAY_WEIGHT = 2.0 / 3.0
ACPT_WEIGHT = 1.0 / 3.0
#: The BASIC track's levels (425.605(d)(1)); A and B are one-sided.
BASIC_LEVELS = ("A", "B", "C", "D", "E")
ONE_SIDED_LEVELS = ("A", "B")


def benchmark_year_weights(agreement_number: int) -> np.ndarray:
    """BY1, BY2, BY3 weights: 10/30/60 in a first agreement (425.652(a)(7)), equal
    in a second or later one (425.652(c)(2))."""
    if agreement_number < 1:
        raise ValueError(f"agreement numbers start at 1 (got {agreement_number})")
    return np.array(FIRST_AGREEMENT_WEIGHTS if agreement_number == 1 else RENEWAL_WEIGHTS)


def trend_to_by3(national_weight: np.ndarray | float, national: np.ndarray, regional: np.ndarray) -> np.ndarray:
    """Factors trending each benchmark year to BY3 (425.652(a)(5)).

    ``T_y = wN Nat_BY3 / Nat_y + (1 - wN) Reg_BY3 / Reg_y``, where ``wN`` is the share of
    the region's assignable beneficiaries that are assigned to the ACO in BY3
    (425.652(a)(5)(iv)-(v)).

    Parameters
    ----------
    national_weight : float or ndarray, shape (...)
        ``wN`` in [0, 1].
    national, regional : ndarray, shape (..., 3)
        Per capita expenditure (or an index of it) of the nation and of the ACO's region
        in BY1, BY2, BY3.

    Returns
    -------
    ndarray, shape (..., 3)
        The factors; BY3's is 1.
    """
    national = np.asarray(national, dtype=float)
    regional = np.asarray(regional, dtype=float)
    w = np.asarray(national_weight, dtype=float)[..., None]
    return w * national[..., 2:3] / national + (1.0 - w) * regional[..., 2:3] / regional


def historical_benchmark(per_capita: np.ndarray, trend: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The historical benchmark per capita by enrollment type (425.652(a)(3)-(7)).

    ``HB_e = sum_y w_y X~_e,y T_e,y`` over BY1..BY3, where ``X~`` is the year's
    risk-adjusted per capita expenditure of the type (restated to BY3's risk, (a)(3))
    and ``T`` its trend factor to BY3 (a)(5). Using per capita amounts by type and
    weighting by BY3 person-years afterwards restates the benchmark to the BY3 mix (a)(6).

    Parameters
    ----------
    per_capita : ndarray, shape (..., 3, E)
        Risk-adjusted per capita expenditure, dollars (truncated per beneficiary (a)(4)).
    trend : ndarray, shape (..., 3, E) or (..., 3, 1)
        Trend factors to BY3 (`trend_to_by3`, with a trailing axis for the types).
    weights : ndarray, shape (3,)
        `benchmark_year_weights`.
    """
    return np.einsum("...ye,y->...e", np.asarray(per_capita) * np.asarray(trend), np.asarray(weights))


def regional_weight(times_adjusted: int, lower_spending: np.ndarray) -> np.ndarray:
    """Share of the regional difference used (425.656(d)(1)-(4)): by how many times the
    benchmark has been regionally adjusted (1 = first) and whether the ACO spends less
    than its region (`lower_spending`, per simulation)."""
    if times_adjusted < 1:
        raise ValueError(f"the first regional adjustment is number 1 (got {times_adjusted})")
    k = min(times_adjusted, 4) - 1
    return np.where(np.asarray(lower_spending), REGIONAL_WEIGHTS_LOWER[k], REGIONAL_WEIGHTS_HIGHER[k])


@dataclass(frozen=True)
class RegionalAdjustment:
    """The regional adjustment of 425.656.

    Attributes
    ----------
    per_type : ndarray, shape (..., E)
        Dollars per capita added to each type's historical benchmark.
    single_value : ndarray, shape (...)
        The adjustment as one value: BY3 person-year weighted average of ``per_type``
        (what the choice rule of 425.652(a)(8) compares).
    lower_spending : ndarray of bool, shape (...)
        Whether the ACO spends less than its region (425.656(d)(5)).
    """

    per_type: np.ndarray
    single_value: np.ndarray
    lower_spending: np.ndarray


def regional_adjustment(historical: np.ndarray, regional: np.ndarray, national_by3: np.ndarray,
                        by3_shares: np.ndarray, times_adjusted: int, offset: float) -> RegionalAdjustment:
    """The regional adjustment per capita by enrollment type (425.656(c), (d)).

    * ``gap_e = Reg_e - HB_e`` (regional per capita spending, risk-adjusted to the ACO's
      BY3 case mix, minus the historical benchmark) (c)(1);
    * lower-spending iff ``sum_e p_e gap_e > 0`` with ``p`` the BY3 shares of assigned
      beneficiaries (d)(5); the weight of (d)(1)-(4) applies to every type (c)(2);
    * each type's adjustment capped at +5% / -1.5% of national per capita of the type in
      BY3 (c)(3);
    * a negative type adjustment times ``1 - offset`` (c)(4)-(5).

    Parameters
    ----------
    historical, regional : ndarray, shape (..., E)
        Historical benchmark and regional per capita expenditure, dollars.
    national_by3 : ndarray, shape (..., E) or (E,)
        National per capita expenditure in BY3, dollars.
    by3_shares : ndarray, shape (E,)
        BY3 shares of assigned beneficiaries by type (sum 1).
    times_adjusted : int
        This is the benchmark's n-th regional adjustment (1 = first).
    offset : float
        Offset factor of (c)(4): the BY3 dual-eligible share plus (BY3 average
        prospective HCC risk score - 1), in [0, 1] ((c)(5)); clipped here.
    """
    hb = np.asarray(historical, dtype=float)
    gap = np.asarray(regional, dtype=float) - hb
    shares = np.asarray(by3_shares, dtype=float)
    lower = (gap * shares).sum(axis=-1) > 0.0
    raw = regional_weight(times_adjusted, lower)[..., None] * gap
    nat = np.asarray(national_by3, dtype=float)
    capped = np.clip(raw, -REGIONAL_CAP_NEGATIVE * nat, REGIONAL_CAP_POSITIVE * nat)
    off = float(np.clip(offset, 0.0, 1.0))
    per_type = np.where(capped < 0.0, capped * (1.0 - off), capped)
    return RegionalAdjustment(per_type=per_type, single_value=(per_type * shares).sum(axis=-1), lower_spending=lower)


def prior_savings_adjustment(savings_per_capita: np.ndarray, national_by3: np.ndarray | float,
                             proration: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The prior savings adjustment (425.658(b)-(c)), dollars per capita, and eligibility.

    ``S`` is the simple average of the per capita savings (+) or losses (-) of the three
    performance years before the agreement, zeros included (b)(2); eligible iff ``S > 0``
    (b)(3)(i). The PSA is ``min(0.5 pi S, 0.05 Nat_BY3)`` with ``pi`` the proration
    factor for growth of the assigned population (b)(3)(ii), (c)(1). The regulation does
    not give the proration formula; it is an input here (default 1: no growth).

    Parameters
    ----------
    savings_per_capita : ndarray, shape (..., 3)
        Per capita savings of each of the 3 prior performance years, dollars (0 if not
        reconciled).
    national_by3 : float or ndarray, shape (...)
        National per capita expenditure in BY3 as a single (person-year weighted) value.
    proration : float or ndarray
        ``pi`` in (0, 1].

    Returns
    -------
    psa, eligible : ndarray, shape (...)
        Dollars per capita (0 where not eligible), and eligibility.
    """
    avg = np.asarray(savings_per_capita, dtype=float).mean(axis=-1)
    eligible = avg > 0.0
    psa = np.minimum(PSA_SHARE * np.asarray(proration, dtype=float) * avg,
                     PSA_CAP * np.asarray(national_by3, dtype=float))
    return np.where(eligible, psa, 0.0), eligible


def benchmark_adjustment(regional: RegionalAdjustment, psa: np.ndarray, psa_eligible: np.ndarray) -> np.ndarray:
    """The adjustment added to each type's historical benchmark (425.652(a)(8)(ii)-(v)).

    * not PSA-eligible: the regional adjustment if positive as a single value, else none;
    * PSA-eligible and regional positive: the higher (as single values) of the regional
      adjustment (by type) and the PSA (a flat amount on every type);
    * PSA-eligible and regional not positive: the PSA.

    Returns
    -------
    ndarray, shape (..., E)
        Dollars per capita by type.
    """
    ra, single = regional.per_type, regional.single_value
    psa = np.asarray(psa, dtype=float)[..., None]
    positive = (single > 0.0)[..., None]
    eligible = np.asarray(psa_eligible)[..., None]
    use_ra = positive & (~eligible | (single[..., None] >= psa))
    return np.where(use_ra, ra, np.where(eligible, np.broadcast_to(psa, ra.shape), 0.0))


def adjustment_category(regional_single: np.ndarray, psa: np.ndarray, psa_eligible: np.ndarray) -> np.ndarray:
    """Which adjustment 425.652(a)(8) gives, in the PUF's words: ``"Regional Adjustment"``,
    ``"Prior Savings Adjustment"`` or ``"No Adjustment"`` (column ``FinalAdjCat``)."""
    single = np.asarray(regional_single, dtype=float)
    psa = np.asarray(psa, dtype=float)
    eligible = np.asarray(psa_eligible, dtype=bool)
    return np.where((single > 0.0) & (~eligible | (single >= psa)), "Regional Adjustment",
                    np.where(eligible, "Prior Savings Adjustment", "No Adjustment"))


def update_factor(two_way: np.ndarray, acpt: np.ndarray | float, acpt_weight: float = ACPT_WEIGHT) -> np.ndarray:
    """The three-way blend updating the benchmark to a performance year (425.652(b)(4)).

    ``U = (1 - a) TW + a ACPT`` with ``a = 1/3`` absent unforeseen circumstances
    ((b)(4)(i); CMS cut it to 1/6 for PY2024, a Med-confidence fact from Milliman);
    ``TW`` is the two-way national-regional growth since BY3 (b)(2) and ``ACPT`` the
    cumulative projected growth fixed at the agreement's start (425.660).
    """
    return (1.0 - acpt_weight) * np.asarray(two_way, dtype=float) + acpt_weight * np.asarray(acpt, dtype=float)


def two_way_growth(national_weight: np.ndarray | float, national_growth: np.ndarray,
                   regional_growth: np.ndarray) -> np.ndarray:
    """The two-way blend since BY3 (425.652(b)(2)-(3)): ``wN Nat_t/Nat_BY3 + (1 - wN) Reg_t/Reg_BY3``
    (the regional risk-score growth cap factor of 425.655 taken as 1)."""
    w = np.asarray(national_weight, dtype=float)
    return w * np.asarray(national_growth, dtype=float) + (1.0 - w) * np.asarray(regional_growth, dtype=float)


@dataclass(frozen=True)
class Guardrail:
    """Outcome of the ACPT loss guardrail (425.652(b)(5)), arrays of shape (...).

    Attributes
    ----------
    benchmark : ndarray
        The benchmark to settle on (the recalculated two-way benchmark where it applies).
    neither : ndarray of bool
        Where spending is below the recalculated benchmark: no savings and no losses.
    applied : ndarray of bool
        Where the recalculated benchmark is used (losses shrink, or ``neither``).
    """

    benchmark: np.ndarray
    neither: np.ndarray
    applied: np.ndarray


def acpt_guardrail(benchmark: np.ndarray, two_way_benchmark: np.ndarray, expenditure: np.ndarray,
                   mlr: np.ndarray | float) -> Guardrail:
    """The ACPT loss guardrail (425.652(b)(5)), for per capita or total amounts alike.

    If spending is above the updated benchmark by at least the MLR, CMS recalculates the
    benchmark with the two-way blend only. If spending is less far above the recalculated
    benchmark, that benchmark determines shared losses ((b)(5)(i)); if spending is below
    it, the ACO neither shares losses nor savings ((b)(5)(ii)).

    The MLR test is then applied again to the recalculated benchmark by the settlement
    (425.605(b)(4)); the regulation does not say so explicitly (an open point, Low).

    Parameters
    ----------
    benchmark : ndarray
        Updated benchmark (three-way blend), dollars.
    two_way_benchmark : ndarray
        The same benchmark updated with the two-way blend only, dollars.
    expenditure : ndarray
        Spending, dollars.
    mlr : float or ndarray
        Minimum loss rate (fraction); ``inf`` for one-sided years (never triggered).
    """
    b = np.asarray(benchmark, dtype=float)
    b2 = np.asarray(two_way_benchmark, dtype=float)
    x = np.asarray(expenditure, dtype=float)
    triggered = (x - b) / b >= np.asarray(mlr, dtype=float)
    smaller_loss = x - b2 < x - b
    neither = triggered & (x < b2)
    applied = triggered & smaller_loss
    return Guardrail(benchmark=np.where(applied, b2, b), neither=neither, applied=applied)


def glide_levels(entry: str, years: int, stay_in_a: bool = False, one_sided_limit: int | None = None) -> list[str]:
    """Levels of the performance years of one agreement on the BASIC glide path.

    * Automatic advance one level each performance year (425.600(a)(4)(i)(C)(2));
    * an ACO that entered at Level A may elect to remain in A for all remaining years
      (425.600(a)(4)(i)(C)(3));
    * ``one_sided_limit``: the one-sided years (A, B) left to the ACO (agreements from 2027:
      5 in the first glide-path agreement, CY2026 PFS final rule, CMS fact sheet [Med]).
      Once they are used up the ACO continues at the first two-sided level, C, and advances
      from there [INF, Low: the amended 425.600 text was not available; the regulation moves
      an ACO to Level E only when it becomes experienced, (h)(2)(i)].

    Parameters
    ----------
    entry : {"A", "B", "C", "D", "E"}
        Level of the first performance year.
    years : int
        Performance years of the agreement.
    stay_in_a : bool
        The election to remain in Level A.
    one_sided_limit : int or None
        One-sided years allowed in this agreement (None: no limit).
    """
    if entry not in BASIC_LEVELS:
        raise ValueError(f"BASIC levels are A-E (got {entry!r})")
    if stay_in_a and entry != "A":
        raise ValueError("only an ACO that entered at Level A may elect to remain in it")
    left = years if one_sided_limit is None else one_sided_limit
    levels: list[str] = []
    level = BASIC_LEVELS.index(entry)
    for _ in range(years):
        wanted = 0 if stay_in_a else level
        if BASIC_LEVELS[wanted] in ONE_SIDED_LEVELS:
            if left <= 0:
                wanted, stay_in_a = BASIC_LEVELS.index("C"), False
            else:
                left -= 1
        levels.append(BASIC_LEVELS[wanted])
        level = min(wanted + 1, len(BASIC_LEVELS) - 1)
    return levels
