"""/healthz tells the truth: degraded (503) with a reason while anchoring cannot keep its
promise, ok once it can; the node's URL never appears in what it says."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from api.main import create_app
from ledger.config import Settings
from ledger.store.sqlite import SqliteStore
from tests.anchoring.conftest import Clock, ledger_on
from tests.support.anvil import running_anvil
from tests.support.server import serving
from tests.test_anchoring import write_bindings

WAIT_LIMIT = 30.0


def health_when(api: str, condition: Callable[[httpx.Response], bool]) -> httpx.Response:
    """The first /healthz answer that meets `condition`; fails after WAIT_LIMIT seconds."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition(answer := httpx.get(f"{api}/healthz", timeout=10)):
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)
    return answer


def test_health_is_degraded_while_the_node_is_down_and_ok_when_it_returns(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ledger.sqlite3")
    state = tmp_path / "anvil-state.json"
    node = running_anvil("--dump-state", str(state))
    # Where providers put their keys: the path and the query never appear in an answer.
    plain = node.__enter__()
    port = int(plain.rsplit(":", 1)[1])
    url = f"http://user:PASSWORD-SECRET@127.0.0.1:{port}/?apikey=QUERY-SECRET"
    ledger = ledger_on(url, store, Clock(), confirmations=0)
    settings = Settings(chain=url, contract=ledger.contract.address, anchor_every_seconds=0.2,
                        health_degraded_after_seconds=1)
    try:
        with serving(create_app(settings, ledger)) as api:
            write_bindings(ledger, 2)
            health_when(api, lambda r: r.status_code == 200 and r.json()["status"] == "ok"
                        and r.json()["oldestUnanchoredSeconds"] is None)

            node.__exit__(None, None, None)  # the node goes down
            write_bindings(ledger, 2, "while-down")  # writes go on
            down = health_when(api, lambda r: r.status_code == 503)
            assert (down.json()["status"], down.json()["reason"]) == (
                "degraded", "chain_unreachable")
            assert "SECRET" not in down.text
            assert down.json()["workerError"].endswith(
                f"no answer from http://127.0.0.1:{port} (ConnectionError)")

            with running_anvil("--load-state", str(state), port=port):
                back = health_when(api, lambda r: r.status_code == 200)
                assert back.json()["status"] == "ok" and back.json()["workerError"] is None
    finally:
        node.__exit__(None, None, None)
        store.close()
