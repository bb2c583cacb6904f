"""LEAD's money over time: the example scenario's finance section run through the engine
(cash dated on LEAD's own calendar, the financial guarantee's fee), and the refusals at load
of a LEAD path whose guarantee or its cost is missing or out of range.

Sources: the financial guarantee "2.0 to 4.0 percent of prior Part A and B expenditures"
(WAK-FG) [Med], "4% x annualized BY3 cost" (R6 workbook) [Low]; LEAD's settlement dates are
not published, so the scenario states them by program (docs/cash-flows.md).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import simsuite
from simsuite.cli.app import main
from simsuite.engines.montecarlo import RunOptions
from simsuite.scenario.edit import scenario_with

LEAD_EXAMPLE = ROOT / "scenarios" / "reach-aco-2027-lead-or-mssp.yaml"
SIMS = 120


@pytest.fixture(scope="module")
def runs():
    """The example as written, and with LEAD's results paid a year later (notice and payment
    14 months after the year ends: February of the second year), on the same draws."""
    sc = simsuite.load_scenario(LEAD_EXAMPLE)
    late = scenario_with(sc, "finance.settlement.lead", {"notice_months": 14, "savings_paid_months": 14})
    return simsuite.run(sc, RunOptions(SIMS, seed=3)), simsuite.run(late, RunOptions(SIMS, seed=3))


def _settled(ds, name: str) -> np.ndarray:
    """Mean settlement of each performance year (the scenario has no effort cost)."""
    return ds["net_by_year"].sel(contract=name).values.mean(axis=0)


@pytest.mark.parametrize("name", ["LEAD Global", "LEAD Professional", "MSSP ENHANCED"])
def test_each_years_settlement_is_paid_the_next_year(runs, name):
    # notice 8 months and savings 11 months after the year ends; losses 90 days after the
    # notice = month 11: every dollar of PY t moves in calendar year t + 1 (2028-2037).
    ds, _ = runs
    items = ds["cash_items"].sel(contract=name)
    paid = (items.sel(cash_item="savings") + items.sel(cash_item="losses")).values
    years = list(ds["cash_year"].values)
    assert paid[years.index(2027)] == 0.0
    np.testing.assert_allclose(paid[years.index(2028):years.index(2037) + 1], _settled(ds, name), rtol=1e-9)


def test_leads_calendar_is_its_own(runs):
    # Moving LEAD's dates (finance.settlement.lead) moves LEAD's cash by a year and leaves
    # MSSP's, on its cited dates, where it was.
    ds, late = runs
    for name in ("LEAD Global", "LEAD Professional"):
        items = late["cash_items"].sel(contract=name)
        paid = (items.sel(cash_item="savings") + items.sel(cash_item="losses")).values
        years = list(late["cash_year"].values)
        assert years[-1] == 2038 and paid[years.index(2028)] == 0.0
        np.testing.assert_allclose(paid[years.index(2029):], _settled(ds, name), rtol=1e-9)
    mssp = "MSSP ENHANCED"
    np.testing.assert_allclose(late["cash_items"].sel(contract=mssp, cash_year=slice(2027, 2037)).values,
                               ds["cash_items"].sel(contract=mssp).values, rtol=1e-12)


def test_financial_guarantee_and_its_fee(runs):
    # The guarantee (4% of each simulation's BY3 spending: tests/test_lead_program.py by hand)
    # is held each LEAD year; its fee
    # 1% of it paid each January of 2027-2036 and once more for the 12 months after (as
    # MSSP's 425.204(f)(6) [INF for LEAD]).
    ds, _ = runs
    guarantee = ds["repayment_mechanism"].sel(contract="LEAD Global").values  # (S, year)
    assert (guarantee == guarantee[:, :1]).all()  # fixed from BY3 for the ten years
    fee = ds["cash_items"].sel(contract="LEAD Global", cash_item="rm_fee").values
    np.testing.assert_allclose(fee, -0.01 * guarantee[:, 0].mean(), rtol=1e-12)


def run_cli(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    assert out == ""
    return exit_info.value.code, err


@pytest.mark.parametrize("edit, fragment", [
    (lambda t: t.replace("  repayment_mechanism_fee: 0.01", "  # no fee"),
     ": finance.repayment_mechanism_fee: contracts[1] 'LEAD Global' must post LEAD's financial guarantee"),
    (lambda t: t.replace("financial_guarantee: 0.04 ", "financial_guarantee: 0.4 ", 1),
     ": contracts[1].path.financial_guarantee: 0.4 is outside the 2%-4% of BY3 Parts A and B expenditure"),
    (lambda t: t.replace("financial_guarantee: 0.04 ", "financial_guarantee: -0.04 ", 1),
     ": contracts[1].path.financial_guarantee: -0.04 is outside the 2%-4%"),
    (lambda t: t.replace("financial_guarantee: 0.04 ", "financial_guarantee: .nan ", 1),
     ": contracts[1].path.financial_guarantee: "),
    (lambda t: t.replace("financial_guarantee: 0.04 ", "financial_guarantee: '4%' ", 1),
     ": contracts[1].path.financial_guarantee: Input should be a valid number"),
    (lambda t: t.replace("      financial_guarantee: 0.04 ", "      # ", 1),
     ": contracts[1].path.financial_guarantee: LEAD's financial guarantee is 2% to 4%"),
    (lambda t: t.replace("      acpt: 0.03 ", "      # ", 1),
     ": contracts[1].path.acpt: LEAD's Accountable Care Prospective Trend for PY2027 is set by CMS"),
    (lambda t: t.replace("    lead:  ", "    leed:  ", 1),
     ": finance.settlement.leed: no contract of this scenario settles under 'leed'"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_bad_or_missing_guarantee_is_refused_at_load(capsys, tmp_path, edit, fragment, command):
    text = LEAD_EXAMPLE.read_text()
    changed = edit(text)
    assert changed != text
    path = tmp_path / "lead.yaml"
    path.write_text(changed)
    args = [command, str(path)] + (["--out", str(tmp_path / "out"), "--sims", "100"] if command == "run" else [])
    code, err = run_cli(capsys, *args)
    assert code == 2
    assert err.startswith(f"simsuite: {path}:") and fragment in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_ratchet_report_says_lead_is_never_rebased():
    """LEAD's ten years on one baseline (WAK-LEAD citing RFA §VIII.A) [Med]: the ratchet report
    measures MSSP's renewal in 2032 and, for LEAD, says why there is nothing to measure rather
    than calling 2032 a rebasing."""
    from simsuite.analysis.ratchet import ratchet_report

    sc = simsuite.load_scenario(LEAD_EXAMPLE)
    report = ratchet_report(sc, RunOptions(100, seed=3))
    assert {r.contract for r in report.rows} == {"MSSP ENHANCED"}
    assert [r.years for r in report.rows] == [(2027, 2031), (2032, 2036)]
    reasons = dict(report.skipped)
    for name in ("LEAD Global", "LEAD Professional"):
        assert "never rebased" in reasons[name] and "no ratchet" in reasons[name]
    assert "LEAD Global: LEAD's baseline is set once from 2024-2026 and never rebased" in report.text()


def test_the_workbook_lists_leads_higher_spending_terms(runs, tmp_path):
    """Each simulation's spending class is set at entry, so both classes' terms settle some
    simulations: the Assumptions sheet lists the higher-spending discount path (1.75% in 2027
    and 3% from 2032, R6; PY2028-2031 the scenario's `linear` assumption, marked stated) and the
    1.5% administrative add-on (R6; MEDINS; BENESCH) beside the lower-spending terms."""
    import openpyxl

    from simsuite.report.workbook import write_workbook

    ds, _ = runs
    write_workbook(tmp_path / "w.xlsx", ds, simsuite.load_scenario(LEAD_EXAMPLE))
    sheet = openpyxl.load_workbook(tmp_path / "w.xlsx")["Assumptions"]
    rows = {(r[0], r[1], r[3]): (r[4], r[5]) for r in sheet.iter_rows(values_only=True)
            if r and r[0] == "LEAD Global" and len(r) > 5}
    assert rows[("LEAD Global", "2027-2036 (lower-spending)", "discount")][0] == 0.03
    assert rows[("LEAD Global", "2027 (higher-spending)", "discount")][0] == 0.0175
    assert rows[("LEAD Global", "2028 (higher-spending)", "discount")] == (0.02, "stated")
    assert rows[("LEAD Global", "2031 (higher-spending)", "discount")] == (0.0275, "stated")
    assert rows[("LEAD Global", "2032-2036 (higher-spending)", "discount")][0] == 0.03
    assert rows[("LEAD Global", "2032-2036 (higher-spending)", "administrative_add_on")][0] == 0.015
    assert rows[("LEAD Global", "2027-2036 (lower-spending)", "administrative_add_on")][0] == 0.0
