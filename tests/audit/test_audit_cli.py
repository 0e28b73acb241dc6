"""`bindledger audit`: exit 0 verified, 1 not verified (the failures named), 2 unreadable
input or mirror, 3 server or chain unreachable; a JSON report with --out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledger.audit.mirror import Mirror
from tests.support.anvil import free_port
from tests.support.audit_log import REGULATOR_API_KEY, ServedLog

ROOT = Path(__file__).resolve().parents[2]


def run_audit_cli(log: ServedLog, *args: str, key: str | None = REGULATOR_API_KEY,
                  server: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("BINDLEDGER_AUDIT_API_KEY", None)
    if key is not None:
        env["BINDLEDGER_AUDIT_API_KEY"] = key
    chain = log.ledger.chain.url  # type: ignore[attr-defined]
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli", "audit", log.platform, "--server",
         server or log.url, "--chain", chain, "--contract", log.ledger.contract.address, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_verified_audit_exits_0_and_writes_its_report(log: ServedLog, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = run_audit_cli(log, "--mirror", str(tmp_path / "m"), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and "heads on chain = recomputed roots" in done.stdout
    report = json.loads(out.read_text())
    assert report["format"] == "bindledger.audit/1" and report["verified"] is True
    assert report["records"]["checked"] == report["auditedSize"] == 606
    assert report["failures"] == []


def test_a_tampered_mirror_exits_1_naming_the_position(log: ServedLog, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    assert run_audit_cli(log, "--mirror", str(folder)).returncode == 0
    mirror = Mirror(folder / log.platform)
    tile = next(t for t in mirror.tiles() if t.path == "tile/0/001")
    data = bytearray(mirror.read(tile))
    data[32 * 7] ^= 0xFF  # the leaf hash of leaf 256 + 7
    mirror.write(tile, bytes(data))
    out = tmp_path / "report.json"
    done = run_audit_cli(log, "--mirror", str(folder), "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT VERIFIED" in done.stdout and "leaf at leaf 263, tile/0/001" in done.stdout
    failures = json.loads(out.read_text())["failures"]
    assert {"check": "leaf", "leaf": 263, "tile": "tile/0/001"}.items() <= failures[0].items()


def test_without_a_key_or_with_an_unusable_mirror_it_exits_2(
    log: ServedLog, tmp_path: Path
) -> None:
    no_key = run_audit_cli(log, "--mirror", str(tmp_path / "m"), key=None)
    assert no_key.returncode == 2 and "BINDLEDGER_AUDIT_API_KEY" in no_key.stderr
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    unusable = run_audit_cli(log, "--mirror", str(blocked))
    assert unusable.returncode == 2, unusable.stderr
    refused = run_audit_cli(log, "--mirror", str(tmp_path / "m"), key="platform-b-api-key")
    assert refused.returncode == 2 and "HTTP 404" in refused.stderr


def test_an_unreachable_server_exits_3(log: ServedLog, tmp_path: Path) -> None:
    down = run_audit_cli(log, "--mirror", str(tmp_path / "m"),
                         server=f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 3, down.stderr
    assert "does not answer" in down.stderr
