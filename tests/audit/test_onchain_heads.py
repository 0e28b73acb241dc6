"""The audit's on-chain heads: read from HeadAnchored events, through a predecessor too.

Each release emits HeadAnchored for every head it accepts; the audit enumerates them with
eth_getLogs filtered by the platform's topic, oldest first, and, for a deployment that continues
a predecessor's logs, the predecessor's heads first, so the consistency of one log is checked
across the upgrade.
"""

from __future__ import annotations

from eth_account import Account

from ledger.anchors import AnchorContract, ChainHead
from ledger.artifacts import load_release_artifact
from ledger.audit.onchain import ChainView
from ledger.chain.client import EmbeddedChain
from ledger.core.merkle import MerkleLog

ADMIN = Account.from_key(b"\x0a" * 32)
PLATFORM = Account.from_key(b"\x0b" * 32)
OTHER = Account.from_key(b"\x0c" * 32)


def test_heads_come_from_events_with_the_predecessors_first() -> None:
    chain = EmbeddedChain()
    for account in (ADMIN, PLATFORM, OTHER):
        chain.fund(account.address)
    v1 = AnchorContract(chain, chain.deploy(ADMIN, load_release_artifact(1), ADMIN.address))
    log = MerkleLog(i.to_bytes(4, "big") for i in range(50))
    other_log = MerkleLog([b"other"])

    def anchor(contract: AnchorContract, old: int, new: int) -> ChainHead:
        proof = log.consistency_proof(old, new) if old else []
        receipt = chain.transact(PLATFORM, contract.anchor_call(new, log.root(new), proof))
        block = chain.block(receipt.block_number)
        assert block is not None
        return ChainHead(log.root(new), new, block.timestamp)

    v1.grant_platform_role(ADMIN, PLATFORM.address)
    v1.grant_platform_role(ADMIN, OTHER.address)
    expected = [anchor(v1, 0, 5), anchor(v1, 5, 12)]
    chain.transact(OTHER, v1.anchor_call(1, other_log.root(), []))  # another platform's head
    v2 = AnchorContract.deploy(chain, ADMIN, v1.address)
    v2.grant_platform_role(ADMIN, PLATFORM.address)
    expected += [anchor(v2, 12, 30), anchor(v2, 30, 50)]

    assert ChainView(chain, v2.address).heads(PLATFORM.address) == expected
    assert ChainView(chain, v1.address).heads(PLATFORM.address) == expected[:2]
    other = ChainView(chain, v2.address).heads(OTHER.address)
    assert [(h.root, h.size) for h in other] == [(other_log.root(), 1)]
