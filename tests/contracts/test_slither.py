"""Slither's high and medium findings on the contracts are each fixed or triaged.

scripts/slither_check.py runs Slither (in .venv-slither, built by `make test` and `make lint`)
over the current sources through the solc-js shim, and compares its findings with the committed
contracts/slither-triage.json. Slither runs once for the module; the other tests compare its
report with other triage files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.requires import require_node_package

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "slither_check.py"
SLITHER = REPO_ROOT / ".venv-slither" / "bin" / "slither"
TRIAGE = REPO_ROOT / "contracts" / "slither-triage.json"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def slither_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[
        subprocess.CompletedProcess[str], Path]:
    if not SLITHER.is_file():
        pytest.fail(f"Slither is not installed ({SLITHER} is missing): run "
                    f"`make .venv-slither/.installed` in {REPO_ROOT} (`make test` does)",
                    pytrace=False)
    require_node_package("solc")
    report = tmp_path_factory.mktemp("slither") / "slither.json"
    return _check("--json-out", str(report)), report


def test_every_high_or_medium_finding_is_triaged(
        slither_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    completed, _ = slither_run
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "all triaged" in completed.stdout
    assert "stale triage entry" not in completed.stdout, completed.stdout


def test_a_finding_missing_from_the_triage_fails_the_check_and_is_named(
        slither_run: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path) -> None:
    _, report = slither_run
    entries = json.loads(TRIAGE.read_text(encoding="utf-8"))
    dropped = entries[0]
    triage = tmp_path / "triage.json"
    triage.write_text(json.dumps(entries[1:]), encoding="utf-8")

    completed = _check("--from-json", str(report), "--triage", str(triage))

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"UNTRIAGED Medium {dropped['detector']} {dropped['location']}" in completed.stdout
    assert "1 untriaged finding(s)" in completed.stdout


def test_a_triage_entry_that_matches_no_finding_fails_the_check_as_stale(
        slither_run: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path) -> None:
    _, report = slither_run
    entries = json.loads(TRIAGE.read_text(encoding="utf-8"))
    gone = {"detector": "reentrancy-eth", "location": "RiskRules.disburse",
            "reason": "a finding that no longer exists"}
    triage = tmp_path / "triage.json"
    triage.write_text(json.dumps([*entries, gone]), encoding="utf-8")

    completed = _check("--from-json", str(report), "--triage", str(triage))

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "stale triage entry (no such finding any more; remove it): reentrancy-eth " \
        "RiskRules.disburse" in completed.stdout


def test_a_triage_entry_without_a_reason_is_refused(
        slither_run: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path) -> None:
    _, report = slither_run
    triage = tmp_path / "triage.json"
    triage.write_text(json.dumps([{"detector": "unused-return", "location": "RiskRules._accept",
                                   "reason": " "}]), encoding="utf-8")

    completed = _check("--from-json", str(report), "--triage", str(triage))

    assert completed.returncode == 2
    assert "each entry is {detector, location, reason}" in completed.stderr
