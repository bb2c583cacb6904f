"""Recompute every number README.md, docs/cash-flows.md and docs/lead-and-commercial.md quote
for the multi-year cash flows (issue 20) and LEAD / commercial contracts (issue 21), from the
shipped scenarios, and print each in the form the documents quote it.

Run from the repository root (about 10 minutes on 2 cores)::

    python benchmarks/published_numbers.py                 # every section
    python benchmarks/published_numbers.py --only shares   # one: cash, ratchet, shares, lead

The documents' numbers are copied from this output, never edited by hand. Each section says
where its numbers are quoted. Every run uses its scenario's own ``run`` section (simulations
and seed), so the output is the same on every machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import xarray as xr

import simsuite
from simsuite.analysis.effective_share import effective_share
from simsuite.formatting import money

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def cli_run(scenario: Path, out: Path) -> str:
    """``simsuite run`` as a user runs it; its standard output."""
    done = subprocess.run([sys.executable, "-m", "simsuite", "run", str(scenario), "--out", str(out)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout


def block(text: str, first: str, stop: str) -> str:
    """The lines of ``text`` from the one starting ``first`` up to (not including) the first
    later line starting ``stop``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(stop)), len(lines))
    return "\n".join(lines[start:end]).rstrip()


def decision_lines(text: str) -> str:
    """The recommendation's sentences and the option to stay in Level A, if any."""
    keep = [line for line in text.splitlines()
            if " is recommended: " in line or " is excluded: " in line or " qualifies but ranks lower" in line
            or line.startswith("The option to stay in BASIC Level A")]
    return "\n".join(keep)


def finance(ds: xr.Dataset, contract: str, measure: str) -> float:
    return float(ds["finance_summary"].sel(contract=contract, finance_measure=measure))


def section_cash() -> None:
    """README.md "Over an agreement": the cash table, recommendation and option of the 2027
    entrant, and the sentence after it."""
    scenario = SCENARIOS / "aco-2027-new-entrant.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        text = cli_run(scenario, Path(tmp))
        ds = xr.load_dataset(Path(tmp) / "results.nc")
    print("## README.md, 'Over an agreement' (simsuite run scenarios/aco-2027-new-entrant.yaml)\n")
    print(block(text, "Cash over the horizon", "P(the reserve runs out"))
    print()
    print(decision_lines(text))
    glide, enhanced = "BASIC A, glide to E", "ENHANCED"
    ratio = finance(ds, enhanced, "npv") / finance(ds, glide, "npv")
    print(f"\nENHANCED's expected NPV / the glide's: {ratio:.2f}; ENHANCED's 1-in-20 lowest cash balance: "
          f"{money(finance(ds, enhanced, 'cash_low_1in20'))}; advance investment payments "
          f"to the glide path: {money(finance(ds, glide, 'aip_received'))}\n")


def section_ratchet() -> None:
    """README.md and docs/cash-flows.md: the share of a lasting saving that survives rebasing
    in the renewal example."""
    scenario = simsuite.load_scenario(SCENARIOS / "aco-renewal.yaml")
    report = simsuite.ratchet_report(scenario)
    print(f"## README.md, docs/cash-flows.md: the ratchet (scenarios/aco-renewal.yaml, "
          f"{report.simulations:,} simulations)\n")
    for row in report.rows:
        print(f"{row.contract}, agreement {row.agreement} ({row.years[0]}-{row.years[1]}): credits "
              f"{100 * row.share_credited:.1f}% ± {100 * row.share_credited_se:.1f} of the spending removed; "
              f"{100 * row.survives:.0f}% ± {100 * row.survives_se:.1f} of the first agreement's credit survives")
    print(report.text())
    print()


def section_shares() -> None:
    """README.md, docs/lead-and-commercial.md and the scenario's own comment: the effective
    share of a lasting 3% saving under each commercial contract over five years."""
    path = SCENARIOS / "ma-shared-risk-rebasing.yaml"
    scenario = simsuite.load_scenario(path)
    got = effective_share(scenario)
    sims = scenario.spec.run.simulations
    print(f"## Effective share of savings (scenarios/ma-shared-risk-rebasing.yaml, {sims:,} simulations, "
          "paired: change in pay per dollar of change in cost)\n")
    for name, share in got.items():
        print(f"{name}: {100 * share.share:.1f}% ± {100 * share.se:.1f} "
              f"(paid {money(share.paid)} of {money(share.saved)} saved)")
    print()


def section_lead() -> None:
    """docs/lead-and-commercial.md: the REACH ACO's 2027 choice over ten years."""
    scenario = SCENARIOS / "reach-aco-2027-lead-or-mssp.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        text = cli_run(scenario, Path(tmp))
    print("## docs/lead-and-commercial.md: simsuite run scenarios/reach-aco-2027-lead-or-mssp.yaml\n")
    print(block(text, "Over PY2027-2036", "Cash over the horizon"))
    print()
    print(block(text, "Cash over the horizon", "P(the reserve runs out"))
    print()
    print(decision_lines(text))
    print()


SECTIONS = {"cash": section_cash, "ratchet": section_ratchet, "shares": section_shares, "lead": section_lead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append",
                        help="run only these sections (repeatable)")
    args = parser.parse_args()
    for name in args.only or list(SECTIONS):
        SECTIONS[name]()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
