"""What the audit reads from the chain: the platform's heads, subjects' heads, the checkpoint's
anchor transaction, and refusal replays.

Heads come from the contract's HeadAnchored events (eth_getLogs filtered by the platform's
topic), which every release emits for every head: the contract stores only the latest. A
deployment that continues a predecessor's logs has the predecessor's heads first. All reads of
one audit are pinned to the block that was latest when it started, so they see one state of the
contract; the many small calls go to the node in JSON-RPC batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3.types import RPCEndpoint

from ledger.anchors import AnchorContract, ChainHead
from ledger.chain.client import ChainClient, ChainError, call_failure
from ledger.chain.redact import redact_text
from ledger.core.bundle import AnchorRef
from ledger.core.encoding import to_hex

BATCH_SIZE = 500
# A chain of deployments, each continuing the one before, longer than this is refused: every
# upgrade is a governance decision, so a real chain is a handful long.
MAX_PREDECESSORS = 16
_SUBJECT_STATE = function_signature_to_4byte_selector("subjectState(address,bytes32)")


class ChainView:
    """The BindLedger contract at `contract` on `chain`, read at one block."""

    def __init__(self, chain: ChainClient, contract: str) -> None:
        self.chain = chain
        self.contract = AnchorContract(chain, contract)
        self.address = self.contract.address
        self.contract.check_code()  # ForeignContractError: not BindLedger's code
        self.block = chain.block_number()

    def heads(self, platform: str) -> list[ChainHead]:
        """Every head `platform` anchored, oldest first: in the predecessors this deployment
        continues (each checked to run a released BindLedger), then in this one."""
        contracts = [self.contract]
        while (predecessor := contracts[-1].predecessor()) is not None:
            if len(contracts) > MAX_PREDECESSORS:
                raise ChainError(f"more than {MAX_PREDECESSORS} predecessors of {self.address}")
            contracts.append(AnchorContract(self.chain, predecessor))
            contracts[-1].check_code()
        return [
            ChainHead(head.root, head.size, head.time)
            for contract in reversed(contracts)
            for head in contract.heads_anchored(platform, 0, self.block)
        ]

    def subject_heads(self, platform: str, subjects: Sequence[bytes]) -> list[bytes]:
        """The head the contract holds of each subject at `platform` (zero: none)."""
        word = self._platform_word(platform)
        # SubjectView's first member is the subject's head.
        return [a[:32] for a in self._calls([_SUBJECT_STATE + word + s for s in subjects])]

    def anchor_problem(self, anchor: AnchorRef, size: int, root: bytes) -> str | None:
        """Why the transaction `anchor` names did not anchor this head, None if it did."""
        receipt = self.chain.receipt(anchor.tx_hash)
        if receipt is None:
            return f"transaction {to_hex(anchor.tx_hash)} is not on this chain"
        if receipt.status != 1 or receipt.block_number != anchor.block_number:
            return (f"transaction {to_hex(anchor.tx_hash)} is in block {receipt.block_number} "
                    f"with status {receipt.status}; the checkpoint says block "
                    f"{anchor.block_number}")
        if not self.contract.head_anchored_in(receipt, anchor.platform, size, root):
            return f"transaction {to_hex(anchor.tx_hash)} did not anchor this head"
        return None

    def _platform_word(self, platform: str) -> bytes:
        return abi_encode(["address"], [platform])

    def _calls(self, datas: Sequence[bytes]) -> list[bytes]:
        """eth_call of each calldata on the contract at the pinned block, in batches."""
        out: list[bytes] = []
        for start in range(0, len(datas), BATCH_SIZE):
            out += self._batch(datas[start : start + BATCH_SIZE])
        return out

    def _batch(self, datas: Sequence[bytes]) -> list[bytes]:
        block = hex(self.block)
        requests = [(RPCEndpoint("eth_call"), [{"to": self.address, "data": to_hex(d)}, block])
                    for d in datas]
        provider: Any = self.chain.web3.provider
        try:
            if not hasattr(provider, "make_batch_request") or self.chain.embedded:
                return [bytes(self.chain.web3.eth.call(
                    {"to": self.address, "data": HexBytes(d)}, self.block)) for d in datas]
            answers = provider.make_batch_request(requests)
        except Exception as exc:  # noqa: BLE001 - sorted into unreachable or refused
            raise call_failure(exc) from None
        if not isinstance(answers, list):
            raise ChainError(f"the node refused a batch of calls: {redact_text(str(answers))}")
        by_id = sorted(answers, key=lambda a: int(a["id"]))
        results = []
        for answer in by_id:
            if "error" in answer or answer.get("result") is None:
                raise ChainError(
                    f"the node refused a call: {redact_text(str(answer.get('error')))}")
            results.append(bytes(HexBytes(answer["result"])))
        return results
