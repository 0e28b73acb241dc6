"""Verify a proof bundle against a chain, trusting nothing but the chain itself."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.anchors import AnchorContract, ForeignContractError
from ledger.artifacts import Artifact
from ledger.chain.client import (
    ChainClient,
    ChainError,
    ChainUnreachableError,
    Receipt,
    call_failure,
    is_unreachable,
)
from ledger.chain.redact import redact_text
from ledger.core.bundle import ProofBundle
from ledger.core.bundle_checks import offline_checks
from ledger.core.encoding import to_hex
from ledger.core.records import Refusal
from ledger.core.verdict import Check, CheckName, Outcome, Verdict, failed, passed, skipped
from ledger.refusals import check_refusal

# How long a passed on-chain check of one anchor is reused. One head covers up to thousands
# of records, so their bundles share it; kept short so a reorganised chain is seen soon.
ANCHOR_CHECK_TTL_SECONDS = 10.0
ANCHOR_CHECK_CACHE_SIZE = 4096


class AnchorCheckCache:
    """Anchors whose chain checks passed recently. Failures are never kept: each is re-read."""

    def __init__(
        self, ttl: float = ANCHOR_CHECK_TTL_SECONDS, size: int = ANCHOR_CHECK_CACHE_SIZE
    ) -> None:
        self._ttl, self._size = ttl, size
        self._passed: OrderedDict[tuple[object, ...], tuple[float, list[Check]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> list[Check] | None:
        with self._lock:
            hit = self._passed.get(key)
            if hit is None or hit[0] < time.monotonic():
                return None
            return hit[1]

    def put(self, key: tuple[object, ...], checks: list[Check]) -> None:
        with self._lock:
            self._passed[key] = (time.monotonic() + self._ttl, checks)
            self._passed.move_to_end(key)
            while len(self._passed) > self._size:
                self._passed.popitem(last=False)


def verify_bundle(
    bundle: ProofBundle,
    chain: ChainClient,
    artifact: Artifact | None = None,
    cache: AnchorCheckCache | None = None,
) -> Verdict:
    """Run every check of the bundle; checks against the chain run even if offline ones fail,
    so a verdict shows the whole picture. With `cache`, a recent pass of the same anchor's
    chain checks is reused.

    Raises ChainUnreachableError ("cannot check: chain unreachable ...") when the chain does
    not answer: then nothing is concluded, not even a failure (`bindledger verify` exits 3,
    the API answers 503)."""
    with cannot_check():
        checks = offline_checks(bundle) + chain_checks(bundle, chain, artifact, cache)
        if isinstance(bundle.record.record, Refusal):
            checks.append(check_refusal(bundle, chain, artifact))
    return Verdict(checks)


@contextmanager
def cannot_check() -> Iterator[None]:
    """Turns a chain that does not answer, inside the block, into ChainUnreachableError saying
    that nothing could be checked."""
    try:
        yield
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        failure = call_failure(exc)
        assert isinstance(failure, ChainUnreachableError)
        raise ChainUnreachableError(f"cannot check: {failure}", failure.reason) from None


def chain_checks(
    bundle: ProofBundle,
    chain: ChainClient,
    artifact: Artifact | None = None,
    cache: AnchorCheckCache | None = None,
) -> list[Check]:
    """The head-on-chain and anchor-transaction checks (the second only if the first passed)."""
    key = (chain.chain_id, bundle.head_size, bundle.head_root, bundle.anchor)
    if cache is not None and (known := cache.get(key)) is not None:
        return known
    head_check, receipt = check_head_on_chain(bundle, chain, artifact)
    if head_check.outcome is not Outcome.PASSED or receipt is None:
        return [head_check, skipped(CheckName.ANCHOR_TRANSACTION, "the head is not on this chain")]
    checks = [head_check, check_anchor_transaction(bundle, chain, receipt)]
    if cache is not None and checks[1].outcome is Outcome.PASSED:
        cache.put(key, checks)
    return checks


def check_head_on_chain(
    bundle: ProofBundle, chain: ChainClient, artifact: Artifact | None = None
) -> tuple[Check, Receipt | None]:
    """A1 to A3: the chain, a released BindLedger at anchor.contract, and the anchor
    transaction's receipt carrying that contract's HeadAnchored event of this head (the same
    evidence in every release: no release's storage is asked). Returns the check and, when it
    passed, the receipt."""
    anchor = bundle.anchor
    name = CheckName.HEAD_ON_CHAIN
    try:
        if chain.chain_id != anchor.chain_id:
            return failed(
                name,
                "the bundle was anchored on another chain",
                expected=str(anchor.chain_id),
                actual=str(chain.chain_id),
            ), None
        contract = AnchorContract(chain, anchor.contract, artifact)
        release = contract.check_code()
        receipt = chain.receipt(anchor.tx_hash)
        problem = contract.anchoring_problem(
            receipt, anchor.tx_hash, anchor.platform, bundle.head_size, bundle.head_root
        )
        if problem is not None:
            return failed(
                name,
                f"the contract anchored no head of size {bundle.head_size} with this root for "
                f"platform {anchor.platform} in this transaction: {problem}",
                expected=to_hex(bundle.head_root),
                actual="not anchored",
            ), None
    except ForeignContractError as exc:
        return failed(name, str(exc)), None
    except ChainUnreachableError:
        raise  # nothing can be concluded: not a failed check
    except (ChainError, ValueError) as exc:
        return failed(name, f"could not read the chain: {redact_text(str(exc))}"), None
    return passed(
        name,
        f"root is platform {anchor.platform}'s head at size {bundle.head_size} "
        f"(BindLedger version {release.version})",
    ), receipt


def check_anchor_transaction(bundle: ProofBundle, chain: ChainClient, receipt: Receipt) -> Check:
    """A4 and A5: the anchor transaction's block is the one named, canonical, of its time.
    Requires `receipt` to be the receipt of anchor.txHash (check_head_on_chain passed)."""
    anchor = bundle.anchor
    name = CheckName.ANCHOR_TRANSACTION
    if receipt.block_number != anchor.block_number:
        return failed(
            name,
            "the transaction is in another block",
            expected=str(anchor.block_number),
            actual=str(receipt.block_number),
        )
    block = chain.block(anchor.block_number)
    if block is None or block.hash != anchor.block_hash or receipt.block_hash != anchor.block_hash:
        return failed(
            name,
            "the block hash differs (reorganised chain or altered bundle)",
            expected=to_hex(anchor.block_hash),
            actual=to_hex(block.hash) if block else "no such block",
        )
    if block.timestamp != anchor.block_time:
        return failed(
            name,
            "the block time differs",
            expected=str(anchor.block_time),
            actual=str(block.timestamp),
        )
    latest = chain.web3.eth.block_number
    confirmations = latest - anchor.block_number + 1
    return passed(
        name,
        f"anchored in block {anchor.block_number} "
        f"({confirmations} confirmation{'s' if confirmations != 1 else ''})",
    )
