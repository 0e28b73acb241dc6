"""The anchoring life cycle: how a sealed tree head becomes a final, verifiable anchor.

A head moves SEALED -> SENT -> INCLUDED -> FINAL, one stored step at a time, so that a crash,
a slow confirmation, a reorg or a node that lost its last blocks never leaves an acknowledged
record without a proof. `lifecycle` advances heads (one live transaction per head: a slow one
is re-sent or replaced with the same nonce, never doubled; a head the chain already holds is
adopted), `watcher` re-checks recent anchors against the canonical chain and moves lost ones
back, `lookup` finds the transaction that anchored a head from the contract's events, `policy`
holds the confirmation depth and timings, and `worker` runs it all in the one process that holds
the anchoring lease, reporting its health.
"""

from ledger.anchoring.lifecycle import Anchorer, AnchoringElsewhereError
from ledger.anchoring.policy import AnchorPolicy, default_confirmations

__all__ = ["AnchorPolicy", "Anchorer", "AnchoringElsewhereError", "default_confirmations"]
