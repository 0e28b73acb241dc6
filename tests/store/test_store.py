"""The store contract, run against every implementation (the `store` fixture in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store import AnchorState, LeaseLostError, SqliteStore, Store, StoreConflictError
from ledger.store.base import ChainConflictError

P1, P2 = "0x" + "11" * 20, "0x" + "22" * 20


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


def test_records_of_a_subject_can_be_of_one_type(store: Store) -> None:
    for i, kind in enumerate(["Consent", "Binding", "Consent", "Verification"]):
        store.add_record(P1, h(i), h(7), kind, "{}")
    store.add_record(P2, h(9), h(7), "Consent", "{}")  # another platform's
    assert [r.record_hash for r in store.records_of_subject(P1, h(7), "Consent")] == [h(0), h(2)]
    assert store.records_of_subject(P1, h(7), "Dispute") == []


def test_the_last_record_of_a_subject_can_skip_types(store: Store) -> None:
    store.add_record(P1, h(1), h(0), "Binding", "{}")
    store.add_record(P1, h(2), h(0), "Refusal", "{}")
    last = store.last_record_of_subject(P1, h(0))
    assert last is not None and last.record_hash == h(2)
    last = store.last_record_of_subject(P1, h(0), excluding={"Refusal", "Dispute"})
    assert last is not None and last.record_hash == h(1)
    assert store.last_record_of_subject(P1, h(0), excluding={"Binding", "Refusal"}) is None


def test_a_log_is_read_from_any_leaf_on(store: Store) -> None:
    for i in range(5):
        store.add_record(P1, h(i), h(100), "Binding", "{}")
    assert store.record_hashes(P1, start=3) == [h(3), h(4)]
    assert store.record_hashes(P1, start=5) == []


def test_a_record_extends_its_subjects_chain_only_from_its_head(store: Store) -> None:
    store.add_record(P1, h(1), h(9), "Binding", "{}")
    store.add_record(P1, h(2), h(9), "Refusal", "{}")  # beside the chain: not its head
    side = {"Refusal"}
    batch = [(P1, h(3), h(9), "Consent", "{}"), (P1, h(4), h(9), "Consent", "{}")]
    rows, ticket = store.stage_records(batch, prevs=[h(1), h(3)], side_types=side)
    store.wait_durable(ticket)
    assert [r.leaf_index for r in rows] == [2, 3]
    with pytest.raises(ChainConflictError) as stale:
        store.stage_records(
            [(P1, h(5), h(8), "Binding", "{}"), (P1, h(6), h(9), "Consent", "{}")],
            prevs=[bytes(32), h(3)],
            side_types=side,
        )
    assert (stale.value.index, stale.value.expected, stale.value.actual) == (1, h(4), h(3))
    assert store.record_hashes(P1) == [h(1), h(2), h(3), h(4)]  # the batch stored nothing
    store.add_record(P1, h(7), h(8), "Binding", "{}")  # and the log goes on without a gap
    assert store.record_hashes(P1, start=4) == [h(7)]


def test_heads_must_grow(store: Store) -> None:
    store.add_head(P1, 3, h(3), 100)
    with pytest.raises(StoreConflictError, match="does not grow"):
        store.add_head(P1, 3, h(4), 101)
    store.add_head(P2, 1, h(1), 102)  # another platform's log is independent


def test_a_head_moves_from_sealed_to_sent_to_included_to_final(store: Store) -> None:
    store.add_head(P1, 2, h(2), 100)
    store.add_head(P1, 5, h(5), 101)
    assert [x.tree_size for x in store.unfinished_heads()] == [2, 5]
    store.mark_sent(P1, 2, 31337, P2, h(77), b"raw", nonce=4)
    sent = store.unfinished_heads()[0]
    assert (sent.state, sent.tx_hash, sent.raw_tx, sent.nonce) == (
        AnchorState.SENT, h(77), b"raw", 4)
    store.mark_included(P1, 2, h(77), 12, h(88), 1700)
    included = store.latest_head(P1, AnchorState.INCLUDED)
    assert included is not None and included.block_hash == h(88) and included.raw_tx == b"raw"
    assert store.covering_head(P1, 1) is None  # not final: no proof is served from it
    assert store.covering_head(P1, 1, AnchorState.INCLUDED) == included
    assert store.mark_final(P1, 2, h(88))
    final = store.covering_head(P1, 1)
    assert final is not None and final.state is AnchorState.FINAL
    assert store.covering_head(P1, 2) is None  # size-5 head is not anchored yet
    assert [x.tree_size for x in store.unfinished_heads()] == [5]


def test_a_head_is_final_only_in_the_block_it_was_counted_in(store: Store) -> None:
    store.add_head(P1, 2, h(2), 100)
    store.mark_sent(P1, 2, 31337, P2, h(77), b"raw", nonce=0)
    store.mark_included(P1, 2, h(77), 12, h(88), 1700)
    store.mark_included(P1, 2, h(77), 13, h(89), 1712)  # re-included after a reorg
    assert not store.mark_final(P1, 2, h(88))
    assert store.mark_final(P1, 2, h(89))
    (head,) = store.heads(P1)
    assert (head.state, head.block_number, head.block_time) == (AnchorState.FINAL, 13, 1712)


def test_a_reorg_takes_a_head_back_to_sent_and_a_dead_transaction_to_sealed(
    store: Store,
) -> None:
    store.add_head(P1, 2, h(2), 100)
    store.mark_sent(P1, 2, 31337, P2, h(77), b"raw", nonce=0)
    store.mark_included(P1, 2, h(77), 12, h(88), 1700)
    store.mark_final(P1, 2, h(88))
    store.mark_unincluded(P1, 2)
    (head,) = store.heads(P1)
    assert (head.state, head.tx_hash, head.raw_tx, head.block_hash) == (
        AnchorState.SENT, h(77), b"raw", None)
    store.mark_unsent(P1, 2)
    (head,) = store.heads(P1)
    assert (head.state, head.tx_hash, head.nonce) == (AnchorState.SEALED, None, None)
    assert store.anchor_transactions(P1, 2) == [h(77)]  # still looked for on chain


def test_a_replacement_keeps_every_transaction_of_the_head(store: Store) -> None:
    store.add_head(P1, 2, h(2), 100)
    store.mark_sent(P1, 2, 31337, P2, h(77), b"first", nonce=3)
    store.mark_sent(P1, 2, 31337, P2, h(78), b"faster", nonce=3)
    (head,) = store.heads(P1)
    assert (head.tx_hash, head.raw_tx, head.nonce) == (h(78), b"faster", 3)
    assert store.anchor_transactions(P1, 2) == [h(77), h(78)]


def test_a_transaction_is_stored_only_for_a_sealed_or_sent_head(store: Store) -> None:
    store.add_head(P1, 2, h(2), 100)
    store.mark_sent(P1, 2, 31337, P2, h(77), b"raw", nonce=0)
    store.mark_included(P1, 2, h(77), 12, h(88), 1700)
    with pytest.raises(StoreConflictError, match="not sealed or sent"):
        store.mark_sent(P1, 2, 31337, P2, h(79), b"other", nonce=1)


def test_the_watcher_sees_heads_in_recent_blocks_only(store: Store) -> None:
    for size, block in ((1, 10), (2, 20), (3, 30)):
        store.add_head(P1, size, h(size), 100)
        store.mark_sent(P1, size, 31337, P2, h(70 + size), b"raw", nonce=size)
        store.mark_included(P1, size, h(70 + size), block, h(80 + size), 1700)
    store.mark_final(P1, 1, h(81))
    assert [x.tree_size for x in store.heads_included_since(20)] == [2, 3]
    assert [x.tree_size for x in store.heads_included_since(0)] == [1, 2, 3]


def test_a_lease_is_held_by_one_holder_until_it_expires(store: Store) -> None:
    first = store.acquire_lease("anchoring", "a", ttl=10, now=1000)
    assert first is not None and first.token == 1
    assert store.acquire_lease("anchoring", "b", ttl=10, now=1005) is None
    renewed = store.acquire_lease("anchoring", "a", ttl=10, now=1005)
    assert renewed == first  # a renewal keeps the token
    taken = store.acquire_lease("anchoring", "b", ttl=10, now=1016)
    assert taken is not None and taken.token == 2


def test_a_released_lease_can_be_taken_at_once(store: Store) -> None:
    first = store.acquire_lease("anchoring", "a", ttl=10, now=1000)
    assert first is not None
    store.release_lease(first)
    taken = store.acquire_lease("anchoring", "b", ttl=10, now=1001)
    assert taken is not None and taken.token == 2


def test_a_stale_fence_cannot_write_heads(store: Store) -> None:
    old = store.acquire_lease("anchoring", "a", ttl=10, now=1000)
    assert old is not None
    store.add_head(P1, 1, h(1), 100, fence=old)
    new = store.acquire_lease("anchoring", "b", ttl=10, now=2000)
    assert new is not None
    with pytest.raises(LeaseLostError, match="taken over"):
        store.add_head(P1, 2, h(2), 100, fence=old)
    with pytest.raises(LeaseLostError):
        store.mark_sent(P1, 1, 31337, P2, h(77), b"raw", nonce=0, fence=old)
    store.add_head(P1, 2, h(2), 100, fence=new)
    assert [x.tree_size for x in store.heads(P1)] == [1, 2]


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


def test_records_in_a_leaf_range_come_in_leaf_order(store: Store) -> None:
    for i, p in enumerate([P1, P2, P1, P1, P2, P1]):
        store.add_record(p, h(i), h(100), "Binding", f'{{"n":{i}}}')
    assert [r.leaf_index for r in store.records_in_range(P1, 1, 3)] == [1, 2]
    assert [r.body for r in store.records_in_range(P1, 0, 10)] == [
        '{"n":0}', '{"n":2}', '{"n":3}', '{"n":5}']
    assert store.records_in_range(P2, 2, 5) == []
