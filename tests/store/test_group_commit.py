"""Group commit in the SQLite store: staged records are durable only once waited on, several
writers share commits, and a batch is staged all or none."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ledger.store import SqliteStore, StoreConflictError

P1 = "0x" + "11" * 20


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_a_staged_record_is_durable_once_waited_on(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    row, ticket = store.stage_record(P1, h(1), h(9), "Binding", "{}")
    other = SqliteStore(tmp_path / "s.db")
    assert other.record_hashes(P1) == []  # not committed: another connection does not see it
    store.wait_durable(ticket)
    assert other.record_hashes(P1) == [h(1)] and row.leaf_index == 0
    store.close()
    other.close()


def test_a_batch_with_a_stored_hash_stages_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.add_record(P1, h(1), h(9), "Binding", "{}")
    batch = [(P1, h(i), h(9), "Binding", "{}") for i in (2, 3, 1)]
    with pytest.raises(StoreConflictError):
        store.stage_records(batch)
    rows, ticket = store.stage_records(batch[:2])
    store.wait_durable(ticket)
    assert [r.leaf_index for r in rows] == [1, 2]
    assert store.record_hashes(P1) == [h(1), h(2), h(3)]
    store.close()


def test_concurrent_writers_all_become_durable(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")

    def write(base: int) -> None:
        for i in range(50):
            _row, ticket = store.stage_record(P1, h(base + i), h(base), "Binding", "{}")
            store.wait_durable(ticket)

    threads = [threading.Thread(target=write, args=(1000 * t,)) for t in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = SqliteStore(tmp_path / "s.db")
    assert len(reader.record_hashes(P1)) == 400
    assert sorted(reader.record_hashes(P1)) == sorted(
        h(1000 * t + i) for t in range(1, 9) for i in range(50))
    store.close()
    reader.close()


def test_a_head_written_after_staged_records_commits_them_too(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.stage_record(P1, h(1), h(9), "Binding", "{}")
    store.add_head(P1, 1, h(7), 0)
    reader = SqliteStore(tmp_path / "s.db")
    assert reader.record_hashes(P1) == [h(1)] and reader.latest_head(P1) is not None
    store.close()
    reader.close()
