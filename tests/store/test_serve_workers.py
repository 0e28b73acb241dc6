"""`bindledger serve --workers N`: N API processes on one PostgreSQL database. Real processes
on anvil: drafts for the same subjects go to both workers, one worker is killed with SIGKILL
(uvicorn starts another), and the log stays sound. Several processes are refused on SQLite and
on the embedded chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from ledger.cli import app
from ledger.config import DEV_PLATFORM_API_KEY
from tests.support.anvil import free_port
from tests.support.api import CONSENT
from tests.support.log_trials import REPO, Trial, check_log

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}


def refusal(*args: str) -> str:
    result = CliRunner(env={k: None for k in os.environ if k.startswith("BINDLEDGER_")}).invoke(
        app, ["serve", *args])
    assert result.exit_code == 1
    return " ".join(result.stderr.split())


def test_several_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    message = refusal("--workers", "2", "--chain", "http://127.0.0.1:1",
                      "--database", str(tmp_path / "ledger.sqlite3"))
    assert "--workers 2 needs a PostgreSQL database" in message
    assert "SQLite file takes one process only" in message


def test_several_workers_are_refused_on_the_embedded_chain() -> None:
    message = refusal("--workers", "3", "--database", "postgresql://postgres@127.0.0.1:1/x")
    assert "--workers 3 needs a chain node" in message


def worker_pids(server: int) -> list[int]:
    """uvicorn's worker processes: children of the server started by multiprocessing."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == server and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_two_workers_share_one_log_and_survive_a_killed_one(
    anvil_url: str, postgres_url: str
) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--workers", "2", "--port", str(port),
         "--chain", anvil_url, "--database", postgres_url],
        cwd=REPO, env={**CLEAN_ENV, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while len(worker_pids(server.pid)) < 2 or not _answers(base):
            assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        stored: list[str] = []
        failures: list[int] = []
        stop = threading.Event()

        def load(n: int) -> None:
            with httpx.Client(base_url=base, headers={"X-API-Key": DEV_PLATFORM_API_KEY},
                              timeout=30) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        r = c.post("/v1/records", json={**CONSENT, "subjectId": f"S-{(n + i) % 3}"})
                    except httpx.TransportError:
                        continue  # the killed worker's connection
                    if r.status_code == 201:
                        stored.append(r.json()["recordHash"])
                    else:
                        failures.append(r.status_code)

        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        os.kill(worker_pids(server.pid)[0], signal.SIGKILL)
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert failures == [] and len(stored) > 20, (failures[:10], len(stored))
    trial = Trial(processes=2, killed_after=2.0)
    check_log(postgres_url, {h.removeprefix("0x") for h in stored}, trial)
    assert trial.faults == [] and trial.records >= len(stored)


def _answers(base: str) -> bool:
    try:
        httpx.get(base + "/healthz", timeout=1)
        return True
    except httpx.TransportError:
        return False
