"""Re-check anchors against the canonical chain and move lost ones back.

A reorg replaces the blocks near the tip; a node restarted from an older state forgets its last
blocks, however many. Each round the watcher compares the block of every anchor in the last
`watch_blocks` blocks with the chain's block at that height, and asks the contract for each
platform's latest head: an anchor whose block is gone goes back to SENT (its transaction is then
found in another block, or sent again), one re-included elsewhere is moved to its new block.
Until the chain settles no proof names the lost block, so every bundle served verifies.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ledger.anchoring.policy import AnchorPolicy
from ledger.core.encoding import to_hex
from ledger.store.base import ON_CHAIN_STATES, Fence, HeadRow

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("bindledger.anchoring")


class Watcher:
    """Counts the anchors it moved back in `repairs`."""

    def __init__(self, ledger: Ledger, policy: AnchorPolicy) -> None:
        self.ledger = ledger
        self.policy = policy
        self.repairs = 0
        # Heads moved back and not final again: while any is, the service is repairing.
        self.repairing: set[tuple[str, int]] = set()

    def check(self, fence: Fence | None) -> list[HeadRow]:
        """Move every anchor that left the canonical chain; returns them as they were."""
        chain, store = self.ledger.chain, self.ledger.store
        tip = chain.block_number()
        suspects = {
            (head.platform, head.tree_size): head
            for head in store.heads_included_since(max(0, tip - self.policy.watch_blocks))
        }
        for platform in self.ledger.platforms:
            on_chain = self.ledger.contract.latest_head(platform)
            latest = store.latest_head(platform)
            if latest is None or latest.tree_size <= on_chain.size:
                continue
            for head in store.heads(platform):
                if head.state in ON_CHAIN_STATES and head.tree_size > on_chain.size:
                    suspects[(platform, head.tree_size)] = head
        moved = []
        for head in suspects.values():
            assert head.block_number is not None and head.tx_hash is not None
            block = chain.block(head.block_number) if head.block_number <= tip else None
            if block is not None and block.hash == head.block_hash:
                continue
            receipt = chain.receipt(head.tx_hash)
            if receipt is not None and receipt.status == 1 and receipt.block_number <= tip:
                moved_to = chain.block(receipt.block_number)
                if moved_to is not None and moved_to.hash == receipt.block_hash:
                    store.mark_included(
                        head.platform, head.tree_size, head.tx_hash, moved_to.number,
                        moved_to.hash, moved_to.timestamp, fence=fence,
                    )
                    log.warning("anchor of head %d of %s moved from block %d to block %d",
                                head.tree_size, head.platform, head.block_number,
                                moved_to.number)
                    moved.append(head)
                    continue
            store.mark_unincluded(head.platform, head.tree_size, fence=fence)
            log.warning("anchor of head %d of %s (tx %s, block %d) is no longer on the chain; "
                        "it will be anchored again", head.tree_size, head.platform,
                        to_hex(head.tx_hash), head.block_number)
            moved.append(head)
        self.repairs += len(moved)
        self.repairing.update((head.platform, head.tree_size) for head in moved)
        return moved
