"""Find the transaction that anchored a head, from the contract's view and its events.

Used to adopt a head the chain already holds (a transaction of ours that was mined after we
gave up on it, or one another process sent). The contract stores each head's block time: the
blocks of that time are found by a binary search over block numbers, and only they are asked for
HeadAnchored events of the platform, never a scan from block 0.
"""

from __future__ import annotations

from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from ledger.anchors import AnchorContract
from ledger.chain.client import ChainClient, Receipt

HEAD_ANCHORED_TOPIC = keccak(b"HeadAnchored(address,uint256,uint64,bytes32,uint64)")


def find_anchoring(
    contract: AnchorContract, platform: str, size: int, root: bytes
) -> Receipt | None:
    """The receipt of the transaction that anchored this head, or None if the contract does
    not hold it (or no block of its time carries the event: the chain is still moving)."""
    if not contract.is_head(platform, size, root):
        return None
    time = int(contract.contract.functions.headAt(platform, size).call()[2])
    chain = contract.chain
    first = _first_block_at_or_after(chain, time)
    last = first
    tip = chain.block_number()
    while last < tip and (block := chain.block(last + 1)) is not None and block.timestamp == time:
        last += 1
    logs = chain.web3.eth.get_logs(
        {
            "address": contract.address,
            "fromBlock": first,
            "toBlock": last,
            "topics": [HexBytes(HEAD_ANCHORED_TOPIC), HexBytes(bytes(12) + HexBytes(platform))],
        }
    )
    for entry in logs:
        receipt = chain.receipt(bytes(entry["transactionHash"]))
        if receipt is not None and receipt.status == 1 and contract.head_anchored_in(
            receipt, Web3.to_checksum_address(platform), size, root
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
