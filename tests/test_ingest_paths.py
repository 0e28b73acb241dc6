"""The fast ingest paths: Ledger.submit_async / submit_many_async acknowledge only durable
records without a thread per waiter, and the SQLite store syncs its WAL itself, one fsync for
every commit written before it, acknowledging nothing a failed fsync may have lost."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import service
from ledger.chain.client import EmbeddedChain
from ledger.config import Platform, Settings
from ledger.core.records import SignedRecord, Verification, VerificationMethod, sign_record
from ledger.runtime import open_ledger
from ledger.service import ChainBreakError, Ledger
from ledger.store.base import RecordNotStoredError
from ledger.store.sqlite import SqliteStore

P1 = "0x" + "11" * 20


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture
def ledger_(tmp_path: Path) -> Iterator[Ledger]:
    store = SqliteStore(tmp_path / "l.db")
    yield open_ledger(Settings(chain="embedded"), chain=EmbeddedChain(), store=store)
    store.close()


def platform(ledger: Ledger) -> Platform:
    return next(iter(ledger.platforms.values()))


def record(ledger: Ledger, subject: int, prev: bytes = bytes(32)) -> SignedRecord:
    p = platform(ledger)
    return sign_record(
        Verification(platform=p.address, subject=hashlib.sha256(b"%d" % subject).digest(),
                     prev=prev, timestamp=1, method=VerificationMethod.SMS_OTP, passed=True,
                     phone=bytes(32)),
        ledger.domain, bytes(p.account.key))


def test_submit_async_acknowledges_committed_records(ledger_: Ledger, tmp_path: Path) -> None:
    async def main() -> list[int]:
        done = await asyncio.gather(*(ledger_.submit_async(record(ledger_, i)) for i in range(40)))
        return [a.row.id for a in done]

    ids = asyncio.run(main())
    assert sorted(ids) == list(range(1, 41))
    other = SqliteStore(tmp_path / "l.db")  # another connection sees only committed rows
    assert len(other.record_hashes(platform(ledger_).address)) == 40
    other.close()


def test_submit_async_checks_like_submit(ledger_: Ledger) -> None:
    first = record(ledger_, 1)

    async def main() -> None:
        stored = await ledger_.submit_async(first)
        again = await ledger_.submit_async(first)  # a retry gets the stored record back
        assert again.already_stored and again.row == stored.row
        with pytest.raises(ChainBreakError):
            await ledger_.submit_async(record(ledger_, 1, prev=b"\x01" * 32))  # not the head
        await ledger_.submit_many_async([record(ledger_, 1, first.record.digest(ledger_.domain))])

    asyncio.run(main())


def test_a_lost_commit_is_raised_to_the_coroutine_and_forgotten(
        ledger_: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    def lost(ticket: int) -> None:
        raise RecordNotStoredError("lost")

    ledger_.submit(record(ledger_, 1))
    monkeypatch.setattr(ledger_.store, "wait_durable", lost)
    with pytest.raises(RecordNotStoredError):
        asyncio.run(ledger_.submit_async(record(ledger_, 2)))
    assert ledger_._logs == {} and ledger_._subject_heads == {}


def test_the_notifier_thread_ends_when_idle(ledger_: Ledger,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "NOTIFIER_LINGER_SECONDS", 0.05)
    asyncio.run(ledger_.submit_async(record(ledger_, 1)))
    for _ in range(100):
        if not any(t.name == "durable-notifier" for t in threading.enumerate()):
            break
        threading.Event().wait(0.02)
    assert not any(t.name == "durable-notifier" for t in threading.enumerate())
    asyncio.run(ledger_.submit_async(record(ledger_, 2)))  # and starts again


def test_a_cancelled_waiter_does_not_stop_the_others(ledger_: Ledger) -> None:
    async def main() -> None:
        doomed = asyncio.ensure_future(ledger_.submit_async(record(ledger_, 1)))
        await asyncio.sleep(0)
        doomed.cancel()
        await ledger_.submit_async(record(ledger_, 2))

    asyncio.run(main())
    assert len(ledger_.store.record_hashes(platform(ledger_).address)) == 2


def test_the_store_syncs_the_wal_itself(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert store._wal is not None
    memory = SqliteStore(":memory:")
    assert memory._wal is None and memory._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    memory.close()
    store.close()
    assert store._wal is None


def test_a_failed_fsync_acknowledges_nothing(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqliteStore(tmp_path / "s.db")
    _, ticket = store.stage_record(P1, h(1), h(9), "Binding", "{}")
    real = os.fsync

    def failing(fd: int) -> None:
        raise OSError("EIO")

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(RecordNotStoredError):
        store.wait_durable(ticket)
    with pytest.raises(OSError):
        store.add_head(P1, 1, h(7), 0)  # a head write that cannot be synced fails too
    monkeypatch.setattr(os, "fsync", real)
    _, later = store.stage_record(P1, h(2), h(9), "Binding", "{}")
    store.wait_durable(later)  # the store goes on
    store.close()


def test_records_staged_during_an_fsync_share_the_next_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqliteStore(tmp_path / "s.db")
    syncing, release = threading.Event(), threading.Event()
    calls = []
    real = os.fsync

    def slow(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            syncing.set()
            release.wait(5)
        real(fd)

    monkeypatch.setattr(os, "fsync", slow)
    durable: list[int] = []  # the tickets whose wait_durable returned

    def wait(ticket: int) -> None:
        store.wait_durable(ticket)
        durable.append(ticket)

    _, first = store.stage_record(P1, h(1), h(9), "Binding", "{}")
    leader = threading.Thread(target=wait, args=(first,))
    leader.start()
    assert syncing.wait(5)
    # The connection is free while the leader syncs: others stage (and do not wait for it).
    tickets = [store.stage_record(P1, h(i), h(9), "Binding", "{}")[1] for i in range(2, 6)]
    waiters = [threading.Thread(target=wait, args=(t,)) for t in tickets]
    for w in waiters:
        w.start()
    release.set()
    for w in [leader, *waiters]:
        w.join(5)
        # A waiter still blocked would mean its record was never reported durable.
        assert not w.is_alive(), f"{w.name} still waits for its record to be durable"
    assert sorted(durable) == sorted([first, *tickets])  # every wait returned, none raised
    assert len(calls) == 2  # one fsync for the first record, one for the four staged after
    store.close()
    assert sqlite3.connect(tmp_path / "s.db").execute("SELECT COUNT(*) FROM records").fetchone() == (5,)
