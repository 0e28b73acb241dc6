"""Several `serve` processes on one PostgreSQL log: exactly one anchors (it holds the lease),
and when it is killed with SIGKILL another takes over within 10 s and anchors what comes next."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from ledger.config import DEV_PLATFORM_API_KEY
from ledger.store.postgres import upgrade
from tests.support.anvil import free_port
from tests.support.api import CONSENT
from tests.support.log_trials import REPO
from tests.support.postgres import fresh_database, server_url

pytestmark = pytest.mark.anvil

TAKEOVER_LIMIT = 10.0  # seconds from the leader's death to a new leader
START_LIMIT = 90.0


@contextmanager
def serve(chain: str, database: str, contract: str | None = None) -> Iterator[tuple[str, int]]:
    """One `bindledger serve` process; yields its URL and pid."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}
    env |= {"PYTHONPATH": str(REPO), "BINDLEDGER_CONFIRMATIONS": "0",
            "BINDLEDGER_ANCHOR_EVERY_SECONDS": "0.5"}
    if contract:
        env["BINDLEDGER_CONTRACT"] = contract
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port), "--chain", chain,
         "--database", database],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: proc.poll() is None and _health(url) is not None, START_LIMIT,
              "serve did not start")
        yield url, proc.pid
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def until(condition: Callable[[], bool], limit: float, why: str) -> float:
    """Seconds it took for `condition` to hold; fails after `limit` seconds."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < limit, why
        time.sleep(0.1)
    return time.monotonic() - start


def _health(url: str) -> dict[str, object] | None:
    try:
        return dict(httpx.get(f"{url}/healthz", timeout=2).json())
    except (httpx.HTTPError, ValueError):
        return None


def leader(url: str) -> bool:
    health = _health(url)
    return health is not None and health.get("anchoringLeader") is True


def test_a_killed_anchoring_leader_is_replaced_within_ten_seconds(anvil_url: str) -> None:
    with fresh_database(server_url()) as database, ExitStack() as stack:
        upgrade(database)
        first, first_pid = stack.enter_context(serve(anvil_url, database))
        contract = httpx.get(f"{first}/healthz").json()["contract"]
        second, second_pid = stack.enter_context(serve(anvil_url, database, contract))
        until(lambda: leader(first) or leader(second), 20, "no process took the lease")
        assert not (leader(first) and leader(second)), "two processes anchor at once"
        (dead, dead_pid), (survivor, _) = (
            ((first, first_pid), (second, second_pid)) if leader(first)
            else ((second, second_pid), (first, first_pid))
        )

        os.kill(dead_pid, signal.SIGKILL)
        took = until(lambda: leader(survivor), TAKEOVER_LIMIT,
                     f"no new leader within {TAKEOVER_LIMIT} s")
        with httpx.Client(base_url=survivor, headers={"X-API-Key": DEV_PLATFORM_API_KEY}) as api:
            created = api.post("/v1/records", json={**CONSENT, "subjectId": "after-takeover"})
            assert created.status_code == 201, created.text
            record = created.json()["id"]
            until(lambda: api.get(f"/v1/records/{record}/proof").status_code == 200, 20,
                  "the new leader did not anchor the record")
            proof = api.get(f"/v1/records/{record}/proof").json()
            verdict = api.post("/v1/verify", json=proof).json()
        assert verdict["verified"] is True, verdict
        assert took < TAKEOVER_LIMIT
        assert _health(dead) is None  # it is gone: the record was anchored by the survivor
