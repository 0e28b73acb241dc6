"""The offline checks of a proof bundle, and what a regulator is told when one fails.

Every failure names the check, says in words what is wrong, and shows the value the bundle
claims (`expected`) beside the value recomputed from its other members (`actual`): these
tests pin all three, since a verdict that only says "failed" proves nothing to its reader.
"""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from eth_keys import keys

from ledger.core.bundle import AnchorRef, ProofBundle
from ledger.core.bundle_checks import (
    bundle_domain,
    check_inclusion,
    check_record_hash,
    check_signature,
    offline_checks,
    record_digest,
)
from ledger.core.encoding import to_hex
from ledger.core.merkle import MerkleLog
from ledger.core.records import Domain, SignedRecord, sign_record
from ledger.core.verdict import Check, CheckName, Outcome, Verdict
from ledger.core.verdict import skipped as verdict_skipped
from tests.core.test_records import KEY, OTHER_KEY, PLATFORM, VECTORS, eth_account_digest

CHAIN_ID, CONTRACT = 31337, VECTORS["domain"]["verifyingContract"]
DOMAIN = Domain(CHAIN_ID, CONTRACT)
OTHER_PLATFORM = Account.from_key(OTHER_KEY).address
RECORD = SignedRecord.from_json(
    {**VECTORS["records"][0]["record"], "signature": VECTORS["records"][0]["signature"]}).record
# The record is leaf 1 of a log of three leaves: its path has two nodes (leaf 0 and leaf 2).
LEAF_INDEX, TREE_SIZE = 1, 3
OTHER_LEAVES = [b"\x01" * 32, b"\x02" * 32]


def valid_bundle() -> ProofBundle:
    record_hash = RECORD.digest(DOMAIN)
    log = MerkleLog([OTHER_LEAVES[0], record_hash, OTHER_LEAVES[1]])
    return ProofBundle(
        record=sign_record(RECORD, DOMAIN, KEY),
        record_hash=record_hash,
        leaf_index=LEAF_INDEX,
        tree_size=TREE_SIZE,
        inclusion_path=log.inclusion_proof(LEAF_INDEX),
        head_size=TREE_SIZE,
        head_root=log.root(),
        anchor=AnchorRef(CHAIN_ID, CONTRACT, PLATFORM, b"\xcc" * 32, 7, b"\xdd" * 32, 1767225700),
    )


def failure(name: CheckName, detail: str, expected: str | None = None,
            actual: str | None = None) -> Check:
    return Check(name, Outcome.FAILED, detail, expected, actual)


def checks_of(bundle: ProofBundle) -> dict[CheckName, Check]:
    return {check.name: check for check in offline_checks(bundle)}


def test_a_valid_bundle_passes_every_offline_check_saying_what_was_found() -> None:
    bundle = valid_bundle()
    digest = RECORD.digest(DOMAIN)
    assert offline_checks(bundle) == [
        Check(CheckName.RECORD_HASH, Outcome.PASSED, f"recomputed {to_hex(digest)}"),
        Check(CheckName.SIGNATURE, Outcome.PASSED, f"signed by platform {PLATFORM}"),
        Check(CheckName.INCLUSION, Outcome.PASSED, "leaf 1 is in the tree of size 3"),
    ]


def test_records_are_hashed_under_the_domain_of_the_anchoring_deployment() -> None:
    bundle = valid_bundle()
    assert bundle_domain(bundle) == DOMAIN
    assert record_digest(bundle) == eth_account_digest(RECORD, DOMAIN)  # eth-account's encoder


# -- record hash -------------------------------------------------------------------------------

def test_a_record_hash_that_differs_shows_the_claimed_and_the_recomputed_hash() -> None:
    bundle = valid_bundle()
    claimed = b"\xee" * 32
    tampered = dataclasses.replace(bundle, record_hash=claimed)
    assert checks_of(tampered)[CheckName.RECORD_HASH] == failure(
        CheckName.RECORD_HASH,
        "the record's EIP-712 hash under the anchor's domain differs from recordHash",
        expected=to_hex(claimed), actual=to_hex(bundle.record_hash))


@pytest.mark.parametrize("anchor_change", [{"chain_id": CHAIN_ID + 1},
                                           {"contract": "0x" + "11" * 20}],
                         ids=["chainId", "contract"])
def test_an_anchor_of_another_deployment_changes_the_recomputed_record_hash(
        anchor_change: dict[str, object]) -> None:
    bundle = valid_bundle()
    anchor = dataclasses.replace(bundle.anchor, **anchor_change)  # type: ignore[arg-type]
    tampered = dataclasses.replace(bundle, anchor=anchor)
    other_domain = Domain(anchor.chain_id, anchor.contract)
    assert checks_of(tampered)[CheckName.RECORD_HASH] == failure(
        CheckName.RECORD_HASH,
        "the record's EIP-712 hash under the anchor's domain differs from recordHash",
        expected=to_hex(bundle.record_hash),
        actual=to_hex(eth_account_digest(RECORD, other_domain)))


# -- signature ---------------------------------------------------------------------------------

def test_a_signature_by_another_key_over_this_record_names_that_key() -> None:
    bundle = valid_bundle()
    digest = RECORD.digest(DOMAIN)
    sig = keys.PrivateKey(OTHER_KEY).sign_msg_hash(digest)
    signature = sig.to_bytes()[:64] + bytes([sig.v + 27])
    tampered = dataclasses.replace(bundle, record=SignedRecord(RECORD, signature))
    assert check_signature(tampered, digest) == failure(
        CheckName.SIGNATURE, "the signature was not made by the record's platform",
        expected=PLATFORM, actual=OTHER_PLATFORM)


def test_a_malformed_signature_is_a_failure_with_the_reason() -> None:
    bundle = valid_bundle()
    signature = bundle.record.signature[:64] + bytes([29])
    tampered = dataclasses.replace(bundle, record=SignedRecord(RECORD, signature))
    assert check_signature(tampered, record_digest(bundle)) == failure(
        CheckName.SIGNATURE, "signature v must be 27 or 28, got 29")


def test_a_record_of_another_platform_than_the_anchors_shows_both() -> None:
    bundle = valid_bundle()
    tampered = dataclasses.replace(
        bundle, anchor=dataclasses.replace(bundle.anchor, platform=OTHER_PLATFORM))
    assert checks_of(tampered)[CheckName.SIGNATURE] == failure(
        CheckName.SIGNATURE, "the record's platform is not the anchoring platform",
        expected=OTHER_PLATFORM, actual=PLATFORM)


def test_the_signature_is_checked_over_the_recomputed_hash_not_the_claimed_one() -> None:
    bundle = valid_bundle()
    # recordHash claims another hash; the signature is still the platform's over the record.
    tampered = dataclasses.replace(bundle, record_hash=b"\xee" * 32)
    assert checks_of(tampered)[CheckName.SIGNATURE].outcome is Outcome.PASSED


# -- inclusion ---------------------------------------------------------------------------------

def test_a_proof_for_another_tree_size_than_the_head_shows_both_sizes() -> None:
    tampered = dataclasses.replace(valid_bundle(), tree_size=TREE_SIZE + 1)
    assert check_inclusion(tampered) == failure(
        CheckName.INCLUSION, "the proof is for another tree size than the head",
        expected="3", actual="4")


def test_a_path_to_another_root_shows_the_heads_root_and_the_root_reached() -> None:
    bundle = valid_bundle()
    claimed_root = b"\xbb" * 32
    tampered = dataclasses.replace(bundle, head_root=claimed_root)
    assert check_inclusion(tampered) == failure(
        CheckName.INCLUSION, "the inclusion path does not lead to the head's root",
        expected=to_hex(claimed_root), actual=to_hex(bundle.head_root))


def test_a_leaf_moved_to_another_index_reaches_another_root() -> None:
    bundle = valid_bundle()
    tampered = dataclasses.replace(bundle, leaf_index=0)
    # At index 0 the same path combines the same hashes in another order.
    moved = MerkleLog([bundle.record_hash, OTHER_LEAVES[0], OTHER_LEAVES[1]]).root()
    assert check_inclusion(tampered) == failure(
        CheckName.INCLUSION, "the inclusion path does not lead to the head's root",
        expected=to_hex(bundle.head_root), actual=to_hex(moved))


def test_a_path_of_the_wrong_length_is_a_failure_with_the_reason() -> None:
    bundle = valid_bundle()
    tampered = dataclasses.replace(bundle, inclusion_path=bundle.inclusion_path[:1])
    assert check_inclusion(tampered) == failure(
        CheckName.INCLUSION,
        "inclusion proof for leaf index 1 in a tree of size 3 has 1 nodes; expected 2")


def test_a_leaf_index_outside_the_tree_is_a_failure_with_the_reason() -> None:
    tampered = dataclasses.replace(valid_bundle(), leaf_index=TREE_SIZE)
    assert check_inclusion(tampered) == failure(
        CheckName.INCLUSION,
        "leaf index 3 is outside a tree of size 3; expected 0 <= index < size")


def test_each_check_judges_only_its_own_members() -> None:
    bundle = valid_bundle()
    tampered = dataclasses.replace(bundle, record_hash=b"\xee" * 32)
    # Another recordHash is another leaf: the record-hash and inclusion checks fail, the
    # signature (over the recomputed hash) passes; the record-hash check is shown first.
    assert [(c.name, c.outcome) for c in offline_checks(tampered)] == [
        (CheckName.RECORD_HASH, Outcome.FAILED),
        (CheckName.SIGNATURE, Outcome.PASSED),
        (CheckName.INCLUSION, Outcome.FAILED),
    ]


def test_check_record_hash_compares_the_digest_it_is_given() -> None:
    bundle = valid_bundle()
    other = b"\x99" * 32
    assert check_record_hash(bundle, other) == failure(
        CheckName.RECORD_HASH,
        "the record's EIP-712 hash under the anchor's domain differs from recordHash",
        expected=to_hex(bundle.record_hash), actual=to_hex(other))


# -- the verdict a reader is shown -------------------------------------------------------------

def test_the_reason_is_the_first_failure_with_its_expected_and_actual_values() -> None:
    tampered = dataclasses.replace(valid_bundle(), tree_size=TREE_SIZE + 1)
    verdict = Verdict(offline_checks(tampered))
    assert not verdict.verified
    assert verdict.reason() == (
        "inclusion: the proof is for another tree size than the head (expected 3, got 4)")
    assert verdict.to_json()["checks"][2] == {
        "check": "inclusion", "outcome": "failed",
        "detail": "the proof is for another tree size than the head",
        "expected": "3", "actual": "4"}


def test_a_failure_without_values_is_reported_without_them() -> None:
    check = failure(CheckName.INCLUSION, "bad path")
    assert Verdict([check]).reason() == "inclusion: bad path"
    assert check.to_json() == {"check": "inclusion", "outcome": "failed", "detail": "bad path"}


def test_a_verdict_is_verified_only_when_checks_ran_and_all_passed() -> None:
    passed = Verdict(offline_checks(valid_bundle()))
    assert passed.verified and passed.first_failure is None
    assert passed.reason() == "all checks passed"
    assert passed.to_json() == {"verified": True, "reason": "all checks passed",
                                "checks": [c.to_json() for c in passed.checks]}
    assert not Verdict([]).verified and Verdict([]).reason() == "no checks ran"
    skipped = Check(CheckName.ANCHOR_TRANSACTION, Outcome.SKIPPED, "head failed")
    assert not Verdict([*passed.checks, skipped]).verified


def test_a_skipped_check_says_why_it_could_not_run() -> None:
    skipped = verdict_skipped(CheckName.ANCHOR_TRANSACTION, "the head is not on chain")
    assert skipped == Check(CheckName.ANCHOR_TRANSACTION, Outcome.SKIPPED,
                            "the head is not on chain")
    assert skipped.to_json() == {"check": "anchor transaction", "outcome": "skipped",
                                 "detail": "the head is not on chain"}
