"""Mutation testing of ledger/core/ with mutmut 3, and its summary per file.

    python scripts/mutation.py                  # every file of ledger/core/
    python scripts/mutation.py merkle refs      # some files (module names under ledger/core/)
    python scripts/mutation.py --fresh ...      # forget every earlier result first
    python scripts/mutation.py --report         # only the summary of the results kept

mutmut keeps its results in mutants/ and, run on everything, tests only mutants it has no
result for (new ones, and those of functions whose source changed). Tests change too, so every
mutant that was not caught last time (survived, no tests) is retested here by name: a kill
stays a kill, a survivor has to be earned again. Naming files retests all their mutants.

The summary gives, per file, the mutants and the share caught (killed or timed out). It fails
(exit 1) when a file catches less than THRESHOLD, or when a survivor is not listed in
tests/core/MUTATION_TRIAGE.md with the reason it cannot change behaviour. Configuration (what
is mutated, which tests run) is in pyproject.toml's [tool.mutmut].
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "ledger" / "core"
TRIAGE = ROOT / "tests" / "core" / "MUTATION_TRIAGE.md"
THRESHOLD = 95.0
MUTMUT = [sys.executable, "-m", "mutmut"]
# A mutant that hangs the tests (timeout) or crashes their process (segfault) fails the run too.
CAUGHT = {"killed", "timeout", "segfault"}
UNCHECKED = "not checked"
# Mutant names as `mutmut results` prints them: "    ledger.core.refs.x_f__mutmut_3: survived".
_RESULT = re.compile(r"^\s*(ledger\.core\.(\w+)\.\S+): (.+)$")
_TRIAGED = re.compile(r"`(ledger\.core\.\w+\.\S+__mutmut_\d+)`")


def core_modules() -> list[str]:
    return sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")


def mutmut(*args: str, quiet: bool = False) -> str:
    run = subprocess.run([*MUTMUT, *args], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE if quiet else None, check=False)
    if run.returncode not in (0, None):
        raise SystemExit(f"mutmut {' '.join(args[:3])} ... exited with {run.returncode}")
    return run.stdout or ""


def results(modules: list[str]) -> dict[str, dict[str, str]]:
    """{module: {mutant: status}} of every mutant of the modules."""
    out: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for line in mutmut("results", "--all", "true", quiet=True).splitlines():
        if (match := _RESULT.match(line)) and match.group(2) in modules:
            out[match.group(2)][match.group(1)] = match.group(3)
    return out


def triaged() -> set[str]:
    return set(_TRIAGED.findall(TRIAGE.read_text(encoding="utf-8"))) if TRIAGE.exists() else set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="modules of ledger/core/ (default: all)")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    parser.add_argument("--max-children", default="2", help="parallel test processes")
    parser.add_argument("--report", action="store_true",
                        help="only summarise the results mutants/ holds (run nothing)")
    args = parser.parse_args()
    modules = args.modules or core_modules()
    if unknown := set(modules) - set(core_modules()):
        parser.error(f"not modules of ledger/core/: {sorted(unknown)}")
    if args.fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)

    started = time.monotonic()
    # All files: new mutants (and those of changed functions) only, kills of earlier runs
    # standing. Some files: every mutant of theirs, as mutmut retests every mutant named.
    patterns = [f"ledger.core.{m}.*" for m in args.modules]
    if not args.report:
        mutmut("run", "--max-children", args.max_children, *patterns)
        # Then, by name, every mutant not caught before: the tests may have changed since.
        retest = [name for by_mutant in results(modules).values()
                  for name, status in by_mutant.items() if status not in CAUGHT]
        for chunk in range(0, len(retest), 200):  # keeps the command line short
            mutmut("run", "--max-children", args.max_children, *retest[chunk:chunk + 200])

    final, explained = results(modules), triaged()
    failing = []
    print(f"\nmutation testing of ledger/core/ ({time.monotonic() - started:.0f} s)")
    print(f"{'file':18} {'mutants':>8} {'caught':>8} {'share':>7} {'untriaged':>10} "
          f"{'unchecked':>10}")
    for module in modules:
        statuses = final.get(module, {})
        caught = sum(status in CAUGHT for status in statuses.values())
        share = 100.0 * caught / len(statuses) if statuses else 100.0
        # Not run yet (an interrupted or timed-out run): counted as not caught, not listed.
        unchecked = sum(status == UNCHECKED for status in statuses.values())
        loose = sorted(n for n, s in statuses.items()
                       if s not in CAUGHT and s != UNCHECKED and n not in explained)
        print(f"{module + '.py':18} {len(statuses):8} {caught:8} {share:6.1f}% {len(loose):10} "
              f"{unchecked:10}")
        if share < THRESHOLD or loose:
            failing.append(module)
        for name in loose:
            print(f"    {name}: {statuses[name]} (not in {TRIAGE.relative_to(ROOT)})")
    if failing:
        print(f"\nbelow {THRESHOLD}% or with untriaged survivors: {', '.join(failing)}")
        print("see a mutant with: .venv/bin/mutmut show <name>")
        return 1
    print(f"\nevery file catches at least {THRESHOLD}%; every survivor is triaged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
