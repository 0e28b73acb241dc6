"""One process anchors at a time: the anchoring lease, its fencing token and its takeover."""

from __future__ import annotations

import pytest

from ledger.anchoring import AnchoringElsewhereError
from ledger.chain.client import EmbeddedChain
from ledger.config import Settings
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.base import AnchorState, LeaseLostError
from ledger.store.sqlite import SqliteStore
from tests.anchoring.conftest import Clock
from tests.test_anchoring import platform_of, write_bindings


def two_processes(clock: Clock) -> tuple[Ledger, Ledger]:
    """Two ledgers on one store and chain, as two processes would be (each its own holder)."""
    first = open_ledger(Settings(chain="embedded"), chain=EmbeddedChain(), store=SqliteStore())
    ledgers = tuple(
        Ledger(first.store, first.chain, first.contract, list(first.platforms.values()),
               first.refs, clock=clock, policy=first.anchorer.policy)
        for _ in range(2)
    )
    for number, ledger in enumerate(ledgers):
        ledger.anchorer.holder = f"process-{number}"
    return ledgers[0], ledgers[1]


def test_only_the_lease_holder_seals_and_anchors() -> None:
    clock = Clock()
    leader, standby = two_processes(clock)
    write_bindings(leader, 2)
    assert [h.state for h in leader.seal_and_anchor()] == [AnchorState.FINAL]
    write_bindings(leader, 1, "more")
    with pytest.raises(AnchoringElsewhereError):
        standby.seal_and_anchor()
    assert [h.tree_size for h in leader.store.heads(platform_of(leader))] == [2]


def test_a_standby_takes_over_once_the_holder_stops_renewing() -> None:
    clock = Clock()
    leader, standby = two_processes(clock)
    write_bindings(leader, 2)
    leader.seal_and_anchor()
    stale = leader.anchorer.fence
    assert stale is not None
    clock.now += leader.anchorer.policy.lease_seconds + 1  # the holder died: no renewal
    write_bindings(standby, 1, "after")
    (head,) = standby.seal_and_anchor()
    assert head.tree_size == 3 and head.state is AnchorState.FINAL
    assert standby.anchorer.fence is not None and standby.anchorer.fence.token == stale.token + 1
    # The old holder wakes up: its token is stale, its writes are refused, it stands by.
    with pytest.raises(LeaseLostError):
        leader.store.add_head(platform_of(leader), 4, bytes(32), 0, fence=stale)
    with pytest.raises(AnchoringElsewhereError):
        leader.anchor_unfinished()


def test_a_released_lease_is_taken_over_at_once() -> None:
    clock = Clock()
    leader, standby = two_processes(clock)
    leader.seal_and_anchor()
    leader.anchorer.release_lease()
    assert standby.anchor_unfinished() == []
    assert standby.anchorer.fence is not None
