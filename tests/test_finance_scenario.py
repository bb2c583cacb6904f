"""The ``finance`` section: what loading refuses (one line naming the field), and the cash
variables of a multi-year run's Dataset (`simsuite.results.cashflow.cash_variables`)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import ROOT

from simsuite.engines.montecarlo import RunOptions, run
from simsuite.errors import InputError
from simsuite.scenario.load import scenario_from_dict

NEW_ENTRANT = ROOT / "scenarios" / "aco-2027-new-entrant.yaml"


def entrant(**changes) -> dict:
    """The 2027 new-entrant example as a dict, with top-level sections replaced or removed (None)."""
    data = yaml.safe_load(NEW_ENTRANT.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def refusal(data: dict) -> str:
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, source="s.yaml")
    return str(info.value)


def test_finance_needs_a_horizon():
    data = yaml.safe_load((ROOT / "tests" / "scenarios" / "valid-small.yaml").read_text())
    data["finance"] = {"discount_rate": 0.08}
    assert "finance: applies to the years of an agreement" in refusal(data)


def test_the_discount_rate_is_required():
    data = entrant()
    del data["finance"]["discount_rate"]
    assert "finance.discount_rate" in refusal(data)


def test_two_sided_paths_need_the_repayment_mechanism_fee():
    data = entrant()
    del data["finance"]["repayment_mechanism_fee"]
    message = refusal(data)
    assert "finance.repayment_mechanism_fee" in message and "contracts[1] 'BASIC A, glide to E'" in message
    # A scenario whose paths are all one-sided does not need it.
    data["contracts"] = [c for c in data["contracts"] if c.get("preset") == "ffs" or c["path"].get("stay_in_a")]
    scenario_from_dict(data)


def test_advance_investment_payments_need_the_revenue_status():
    data = entrant()
    del data["assumptions"]["participant_revenue_to_benchmark"]
    data["contracts"] = [c for c in data["contracts"] if c.get("preset") == "ffs" or c["path"].get("stay_in_a")]
    assert "assumptions.participant_revenue_to_benchmark: advance investment payments go to low-revenue" \
        in refusal(data)


def test_settlement_dates_of_a_program_without_a_source_must_be_stated():
    data = entrant()
    data["contracts"].append({"preset": "lead-global-2027"})
    message = refusal(data)
    assert "finance.settlement.corridor: no source simsuite holds gives the dates when 'corridor' settlements" \
        in message
    data["finance"]["settlement"] = {"corridor": {"notice_months": 6, "savings_paid_months": 7}}
    assert "finance.settlement" not in _message_or_none(data)


def test_settlement_dates_are_keyed_by_program():
    """One calendar per program: stating LEAD's dates leaves MSSP's cited ones alone; a key no
    contract settles under, or the old one-calendar form, is refused in one line."""
    data = entrant()
    data["contracts"].append({"preset": "lead-global-2027"})
    data["finance"]["settlement"] = {"mssp": {"notice_months": 6, "savings_paid_months": 7}}
    assert "finance.settlement.corridor: no source" in refusal(data)
    data["finance"]["settlement"] = {"lead": {"notice_months": 6, "savings_paid_months": 7}}
    assert "finance.settlement.lead: no contract of this scenario settles under 'lead'" in refusal(data)
    data["finance"]["settlement"] = {"notice_months": 6, "savings_paid_months": 7}
    assert "finance.settlement: give the dates by program" in refusal(data)


def _message_or_none(data: dict) -> str:
    try:
        scenario_from_dict(data)
    except InputError as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize(("shares", "fragment"), [
    ({"85-100": 0.5, "75-84": 0.4}, "the shares sum to 0.9"),
    ({"85-100": 0.5, "80-90": 0.5}, "score_shares.80-90: unknown score band"),
])
def test_score_shares_are_checked(shares, fragment):
    data = entrant()
    data["finance"]["advance_investment_payments"]["score_shares"] = shares
    assert fragment in refusal(data)


def test_savings_paid_before_the_notice_is_refused():
    data = entrant()
    data["finance"]["settlement"] = {"mssp": {"notice_months": 8, "savings_paid_months": 6}}
    assert "savings_paid_months: 6 is before the notice" in refusal(data)


def test_a_cash_balance_limit_needs_a_finance_section():
    assert "risk_appetite.min_cash_balance: a cash balance needs the cash flows" in refusal(entrant(finance=None))


def test_prepaid_in_a_first_agreement_that_is_a_renewal_needs_its_multiplier():
    data = entrant()
    data["horizon"] = {"agreement_start": 2027, "agreement_number": 2, "prior_savings": [0.02, 0.03, 0.02]}
    data["contracts"] = [{"preset": "ffs"}, {"name": "ENHANCED", "path": {"program": "mssp", "track": "ENHANCED"}}]
    data["finance"]["prepaid_shared_savings"] = {}
    assert "finance.prepaid_shared_savings.first_agreement_multiplier" in refusal(data)
    data["finance"]["prepaid_shared_savings"] = {"first_agreement_multiplier": 120.0}
    scenario_from_dict(data)


def test_3000_beneficiaries_from_2027_are_refused():
    """The CY2026 rule's lower limits for ACOs below 5,000 are not published: refused, not guessed."""
    data = entrant()
    data["population"]["beneficiaries"] = 3000
    message = refusal(data)
    assert "population.beneficiaries: an ACO below 5,000 assigned beneficiaries in an agreement starting in 2027" \
        in message and "not published" in message


# ---- the Dataset -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def results():
    data = entrant()
    data["population"]["beneficiaries"] = 6000
    scenario = scenario_from_dict(data)
    return scenario, run(scenario, RunOptions(simulations=300, seed=11))


def test_cash_variables_are_consistent(results):
    scenario, ds = results
    for name in ds["contract"].values:
        c = ds.sel(contract=name)
        s = c["finance_summary"]
        np.testing.assert_allclose(c["cash_by_year"].sum("cash_year"), c["cash_total"], rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(c["cash_items"].sum("cash_item"), c["cash_by_year"].mean("sim"), rtol=1e-9,
                                   atol=1e-6)
        assert float(s.sel(finance_measure="npv")) == pytest.approx(float(c["npv"].mean()), rel=1e-12)
        assert float(s.sel(finance_measure="p_cumulative_loss")) == float((c["cash_total"] < 0).mean())
        assert float(s.sel(finance_measure="p_npv_negative")) == float((c["npv"] < 0).mean())
        assert float(s.sel(finance_measure="cash_low")) == pytest.approx(float(c["cash_low"].mean()), rel=1e-12)
        assert (c["cash_low"] <= 0).all() and (c["cash_low"] <= c["cash_by_year"].cumsum("cash_year").min(
            "cash_year") + 1e-6).all()
    # The FFS reference pays no costs of taking part (the example's effort costs nothing).
    assert float(np.abs(ds["cash_by_year"].sel(contract="ffs")).max()) == 0.0


def test_the_settlements_in_the_cash_are_the_runs(results):
    """Shared savings earned and losses paid over the horizon equal the sum of the years' results."""
    _, ds = results
    for name in ds["contract"].values:
        items = ds["cash_items"].sel(contract=name)
        settled = float(items.sel(cash_item=["savings", "losses"]).sum())
        assert settled == pytest.approx(float(ds["net_by_year"].sel(contract=name).sum("year").mean()), rel=1e-9,
                                        abs=1e-3)


def test_advance_investment_payments_go_to_the_eligible_paths(results):
    _, ds = results
    received = ds["finance_summary"].sel(finance_measure="aip_received")
    # 6,000 beneficiaries in the example's bands: 1,500 / 900 / 900 / 900 / 600 / 600 / 300 / 300
    # from the top; 67,500 + 900 x 108 + 600 x 52 + 300 x 20 + 300 x 0 = $201,900 a quarter.
    quarterly = 1500 * 45 + 900 * (40 + 36 + 32) + 600 * (28 + 24) + 300 * 20
    assert quarterly == 201_900
    for name in ("BASIC A, glide to E", "BASIC A, stay in A"):
        assert float(received.sel(contract=name)) == 250_000 + 8 * quarterly
    for name in ("ffs", "BASIC E from the start", "ENHANCED"):
        assert float(received.sel(contract=name)) == 0.0
        assert "no advance investment payments" in str(ds["aip_status"].sel(contract=name).values)


def test_run_is_reproducible_in_chunks(results):
    from simsuite.engines.distributed import run_on_cluster

    scenario, ds = results
    chunked = run_on_cluster(scenario, RunOptions(simulations=300, seed=11), chunk_sims=70)
    for name in ("npv", "cash_by_year", "cash_low", "payback_year", "finance_summary", "p_cash_below_reserve"):
        np.testing.assert_array_equal(ds[name].values, chunked[name].values, err_msg=name)
