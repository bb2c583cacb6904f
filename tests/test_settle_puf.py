"""Reproduce CMS's published MSSP results, 2013-2024, with `simsuite.settle`.

Every ACO-year of the CMS MSSP Financial and Quality Results PUFs (5,271 rows, via the
harmonised panel in ``tests/data/mssp``; see its README) is turned into a settle input
row from the *inputs* CMS published (track, beneficiaries, benchmark and expenditure
totals, quality score, pass/fail of the quality standard, two-sided MSR election,
disaster adjustment) and settled; the result must equal ``EarnSaveLoss`` within
max($2, 0.05% of |benchmark - expenditure|). Relations: ``shared/reference/
mssp-puf-reconciliation.md`` A.2.

Also: hand-computed edge cases of the historical rules added with the settle command.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from simsuite.contracts import build_contract
from simsuite.contracts.shared_savings import reference_settlement, settle_shared_savings
from simsuite.errors import InputError
from simsuite.tools.settle import INPUT_COLUMNS, SettleRow, contract_for, read_settle_csv, settle_rows

DATA = Path(__file__).parent / "data" / "mssp"
PANEL = DATA / "mssp_financial_panel_2013_2024.csv"
RAW_2024 = DATA / "mssp_puf_py2024.csv"
RAW_2014 = DATA / "mssp_puf_py2014.csv"

ONE_SIDED = {"Track 1", "BASIC A", "BASIC B"}

# ACO-years whose published EarnSaveLoss cannot be re-derived from the published
# inputs, with the reason. The test fails if any of these starts matching, or if any
# other row mismatches.
REVENUE_LIMIT = "revenue-based loss limit binds (RevLossLimit=1); participant revenue is not published"
HALF_DISADJ = "published loss is off by half of DisAdj ($1,935); unexplained (6-month PY2019)"
KNOWN_MISMATCHES: dict[tuple[str, int], str] = {
    ("A2392", 2019): REVENUE_LIMIT,
    ("A1241", 2023): REVENUE_LIMIT,
    ("A4627", 2023): REVENUE_LIMIT,
    ("A5293", 2023): REVENUE_LIMIT,
    ("A1498", 2019): HALF_DISADJ,
}


# ---- PUF row -> settle input ----------------------------------------------------------


def _float(text: str) -> float:
    return float(text) if text not in ("", "NA", "-") else math.nan


def _raw_2024() -> dict[str, dict[str, str]]:
    with RAW_2024.open(newline="", encoding="utf-8-sig") as f:
        return {r["ACO_ID"]: r for r in csv.DictReader(f)}


def _name(text: str) -> str:
    return " ".join(text.lower().replace(".", "").replace(",", "").split())


def _tracks_2015(panel: list[dict[str, str]]) -> dict[str, str]:
    """Track of each PY2015 ACO (keyed by normalised name), which the 2015 file omits.

    Agreement periods then ran three years and an ACO kept its track within one, so an
    ACO in the PY2014 file (agreement 2012/2013-2015 or 2014-2016) keeps its 2014
    track, and one that started in 2015 (agreement 2015-2017) has its 2016 track;
    anything else is taken as Track 1.
    """
    tracks: dict[str, str] = {}
    for r in panel:
        if r["performance_year"] == "2016" and r["track"] in ("Track 1", "Track 2"):
            tracks[_name(r["aco_key"])] = r["track"]
    with RAW_2014.open(newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            tracks[_name(r["ACO_NAME"])] = "Track 2" if r["Track2"] == "1" else "Track 1"
    return tracks


def _quality(row: dict[str, str], raw: dict[str, str] | None) -> tuple[float, str]:
    """Quality score and standard as CMS applied them.

    The panel has no pass/fail flag before 2024: a final sharing rate of 0 means the
    ACO failed the standard (a scaled rate is 0 only then). An empty score with a
    positive rate is a pay-for-reporting year (first agreement year), which CMS scores
    as full quality.
    """
    q = _float(row["qualscore"])
    fsr = _float(row["finalsharerate"])
    if raw is not None:
        standard = ("met" if raw["Met_QPS"] == "1"
                    else "alternative" if raw["Met_AltQPS"] == "1" else "not_met")
        return q, standard
    if fsr == 0:
        return (0.0 if math.isnan(q) else q), "not_met"
    return (1.0 if math.isnan(q) else q), "met"


def puf_to_settle_input(row: dict[str, str], raw: dict[str, str] | None,
                        tracks_2015: dict[str, str]) -> dict[str, str]:
    """One panel row (plus its raw 2024 row, if any) as a settle input row (strings)."""
    track = row["track"] or tracks_2015.get(_name(row["aco_key"]), "Track 1")
    n = int(float(row["n_ab"]))
    q, standard = _quality(row, raw)
    if track in ONE_SIDED and n >= 500:
        msr = "variable"  # the size-based table, never the published value
    else:
        # Two-sided ACOs elect their MSR/MLR and the election is not published, so the
        # published rate is the election; the table starts at 500 beneficiaries.
        msr = repr(float(row["msr_pct"]) / 100)
    disadj = _float(row["disadj"])
    relief = ""
    if row["performance_year"] in ("2020", "2021", "2022"):
        # The COVID-19 PHE covered every county in every month of PY2020-2022, so the
        # EUC policy forgave all shared losses: use the rule, not the published dollars.
        relief, disadj = "1.0", math.nan
    low_revenue = False
    if raw is not None:
        # 425.605(h) half-rate rule: low-revenue ACOs in agreements from 2024-01-01.
        low_revenue = raw["Rev_Exp_Cat"] == "Low Revenue" and raw["Current_Start_Date"].endswith("/2024")
    return {
        "aco_id": row["aco_key"],
        "performance_year": row["performance_year"],
        "track": track,
        "beneficiaries": str(n),
        "benchmark": row["abtotbnchmk"],
        "expenditure": row["abtotexp"],
        "quality_score": repr(q),
        "quality_standard": standard,
        "msr": msr,
        "low_revenue": "true" if low_revenue else "false",
        # PY2024 agreements from 2024: whether CMS applied the ACPT loss guardrail (425.652(b)(5)).
        "guardrail": "true" if raw is not None and raw["Guardrail"] == "1" else "false",
        "euc_loss_relief": relief,
        "euc_loss_adjustment": "" if math.isnan(disadj) else repr(-disadj),
    }


def load_panel() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(settle input rows, panel rows), in panel order."""
    raw = _raw_2024()
    with PANEL.open(newline="", encoding="utf-8") as f:
        panel = list(csv.DictReader(f))
    tracks_2015 = _tracks_2015(panel)
    inputs = [
        puf_to_settle_input(r, raw[r["aco_key"]] if r["performance_year"] == "2024" else None,
                            tracks_2015)
        for r in panel
    ]
    return inputs, panel


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """Convert every PUF row, write a settle CSV, read it back and settle it."""
    inputs, panel = load_panel()
    path = tmp_path_factory.mktemp("puf") / "puf_settle_input.csv"
    names = [c.name for c in INPUT_COLUMNS]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for r in inputs:
            writer.writerow([r.get(name, "") for name in names])
    rows = read_settle_csv(path)
    return inputs, panel, rows, settle_rows(rows)


def _mismatches(panel, result) -> dict[tuple[str, int], float]:
    out = {}
    for i, r in enumerate(panel):
        published = float(r["earnsaveloss"])
        tol = max(2.0, 5e-4 * abs(float(r["abtotbnchmk"]) - float(r["abtotexp"])))
        if abs(result["net"][i] - published) > tol:
            out[(r["aco_key"], int(r["performance_year"]))] = result["net"][i] - published
    return out


# ---- the reconciliation ---------------------------------------------------------------


def test_panel_is_the_whole_puf(settled):
    _, panel, rows, _ = settled
    assert len(panel) == len(rows) == 5271
    by_year = {}
    for r in panel:
        by_year[r["performance_year"]] = by_year.get(r["performance_year"], 0) + 1
    assert by_year == {"2013": 220, "2014": 333, "2015": 392, "2016": 432, "2017": 472,
                       "2018": 548, "2019": 475, "2020": 513, "2021": 475, "2022": 482,
                       "2023": 453, "2024": 476}


def test_earned_savings_and_losses_reproduced(settled):
    _, panel, _, result = settled
    bad = _mismatches(panel, result)
    unexpected = {k: round(v) for k, v in bad.items() if k not in KNOWN_MISMATCHES}
    now_matching = sorted(set(KNOWN_MISMATCHES) - set(bad))
    assert not unexpected, f"rows off the published EarnSaveLoss (ours - published): {unexpected}"
    assert not now_matching, f"listed as unmatched but now match: {now_matching}"
    assert len(panel) - len(bad) >= 5264
    assert len(panel) - len(bad) == 5271 - len(KNOWN_MISMATCHES)


def test_unmatched_rows_are_off_in_the_direction_of_their_reason(settled):
    # A binding revenue-based limit can only lower what the ACO owes, so for those rows
    # our figure (benchmark-based limit only) must be the more negative one.
    _, panel, _, result = settled
    bad = _mismatches(panel, result)
    for key, reason in KNOWN_MISMATCHES.items():
        if reason == REVENUE_LIMIT:
            assert bad[key] < 0, key
        else:
            assert abs(bad[key]) == pytest.approx(3870 / 2, abs=2), key


# One-sided by our 2015 track inference, but two-sided in fact: its published MSR is
# Track 2's fixed 2% and its sharing rate 0.5766 = 0.6 x quality 0.9611 (it moved to
# Track 3 in 2016, so neither neighbouring year gives its 2015 track). Its loss is
# below the MLR, so its settlement (0) matches either way.
NOT_ONE_SIDED_2015 = {("Mosaic Life Care", 2015)}


def test_msr_table_reproduces_one_sided_msr(settled):
    inputs, panel, _, result = settled
    checked = 0
    for i, (inp, r) in enumerate(zip(inputs, panel)):
        if (r["aco_key"], int(r["performance_year"])) in NOT_ONE_SIDED_2015:
            assert abs(result["msr"][i] - float(r["msr_pct"]) / 100) > 1e-3  # still wrong
            continue
        if inp["track"] in ONE_SIDED and int(inp["beneficiaries"]) >= 5000:
            assert inp["msr"] == "variable"
            # PUF MSRs are percents with 2 decimals in 2019-2024: 0.005 pp.
            assert abs(result["msr"][i] - float(r["msr_pct"]) / 100) <= 5.0001e-5, (r["aco_key"], r["performance_year"])
            checked += 1
    assert checked == 3587


def test_half_rate_rows_are_the_published_ones(settled):
    _, panel, _, result = settled
    raw = _raw_2024()
    ours = {r["aco_key"] for i, r in enumerate(panel) if result["reduced_below_msr"][i]}
    published = {k for k, v in raw.items() if v["ReducedSS"] == "1"}
    assert len(published) == 13
    assert ours == published


def test_loss_rate_2023_2024_matches_published(settled):
    _, panel, _, result = settled
    for i, r in enumerate(panel):
        published = _float(r["finallossrate"])
        if not math.isnan(published):
            assert abs(result["loss_rate"][i] - published) <= 5.1e-5, (r["aco_key"], r["performance_year"])


# ---- hand-computed edge cases of the historical rules ---------------------------------


def _one(track: str, year: int, benchmark: float, expenditure: float, n: int = 20_000,
         q: float = 1.0, standard: str = "met", **extra) -> dict[str, np.ndarray]:
    values = {
        "aco_id": "x", "performance_year": year, "track": track, "beneficiaries": n,
        "benchmark": benchmark, "expenditure": expenditure, "quality_score": q,
        "quality_standard": standard, "msr": "", "mlr": "", "participant_revenue": math.nan,
        "low_revenue": False, "euc_loss_relief": 0.0, "euc_loss_adjustment": 0.0,
        "sequestration": math.nan, "guardrail": False,
    }
    values.update(extra)
    values["contract"] = contract_for(track, year)
    return {k: v[0] for k, v in settle_rows([SettleRow(2, values)]).items()}


@pytest.mark.parametrize(("q", "standard", "rate"), [
    (0.9, "met", 0.46),       # 1 - 0.6 x 0.9
    (1.0, "met", 0.40),       # floor
    (0.5, "met", 0.60),       # 1 - 0.3 = 0.7 -> ceiling 0.6
    (0.95, "not_met", 0.60),  # failed quality: q counts as 0
])
def test_track_2_loss_rate_clamp(q, standard, rate):
    # $100M benchmark, $105M spent: 5% loss > 2% MLR, so the whole $5M is shared.
    r = _one("Track 2", 2016, 100e6, 105e6, q=q, standard=standard)
    assert r["loss_rate"] == pytest.approx(rate)
    assert r["net"] == pytest.approx(-rate * 5e6)
    assert not r["loss_cap_bound"]


def test_track_2_savings_cap_15_percent():
    # 30% savings: 0.98 x 0.6 x $30M = $17.64M > 15% x $100M.
    r = _one("Track 2", 2015, 100e6, 70e6)
    assert r["savings_cap_bound"]
    assert r["net"] == pytest.approx(15e6)
    # Track 1 on the same numbers: 0.98 x 0.5 x 30M = 14.7M, capped at 10M.
    assert _one("Track 1", 2015, 100e6, 70e6)["net"] == pytest.approx(10e6)


@pytest.mark.parametrize(("year", "expected"), [
    (2018, 0.98 * 0.45 * 5e6), (2019, 0.45 * 5e6), (2020, 0.45 * 5e6), (2021, 0.98 * 0.5 * 5e6)])
def test_sequestration_suspended_2019_2020(year, expected):
    # 20,000 beneficiaries: MSR 2.5%; 5% savings; quality 0.9 (scaled to 2020, gated after).
    r = _one("Track 1", year, 100e6, 95e6, q=0.9)
    assert r["msr"] == pytest.approx(0.025)
    assert r["net"] == pytest.approx(expected)


def test_sequestration_override_column():
    r = _one("Track 1", 2018, 100e6, 95e6, q=0.9, sequestration=0.0)
    assert r["net"] == pytest.approx(0.45 * 5e6)


@pytest.mark.parametrize(("track", "year", "n", "low", "expected"), [
    ("BASIC A", 2024, 10_000, True, 0.98 * 0.20 * 2e6),   # half of 40%
    ("BASIC E", 2024, 10_000, True, 0.98 * 0.25 * 2e6),   # half of 50%
    ("BASIC A", 2024, 10_000, False, 0.0),                # not low revenue
    ("BASIC A", 2024, 4_999, True, 0.0),                  # fewer than 5,000
    ("BASIC A", 2023, 10_000, True, 0.0),                 # rule starts in 2024
    ("ENHANCED", 2024, 10_000, True, 0.0),                # BASIC only
])
def test_low_revenue_half_rate_below_msr(track, year, n, low, expected):
    # 2% savings, below the 3.0% variable MSR at 10,000 beneficiaries.
    r = _one(track, year, 100e6, 98e6, n=n, low_revenue=low, msr="variable")
    assert r["savings_rate"] < r["msr"]
    assert r["net"] == pytest.approx(expected)
    assert r["reduced_below_msr"] == (expected > 0)


def test_euc_adjustment_reduces_losses_to_zero_at_most():
    # ENHANCED 2023, q 0.8: loss rate 1 - 0.6 = 0.4 on a $10M loss = $4M owed.
    base = _one("ENHANCED", 2023, 100e6, 110e6, q=0.8, msr=0.0)
    assert base["net"] == pytest.approx(-4e6)
    assert _one("ENHANCED", 2023, 100e6, 110e6, q=0.8, msr=0.0,
                euc_loss_adjustment=1.5e6)["net"] == pytest.approx(-2.5e6)
    forgiven = _one("ENHANCED", 2023, 100e6, 110e6, q=0.8, msr=0.0, euc_loss_adjustment=5e6)
    assert forgiven["net"] == 0.0
    # relief never touches savings
    assert _one("ENHANCED", 2023, 100e6, 90e6, q=0.8, msr=0.0, euc_loss_adjustment=5e6)[
        "net"] == pytest.approx(0.98 * 0.75 * 10e6)


def test_euc_after_loss_cap():
    # ENHANCED: 75% x $40M = $30M owed, capped at 15% x $100M = $15M, minus $1M relief.
    r = _one("ENHANCED", 2022, 100e6, 140e6, q=0.0, standard="not_met", msr=0.0,
             euc_loss_adjustment=1e6)
    assert r["loss_cap_bound"]
    assert r["net"] == pytest.approx(-14e6)


def test_vectorised_matches_scalar_reference():
    rng = np.random.default_rng(3)
    for pid, year in [("mssp-track-2", 2016), ("mssp-basic-e", 2024), ("mssp-enhanced-py2021-2022", 2022), ("mssp-basic-e-py2023", 2023),
                      ("mssp-track-1-plus", 2018), ("mssp-basic-a", 2024)]:
        terms = build_contract(pid, None, year).terms
        m = 200
        b = rng.uniform(50e6, 150e6, m)
        x = b * (1 + rng.normal(0, 0.06, m))
        n = rng.integers(4000, 70000, m)
        q = rng.uniform(0, 1, m)
        std = rng.choice(["met", "alternative", "not_met"], m)
        rev = np.where(rng.uniform(size=m) < 0.5, np.nan, b * rng.uniform(0.1, 0.6, m))
        low = rng.uniform(size=m) < 0.5
        adj = rng.choice([0.0, 1e5, 5e6], m)
        relief = rng.choice([0.0, 0.5], m)
        out = settle_shared_savings(terms, b, x, n, q, std, participant_revenue=rev, low_revenue=low,
                                    euc_loss_relief=relief, euc_loss_adjustment=adj)
        for k in range(m):
            ref = reference_settlement(terms, b[k], x[k], int(n[k]), q[k], std[k],
                                       participant_revenue=rev[k], low_revenue=bool(low[k]),
                                       euc_loss_relief=relief[k], euc_loss_adjustment=adj[k])
            assert out.net[k] == pytest.approx(ref, abs=1e-6), (pid, k)


# ---- PY2021-2022 gate, PY2023 sliding scale (issue 16, audit A8) ------------------------------
#
# 42 CFR 425.605(d)(1)(i)-(v)(A)(2): PY2021-2022 pay the track maximum if the quality performance
# standard is met, else nothing; no alternative standard existed (425.512(a)(3)-(4)(i)).
# 425.605(d)(1)(*)(A)(3) and 425.610(d)(3), (f)(3): PY2023 pays the maximum x the quality score to an
# ACO meeting only the alternative standard (425.512(a)(4)(ii)). B = $60M, BASIC E, MSR 2%.


def test_py2023_alternative_standard_pays_the_sliding_scale():
    # 5% savings = $3M: 0.5 x 0.70 x 3,000,000 x 0.98 = 1,029,000 (a gate would pay 0)
    r = _one("BASIC E", 2023, 60e6, 57e6, q=0.70, standard="alternative", msr=0.02)
    assert r["preset"] == "mssp-basic-e-py2023"
    assert r["sharing_rate"] == pytest.approx(0.35)
    assert r["net"] == pytest.approx(1_029_000.0)
    # Neither standard: nothing; met: 0.5 x 3,000,000 x 0.98 = 1,470,000, whatever the score.
    assert _one("BASIC E", 2023, 60e6, 57e6, q=0.70, standard="not_met", msr=0.02)["net"] == 0.0
    assert _one("BASIC E", 2023, 60e6, 57e6, q=0.70, msr=0.02)["net"] == pytest.approx(1_470_000.0)


def test_py2023_enhanced_loss_rate_under_the_alternative_standard():
    # Loss 4% = $2.4M, alternative met, QS 0.60: 1 - 0.75 x 0.60 = 0.55 -> owes 1,320,000
    # (425.610(f)(3)); neither standard: 75% -> 1,800,000.
    r = _one("ENHANCED", 2023, 60e6, 62.4e6, q=0.60, standard="alternative", msr=0.0)
    assert r["loss_rate"] == pytest.approx(0.55)
    assert r["net"] == pytest.approx(-1_320_000.0)
    assert _one("ENHANCED", 2023, 60e6, 62.4e6, q=0.60, standard="not_met", msr=0.0)["net"] == pytest.approx(
        -1_800_000.0)


def test_py2022_is_a_gate_and_has_no_alternative_standard(tmp_path):
    # Met with QS 0.72: the maximum, not scaled: 0.5 x 3,000,000 x 0.98 = 1,470,000.
    r = _one("BASIC E", 2022, 60e6, 57e6, q=0.72, msr=0.02)
    assert r["preset"] == "mssp-basic-e-py2021-2022"
    assert r["net"] == pytest.approx(1_470_000.0)
    # 'alternative' did not exist before PY2023: the row is refused in one line naming the column.
    path = tmp_path / "in.csv"
    path.write_text("performance_year,track,beneficiaries,benchmark,expenditure,quality_score,quality_standard\n"
                    "2023,BASIC E,20000,60000000,57000000,0.70,alternative\n"
                    "2022,BASIC E,20000,60000000,57000000,0.70,alternative\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3, column quality_standard: no alternative quality performance "
                                         "standard exists in PY2022"):
        read_settle_csv(path)


def test_acpt_guardrail_rows_of_the_puf(settled):
    """The 9 PY2024 ACO-years CMS marks Guardrail=1 (42 CFR 425.652(b)(5)): spending above the
    published (recalculated) benchmark settles losses on it, (b)(5)(i); below it, neither
    savings nor losses, (b)(5)(ii) -- A5309 and A5321 (BASIC E, 0% MSR), whose savings would
    otherwise be shared. Each matches CMS's EarnSaveLoss (checked with every row above)."""
    inputs, panel, _, result = settled
    rows = [i for i, r in enumerate(inputs) if r["guardrail"] == "true"]
    assert len(rows) == 9
    below = {panel[i]["aco_key"] for i in rows if float(panel[i]["abtotexp"]) < float(panel[i]["abtotbnchmk"])}
    assert below == {"A5309", "A5321"}
    for i in rows:
        neither = panel[i]["aco_key"] in below
        assert bool(result["guardrail_neither"][i]) == neither
        if neither:
            assert result["net"][i] == 0.0 and float(panel[i]["earnsaveloss"]) == 0.0
            assert result["savings_rate"][i] > result["msr"][i]  # would have earned savings
    assert not result["guardrail_neither"][[i for i in range(len(inputs)) if i not in rows]].any()
