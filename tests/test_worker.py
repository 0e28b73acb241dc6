"""The anchoring worker seals every N records or every T seconds, and survives a bad chain."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from ledger.anchoring.worker import AnchorWorker
from ledger.chain.client import ChainError
from ledger.service import Ledger
from ledger.store.base import AnchorState
from tests.test_anchoring import platform_of, write_bindings

WAIT_LIMIT = 20.0


def eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def anchored_sizes(ledger: Ledger) -> list[int]:
    return [h.tree_size for h in ledger.store.heads(platform_of(ledger))
            if h.state is AnchorState.FINAL]


def test_a_head_is_anchored_once_n_records_are_pending(ledger_: Ledger) -> None:
    worker = AnchorWorker(ledger_, every_records=4, every_seconds=3600)
    worker.start()
    try:
        write_bindings(ledger_, 3)
        time.sleep(0.3)
        assert anchored_sizes(ledger_) == []  # three are not enough, and the hour is far
        write_bindings(ledger_, 1, "fourth")
        eventually(lambda: anchored_sizes(ledger_) == [4])
    finally:
        worker.stop()


def test_pending_records_are_anchored_after_t_seconds(ledger_: Ledger) -> None:
    worker = AnchorWorker(ledger_, every_records=1000, every_seconds=0.2)
    worker.start()
    try:
        write_bindings(ledger_, 2)
        eventually(lambda: anchored_sizes(ledger_) == [2])
    finally:
        worker.stop()


def test_heads_left_unfinished_by_a_previous_process_are_finished_at_start(
        ledger_: Ledger) -> None:
    write_bindings(ledger_, 3)
    ledger_.seal(platform_of(ledger_))
    worker = AnchorWorker(ledger_, every_records=1000, every_seconds=3600)
    worker.start()
    try:
        eventually(lambda: anchored_sizes(ledger_) == [3])
    finally:
        worker.stop()


def test_a_failing_chain_is_retried_and_nothing_accepted_is_lost(
        ledger_: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = ledger_.chain.broadcast

    def flaky(sent: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ChainError("node unreachable")
        real(sent)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_.chain, "broadcast", flaky)
    monkeypatch.setattr("ledger.anchoring.worker.RETRY_DELAY_SECONDS", 0.1)
    worker = AnchorWorker(ledger_, every_records=2, every_seconds=3600)
    worker.start()
    try:
        write_bindings(ledger_, 2)
        eventually(lambda: anchored_sizes(ledger_) == [2])
        assert calls["n"] >= 2
        eventually(lambda: worker.last_error is None)  # the round that succeeded clears it
    finally:
        worker.stop()
