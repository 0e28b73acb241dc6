"""The committed in-browser verifier (api/static/verifier.js, verify-standalone.html and the
release list it recognises) must be exactly what scripts/build_verifier.py builds from the
committed sources, packages and contract artifact: nobody reviews a bundle byte by byte, so
the sources are what is reviewed, and this keeps the bundle theirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.requires import require_node_package

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_verifier.py"
HINT = "run python scripts/build_verifier.py and commit api/static and web/verifier"


def test_the_committed_verifier_is_what_the_build_gives() -> None:
    require_node_package("esbuild")
    check = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, f"{check.stderr.strip()}: {HINT}"


def test_the_current_contract_is_a_known_release() -> None:
    artifact = json.loads((ROOT / "contracts" / "build" / "BindLedger.json").read_text())
    releases = json.loads((ROOT / "web" / "verifier" / "releases.json").read_text())
    assert artifact["deployedBytecode"] in [r["deployedBytecode"] for r in releases], HINT
