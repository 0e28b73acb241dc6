"""Every acknowledged record ends in a final, verifiable anchor, whatever the chain does:
slow confirmations, reorgs, a node restarted from an older state, a node that is down.

After each fault: every record has a proof bundle that verifies against the chain, each head
is anchored once (the contract's head count), and the anchoring error clears.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ledger.anchoring.worker import AnchorWorker
from ledger.service import Ledger, NotAnchoredError
from ledger.store.base import AnchorState, HeadRow
from ledger.store.sqlite import SqliteStore
from ledger.verify import verify_bundle
from tests.anchoring.conftest import DEPTH, Clock, Node, ledger_on, rpc
from tests.support.anvil import running_anvil
from tests.test_anchoring import heads_on_chain, platform_of, write_bindings

pytestmark = pytest.mark.anvil


def only_head(ledger: Ledger) -> HeadRow:
    (head,) = ledger.store.heads(platform_of(ledger))
    return head


def assert_every_record_proven(ledger: Ledger, ids: list[int]) -> None:
    for record_id in ids:
        verdict = verify_bundle(ledger.proof_bundle(record_id), ledger.chain)
        assert verdict.verified, verdict


def test_an_anchor_is_final_only_after_the_confirmation_depth(node: Node,
                                                             database: SqliteStore) -> None:
    ledger = ledger_on(node.url, database, node.clock)
    ids = write_bindings(ledger, 3)
    (head,) = ledger.seal_and_anchor()
    assert head.state is AnchorState.INCLUDED
    with pytest.raises(NotAnchoredError, match=f"not yet final.*{DEPTH} block"):
        ledger.proof_bundle(ids[0])
    node.mine(DEPTH - 1)
    assert ledger.anchor_unfinished()[0].state is AnchorState.INCLUDED
    node.mine(1)
    assert ledger.anchor_unfinished()[0].state is AnchorState.FINAL
    assert_every_record_proven(ledger, ids)


def test_a_slow_confirmation_replaces_the_transaction_with_the_same_nonce(
        node: Node, database: SqliteStore) -> None:
    ledger = ledger_on(node.url, database, node.clock, replace_after_seconds=60)
    account = next(iter(ledger.platforms.values())).address
    ids = write_bindings(ledger, 3)
    node.automine(False)
    (head,) = ledger.seal_and_anchor()
    assert head.state is AnchorState.SENT
    node.clock.now += 30
    assert ledger.anchor_unfinished()[0].state is AnchorState.SENT  # sent again, not replaced
    assert ledger.store.anchor_transactions(head.platform, head.tree_size) == [head.tx_hash]
    node.clock.now += 31
    ledger.anchor_unfinished()
    first, replacement = ledger.store.anchor_transactions(head.platform, head.tree_size)
    assert first == head.tx_hash
    assert only_head(ledger).nonce == head.nonce  # the same nonce: only one can be mined

    node.mine(1 + DEPTH)
    node.automine(True)
    (final,) = ledger.anchor_unfinished()
    assert (final.state, final.tx_hash) == (AnchorState.FINAL, replacement)
    assert heads_on_chain(ledger) == 1
    assert ledger.chain.mined_nonce(account) == (head.nonce or 0) + 1
    assert_every_record_proven(ledger, ids)

    more = write_bindings(ledger, 2, "later")  # and anchoring goes on
    (later,) = ledger.seal_and_anchor()
    node.mine(DEPTH)
    assert ledger.anchor_unfinished()[0].state is AnchorState.FINAL
    assert later.tree_size == 5 and heads_on_chain(ledger) == 2
    assert_every_record_proven(ledger, ids + more)


def test_a_transaction_mined_after_it_was_given_up_is_adopted_not_doubled(
        node: Node, database: SqliteStore) -> None:
    ledger = ledger_on(node.url, database, node.clock)
    ids = write_bindings(ledger, 2)
    node.automine(False)
    (sent,) = ledger.seal_and_anchor()
    assert sent.tx_hash is not None
    # The node loses track of the stored transaction's place (its nonce is taken by another
    # head's transaction of the same size and root, as a second process would send): the
    # ledger must take the chain's anchor as its own.
    node.mine(1)
    node.automine(True)
    database.mark_unsent(sent.platform, sent.tree_size)
    node.mine(DEPTH)
    (head,) = ledger.anchor_unfinished()
    assert head.state is AnchorState.FINAL and head.tx_hash == sent.tx_hash
    assert heads_on_chain(ledger) == 1
    assert_every_record_proven(ledger, ids)


def test_a_crash_between_sending_and_mining_is_finished_by_the_next_process(
        node: Node, database: SqliteStore) -> None:
    ledger = ledger_on(node.url, database, node.clock)
    ids = write_bindings(ledger, 4)
    node.automine(False)
    (sent,) = ledger.seal_and_anchor()
    assert sent.state is AnchorState.SENT
    restarted = ledger_on(node.url, database, node.clock, contract=ledger.contract.address)
    node.automine(True)
    node.mine(1 + DEPTH)
    (head,) = restarted.anchor_unfinished()
    assert (head.state, head.tx_hash) == (AnchorState.FINAL, sent.tx_hash)
    assert heads_on_chain(restarted) == 1
    assert_every_record_proven(restarted, ids)


def test_a_reorg_that_drops_a_final_anchor_is_repaired(node: Node,
                                                      database: SqliteStore) -> None:
    ledger = ledger_on(node.url, database, node.clock)
    ids = write_bindings(ledger, 3)
    before = node.snapshot()
    ledger.seal_and_anchor()
    node.mine(DEPTH)
    (lost,) = ledger.anchor_unfinished()
    assert lost.state is AnchorState.FINAL
    held_bundle = ledger.proof_bundle(ids[0])

    node.revert(before)  # the anchor's block, and the ones after it, are gone
    node.mine(5)  # the new branch is longer than the old one
    assert not verify_bundle(held_bundle, ledger.chain).verified
    (repaired,) = ledger.anchor_unfinished()
    assert ledger.anchorer.watcher.repairs == 1
    assert repaired.state is AnchorState.INCLUDED and repaired.block_hash != lost.block_hash
    with pytest.raises(NotAnchoredError):
        ledger.proof_bundle(ids[0])  # nothing is served until the new anchor is final
    node.mine(DEPTH)
    assert ledger.anchor_unfinished()[0].state is AnchorState.FINAL
    assert heads_on_chain(ledger) == 1
    assert ledger.proof_bundle(ids[0]).anchor.block_hash != held_bundle.anchor.block_hash
    assert_every_record_proven(ledger, ids)


def test_a_transaction_re_included_in_another_block_moves_its_anchor(
        node: Node, database: SqliteStore) -> None:
    ledger = ledger_on(node.url, database, node.clock)
    ids = write_bindings(ledger, 2)
    before = node.snapshot()
    (included,) = ledger.seal_and_anchor()
    assert included.raw_tx is not None and included.block_number is not None
    node.revert(before)
    node.mine(1)  # an empty block where the anchor was
    rpc(node.url, "eth_sendRawTransaction", "0x" + included.raw_tx.hex())  # another node's mempool
    node.mine(DEPTH)
    (moved,) = ledger.anchor_unfinished()
    assert moved.tx_hash == included.tx_hash
    assert moved.block_number == included.block_number + 1
    assert moved.state is AnchorState.FINAL
    assert_every_record_proven(ledger, ids)


def test_a_node_restarted_from_an_older_state_gets_the_lost_anchors_back(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ledger.sqlite3")
    state = tmp_path / "anvil-state.json"
    with running_anvil() as url:
        clock = Clock()
        ledger = ledger_on(url, store, clock, confirmations=0)
        ids = write_bindings(ledger, 3, "early")
        ledger.seal_and_anchor()
        # The node's last saved state (anvil answers it gzipped, in hex).
        state.write_bytes(gzip.decompress(bytes.fromhex(rpc(url, "anvil_dumpState")[2:])))
        ids += write_bindings(ledger, 4, "late")
        ledger.seal_and_anchor()  # anchored in blocks the restarted node will not have
        assert [h.state for h in store.heads(platform_of(ledger))] == [AnchorState.FINAL] * 2
        contract, port = ledger.contract.address, int(url.rsplit(":", 1)[1])
    with running_anvil("--load-state", str(state), port=port) as url:
        restarted = ledger_on(url, store, clock, contract=contract, confirmations=0)
        assert heads_on_chain(restarted) == 1  # the node lost the second anchor
        heads = restarted.anchor_unfinished()
        assert [(h.tree_size, h.state) for h in heads] == [(7, AnchorState.FINAL)]
        assert heads_on_chain(restarted) == 2
        assert_every_record_proven(restarted, ids)
    store.close()


def test_writes_go_on_while_the_node_is_down_and_are_anchored_when_it_returns(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ledger.sqlite3")
    state = tmp_path / "anvil-state.json"
    with running_anvil("--dump-state", str(state)) as url:
        clock = Clock()
        ledger = ledger_on(url, store, clock, confirmations=0)
        worker = AnchorWorker(ledger, every_records=3, every_seconds=0.2, degraded_after=5,
                              clock=clock)
        worker.start()
        first = write_bindings(ledger, 3, "up")
        assert worker.wait_for_round(worker.rounds + 3, timeout=20)
        port = int(url.rsplit(":", 1)[1])
    try:
        down = write_bindings(ledger, 3, "down")  # accepted while the node is down
        rounds = worker.rounds
        assert worker.wait_for_round(rounds + 2, timeout=20)
        assert worker.last_error is not None and "unreachable" in worker.last_error
        assert worker.health().reason is None  # not yet degraded: a short outage is tolerated
        clock.now += 6
        assert worker.health().reason == "chain_unreachable"
        with running_anvil("--load-state", str(state), port=port) as url:
            assert worker.wait_for_round(worker.rounds + 3, timeout=30)
            deadline_rounds = worker.rounds + 40
            while store.unfinished_heads() or ledger.pending(platform_of(ledger)):
                assert worker.wait_for_round(worker.rounds + 1, timeout=20)
                assert worker.rounds < deadline_rounds, worker.last_error
            assert worker.last_error is None and worker.health().reason is None
            assert_every_record_proven(ledger, first + down)
    finally:
        worker.stop()
        store.close()
