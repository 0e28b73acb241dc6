"""Run Slither over BindLedger's contracts and fail on any high or medium finding not triaged.

Usage:
    .venv/bin/python scripts/slither_check.py                 # analyse, compare with the triage
    .venv/bin/python scripts/slither_check.py --json-out F    # also keep Slither's JSON in F
    .venv/bin/python scripts/slither_check.py --from-json F   # compare an earlier run's JSON
    .venv/bin/python scripts/slither_check.py --triage T      # another triage file

Slither lives in its own environment, .venv-slither (`make .venv-slither/.installed`), because
it needs web3 < 8 and BindLedger's .venv has web3 8. No native solc can be installed here, so
Slither compiles through scripts/solc-js (the pinned npm `solc`) with crytic-compile's
standard-JSON platform (`solc-json`): the input is the one scripts/compile_contracts.py builds
from the current sources, with every imported OpenZeppelin file embedded, and with the output
Slither reads (ASTs, source maps) selected.

Findings in node_modules (OpenZeppelin, pinned and audited upstream) are filtered out; low,
informational and optimization findings are not reported. Every remaining finding must match an
entry of contracts/slither-triage.json (detector and location, with a one-line reason), or be
fixed. An entry that matches no finding fails the check too (stale: remove it), so that the file
stays true and cannot excuse a later finding at the same place unread.

Exit status: 0 every finding triaged, 1 an untriaged finding or a stale entry, 2 Slither could
not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SLITHER_VENV = REPO_ROOT / ".venv-slither"
SLITHER = SLITHER_VENV / "bin" / "slither"
SOLC_SHIM = REPO_ROOT / "scripts" / "solc-js"
TRIAGE = REPO_ROOT / "contracts" / "slither-triage.json"
BUILD_COMMAND = "make .venv-slither/.installed"

# What Slither needs from the compiler beyond what the artifacts select.
SLITHER_OUTPUT = {
    "*": {
        "": ["ast"],
        "*": ["abi", "metadata", "devdoc", "userdoc", "evm.bytecode", "evm.deployedBytecode"],
    }
}


class SlitherError(RuntimeError):
    """Slither is not installed, or could not compile or analyse the contracts."""


@dataclass(frozen=True, order=True)
class Finding:
    detector: str
    location: str  # Contract.function[.variable]: stable while lines move
    impact: str
    description: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.detector, self.location)


def _load_compile_script() -> Any:
    path = REPO_ROOT / "scripts" / "compile_contracts.py"
    spec = importlib.util.spec_from_file_location("compile_contracts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compile_contracts", module)
    spec.loader.exec_module(module)
    return module


def slither_input() -> dict[str, Any]:
    """The standard JSON input of the current sources, selecting what Slither reads."""
    compile_script = _load_compile_script()
    try:
        input_json: dict[str, Any] = compile_script.standard_input()
    except compile_script.CompileError as exc:
        raise SlitherError(str(exc)) from None
    input_json["settings"] = {**input_json["settings"], "outputSelection": SLITHER_OUTPUT}
    return input_json


def run_slither(json_out: Path) -> dict[str, Any]:
    """Runs Slither on the current sources and returns its JSON report."""
    if not SLITHER.is_file():
        raise SlitherError(f"Slither is not installed in {SLITHER_VENV}: run {BUILD_COMMAND}")
    with tempfile.TemporaryDirectory(prefix="bindledger-slither-") as folder:
        target = Path(folder) / "standard-input.json"
        target.write_text(json.dumps(slither_input()), encoding="utf-8")
        json_out.unlink(missing_ok=True)
        completed = subprocess.run(
            [str(SLITHER), str(target), "--compile-force-framework", "solc-json",
             "--solc", str(SOLC_SHIM), "--filter-paths", "node_modules|@openzeppelin",
             "--exclude-low", "--exclude-informational", "--exclude-optimization",
             "--json", str(json_out)],
            cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        )
    # Slither exits non-zero whenever it finds anything; its JSON says whether it ran.
    if not json_out.is_file():
        raise SlitherError(f"Slither wrote no report:\n{completed.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(json_out.read_text(encoding="utf-8"))
    if not report.get("success"):
        raise SlitherError(f"Slither failed: {report.get('error')}")
    return report


def _location(element: dict[str, Any]) -> str:
    """Contract.function or Contract.function.variable of a result's first element."""
    names = [element["name"]]
    parent = element.get("type_specific_fields", {}).get("parent")
    while parent is not None:
        names.append(parent["name"])
        parent = parent.get("type_specific_fields", {}).get("parent")
    return ".".join(reversed(names))


def findings(report: dict[str, Any]) -> list[Finding]:
    """The high and medium findings of a Slither JSON report."""
    found = []
    for result in report.get("results", {}).get("detectors", []):
        if result["impact"] not in ("High", "Medium"):
            continue
        elements = result.get("elements") or [{"name": "?"}]
        found.append(Finding(result["check"], _location(elements[0]), result["impact"],
                             result["description"].strip()))
    return sorted(set(found))


def load_triage(path: Path) -> dict[tuple[str, str], str]:
    """(detector, location) -> why it is not a problem. Raises SlitherError if malformed."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SlitherError(f"cannot read the triage {path}: {exc}") from None
    triage: dict[tuple[str, str], str] = {}
    for entry in entries if isinstance(entries, list) else [None]:
        if not (isinstance(entry, dict) and set(entry) == {"detector", "location", "reason"}
                and all(isinstance(v, str) and v.strip() for v in entry.values())):
            raise SlitherError(f"{path}: each entry is {{detector, location, reason}}, got {entry}")
        triage[(entry["detector"], entry["location"])] = entry["reason"]
    return triage


def compare(found: list[Finding], triage: dict[tuple[str, str], str]) -> tuple[
        list[Finding], list[tuple[str, str]]]:
    """(untriaged findings, stale triage entries)."""
    keys = {finding.key for finding in found}
    return ([f for f in found if f.key not in triage], sorted(set(triage) - keys))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triage", type=Path, default=TRIAGE)
    parser.add_argument("--json-out", type=Path, help="keep Slither's JSON report here")
    parser.add_argument("--from-json", type=Path, help="compare this report; do not run Slither")
    args = parser.parse_args(argv)
    try:
        if args.from_json is not None:
            report = json.loads(args.from_json.read_text(encoding="utf-8"))
        elif args.json_out is not None:
            report = run_slither(args.json_out)
        else:
            with tempfile.TemporaryDirectory(prefix="bindledger-slither-") as folder:
                report = run_slither(Path(folder) / "slither.json")
        found = findings(report)
        untriaged, stale = compare(found, load_triage(args.triage))
    except SlitherError as exc:
        print(f"slither_check: {exc}", file=sys.stderr)
        return 2
    for detector, location in stale:
        print(f"stale triage entry (no such finding any more; remove it): {detector} {location}")
    for finding in untriaged:
        print(f"UNTRIAGED {finding.impact} {finding.detector} {finding.location}\n"
              f"  {finding.description}")
    if untriaged:
        shown = (args.triage.relative_to(REPO_ROOT) if args.triage.is_relative_to(REPO_ROOT)
                 else args.triage)
        print(f"{len(untriaged)} untriaged finding(s): fix them, or add an entry to {shown} "
              "saying why each is not a problem")
    if untriaged or stale:
        return 1
    print(f"slither: {len(found)} high/medium finding(s), all triaged in "
          f"{args.triage.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
