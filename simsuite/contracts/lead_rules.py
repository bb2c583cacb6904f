"""LEAD (Long-term Enhanced ACO Design, 2027-2036): the benchmark rules, as plain functions.

Plain functions of arrays, vectorised over simulations (leading axes) and enrollment
types (last axis, ``E``); per capita amounts are dollars per person-year. The program that
uses them is `simsuite.contracts.lead_agreement`.

**No primary text.** The LEAD Request for Applications and the PY2027 finance methodology
were not available; every value below comes from secondary sources, and each constant and
function says which and how far to trust it:

* **[Med]**: two consistent secondary sources, or a CMS web page;
* **[Low]**: one secondary source (often R6 alone);
* **[INF]**: our inference, by analogy with the MSSP regulation or from the arithmetic.

Sources (full list in ``docs/lead-and-commercial.md``):

* R6: notes on the LEAD model citing the RFA, the Technical FAQs, the PY2027 Alignment &
  Finance Methodology paper (July 2026) and a LEAD PY2027 workbook, with its column notes
  (`notes/issue18-21-rules.md` Part C);
* WAK-LEAD: Wakely, "LEAD benchmarking" (cites RFA §VIII.A); WAK-Q: Wakely, "Quality risk
  under the LEAD model"; WAK-FG: Wakely, ACO risk mitigation paper 2 (financial guarantee);
* MIL-LEADB: Milliman, "LEAD benchmarking methodology ... relative to the MSSP" (Apr 2026);
* MEDINS: MedInsight (Milliman) recap of its LEAD RFA webinar (Jun 2026);
* BENESCH: Benesch, "CMS bets on the long game with 10-year LEAD ACO model" (Apr 2026);
* INNOV: Innovaccer on LEAD; MONDAQ: Mondaq on LEAD (Mar 2026); CMS-LEAD: the CMS model page.

Values not found anywhere (the scenario must state them; `lead_agreement` refuses without):
the higher-spending discount in PY2028-2031, the ACPT guardrails after PY2027, the
Professional loss bands, the financial guarantee rate between 2% and 4%.
"""

from __future__ import annotations

import numpy as np

from simsuite.contracts.mssp_benchmark import RegionalAdjustment
from simsuite.contracts.mssp_benchmark import prior_savings_adjustment as mssp_prior_savings_adjustment

#: The model runs 1 Jan 2027 - 31 Dec 2036 (MONDAQ; R6; CMS-LEAD) [Med].
FIRST_YEAR = 2027
LAST_YEAR = 2036
#: Baseline-year weights: "Renewing ACOs weight them 1/3 each; newly entering ACOs weight
#: them 10% / 30% / 60%" (R6) [Low]. A REACH ACO is a renewing ACO (the R6 workbook's
#: scenario: "a Renewing ACO, predecessor program ACO REACH") [Low].
RENEWING_WEIGHTS = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0)
NEW_ENTRANT_WEIGHTS = (0.10, 0.30, 0.60)
#: Regional Efficiency Adjustment: "50% of the risk-adjusted difference" (R6); "a 50/50
#: historical-to-regional rate blend at entry" for lower-spending participants (MEDINS) [Med].
REA_SHARE = 0.50
#: REA cap, fraction of national per capita spending: "capped at 3% for renewing former-MSSP
#: ACOs and 5% for others" (R6) [Low for 3%]; "capped at 5% of US pe[r capita]" (INNOV) [Med
#: for 5%]. Whether a renewing ex-REACH ACO gets 3% or 5% was not found: R6 reads 5%.
REA_CAP_FORMER_MSSP = 0.03
REA_CAP_OTHER = 0.05
# Prior savings adjustment: "50% of prorated prior savings, capped"; the workbook's
# "prior-savings scaling is 50% with a 5% cap" (R6) [Low] -- MSSP's constants
# (`simsuite.contracts.mssp_benchmark.PSA_SHARE`, `PSA_CAP`), so `prior_savings_adjustment` shares its arithmetic.
#: Risk-score growth "capped symmetrically at 3% for A&D and ESRD and 4% for High Needs,
#: with BY3 as the reference year" (R6; workbook bounds 0.97-1.03) [Low]. No High Needs
#: cohort is simulated, so 3% applies to every type.
RISK_CAP = 0.03
#: ACPT guardrails around the two-way trend in PY2027: +0.3% / -0.2%, "widening in later
#: years" (R6) [Low]; that a guardrail exists: "a prospective growth factor with guardrails"
#: (MONDAQ) [Med]. Later years' widths were not found.
GUARDRAIL_2027 = (0.003, 0.002)
#: Global discount: lower-spending "a flat 3%"; higher-spending "1.75% in PY2027, rising to 3%
#: by PY2032" (R6; BENESCH "~1.75-3%"; MIL-LEADB "the increasing discount for inefficient
#: ACOs") [Med]. The path in PY2028-2031 was not found. Professional: no discount (R6;
#: BENESCH) [Med].
LOWER_SPENDING_DISCOUNT = 0.03
HIGHER_SPENDING_FIRST_DISCOUNT = 0.0175
HIGHER_SPENDING_FULL_DISCOUNT = 0.03
HIGHER_SPENDING_FULL_YEAR = 2032
#: Administrative add-on of higher-spending ACOs: 1.5% (R6; MEDINS; BENESCH) [Med]; of the
#: benchmark before discount, "paid separately from the benchmark" (R6 column notes) [Low].
ADMINISTRATIVE_ADD_ON = 0.015
#: Quality withhold: 3% of the benchmark, "earned back based on quality performance" (R6;
#: WAK-Q "3% of the benchmark withheld upfront ... reduced from 5%") [Med]. The earn-back
#: formula was not found: linear in the quality score here [INF].
QUALITY_WITHHOLD = 0.03
#: Financial guarantee: "4% x annualized BY3 cost" (R6 workbook) [Low]; "2.0 to 4.0 percent
#: of prior Part A and B expenditures" (WAK-FG) [Med for the range]. Which rate applies was
#: not found.
GUARANTEE_RANGE = (0.02, 0.04)
#: Minimum size: "5,000 aligned beneficiaries in Performance Year 1"; "Newly Entering ACOs ...
#: 1,000 beneficiaries in Performance Year 1" (CMS-LEAD) [Med]. High-Needs-heavy ACOs (800)
#: are not modelled.
MIN_BENEFICIARIES = 5000
MIN_BENEFICIARIES_NEW_ENTRANT = 1000


def baseline_weights(renewing: bool) -> np.ndarray:
    """BY1, BY2, BY3 weights: 1/3 each for a renewing ACO, 10/30/60 for a newly entering one
    (R6) [Low]."""
    return np.array(RENEWING_WEIGHTS if renewing else NEW_ENTRANT_WEIGHTS)


def lower_spending(historical: np.ndarray, regional: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Whether the ACO is lower-spending: its baseline below its region's risk-adjusted
    spending, as one value weighted by the BY3 shares of the types.

    "Each ACO is classed Higher-spending or Lower-spending against regional FFS spending"
    (R6) [Low]; the weighting is 42 CFR 425.656(d)(5)'s for MSSP [INF: LEAD's test not found].
    The class is set once, at entry, for the ten years [INF].

    Parameters
    ----------
    historical, regional : ndarray, shape (..., E)
        Baseline and regional per capita spending (BY3), dollars.
    shares : ndarray, shape (E,)
        BY3 shares of the aligned beneficiaries by type.
    """
    gap = np.asarray(regional, dtype=float) - np.asarray(historical, dtype=float)
    return (gap * np.asarray(shares, dtype=float)).sum(axis=-1) > 0.0


def regional_efficiency_adjustment(historical: np.ndarray, regional: np.ndarray, national_by3: np.ndarray,
                                   shares: np.ndarray, cap: float, eligible: np.ndarray | bool) -> RegionalAdjustment:
    """The Regional Efficiency Adjustment per capita by type.

    ``REA_e = min(max(0.5 (Reg_e - HB_e), 0), cap x Nat_e)`` where ``eligible`` (a
    lower-spending Global ACO), else 0:

    * 50% of the risk-adjusted difference (R6; MEDINS) [Med];
    * capped at ``cap`` of national per capita spending in BY3 (R6; INNOV) [Med for 5%];
    * never negative: "negative regional adjustment floor of 0% in LEAD" (MIL-LEADB) [Med];
      the floor per type is [INF];
    * only Global ACOs "can take ... a positive Regional Efficiency Adjustment" (R6) [Low],
      and higher-spending ACOs "use their own historical spending only" (MEDINS) [Med].

    Returns
    -------
    RegionalAdjustment
        ``per_type`` (dollars per capita, shape (..., E)), its BY3-share weighted
        ``single_value`` and ``lower_spending``.
    """
    hb = np.asarray(historical, dtype=float)
    gap = np.asarray(regional, dtype=float) - hb
    nat = np.asarray(national_by3, dtype=float)
    rea = np.clip(REA_SHARE * gap, 0.0, cap * nat)
    ok = np.asarray(eligible, dtype=bool)
    per_type = np.where(ok[..., None], rea, 0.0) if ok.ndim else (rea if ok else np.zeros_like(rea))
    shares = np.asarray(shares, dtype=float)
    return RegionalAdjustment(per_type=per_type, single_value=(per_type * shares).sum(axis=-1),
                              lower_spending=lower_spending(hb, regional, shares))


def prior_savings_adjustment(savings_per_capita: np.ndarray, national_by3: np.ndarray | float
                             ) -> tuple[np.ndarray, np.ndarray]:
    """The prior savings adjustment, dollars per capita, and eligibility.

    ``min(0.5 S, 0.05 Nat_BY3)`` where the average ``S`` of the three prior years' per capita
    savings is positive (R6: "50% of prorated prior savings, capped", workbook "50% with a
    5% cap") [Low]; proration not found, taken as 1. The arithmetic is MSSP's (42 CFR
    425.658(b)-(c)), whose constants are the same. The ACO gets "the higher of REA or PSA,
    never both" (R6; INNOV) [Med]: `mssp_benchmark.benchmark_adjustment` with a never-negative
    REA is exactly that.
    """
    return mssp_prior_savings_adjustment(savings_per_capita, national_by3)


def guarded_acpt(acpt: np.ndarray | float, two_way: np.ndarray | float, above: float | None,
                 below: float | None) -> np.ndarray:
    """The ACPT held within ``[two_way - below, two_way + above]`` (cumulative growth factors
    since BY3; None: no bound on that side).

    PY2027: ``+0.3% / -0.2%`` (R6) [Low]; e.g. a two-way trend of 5.0% and an ACPT of 6.0%
    give 5.3%; an ACPT of 4.5% gives 4.8%. Later years: the scenario's assumption.
    """
    out = np.asarray(acpt, dtype=float)
    tw = np.asarray(two_way, dtype=float)
    if above is not None:
        out = np.minimum(out, tw + above)
    if below is not None:
        out = np.maximum(out, tw - below)
    return np.broadcast_to(out, np.broadcast(out, tw).shape).copy()


def global_discount(year: int, lower: np.ndarray | bool, assumed: dict[int, float]) -> np.ndarray:
    """The Global benchmark discount of a performance year, per simulation.

    Lower-spending: 3% every year; higher-spending: 1.75% in PY2027, 3% from PY2032 (R6)
    [Med]; PY2028-2031 from ``assumed`` (the scenario's assumption: the path was not found).
    """
    if year < HIGHER_SPENDING_FULL_YEAR and year != FIRST_YEAR and year not in assumed:
        raise ValueError(f"no assumed higher-spending discount for PY{year}")
    higher = (HIGHER_SPENDING_FIRST_DISCOUNT if year == FIRST_YEAR
              else HIGHER_SPENDING_FULL_DISCOUNT if year >= HIGHER_SPENDING_FULL_YEAR else assumed[year])
    return np.where(np.asarray(lower, dtype=bool), LOWER_SPENDING_DISCOUNT, higher)


def linear_discount_path() -> dict[int, float]:
    """The straight line from 1.75% (PY2027) to 3% (PY2032): 2.0, 2.25, 2.5, 2.75% in
    PY2028-2031 -- an assumption a scenario may choose (``higher_spending_discounts: linear``),
    not a published schedule [INF]."""
    span = HIGHER_SPENDING_FULL_YEAR - FIRST_YEAR
    step = (HIGHER_SPENDING_FULL_DISCOUNT - HIGHER_SPENDING_FIRST_DISCOUNT) / span
    return {FIRST_YEAR + k: HIGHER_SPENDING_FIRST_DISCOUNT + k * step for k in range(1, span)}


def financial_guarantee(by3_expenditure: np.ndarray | float, rate: float) -> np.ndarray:
    """The financial guarantee: ``rate`` x the aligned beneficiaries' annual Parts A and B
    expenditure of BY3, dollars ("4% x annualized BY3 cost", R6 [Low]; "2.0 to 4.0 percent of
    prior Part A and B expenditures", WAK-FG [Med])."""
    return rate * np.asarray(by3_expenditure, dtype=float)
