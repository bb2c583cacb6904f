"""MSSP money outside the settlement formula: when a year's result is paid, advance
investment payments (42 CFR 425.630), prepaid shared savings (425.640), the repayment
mechanism's term (425.204(f)(6)).

Plain functions and constants, each citing the paragraph it implements, with a confidence
tag: [High] regulation text (eCFR copies of 425.630 and 425.640 amended through 89 FR 98571,
Dec 2024; 425.605 through 89 FR 98571; 425.204 through 88 FR 79544); [Med] two consistent
secondary sources or a CMS page; [Low] one secondary source; [INF] our reading. Quotes:
``notes/issue18-21-rules.md`` Part B and A6-A7.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simsuite.contracts.settlement_timing import Timing, register_timing

#: [Med] CMS released the PY2024 results on 28 Aug 2025 (Fierce Healthcare, 29 Aug 2025;
#: LeadingAge): the written notice of 425.605(e)(1)-(2) about 8 months after the year ends
#: (the regulation gives no date). [Low] Shared savings are paid "October or November of
#: the calendar year after the Performance Year" (Bass Berry on the CY2025 rule): the later
#: month is taken, as a cash model should. [High] Shared losses are due "within 90 days of
#: receipt of notification" (425.605(e)(3)): the third month after the notice's.
MSSP_TIMING = Timing(
    notice_months=8, savings_paid_months=11, loss_months_after_notice=3,
    source="MSSP: notice 8 months after the year ends [Med: PY2024 results released 28 Aug 2025]; shared "
           "savings paid 11 months after it [Low: Bass Berry, 'October or November' of the next year, the later "
           "taken]; shared losses due 90 days after the notice [High: 42 CFR 425.605(e)(3)]")
register_timing(("mssp", "shared_savings"), MSSP_TIMING)

#: [High] 425.204(f)(6): the repayment mechanism stays in effect for the two-sided
#: participation "plus 12 months following the conclusion of the agreement period".
RM_TAIL_MONTHS = 12

# ---- advance investment payments, 425.630 ----------------------------------------------------

#: [High] 425.630(f): "a one-time payment of $250,000" at the beginning of PY1 ((f)(1)).
AIP_ONE_TIME = 250_000.0
#: [High] 425.630(f)(1): quarterly payments for the first two performance years, "no more
#: than eight".
AIP_QUARTERS = 8
#: [High] 425.630(f)(2)(iii): dollars per beneficiary per quarter by risk-factors-based
#: score band 1-24, 25-34, 35-44, 45-54, 55-64, 65-74, 75-84, 85-100.
AIP_PER_BENEFICIARY: tuple[float, ...] = (0.0, 20.0, 24.0, 28.0, 32.0, 36.0, 40.0, 45.0)
#: [High] 425.630(f)(2)(iv): the quarterly amount counts at most the 10,000 assigned
#: beneficiaries with the highest scores.
AIP_BENEFICIARY_CAP = 10_000
#: Levels allowed in PY1 and PY2 (425.630(b)(3)(i)-(ii)); PY3-5 may be any BASIC level ((iii)).
AIP_FIRST_YEAR_LEVELS = ("BASIC A",)
AIP_SECOND_YEAR_LEVELS = ("BASIC A", "BASIC B")


def aip_quarterly_amount(counts_by_band: Sequence[int]) -> float:
    """The quarterly advance investment payment (425.630(f)(2)(iii)-(iv)), dollars.

    Parameters
    ----------
    counts_by_band : sequence of int
        Assigned beneficiaries in each score band, lowest band first (8 bands).

    Returns
    -------
    float
        The sum over the (at most 10,000) highest-scoring beneficiaries of their band's amount.
    """
    if len(counts_by_band) != len(AIP_PER_BENEFICIARY):
        raise ValueError(f"need {len(AIP_PER_BENEFICIARY)} band counts, got {len(counts_by_band)}")
    left = AIP_BENEFICIARY_CAP
    total = 0.0
    for count, amount in zip(reversed(list(counts_by_band)), reversed(AIP_PER_BENEFICIARY)):
        taken = min(int(count), left)
        total += taken * amount
        left -= taken
    return total


def aip_ineligibility(program: str, levels: Sequence[str], agreement_number: int, experienced: bool,
                      low_revenue: bool | None) -> str | None:
    """Why a path cannot receive advance investment payments (425.630(b)), or None.

    Parameters
    ----------
    program : str
        The path's program (only MSSP pays them).
    levels : sequence of str
        The levels of the first agreement's performance years (``"BASIC A"``, ...).
    agreement_number : int
        The agreement's number for the ACO (1: not renewing or re-entering).
    experienced : bool
        Experienced with performance-based risk.
    low_revenue : bool or None
        Low-revenue status (425.20); None: unknown.
    """
    if program != "mssp":
        return "advance investment payments are an MSSP option (42 CFR 425.630)"
    if agreement_number != 1:
        return "a renewing or re-entering ACO is not eligible (425.630(b)(1))"
    if experienced:
        return "an ACO experienced with performance-based risk is not eligible (425.630(b)(3))"
    if levels[0] not in AIP_FIRST_YEAR_LEVELS:
        return f"PY1 must be BASIC Level A, not {levels[0]} (425.630(b)(3)(i))"
    if len(levels) > 1 and levels[1] not in AIP_SECOND_YEAR_LEVELS:
        return f"PY2 must be BASIC Level A or B, not {levels[1]} (425.630(b)(3)(ii))"
    if any(not level.startswith("BASIC") for level in levels):
        return "PY3-5 must be on the BASIC glide path (425.630(b)(3)(iii))"
    if low_revenue is None:
        return "low-revenue status unknown (425.630(b)(4)): give assumptions.low_revenue or " \
               "participant_revenue_to_benchmark"
    if not low_revenue:
        return "not a low-revenue ACO (425.630(b)(4))"
    return None


def recouped(earned: np.ndarray, outstanding: np.ndarray) -> np.ndarray:
    """What CMS recoups from a year's shared savings (425.630(g)(1),(3); 425.640(g)(1)), dollars.

    Advance payments are recouped "from any shared savings the ACO earns until CMS has
    recouped in full", never more than the year's savings; a loss year recoups nothing.
    """
    return np.minimum(np.maximum(earned, 0.0), np.maximum(outstanding, 0.0))


# ---- prepaid shared savings, 425.640 ---------------------------------------------------------

#: [High] 425.640(b)(1)(i): renewing ACOs entering an agreement from 1 January 2026.
PREPAID_FIRST_AGREEMENT = 2026
#: [High] 425.640(f)(2)(iv)-(v): the prorated average per capita savings of BY1-BY2, times
#: 50 percent, times two-thirds, at most 5 percent of national per capita A+B expenditure in BY2.
PREPAID_SAVINGS_SHARE = 0.5
PREPAID_TWO_THIRDS = 2.0 / 3.0
PREPAID_NATIONAL_CAP = 0.05
#: [High] 425.640(b)(6): BASIC Levels C-E or ENHANCED during the agreement.
PREPAID_LEVELS = ("BASIC C", "BASIC D", "BASIC E", "ENHANCED")
#: [High] 425.640(g)(3): a balance left after the final year's reconciliation is repaid
#: within 90 days of the notice (the third month after it).
PREPAID_REPAY_MONTHS_AFTER_NOTICE = 3
#: PROPOSED (CY2027 PFS proposed rule, CMS-1848-P, as summarised in the project's notes [Low]):
#: no new prepaid cohorts after the 2027 application cycle. Current law is simulated.
PREPAID_PROPOSED_NOTE = ("PROPOSED (CY2027 PFS proposed rule): prepaid shared savings removed, no new cohorts "
                         "after the 2027 application cycle; current law (42 CFR 425.640) simulated")


def prepaid_multiplier(savings_by1: np.ndarray, savings_by2: np.ndarray, national_by2: np.ndarray,
                       proration: float = 1.0) -> np.ndarray:
    """The prepaid shared savings multiplier (425.640(f)(2)), dollars per person-year.

    ``min(2/3 * 0.5 * proration * mean(savings_by1, savings_by2), 0.05 * national_by2)``,
    never below zero (there is nothing to prepay from losses). Per capita savings of a
    year not reconciled count as zero ((f)(2)(i)-(ii)).

    Parameters
    ----------
    savings_by1, savings_by2 : ndarray
        Per capita savings (benchmark minus expenditure per person-year, losses negative)
        of the performance years that are BY1 and BY2 of the agreement.
    national_by2 : ndarray
        National per capita Parts A and B FFS expenditure in BY2.
    proration : float
        The proration factor of (f)(2)(iii).
    """
    average = 0.5 * (np.asarray(savings_by1) + np.asarray(savings_by2))
    adjusted = PREPAID_TWO_THIRDS * PREPAID_SAVINGS_SHARE * proration * average
    return np.maximum(np.minimum(adjusted, PREPAID_NATIONAL_CAP * np.asarray(national_by2)), 0.0)


def prepaid_ineligibility(program: str, levels: Sequence[str], start: int, number: int) -> str | None:
    """Why an agreement cannot receive prepaid shared savings on its terms alone
    (425.640(b)(1), (6)), or None; the conditions on the ACO's results ((b)(2)-(5)) are
    checked per simulation by the cash flows.

    Parameters
    ----------
    levels : sequence of str
        The levels of the agreement's performance years.
    start, number : int
        The agreement's first performance year and its number for the ACO.
    """
    if program != "mssp":
        return "prepaid shared savings are an MSSP option (42 CFR 425.640)"
    if number < 2:
        return "only a renewing ACO is eligible (425.640(b)(1))"
    if start < PREPAID_FIRST_AGREEMENT:
        return f"only agreements from {PREPAID_FIRST_AGREEMENT} (425.640(b)(1)(i))"
    wrong = [level for level in levels if level not in PREPAID_LEVELS]
    if wrong:
        return f"{wrong[0]} is not BASIC C-E or ENHANCED (425.640(b)(6))"
    return None
