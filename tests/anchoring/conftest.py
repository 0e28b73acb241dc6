"""Chain faults on a real anvil node: each test gets its own node, as each breaks it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from ledger.anchoring import AnchorPolicy
from ledger.chain.client import RpcChain
from ledger.config import Settings
from ledger.rules import RulesClient, attach_rules
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.anvil import running_anvil

DEPTH = 2  # the default confirmation depth on a JSON-RPC chain


def rpc(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call; raises on an error answer."""
    answer = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
        timeout=10,
    ).json()
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer.get("result")


@dataclass
class Clock:
    """Time as the ledger sees it, moved by the test (the node keeps its own)."""

    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Node:
    url: str
    clock: Clock = field(default_factory=Clock)

    def mine(self, blocks: int = 1) -> None:
        rpc(self.url, "anvil_mine", hex(blocks))

    def automine(self, on: bool) -> None:
        rpc(self.url, "evm_setAutomine", on)

    def snapshot(self) -> str:
        return str(rpc(self.url, "evm_snapshot"))

    def revert(self, snapshot: str) -> None:
        assert rpc(self.url, "evm_revert", snapshot) is True


@pytest.fixture
def node() -> Iterator[Node]:
    with running_anvil() as url:
        yield Node(url)


def ledger_on(
    url: str, store: SqliteStore, clock: Clock, contract: str | None = None, **policy: Any
) -> Ledger:
    """A ledger on the node at `url`, with the default depth unless `policy` says otherwise."""
    chain = RpcChain(url)
    settings = Settings(chain=url, contract=contract, confirmations=DEPTH)
    opened = open_ledger(settings, chain=chain, store=store)
    ledger = Ledger(
        opened.store, opened.chain, opened.contract, list(opened.platforms.values()),
        opened.refs, clock=clock,
        policy=AnchorPolicy(**({"confirmations": DEPTH, "receipt_wait_seconds": 0.2} | policy)),
    )
    attach_rules(ledger, RulesClient(ledger, settings.relayer_account, settings.regulator_list))
    return ledger


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "ledger.sqlite3")
    yield store
    store.close()
