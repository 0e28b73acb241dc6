"""Group commit: staged records are durable only once waited on, several writers share
commits, and a batch is staged all or none; on a database file and on PostgreSQL, where a
second store on the same database stands for another process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.store import SqliteStore, Store, StoreConflictError
from ledger.store.postgres import PostgresStore

P1 = "0x" + "11" * 20

Opener = Callable[[], Store]


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture(params=["sqlite-file", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens stores on one database; each is closed at the end."""
    opened: list[Store] = []
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None

    def open_one() -> Store:
        store: Store = PostgresStore(url) if url else SqliteStore(tmp_path / "s.db")
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def test_a_staged_record_is_durable_once_waited_on(open_store: Opener) -> None:
    store = open_store()
    row, ticket = store.stage_record(P1, h(1), h(9), "Binding", "{}")
    other = open_store()
    assert other.record_hashes(P1) == []  # not committed: another connection does not see it
    store.wait_durable(ticket)
    assert other.record_hashes(P1) == [h(1)] and row.leaf_index == 0


def test_a_batch_with_a_stored_hash_stages_nothing(open_store: Opener) -> None:
    store = open_store()
    store.add_record(P1, h(1), h(9), "Binding", "{}")
    batch = [(P1, h(i), h(9), "Binding", "{}") for i in (2, 3, 1)]
    with pytest.raises(StoreConflictError):
        store.stage_records(batch)
    rows, ticket = store.stage_records(batch[:2])
    store.wait_durable(ticket)
    assert [r.leaf_index for r in rows] == [1, 2]
    assert store.record_hashes(P1) == [h(1), h(2), h(3)]


def test_concurrent_writers_all_become_durable(open_store: Opener) -> None:
    store = open_store()

    def write(base: int) -> None:
        for i in range(50):
            _row, ticket = store.stage_record(P1, h(base + i), h(base), "Binding", "{}")
            store.wait_durable(ticket)

    threads = [threading.Thread(target=write, args=(1000 * t,)) for t in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = open_store()
    assert len(reader.record_hashes(P1)) == 400
    assert sorted(reader.record_hashes(P1)) == sorted(
        h(1000 * t + i) for t in range(1, 9) for i in range(50))


def test_a_head_written_after_staged_records_commits_them_too(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.stage_record(P1, h(1), h(9), "Binding", "{}")
    store.add_head(P1, 1, h(7), 0)
    reader = SqliteStore(tmp_path / "s.db")
    assert reader.record_hashes(P1) == [h(1)] and reader.latest_head(P1) is not None
    store.close()
    reader.close()
