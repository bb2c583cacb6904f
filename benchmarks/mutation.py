"""Mutation testing of the rule layer with mutmut, and its score per module.

Run from the repository root (needs the optional extra: ``pip install -e '.[test,mutation]'``)::

    python benchmarks/mutation.py                  # mutmut run on 2 workers, then the table
    python benchmarks/mutation.py --workers 1
    python benchmarks/mutation.py --table-only     # the table of the last run (mutants/)
    python benchmarks/mutation.py --table-only --survivors   # and every survivor: line, old -> new
    python benchmarks/mutation.py --table-only --merge ../copy/mutants   # with a run of new tests (docs/testing.md)

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


def why_harmless(name: str, change: str) -> str:
    """The reason a survivor is equivalent or harmless, or ``"not analysed"``."""
    import re

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
                    print(f"| `{module}:{line}` | `{short}` | {verdict} | {change} | {why_harmless(short, change)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
