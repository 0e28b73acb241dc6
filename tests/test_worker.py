"""The anchoring worker seals every N records or every T seconds, and survives a bad chain."""

from __future__ import annotations

import threading
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


class WorkerLooks:
    """Counts the worker thread's looks at the pending count (one per wake-up that is not the
    timer's), so a test can wait until the worker has judged what it was woken for."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._changed = threading.Condition()
        real = ledger.pending

        def pending(platform: str) -> int:
            if threading.current_thread().name == "anchor-worker":
                with self._changed:
                    self.count += 1
                    self._changed.notify_all()
            return real(platform)

        monkeypatch.setattr(ledger, "pending", pending)

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, WAIT_LIMIT), (
                f"the worker looked {self.count} times, not {count}, in {WAIT_LIMIT} s")


def test_a_head_is_anchored_once_n_records_are_pending(
        ledger_: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    looks = WorkerLooks(ledger_, monkeypatch)
    worker = AnchorWorker(ledger_, every_records=4, every_seconds=3600)
    worker.start()
    try:
        write_bindings(ledger_, 3)
        # Wake the worker as a fourth record would, while only three are pending: it must look
        # and decide not to anchor. Its second look follows the end of the first round of the
        # loop, so the decision after the first has been carried out by then.
        for wakes in (1, 2):
            worker.wake()
            looks.wait_for(wakes * len(ledger_.platforms))  # one look per platform a wake
        assert anchored_sizes(ledger_) == []  # three are not enough, and the hour is far
        # Rounds may run (the worker renews its lease and moves unfinished heads on), but none
        # may seal a head of three records.
        assert ledger_.store.heads(platform_of(ledger_)) == []
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
