"""Verify a proof bundle against a chain, trusting nothing but the chain itself."""

from __future__ import annotations

from ledger.anchors import AnchorContract, ForeignContractError
from ledger.artifacts import Artifact
from ledger.chain.client import ChainClient, ChainError
from ledger.core.bundle import ProofBundle
from ledger.core.bundle_checks import offline_checks
from ledger.core.encoding import to_hex
from ledger.core.verdict import Check, CheckName, Outcome, Verdict, failed, passed, skipped


def verify_bundle(
    bundle: ProofBundle,
    chain: ChainClient,
    artifact: Artifact | None = None,
) -> Verdict:
    """Run every check of the bundle; checks against the chain run even if offline ones fail,
    so a verdict shows the whole picture."""
    checks = offline_checks(bundle)
    head_check = check_head_on_chain(bundle, chain, artifact)
    checks.append(head_check)
    if head_check.outcome is Outcome.PASSED:
        checks.append(check_anchor_transaction(bundle, chain, artifact))
    else:
        checks.append(skipped(CheckName.ANCHOR_TRANSACTION, "the head is not on this chain"))
    return Verdict(checks)


def check_head_on_chain(
    bundle: ProofBundle, chain: ChainClient, artifact: Artifact | None = None
) -> Check:
    anchor = bundle.anchor
    try:
        if chain.chain_id != anchor.chain_id:
            return failed(
                CheckName.HEAD_ON_CHAIN,
                "the bundle was anchored on another chain",
                expected=str(anchor.chain_id),
                actual=str(chain.chain_id),
            )
        contract = AnchorContract(chain, anchor.contract, artifact)
        contract.check_code()
        if not contract.is_head(anchor.platform, bundle.head_size, bundle.head_root):
            latest = contract.latest_head(anchor.platform)
            return failed(
                CheckName.HEAD_ON_CHAIN,
                f"the contract holds no head of size {bundle.head_size} with this root for "
                f"platform {anchor.platform} (its latest head has size {latest.size})",
                expected=to_hex(bundle.head_root),
                actual="not anchored",
            )
    except ForeignContractError as exc:
        return failed(CheckName.HEAD_ON_CHAIN, str(exc))
    except (ChainError, OSError, ValueError) as exc:
        return failed(CheckName.HEAD_ON_CHAIN, f"could not read the chain: {exc}")
    return passed(
        CheckName.HEAD_ON_CHAIN,
        f"root is platform {anchor.platform}'s head at size {bundle.head_size}",
    )


def check_anchor_transaction(
    bundle: ProofBundle, chain: ChainClient, artifact: Artifact | None = None
) -> Check:
    anchor = bundle.anchor
    name = CheckName.ANCHOR_TRANSACTION
    receipt = chain.receipt(anchor.tx_hash)
    if receipt is None:
        return failed(name, f"transaction {to_hex(anchor.tx_hash)} is not on this chain")
    if receipt.status != 1:
        return failed(
            name,
            "the anchor transaction failed",
            expected="status 1",
            actual=f"status {receipt.status}",
        )
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
    contract = AnchorContract(chain, anchor.contract, artifact)
    if not contract.head_anchored_in(receipt, anchor.platform, bundle.head_size, bundle.head_root):
        return failed(
            name,
            "the transaction did not anchor this head",
            expected=f"HeadAnchored({anchor.platform}, {bundle.head_size})",
            actual="no such event in the receipt",
        )
    latest = chain.web3.eth.block_number
    confirmations = latest - anchor.block_number + 1
    return passed(
        name,
        f"anchored in block {anchor.block_number} "
        f"({confirmations} confirmation{'s' if confirmations != 1 else ''})",
    )
