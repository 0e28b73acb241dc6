"""How long to wait, and how deep a block must be, before an anchor counts."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.chain.client import ChainClient

# An RPC chain's default confirmation depth: anvil and a single dev node reorg only when told
# to, a public chain's short reorgs are one or two blocks deep. Besu/QBFT has immediate finality
# (0 is safe there); an L2 should count from its L1 batch (see the README).
RPC_CONFIRMATIONS = 2


def default_confirmations(chain: ChainClient) -> int:
    """0 on the embedded chain (nothing can reorg it), RPC_CONFIRMATIONS elsewhere."""
    return 0 if chain.embedded else RPC_CONFIRMATIONS


@dataclass(frozen=True)
class AnchorPolicy:
    """Requires confirmations >= 0, positive durations and fee_bump_percent > 110."""

    confirmations: int = 0
    # A transaction still unmined after this long is replaced: same nonce, higher fees.
    replace_after_seconds: float = 60.0
    # How long one round waits for the receipt of a transaction it just sent, before leaving it
    # to the next round (a round never blocks longer on a slow chain).
    receipt_wait_seconds: float = 2.0
    # Anchors in this many blocks below the tip are re-checked against the canonical chain every
    # round; deeper losses (a node restarted from an old state) are caught through the contract.
    watch_blocks: int = 64
    # Geth and anvil accept a replacement offering at least 10% more; a margin on top.
    fee_bump_percent: int = 125
    # The worker's lease on the anchoring: a dead holder is replaced this long after its last
    # renewal; the holder renews it every round, rounds come at least every poll interval.
    lease_seconds: float = 6.0
    poll_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.confirmations < 0 or self.watch_blocks < 0:
            raise ValueError("confirmations and watch_blocks must be >= 0")
        if min(self.replace_after_seconds, self.receipt_wait_seconds, self.lease_seconds,
               self.poll_seconds) <= 0:
            raise ValueError("durations must be > 0")
        if self.fee_bump_percent <= 110:
            raise ValueError("fee_bump_percent must exceed 110 for a node to accept it")
        if self.poll_seconds >= self.lease_seconds:
            raise ValueError("poll_seconds must be shorter than lease_seconds")
