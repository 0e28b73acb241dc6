"""Find the transaction that anchored a head, from the contract's HeadAnchored events.

Used to adopt a head the chain already holds (a transaction of ours that was mined after we
gave up on it, or one another process sent). The contract stores only each platform's latest
head: when that is the head sought, its block time narrows the search to the blocks of that time
(a binary search over block numbers); an earlier head is searched for from `from_block` (the
block of the platform's previous anchor the ledger knows of) to the tip, never from block 0
unless the ledger knows of none.
"""

from __future__ import annotations

from web3 import Web3

from ledger.anchors import AnchorContract
from ledger.chain.client import ChainClient, Receipt


def find_anchoring(
    contract: AnchorContract, platform: str, size: int, root: bytes, from_block: int = 0
) -> Receipt | None:
    """The receipt of the transaction that anchored this head in `contract`, or None if the
    contract's events do not hold it (or no block of its time carries it yet: the chain is
    still moving). Requires `from_block` to be at or before the head's anchor, if any."""
    platform = Web3.to_checksum_address(platform)
    latest = contract.latest_head(platform)
    if latest.size < size or (latest.size == size and latest.root != root):
        return None  # sizes only grow: the contract never held this head
    chain = contract.chain
    tip = chain.block_number()
    windows = [(min(from_block, tip), tip)]
    if latest.size == size:
        first = _first_block_at_or_after(chain, latest.time)
        last = first
        while (last < tip and (block := chain.block(last + 1)) is not None
               and block.timestamp == latest.time):
            last += 1
        # The blocks of its time first; all from `from_block` if a test clock stamped it.
        windows.insert(0, (first, last))
    for first, last in windows:
        for head in contract.heads_anchored(platform, first, last):
            if head.size != size or head.root != root:
                continue
            receipt = chain.receipt(head.tx_hash)
            if receipt is not None and receipt.status == 1 and contract.head_anchored_in(
                receipt, platform, size, root
            ):
                return receipt
    return None


def _first_block_at_or_after(chain: ChainClient, time: int) -> int:
    """The lowest block number whose timestamp is >= `time` (the tip if none is)."""
    low, high = 0, chain.block_number()
    while low < high:
        middle = (low + high) // 2
        block = chain.block(middle)
        if block is not None and block.timestamp >= time:
            high = middle
        else:
            low = middle + 1
    return low
