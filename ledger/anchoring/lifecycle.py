"""Advance each head one stored step at a time: SEALED -> SENT -> INCLUDED -> FINAL.

Every step is idempotent and starts from what the store and the chain say now, so a round may
stop anywhere (crash, node down, SIGKILL) and the next one, in this process or another, goes on.
A head has at most one live transaction: a slow one is sent again, or replaced with the same
nonce and higher fees, never followed by a second nonce; any of the head's stored transactions
that gets mined counts; a head the chain already holds is adopted, not anchored twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from hexbytes import HexBytes

from ledger.anchoring.lookup import find_anchoring
from ledger.anchoring.policy import AnchorPolicy
from ledger.anchoring.watcher import Watcher
from ledger.chain.client import ChainError, Fees, Receipt, SentTransaction, decode_transaction
from ledger.core.encoding import to_hex
from ledger.errors import LedgerStateError
from ledger.store.base import AnchorState, Fence, HeadRow

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("bindledger.anchoring")

LEASE_NAME = "anchoring"


def process_holder() -> str:
    """This process's name as a lease holder: host, pid and a random part, as a pid is reused
    (and every container's first process is 1). Every anchorer of a process is the same holder:
    a ledger reopened in-process (after a failure) takes the lease over at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_NONCE}"


_PROCESS_NONCE = uuid.uuid4().hex[:8]
_RECEIPT_POLL_SECONDS = 0.05


class AnchoringElsewhereError(LedgerStateError):
    """Another process holds the anchoring lease: only it seals and anchors."""


class NotFinalError(LedgerStateError):
    """Heads are still waiting for a final anchor after the time allowed."""


class DivergedLogError(LedgerStateError):
    """The chain holds a head that the local log does not reproduce: refuse to go on."""


class Anchorer:
    """Seals and anchors one deployment's heads; one per process, used under its lease."""

    def __init__(
        self,
        ledger: Ledger,
        policy: AnchorPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ledger = ledger
        self.policy = policy
        self.holder = process_holder()
        self.fence: Fence | None = None
        self.watcher = Watcher(ledger, policy)
        self._clock = clock
        self._lock = threading.Lock()
        self._unmined_since: dict[bytes, float] = {}  # transaction hash -> first seen unmined

    # -- the lease ---------------------------------------------------------------------

    def hold_lease(self) -> Fence:
        """Take or renew the anchoring lease. Raises AnchoringElsewhereError while another
        process holds it."""
        fence = self.ledger.store.acquire_lease(
            LEASE_NAME, self.holder, self.policy.lease_seconds, self._clock()
        )
        if fence is None:
            self.fence = None
            raise AnchoringElsewhereError(
                "another process holds the anchoring lease; it seals and anchors every log"
            )
        if self.fence is None or self.fence.token != fence.token:
            log.info("holding the anchoring lease (fencing token %d)", fence.token)
        self.fence = fence
        return fence

    def release_lease(self) -> None:
        if self.fence is not None:
            self.ledger.store.release_lease(self.fence)
            self.fence = None

    # -- rounds ------------------------------------------------------------------------

    def seal_and_anchor(self, on_grid: int = 1, platform: str | None = None) -> list[HeadRow]:
        """Under the lease: seal the platforms' pending records (on the grid of `on_grid`),
        re-check recent anchors, and advance every unfinished head as far as it goes now."""
        with self._lock:
            fence = self.hold_lease()
            for address in self.ledger.platforms if platform is None else [platform]:
                self.ledger.seal(address, on_grid, fence=fence)
            return self._advance_all(platform)

    def anchor_unfinished(self, platform: str | None = None) -> list[HeadRow]:
        """Like seal_and_anchor, sealing nothing."""
        with self._lock:
            self.hold_lease()
            return self._advance_all(platform)

    def settle(self, timeout: float, poll: float = 0.5) -> list[HeadRow]:
        """Advance heads until every one is final; returns the heads advanced on the way.

        Raises NotFinalError after `timeout` seconds, saying what the heads wait for."""
        deadline = time.monotonic() + timeout
        done: dict[tuple[str, int], HeadRow] = {}
        while True:
            for head in self.anchor_unfinished():
                done[(head.platform, head.tree_size)] = head
            waiting = self.ledger.store.unfinished_heads()
            if not waiting:
                return list(done.values())
            if time.monotonic() >= deadline:
                head = waiting[0]
                raise NotFinalError(
                    f"head {head.tree_size} of {head.platform} is still {head.state.value} after "
                    f"{timeout:.0f} s: an anchor is final once {self.policy.confirmations} "
                    "block(s) follow it, and the node mines no blocks (start anvil with "
                    "--block-time 1) or is down"
                )
            time.sleep(poll)

    def _advance_all(self, platform: str | None) -> list[HeadRow]:
        self.watcher.check(self.fence)
        done = []
        waiting: set[str] = set()
        for head in self.ledger.store.unfinished_heads():
            if platform is not None and head.platform != platform:
                continue
            if head.platform in waiting:
                # A later head's consistency proof starts from the earlier one: it is sent
                # once the earlier one is in a block.
                continue
            head = self.advance(head)
            if head.state in (AnchorState.SEALED, AnchorState.SENT):
                waiting.add(head.platform)
            done.append(head)
        return done

    def advance(self, head: HeadRow) -> HeadRow:
        """Take one head as far as it can go now; returns it in its new state."""
        if head.state is AnchorState.SEALED:
            head = self._send(head)
        if head.state is AnchorState.SENT:
            head = self._find_inclusion(head)
        if head.state is AnchorState.INCLUDED:
            head = self._finalize(head)
        return head

    # -- SEALED -> SENT ----------------------------------------------------------------

    def _send(self, head: HeadRow) -> HeadRow:
        ledger, contract = self.ledger, self.ledger.contract
        on_chain = contract.latest_head(head.platform)
        if on_chain.size >= head.tree_size:
            return self._adopt(head)
        merkle = ledger.merkle_log(head.platform)
        if on_chain.size and merkle.root(on_chain.size) != on_chain.root:
            raise DivergedLogError(
                f"the chain's head of size {on_chain.size} for {head.platform} has root "
                f"{to_hex(on_chain.root)}; the local log gives {to_hex(merkle.root(on_chain.size))}"
            )
        proof = merkle.consistency_proof(on_chain.size, head.tree_size) if on_chain.size else []
        account = ledger.platform(head.platform).account
        sent = ledger.chain.sign_call(
            account, contract.anchor_call(head.tree_size, head.root_hash, proof)
        )
        nonce = int(decode_transaction(sent.raw)["nonce"])
        # Stored before it is sent: after a crash it is found and finished, never sent twice.
        self.ledger.store.mark_sent(
            head.platform, head.tree_size, ledger.chain.chain_id, contract.address,
            sent.tx_hash, sent.raw, nonce, fence=self.fence,
        )
        head = replace(
            head, state=AnchorState.SENT, chain_id=ledger.chain.chain_id,
            contract=contract.address, tx_hash=sent.tx_hash, raw_tx=sent.raw, nonce=nonce,
        )
        ledger.chain.broadcast(sent)
        self._await_receipt(sent.tx_hash)
        return head

    def _adopt(self, head: HeadRow) -> HeadRow:
        """The chain holds a head of this size or larger: if it is ours, record the transaction
        that anchored it; anything else is a log that diverged from the chain."""
        contract = self.ledger.contract
        receipt = find_anchoring(contract, head.platform, head.tree_size, head.root_hash,
                                 self._search_from(head))
        if receipt is None:
            on_chain = contract.latest_head(head.platform)
            raise DivergedLogError(
                f"chain already holds a head of size {on_chain.size} for {head.platform}, "
                f"but not this log's head of size {head.tree_size} (root "
                f"{to_hex(head.root_hash)})"
            )
        tx = self.ledger.chain.web3.eth.get_transaction(HexBytes(receipt.tx_hash))
        log.info("adopting the chain's anchor of head %d of %s (tx %s)",
                 head.tree_size, head.platform, to_hex(receipt.tx_hash))
        self.ledger.store.mark_sent(
            head.platform, head.tree_size, self.ledger.chain.chain_id, contract.address,
            receipt.tx_hash, b"", int(tx["nonce"]), fence=self.fence,
        )
        head = replace(head, state=AnchorState.SENT, tx_hash=receipt.tx_hash, raw_tx=b"",
                       chain_id=self.ledger.chain.chain_id, contract=contract.address)
        return self._include(head, receipt)

    # -- SENT -> INCLUDED (or back to SEALED) ------------------------------------------

    def _find_inclusion(self, head: HeadRow) -> HeadRow:
        receipt = self._anchoring_receipt(head)
        if receipt is not None:
            return self._include(head, receipt)
        chain = self.ledger.chain
        assert head.tx_hash is not None and head.nonce is not None
        if chain.receipt(head.tx_hash) is not None:
            # Mined without anchoring (reverted: the chain's head moved meanwhile, say).
            return self._resign(head, f"transaction {to_hex(head.tx_hash)} reverted")
        account = self.ledger.platform(head.platform).account
        if chain.mined_nonce(account.address) > head.nonce:
            return self._resign(head, f"nonce {head.nonce} was used by another transaction")
        self._send_again(head)
        receipt = self._anchoring_receipt(head)
        return head if receipt is None else self._include(head, receipt)

    def _anchoring_receipt(self, head: HeadRow) -> Receipt | None:
        """The receipt of whichever of the head's transactions anchored it, if one is mined:
        any transaction ever stored for the head may be (a replaced one, or one given up
        after a reorg and re-included)."""
        for tx_hash in reversed(self.ledger.store.anchor_transactions(head.platform,
                                                                     head.tree_size)):
            receipt = self.ledger.chain.receipt(tx_hash)
            if receipt is not None and receipt.status == 1 and self.ledger.contract.head_anchored_in(
                receipt, head.platform, head.tree_size, head.root_hash
            ):
                return receipt
        return None

    def _resign(self, head: HeadRow, why: str) -> HeadRow:
        """The head's transactions can no longer be mined: adopt the chain's anchor if it holds
        the head after all, or go back to SEALED and sign anew."""
        if find_anchoring(self.ledger.contract, head.platform, head.tree_size, head.root_hash,
                          self._search_from(head)) is not None:
            return self._adopt(replace(head, state=AnchorState.SEALED))
        log.warning("head %d of %s: %s; signing a new transaction", head.tree_size,
                    head.platform, why)
        self.ledger.store.mark_unsent(head.platform, head.tree_size, fence=self.fence)
        return replace(head, state=AnchorState.SEALED, tx_hash=None, raw_tx=None, nonce=None)

    def _search_from(self, head: HeadRow) -> int:
        """The block from which the head's anchor is searched for: that of the platform's
        previous head the store saw included (the head was sealed, so anchored, after it),
        less the watcher's depth: a reorganisation may have moved that anchor since."""
        previous = max(
            (h.block_number for h in self.ledger.store.heads(head.platform)
             if h.tree_size < head.tree_size and h.block_number is not None),
            default=0,
        )
        return max(0, previous - self.policy.watch_blocks)

    def _send_again(self, head: HeadRow) -> None:
        """Not mined yet: the node may have lost it (restart) or be slow. Send the same bytes
        again, and replace it with higher fees once it waited `replace_after_seconds`."""
        assert head.tx_hash is not None and head.raw_tx is not None
        now = self._clock()
        first_seen = self._unmined_since.setdefault(head.tx_hash, now)
        if head.raw_tx and now - first_seen >= self.policy.replace_after_seconds:
            self._replace(head)
            return
        if head.raw_tx:
            try:
                self.ledger.chain.broadcast(SentTransaction(head.tx_hash, head.raw_tx))
            except ChainError as exc:
                # Refused (nonce too low, underpriced...): the next round reads the nonce.
                log.warning("anchor tx %s of head %d not accepted again: %s",
                            to_hex(head.tx_hash), head.tree_size, exc)
            self._await_receipt(head.tx_hash)

    def _replace(self, head: HeadRow) -> None:
        assert head.raw_tx and head.tx_hash is not None and head.nonce is not None
        chain = self.ledger.chain
        tx = decode_transaction(head.raw_tx)
        fees = Fees.of(head.raw_tx).bumped(self.policy.fee_bump_percent)
        account = self.ledger.platform(head.platform).account
        params = {
            "to": tx["to"], "data": tx["data"], "value": 0, "gas": tx["gas"],
            "nonce": head.nonce, "chainId": chain.chain_id,
        }
        if fees.legacy:
            params["gasPrice"] = fees.max_fee
        else:
            params |= {"maxFeePerGas": fees.max_fee, "maxPriorityFeePerGas": fees.priority_fee,
                       "type": 2}
        signed = account.sign_transaction(params)
        sent = SentTransaction(bytes(signed.hash), bytes(signed.raw_transaction))
        self.ledger.store.mark_sent(
            head.platform, head.tree_size, chain.chain_id, self.ledger.contract.address,
            sent.tx_hash, sent.raw, head.nonce, fence=self.fence,
        )
        log.warning("anchor tx %s of head %d unmined for %.0f s: replaced by %s (nonce %d, "
                    "fees +%d%%)", to_hex(head.tx_hash), head.tree_size,
                    self.policy.replace_after_seconds, to_hex(sent.tx_hash), head.nonce,
                    self.policy.fee_bump_percent - 100)
        self._unmined_since[sent.tx_hash] = self._clock()
        try:
            chain.broadcast(sent)
        except ChainError as exc:
            log.warning("replacement %s not accepted: %s", to_hex(sent.tx_hash), exc)

    def _include(self, head: HeadRow, receipt: Receipt) -> HeadRow:
        block = self.ledger.chain.block(receipt.block_number)
        if block is None or block.hash != receipt.block_hash:
            return head  # the node is switching branches: look again next round
        self.ledger.store.mark_included(
            head.platform, head.tree_size, receipt.tx_hash, block.number, block.hash,
            block.timestamp, fence=self.fence,
        )
        log.info("head %d of %s included in block %d", head.tree_size, head.platform,
                 block.number)
        return replace(head, state=AnchorState.INCLUDED, tx_hash=receipt.tx_hash,
                       block_number=block.number, block_hash=block.hash,
                       block_time=block.timestamp)

    # -- INCLUDED -> FINAL -------------------------------------------------------------

    def _finalize(self, head: HeadRow) -> HeadRow:
        assert head.tx_hash is not None and head.block_number is not None
        chain = self.ledger.chain
        receipt = chain.receipt(head.tx_hash)
        if receipt is None:
            self.ledger.store.mark_unincluded(head.platform, head.tree_size, fence=self.fence)
            self.watcher.repairs += 1
            self.watcher.repairing.add((head.platform, head.tree_size))
            log.warning("anchor of head %d of %s left the chain; sending it again",
                        head.tree_size, head.platform)
            return replace(head, state=AnchorState.SENT, block_number=None, block_hash=None,
                           block_time=None)
        if receipt.block_hash != head.block_hash:
            return self._include(head, receipt)  # re-included in another block: count anew
        if chain.block_number() - head.block_number < self.policy.confirmations:
            return head
        block = chain.block(head.block_number)
        if block is None or block.hash != head.block_hash:
            return head
        assert head.block_hash is not None
        if self.ledger.store.mark_final(head.platform, head.tree_size, head.block_hash,
                                        fence=self.fence):
            log.info("anchored head size=%d root=%s for %s final in block %d",
                     head.tree_size, to_hex(head.root_hash), head.platform, head.block_number)
            self._unmined_since.pop(head.tx_hash, None)
            self.watcher.repairing.discard((head.platform, head.tree_size))
            return replace(head, state=AnchorState.FINAL)
        return head

    def _await_receipt(self, tx_hash: bytes) -> None:
        deadline = time.monotonic() + self.policy.receipt_wait_seconds
        while self.ledger.chain.receipt(tx_hash) is None and time.monotonic() < deadline:
            time.sleep(_RECEIPT_POLL_SECONDS)
