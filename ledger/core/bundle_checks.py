"""The checks of a proof bundle that need no chain: record hash, signature, inclusion."""

from __future__ import annotations

from ledger.core.bundle import ProofBundle
from ledger.core.encoding import to_hex
from ledger.core.merkle import ProofError, RootMismatchError, leaf_hash, verify_inclusion
from ledger.core.records import Domain, SignatureError, recover_signer
from ledger.core.verdict import Check, CheckName, failed, passed


def bundle_domain(bundle: ProofBundle) -> Domain:
    """Records are signed under the domain of the deployment that anchors them."""
    return Domain(bundle.anchor.chain_id, bundle.anchor.contract)


def record_digest(bundle: ProofBundle) -> bytes:
    """The record's EIP-712 hash, recomputed from its fields under the anchor's domain."""
    return bundle.record.record.digest(bundle_domain(bundle))


def check_record_hash(bundle: ProofBundle, digest: bytes) -> Check:
    """Requires `digest` = record_digest(bundle)."""
    if digest != bundle.record_hash:
        return failed(
            CheckName.RECORD_HASH,
            "the record's EIP-712 hash under the anchor's domain differs from recordHash",
            expected=to_hex(bundle.record_hash),
            actual=to_hex(digest),
        )
    return passed(CheckName.RECORD_HASH, f"recomputed {to_hex(digest)}")


def check_signature(bundle: ProofBundle, digest: bytes) -> Check:
    """Requires `digest` = record_digest(bundle): the signature is over the recomputed hash,
    never over the bundle's claimed recordHash."""
    record = bundle.record.record
    try:
        signer = recover_signer(digest, bundle.record.signature)
    except SignatureError as exc:
        return failed(CheckName.SIGNATURE, str(exc))
    if signer != record.platform:
        return failed(
            CheckName.SIGNATURE,
            "the signature was not made by the record's platform",
            expected=record.platform,
            actual=signer,
        )
    if record.platform != bundle.anchor.platform:
        return failed(
            CheckName.SIGNATURE,
            "the record's platform is not the anchoring platform",
            expected=bundle.anchor.platform,
            actual=record.platform,
        )
    return passed(CheckName.SIGNATURE, f"signed by platform {signer}")


def check_inclusion(bundle: ProofBundle) -> Check:
    if bundle.tree_size != bundle.head_size:
        return failed(
            CheckName.INCLUSION,
            "the proof is for another tree size than the head",
            expected=str(bundle.head_size),
            actual=str(bundle.tree_size),
        )
    try:
        verify_inclusion(
            leaf_hash(bundle.record_hash),
            bundle.leaf_index,
            bundle.tree_size,
            bundle.inclusion_path,
            bundle.head_root,
        )
    except RootMismatchError as exc:
        return failed(
            CheckName.INCLUSION,
            "the inclusion path does not lead to the head's root",
            expected=to_hex(exc.expected_root),
            actual=to_hex(exc.calculated_root),
        )
    except ProofError as exc:
        return failed(CheckName.INCLUSION, str(exc))
    return passed(
        CheckName.INCLUSION, f"leaf {bundle.leaf_index} is in the tree of size {bundle.tree_size}"
    )


def offline_checks(bundle: ProofBundle) -> list[Check]:
    digest = record_digest(bundle)  # hashed once: both checks below use it
    return [
        check_record_hash(bundle, digest),
        check_signature(bundle, digest),
        check_inclusion(bundle),
    ]
