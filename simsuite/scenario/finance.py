"""The ``finance`` section of a multi-year scenario: when money moves, what running the
organisation costs, advance payments, the repayment mechanism's carrying cost, the reserve.

With a ``finance`` section a multi-year run dates every cash flow of every contract
(`simsuite.results.cashflow`) and values it: net present value at ``discount_rate``, the
payback year, the lowest cumulative cash balance, the chance the cash falls below the
reserve, the chance of a loss over the agreement (`simsuite.analysis.decision` chooses the
path on them). Money is dollars, from the organisation's side; costs are entered as
positive numbers. Rates are fractions a year.

Who pays what:

* the effort's cost of ``assumptions`` (``care_management_pmpm``, ``ffs_margin_lost``) is
  paid under every contract, fee-for-service included, as in a one-year run (the effort
  and its savings are the same whatever the contract); the cash flows spread it over the
  months of each performance year;
* the costs of taking part (``startup``, ``operating_costs``) and the repayment
  mechanism's fee are paid under every contract that settles, i.e. all but fee-for-service.

Values the sources do not give have no default here: the discount rate, the repayment
mechanism's fee rate (a letter of credit's or surety bond's price was not found), the
settlement dates of programs other than MSSP, the beneficiaries' scores for advance
investment payments. A scenario that needs one and does not state it is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsuite.errors import FieldProblem

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Dollars = Annotated[float, Field(ge=0.0, le=1e11)]

#: Risk-factors-based score bands of 42 CFR 425.630(f)(2)(iii), lowest first.
SCORE_BANDS: tuple[str, ...] = ("1-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85-100")


class SettlementTiming(BaseModel):
    """When a program's performance year settlement moves cash (``finance.settlement.<program>``),
    in whole months after the year ends (December = month 0: 8 means August of the next year).

    Shared losses are due 90 days after the written notice (42 CFR 425.605(e)(3)), i.e.
    in the third month after the notice's month.

    Attributes
    ----------
    notice_months : int
        Months from the year's end to the written notice of the year's result.
    savings_paid_months : int
        Months from the year's end to the payment of shared savings (not before the notice).
    """

    model_config = _STRICT
    notice_months: Annotated[int, Field(ge=1, le=36)]
    savings_paid_months: Annotated[int, Field(ge=1, le=48)]

    @model_validator(mode="after")
    def _paid_after_notice(self) -> SettlementTiming:
        if self.savings_paid_months < self.notice_months:
            raise FieldProblem(("savings_paid_months",), f"{self.savings_paid_months} is before the notice "
                                                          f"({self.notice_months} months): savings are paid after it")
        return self


class Startup(BaseModel):
    """Start-up cost (``finance.startup``), paid in equal parts over ``months`` months before the
    first performance year (0: in its first month).

    NAACOS's 2014 survey of 35 ACOs found an average first-year start-up cost of $2.0M (range
    $0.3M-6.7M), internal staff and contracts included (NAACOS press release, 27 Jan 2014).
    """

    model_config = _STRICT
    amount: Dollars
    months: Annotated[int, Field(ge=0, le=36)] = 0


class OperatingCosts(BaseModel):
    """Yearly costs of running the organisation under a contract (``finance.operating_costs``),
    dollars a year, paid in twelve equal monthly parts of each performance year.

    Attributes
    ----------
    staff, technology, other : float
        Dollars a year in the first performance year.
    growth : float
        Yearly growth of these costs (fraction).
    """

    model_config = _STRICT
    staff: Dollars = 0.0
    technology: Dollars = 0.0
    other: Dollars = 0.0
    growth: Annotated[float, Field(gt=-0.2, lt=0.3)] = 0.0


class AdvanceInvestmentPayments(BaseModel):
    """The election of advance investment payments (``finance.advance_investment_payments``,
    42 CFR 425.630), paid to the paths that are eligible.

    Attributes
    ----------
    score_shares : dict
        Share of the assigned beneficiaries in each band of the risk-factors-based score
        (425.630(f)(2)(ii): 100 for a beneficiary with the Part D low-income subsidy or dual
        eligibility, else the national percentile of the Area Deprivation Index of their
        address, 50 if it cannot be matched), keyed by `SCORE_BANDS`; the shares sum to 1.
    """

    model_config = _STRICT
    score_shares: dict[str, Fraction]

    @model_validator(mode="after")
    def _bands(self) -> AdvanceInvestmentPayments:
        for band in self.score_shares:
            if band not in SCORE_BANDS:
                raise FieldProblem(("score_shares", band), f"unknown score band; the bands of 42 CFR "
                                                           f"425.630(f)(2)(iii) are {', '.join(SCORE_BANDS)}")
        total = sum(self.score_shares.values())
        if abs(total - 1.0) > 1e-6:
            raise FieldProblem(("score_shares",), f"the shares sum to {total:.6g}; they must sum to 1")
        return self


class PrepaidSharedSavings(BaseModel):
    """The election of prepaid shared savings (``finance.prepaid_shared_savings``, 42 CFR
    425.640), paid in the renewals that are eligible.

    Attributes
    ----------
    share_of_maximum : float
        Share of the maximum quarterly amount taken (425.640(f)(6) lets an ACO ask for less).
    proration_factor : float
        The factor of 425.640(f)(2)(iii) for growth of the assigned population in BY1-BY2;
        the text gives no formula. Default 1: the simulated panel does not grow [INF].
    first_agreement_multiplier : float or None
        The prepaid shared savings multiplier (dollars per person-year, 425.640(f)(2)) of the
        first simulated agreement when it is itself a renewal: its benchmark years' savings
        are not simulated in dollars, so the scenario states it.
    """

    model_config = _STRICT
    share_of_maximum: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    proration_factor: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    first_agreement_multiplier: Dollars | None = None


class Reserve(BaseModel):
    """Cash held against the agreement (``finance.reserve``).

    Attributes
    ----------
    amount : float
        Cash set aside at the start, dollars.
    retained_share : float
        Share of each shared savings payment kept in the reserve; the rest is distributed
        (to participants or owners) the month it arrives. Distributions lower the reserve,
        not the value (NPV counts them as the organisation's).
    """

    model_config = _STRICT
    amount: Dollars = 0.0
    retained_share: Fraction = 1.0


class Finance(BaseModel):
    """The ``finance`` section (see the module docstring).

    Attributes
    ----------
    discount_rate : float
        Yearly rate at which cash is discounted to 1 January of the first performance year
        (the organisation's cost of capital); required.
    settlement : dict of str to SettlementTiming, or None
        When settlements move cash, keyed by program (a path's ``program``: ``mssp``,
        ``lead``, ``commercial``) or family (a single-year contract's: ``corridor``,
        ``shared_risk``, ...), so MSSP, LEAD and a commercial payer keep their own calendars.
        A program not named keeps its cited dates (MSSP: `simsuite.contracts.mssp_cash.MSSP_TIMING`);
        one with no cited dates must be named.
    startup, operating_costs : see their classes
    repayment_mechanism_fee : float or None
        Yearly cost of holding the repayment mechanism, a fraction of its amount (a letter
        of credit's fee, a surety bond's premium, or an escrow's forgone return); required
        when a contract needs one.
    advance_investment_payments, prepaid_shared_savings : see their classes; None: not elected
    reserve : Reserve or None
    """

    model_config = _STRICT
    discount_rate: Annotated[float, Field(gt=-0.05, lt=0.5)]
    settlement: dict[str, SettlementTiming] | None = None
    startup: Startup | None = None
    operating_costs: OperatingCosts = Field(default_factory=OperatingCosts)
    repayment_mechanism_fee: Annotated[float, Field(ge=0.0, le=0.5)] | None = None
    advance_investment_payments: AdvanceInvestmentPayments | None = None
    prepaid_shared_savings: PrepaidSharedSavings | None = None
    reserve: Reserve | None = None

    @model_validator(mode="before")
    @classmethod
    def _settlement_by_program(cls, data: Any) -> Any:
        given = data.get("settlement") if isinstance(data, dict) else None
        if isinstance(given, dict) and set(given) & set(SettlementTiming.model_fields):
            raise FieldProblem(("settlement",), "give the dates by program, as programs settle on their own calendars, "
                                                "e.g. settlement: {lead: {notice_months: 8, savings_paid_months: 11}}")
        return data


def check_finance(finance: Finance, contracts: Sequence[Any], agreement_number: int, low_revenue_known: bool) -> None:
    """Refuse (`FieldProblem`, located from the scenario's root) a ``finance`` section that
    leaves out what the scenario's contracts need.

    Parameters
    ----------
    finance : Finance
    contracts : sequence of Contract or PathContract
        The scenario's resolved contracts.
    agreement_number : int
        The first simulated agreement's number for the organisation.
    low_revenue_known : bool
        Whether the scenario states the low-revenue status or the participants' revenue.
    """
    from simsuite.contracts.mssp_cash import prepaid_ineligibility
    from simsuite.contracts.settlement_timing import required_guarantee, settles, timing_key, timing_of

    stated = finance.settlement or {}
    keys = {timing_key(c) for c in contracts if settles(c)}
    for key in stated:
        if key not in keys:
            raise FieldProblem(("finance", "settlement", key),
                               f"no contract of this scenario settles under '{key}'; the keys are the programs or "
                               f"families of its contracts: {', '.join(sorted(keys)) or 'none'}")
    for i, contract in enumerate(contracts):
        key = timing_key(contract)
        if settles(contract) and key not in stated and timing_of(contract) is None:
            raise FieldProblem(("finance", "settlement", key),
                               f"no source simsuite holds gives the dates when '{key}' settlements are paid "
                               f"(contracts[{i}] '{contract.name}'); give them: {{notice_months: ..., "
                               "savings_paid_months: ...}} (months after the year ends)")
        rule = required_guarantee(contract)
        if finance.repayment_mechanism_fee is None and rule is not None:
            raise FieldProblem(("finance", "repayment_mechanism_fee"),
                               f"contracts[{i}] '{contract.name}' {rule}; give its yearly cost as a fraction of its "
                               "amount (no letter-of-credit fee was found in any source simsuite holds; one surety "
                               "broker quotes premiums of 1-10%)")
    if finance.advance_investment_payments is not None and not low_revenue_known:
        raise FieldProblem(("assumptions", "participant_revenue_to_benchmark"),
                           "advance investment payments go to low-revenue ACOs only (42 CFR 425.630(b)(4)); give "
                           "participants' revenue as a fraction of the benchmark, or assumptions.low_revenue")
    prepaid = finance.prepaid_shared_savings
    if prepaid is not None and agreement_number >= 2 and prepaid.first_agreement_multiplier is None:
        for contract in contracts:
            plan = getattr(contract, "plan", None)
            setup = getattr(contract, "setup", None)
            if plan is None or setup is None:
                continue
            first = plan.levels[:setup.years_per_agreement]
            if prepaid_ineligibility(contract.program, first, setup.start, setup.number) is None:
                raise FieldProblem(("finance", "prepaid_shared_savings", "first_agreement_multiplier"),
                                   f"'{contract.name}' may receive prepaid shared savings in its first simulated "
                                   "agreement, a renewal whose benchmark years' savings are not simulated in dollars; "
                                   "give the multiplier of 42 CFR 425.640(f)(2) (dollars per person-year)")
