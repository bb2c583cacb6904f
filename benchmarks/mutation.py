"""Mutation testing of the rule layer with mutmut, and its score per module.

Run from the repository root (needs the optional extra: ``pip install -e '.[test,mutation]'``)::

    python benchmarks/mutation.py                  # mutmut run on 2 workers, then the table
    python benchmarks/mutation.py --workers 1
    python benchmarks/mutation.py --table-only     # the table of the last run (mutants/)
    python benchmarks/mutation.py --table-only --survivors   # and every survivor: line, old -> new
    python benchmarks/mutation.py --table-only --merge ../copy/mutants   # with a run of new tests (docs/testing.md)
    python benchmarks/mutation.py --table-only --earlier ../old/mutants  # a re-run by name over an earlier full run

What is mutated and which tests run are set in ``pyproject.toml`` (``[tool.mutmut]``);
docs/testing.md says why, how long it takes and which survivors are equivalent. The table
(markdown, stdout) counts per module the mutants killed, survived, timed out and those no
selected test reaches ("no tests"); the score is (killed + timeout) / all. The wall time
of the run goes to stderr. Never part of CI.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: mutmut itself depends on `toml` there
    import toml as tomllib  # type: ignore[no-redef]

MUTANTS = Path("mutants")
COLUMNS = ("killed", "survived", "timeout", "no tests", "suspicious", "not checked", "other")


def status_of(exit_code: int | None) -> str:
    """mutmut's verdict for a mutant's exit code (its own table, so the two never disagree)."""
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[exit_code]
    return status if status in COLUMNS else "other"


def results(mutants: Path = MUTANTS) -> dict[str, dict[str, str]]:
    """Module -> {mutant name: verdict}, from the ``.meta`` files mutmut leaves in ``mutants``."""
    config = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    out: dict[str, dict[str, str]] = {}
    for module in config["only_mutate"]:  # a file dropped from the list may have stale results
        meta = mutants / f"{module}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        out[module] = {name: status_of(code) for name, code in codes.items()}
    return out


def merge(first: dict[str, dict[str, str]], second: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Verdicts of two runs on the same mutants: killed (or timed out) in either run is killed.

    For a run of new tests on the first run's survivors only: adding tests never un-kills a
    mutant, so the union of the two is what a full run with all the tests would find.
    A mutant no test reached in the first run that the second reaches and does not kill survived.
    """
    out: dict[str, dict[str, str]] = {}
    for module, verdicts in first.items():
        other = second.get(module, {})
        out[module] = {}
        for name, verdict in verdicts.items():
            again = other.get(name, "not checked")
            if verdict in ("killed", "timeout") or again == "not checked":
                out[module][name] = verdict
            elif again in ("killed", "timeout"):
                out[module][name] = again
            elif verdict == "no tests" and again == "survived":
                out[module][name] = "survived"
            else:
                out[module][name] = verdict
    return out


def over_earlier(earlier: dict[str, dict[str, str]], rerun: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Verdicts of a re-run of some mutants by name (``mutmut run NAME...``, the full test selection)
    laid over an earlier run of all of them.

    A mutant the earlier run killed stays killed (adding tests never un-kills a mutant); one the
    re-run checked takes the re-run's verdict, which replaces an earlier "suspicious" or "survived";
    one the re-run did not check keeps the earlier verdict. Unlike `merge`, the re-run must use the
    whole test selection, so that its "survived" means what a full run's would.
    """
    out: dict[str, dict[str, str]] = {}
    for module, verdicts in earlier.items():
        again = rerun.get(module, {})
        out[module] = {
            name: verdict if verdict in ("killed", "timeout") or again.get(name, "not checked") == "not checked"
            else again[name]
            for name, verdict in verdicts.items()
        }
    return out


def table(by_module: dict[str, dict[str, str]]) -> str:
    """Markdown table: per module and in total, the count of each verdict and the score."""
    lines = ["| module | " + " | ".join(COLUMNS) + " | score |", "|---" * (len(COLUMNS) + 2) + "|"]
    total: Counter[str] = Counter()

    def row(name: str, counts: Counter[str]) -> str:
        n = sum(counts.values())
        score = (counts["killed"] + counts["timeout"]) / n if n else float("nan")
        return f"| {name} | " + " | ".join(str(counts[c]) for c in COLUMNS) + f" | {score:.1%} |"

    for module, verdicts in by_module.items():
        counts = Counter(verdicts.values())
        total += counts
        lines.append(row(f"`{module}`", counts))
    lines.append(row("**all**", total))
    return "\n".join(lines)


def _block(lines: list[str], name: str) -> tuple[int, list[str]]:
    """Index and lines of the function ``def name(`` in ``lines`` (up to the next line as indented)."""
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"def {name}("))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start
    while not lines[end].rstrip().endswith(":"):  # a signature over several lines
        end += 1
    end += 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    return start, lines[start:end]


def mutation(module: str, mutant: str) -> tuple[int, str]:
    """Line in the source file and the changed text (``old -> new``) of one mutant.

    mutmut keeps every mutant as a copy of its function (``x_<name>__mutmut_<k>``, methods
    ``xǁ<Class>ǁ<name>__mutmut_<k>``) next to the original (``__mutmut_orig``) in ``mutants/``.
    """
    mutated = (MUTANTS / module).read_text().splitlines()
    local = mutant.rsplit(".", 1)[1]
    _, new = _block(mutated, local)
    _, orig = _block(mutated, local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
    source = Path(module).read_text().splitlines()
    function = local.rsplit("__mutmut_", 1)[0].split("ǁ")[-1].removeprefix("x_")
    first, _ = _block(source, function)
    old_lines, new_lines, line = [], [], first + 1
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=orig[1:], b=new[1:], autojunk=False).get_opcodes():
        if op != "equal":
            line = first + 2 + i1
            old_lines += [t.strip() for t in orig[1 + i1:1 + i2]]
            new_lines += [t.strip() for t in new[1 + j1:1 + j2]]
    text = f"`{' '.join(old_lines)}` -> `{' '.join(new_lines)}`"
    return line, text.replace("|", "\\|")  # a pipe would end a markdown table cell


#: Kinds of surviving mutant that change nothing a user sees, recognised from the mutant's text:
#: (pattern on "old -> new", why it is equivalent or harmless). Anything else is listed as
#: "not analysed" and needs a person's reading.
HARMLESS = (
    (r"dtype=(float|bool).* -> .*(dtype=None|, \)|\(\w+\)\))|astype\(float\)` -> .*astype\(None\)",
     "equivalent: drops a float64 (bool) conversion; every caller passes float (bool) arrays and numpy "
     "promotes integers in the next operation"),
    (r"argsort\(loss, kind=\"stable\"\)",
     "equivalent: only ties are ordered differently, and tied losses are equal, so every quantile and "
     "tail sum is the same"),
    (r"^`(raise |[^`]*(FieldProblem|ValueError|CellProblem)\(|f?\"[^`]*\"\)?`)|notes__mutmut|_phrase__mutmut|text__mutmut",
     "wording of a message, a note or a sentence, or the location of a refusal; not an amount"),
)


_AT_ZERO = ("equivalent: differs only at a result S of exactly 0, where every branch settles to $0 "
            "(every band starts at or above 0, so nothing is kept or owed, and rate x |S| = 0)")
_ZEROS_SHAPE = ("equivalent: only the shape of an all-zero array changes; np.where broadcasts it against "
                "the result's shape, so every value is the same")

#: Survivors read one by one and judged equivalent or harmless (mutant name -> why), for kinds
#: the patterns of `HARMLESS` do not cover.
JUDGED = {
    "corridors.x_settle__mutmut_53": _AT_ZERO,
    "corridors.x_settle__mutmut_61": _AT_ZERO + "; the inner branch is reached only for S <= 0",
    "corridors.x_settle__mutmut_62": _AT_ZERO + "; the inner branch is reached only for S <= 0",
    "corridors.x_settle__mutmut_79": _AT_ZERO,
    "corridors.x_settle__mutmut_87": _AT_ZERO + "; the inner branch is reached only for S <= 0",
    "corridors.x_settle__mutmut_88": _AT_ZERO + "; the inner branch is reached only for S <= 0",
    "corridors.x_settle__mutmut_89": _AT_ZERO,
    "corridors.x_settle__mutmut_101": "equivalent: at a net of exactly 0 both branches give 0",
    "shared_risk.x_shared_result__mutmut_41": "equivalent: the only terms without loss bands (upside only) "
                                              "give [], and corridor_retained over no bands is all zeros",
    "shared_risk.x_shared_result__mutmut_54": _ZEROS_SHAPE,
    "shared_risk.x_shared_result__mutmut_55": _ZEROS_SHAPE,
    "shared_risk.x_shared_result__mutmut_56": _ZEROS_SHAPE,
    "shared_risk.x_shared_result__mutmut_57": _ZEROS_SHAPE,
    "shared_risk.x_shared_result__mutmut_74": "equivalent: at S = 0 the savings bands keep max(0 - msr x target, 0)"
                                              " = $0",
    "shared_risk.x_shared_result__mutmut_80": "equivalent: at S = 0 the loss bands take max(0 - mlr x target, 0) = $0",
    "shared_risk.x_shared_result__mutmut_81": "equivalent: for 0 < S < 1 a loss also needs -S >= mlr x target >= 0, "
                                              "which is false",
    "shared_savings.x_settle__mutmut_22": "equivalent: year_low_revenue never reads its terms argument",
    "mssp_rules.x_is_low_revenue__mutmut_10": "equivalent: < compares integers and floats alike",
    "capitation.x_settle__mutmut_44": "harmless: the default is read only if the engine did not give the expected "
                                      "cost of every cap of caps(), which it always does; None instead of NaN "
                                      "turns a NaN net into a TypeError on that misuse",
    "risk.x__lower_quantile_index__mutmut_13": "equivalent: side=\"left\" is np.searchsorted's default",
    "risk.x__lower_quantile_index__mutmut_16": "equivalent: the index reaches cdf.size only if p > cdf[-1] = 1 "
                                               "(to rounding), and p < 1",
    "risk.x_weighted_tail_value_at_risk__mutmut_13": "equivalent: moving the atom at VaR out of the tail sum and "
                                                     "into P(L <= VaR) - p changes the numerator by "
                                                     "VaR w - VaR w = 0 (to rounding)",
    "risk.x_summarize_weighted__mutmut_66": "equivalent: as weighted_tail_value_at_risk's > -> >= (the atom at "
                                            "VaR counted either way)",
    "shared_savings.x_minimum_rates__mutmut_11": "equivalent: a fixed MSR is one value; np.full of shape () is "
                                                 "broadcast to every element by its callers",
    "shared_savings.x_shared_loss_rate__mutmut_3": _ZEROS_SHAPE.replace("np.where broadcasts it", "the caller "
                                                                        "broadcasts it (np.broadcast_to)"),
    "shared_savings.x_final_sharing_rate__mutmut_31": "equivalent: subtracting 0.0 x q instead of adding it",
    "shared_savings.x_settle_shared_savings__mutmut_91": "equivalent: at savings of exactly $0 passing the MSR earns "
                                                          "0 x rate = $0 and the gross is $0 either way; the half-rate "
                                                          "branch needs savings > 0 anyway",
    "shared_savings.x_settle_shared_savings__mutmut_132": "equivalent: where neither the MSR nor the half rate "
                                                           "applies, the rate multiplies np.where(..., diff, 0.0) = 0",
    "shared_savings.x_settle_shared_savings__mutmut_145": "equivalent: where neither the MSR nor the half rate "
                                                           "applies the rate is 0, so 0 x 1.0 = 0",
    "shared_savings.x_settle_shared_savings__mutmut_154": "harmless: the savings_cap_bound flag at exact equality; "
                                                           "the amount, min(uncapped, cap), is the same",
    "shared_savings.x_settle_shared_savings__mutmut_157": "equivalent: at a result of exactly $0 the loss owed is "
                                                           "rate x 0 = $0 and the gross $0",
    "shared_savings.x_settle_shared_savings__mutmut_158": "equivalent: for 0 < savings < $1 a loss also needs "
                                                           "-S >= MLR >= 0, which is false",
    "shared_savings.x_settle_shared_savings__mutmut_209": "harmless: the loss_cap_bound flag at exact equality; "
                                                           "the amount, min(owed, cap), is the same",
    "shared_savings.x_settle_shared_savings__mutmut_286": "equivalent: shared_loss_rate is already all zeros for "
                                                           "one-sided terms",
    "shared_savings.x_risk_ratio__mutmut_10": "equivalent: only agreements before 2024 reach it, and "
                                              "capped_risk_ratio ignores the demographic ratio for them",
    "shared_savings.x_risk_ratio__mutmut_11": "equivalent: only agreements before 2024 reach it, and "
                                              "capped_risk_ratio ignores the demographic ratio for them",
    "shared_savings.x_year_threshold__mutmut_7": "wording: the label of where the threshold comes from (notes)",
    "shared_savings.x_year_threshold__mutmut_8": "wording: the label of where the threshold comes from (notes)",
    "shared_savings.x_minimum_rates__mutmut_15": "not killed: one-sided terms' MLR; settle_shared_savings replaces "
                                                 "it by inf, but mssp_agreement's ACPT guardrail reads it and its "
                                                 "tests are outside the selection",
    "shared_savings.x_check__mutmut_92": "not killed: the refusal is tested in test_population_data.py, outside "
                                         "the selection",
    "shared_savings.x_year_quality_standard__mutmut_17": "not killed: a year before 2023 settled from the scenario's "
                                                         "facts without a given standard; tested only outside the "
                                                         "selection (agreement engine)",
    "risk.x_level_tag__mutmut_13": "equivalent: the :g format keeps 6 significant digits, so rounding at 8 or 9 "
                                   "decimals gives the same name",
    "risk.x_tail_value_at_risk__mutmut_8": "equivalent: moving the atom at VaR into the tail sum and out of "
                                           "P(L <= VaR) - p changes the numerator by k VaR - k VaR = 0 (to rounding)",
}
for _k in ("45", "47", "54", "56"):
    JUDGED[f"shared_savings.x_settle_shared_savings__mutmut_{_k}"] = (
        "equivalent: drops a float64 conversion of the MSR/MLR, which are floats or float arrays (the terms' or "
        "the caller's); an integer rate compares the same")
for _k in ("17", "20"):
    JUDGED[f"shared_savings.x_minimum_rates__mutmut_{_k}"] = JUDGED["shared_savings.x_minimum_rates__mutmut_15"]
for _k in ("93", "94"):
    JUDGED[f"shared_savings.x_check__mutmut_{_k}"] = JUDGED["shared_savings.x_check__mutmut_92"]
JUDGED["shared_savings.x_year_quality_standard__mutmut_18"] = JUDGED["shared_savings.x_year_quality_standard__mutmut_17"]
for _name in ("x__recommend__mutmut_30", "x__recommend__mutmut_57", "x__explain_other__mutmut_8",
              "x__explain_other__mutmut_32"):
    JUDGED[f"ranking.{_name}"] = ("wording: the separator between several items, or the '$' stripped from the "
                                  "error of the lead; the tests' cases list one item")
for _k in ("46", "48", "50"):
    JUDGED[f"capitation.x_settle__mutmut_{_k}"] = JUDGED["capitation.x_settle__mutmut_44"]

_NEVER_CLIPS = "equivalent: the unclipped rank is always inside [0, n - 1] there, so this bound never applies"
_TINY_N = ("harmless: this bound applies only to samples of a handful of simulations (a rank of 0 or n - 1 needs "
           "p within about 1/n of 0 or 1, or h above it); Monte Carlo runs have thousands")
_DEFAULT_SIDE = "equivalent: side=\"left\" is np.searchsorted's default"
for _k in ("48", "58", "63", "79", "80", "89"):
    JUDGED[f"risk.x_var_standard_error__mutmut_{_k}"] = _NEVER_CLIPS
for _k in ("59", "73", "88", "90"):
    JUDGED[f"risk.x_var_standard_error__mutmut_{_k}"] = _TINY_N
for _k in ("16", "24", "29", "37"):
    JUDGED[f"risk.x__jump_standard_error__mutmut_{_k}"] = _NEVER_CLIPS
JUDGED["risk.x__jump_standard_error__mutmut_25"] = _TINY_N
for _k in ("30", "38"):
    JUDGED[f"risk.x__jump_standard_error__mutmut_{_k}"] = ("equivalent: a slice past the end of the sample stops "
                                                          "at its end")
JUDGED["risk.x_var_standard_error__mutmut_122"] = _DEFAULT_SIDE
JUDGED["risk.x__is_atom__mutmut_16"] = _DEFAULT_SIDE
for _k in ("5", "7"):
    JUDGED[f"risk.x_tvar_standard_error__mutmut_{_k}"] = ("equivalent: the tail L >= VaR always holds VaR itself, "
                                                          "and the variance of one value is 0.0")
JUDGED["risk.x_var_standard_error__mutmut_87"] = ("not killed: changes the result only when VaR is the lowest "
                                                  "rank of an atom; no test builds that sample")
JUDGED["risk.x_var_standard_error__mutmut_125"] = ("not killed: the tests' losses are evenly spaced next to the "
                                                   "atom, where one rank less gives the same sparsity")
JUDGED["risk.x__jump_standard_error__mutmut_15"] = ("not killed: needs a window reaching below rank 0 (n p under "
                                                    "about 4) with an atom edge there")
JUDGED["risk.x__jump_standard_error__mutmut_23"] = ("not killed: needs an atom edge between ranks 0 and 1 inside "
                                                    "the window")
JUDGED["risk.x__jump_standard_error__mutmut_45"] = ("not killed: needs an atom edge exactly one rank past the "
                                                    "window")


def why_harmless(name: str, change: str, module: str = "") -> str:
    """The reason a survivor is equivalent or harmless, or ``"not analysed"``."""
    import re

    judged = JUDGED.get(f"{Path(module).stem}.{name}")
    if judged is not None:
        return judged
    if "reference_settlement" in name:
        return "in the scalar reference transcription, which only tests call (the engine never does)"
    for pattern, reason in HARMLESS:
        if re.search(pattern, change) or re.search(pattern, name):
            return reason
    return "not analysed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="mutmut --max-children (default 2)")
    parser.add_argument("--table-only", action="store_true", help="do not run; tabulate mutants/")
    parser.add_argument("--merge", type=Path, metavar="DIR",
                        help="also read the mutants/ folder of a run of new tests on this run's survivors")
    parser.add_argument("--earlier", type=Path, metavar="DIR",
                        help="mutants/ folder of an earlier full run; this run re-ran some of its mutants by name")
    parser.add_argument("--survivors", action="store_true", help="list each survivor: module:line, old -> new")
    args = parser.parse_args()
    if not args.table_only:
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.workers)],
                             stdout=subprocess.DEVNULL)
        print(f"mutmut run: exit {run.returncode}, {time.perf_counter() - start:.0f} s wall", file=sys.stderr)
    by_module = results()
    if args.merge is not None:
        by_module = merge(by_module, results(args.merge))
    if args.earlier is not None:
        by_module = over_earlier(results(args.earlier), by_module)
    if not by_module:
        print("no mutmut results under mutants/; run without --table-only first", file=sys.stderr)
        return 2
    print(table(by_module))
    if args.survivors:
        print("\n| module:line | mutant | verdict | mutation | why it is left |\n|---|---|---|---|---|")
        for module, verdicts in by_module.items():
            for name, verdict in verdicts.items():
                if verdict in ("survived", "no tests", "suspicious"):
                    line, change = mutation(module, name)
                    short = name.rsplit(".", 1)[1]
                    print(f"| `{module}:{line}` | `{short}` | {verdict} | {change} | {why_harmless(short, change, module)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
