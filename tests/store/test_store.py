"""The store contract, run against every implementation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.store import AnchorState, SqliteStore, Store, StoreConflictError

P1, P2 = "0x" + "11" * 20, "0x" + "22" * 20


@pytest.fixture(params=["sqlite-memory", "sqlite-file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = SqliteStore(":memory:" if request.param == "sqlite-memory" else tmp_path / "s.db")
    yield s
    s.close()


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_each_platform_has_its_own_leaf_sequence(store: Store) -> None:
    rows = [store.add_record(p, h(i), h(100), "Binding", "{}") for i, p in
            enumerate([P1, P1, P2, P1])]
    assert [r.leaf_index for r in rows] == [0, 1, 0, 2]
    assert store.record_hashes(P1) == [h(0), h(1), h(3)]
    assert store.platforms() == [P1, P2]


def test_a_record_is_stored_once(store: Store) -> None:
    store.add_record(P1, h(1), h(9), "Binding", "{}")
    with pytest.raises(StoreConflictError, match="already stored"):
        store.add_record(P1, h(1), h(9), "Binding", "{}")
    assert store.record_hashes(P1) == [h(1)]


def test_records_of_a_subject_come_back_in_log_order(store: Store) -> None:
    for i in range(5):
        store.add_record(P1, h(i), h(i % 2), "Consent", f'{{"n":{i}}}')
    assert [r.record_hash for r in store.records_of_subject(P1, h(0))] == [h(0), h(2), h(4)]
    last = store.last_record_of_subject(P1, h(1))
    assert last is not None and last.record_hash == h(3)
    assert store.get_record_by_hash(h(4)) == store.get_record(5)


def test_the_last_record_of_a_subject_can_skip_types(store: Store) -> None:
    store.add_record(P1, h(1), h(0), "Binding", "{}")
    store.add_record(P1, h(2), h(0), "Refusal", "{}")
    last = store.last_record_of_subject(P1, h(0))
    assert last is not None and last.record_hash == h(2)
    last = store.last_record_of_subject(P1, h(0), excluding={"Refusal", "Dispute"})
    assert last is not None and last.record_hash == h(1)
    assert store.last_record_of_subject(P1, h(0), excluding={"Binding", "Refusal"}) is None


def test_heads_must_grow(store: Store) -> None:
    store.add_head(P1, 3, h(3), 100)
    with pytest.raises(StoreConflictError, match="does not grow"):
        store.add_head(P1, 3, h(4), 101)
    store.add_head(P2, 1, h(1), 102)  # another platform's log is independent


def test_a_head_moves_from_sealed_to_sent_to_anchored(store: Store) -> None:
    store.add_head(P1, 2, h(2), 100)
    store.add_head(P1, 5, h(5), 101)
    assert [x.tree_size for x in store.unfinished_heads()] == [2, 5]
    store.mark_sent(P1, 2, 31337, P2, h(77), b"raw")
    sent = store.unfinished_heads()[0]
    assert (sent.state, sent.tx_hash, sent.raw_tx) == (AnchorState.SENT, h(77), b"raw")
    store.mark_anchored(P1, 2, h(77), 12, h(88), 1700)
    anchored = store.latest_head(P1, AnchorState.ANCHORED)
    assert anchored is not None and anchored.block_hash == h(88) and anchored.raw_tx is None
    assert store.covering_head(P1, 1) == anchored
    assert store.covering_head(P1, 2) is None  # size-5 head is not anchored yet
    assert [x.tree_size for x in store.unfinished_heads()] == [5]


def test_an_acknowledged_record_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    first = SqliteStore(path)
    first.add_record(P1, h(1), h(2), "Binding", '{"a":1}')
    first.add_head(P1, 1, h(5), 10)
    first.close()
    again = SqliteStore(path)
    assert again.record_hashes(P1) == [h(1)]
    assert again.unfinished_heads()[0].root_hash == h(5)
    again.close()
