"""docs/spec/ is enough to verify BindLedger's evidence.

Every check here goes through tests/spec/independent.py, a verifier written from the
specification's text alone (no code from ledger/), against the specification's own examples and
the known-answer vectors of tests/vectors/.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.spec import independent as spec
from tests.spec.independent import Failed, Unreadable

ROOT = Path(__file__).resolve().parents[2]
RECORD_VECTORS: dict[str, Any] = json.loads(
    (ROOT / "tests" / "vectors" / "records_eip712.json").read_text())
MERKLE_VECTORS: dict[str, Any] = json.loads(
    (ROOT / "tests" / "vectors" / "merkle_rfc9162.json").read_text())
DOMAIN = RECORD_VECTORS["domain"]
EXAMPLES = ROOT / "docs" / "spec" / "examples"


def example(name: str) -> Any:
    return spec.parse_document((EXAMPLES / name).read_text())


# --- Records ------------------------------------------------------------------------------------


def test_the_spec_gives_the_type_string_of_every_record_type_in_the_vectors() -> None:
    written = {f"{kind}({','.join(f'{sol} {name}' for name, sol in members)})"
               for kind, members in spec.record_types().items()}
    assert written == {vector["typeString"] for vector in RECORD_VECTORS["records"]}
    assert "Refusal" in spec.record_types()


def test_the_spec_names_every_enum_value() -> None:
    assert spec.enums() == {
        "BindingAction": {"BIND": 0, "REBIND": 1, "UNBIND": 2},
        "VerificationMethod": {"SMS_OTP": 0, "LIVENESS": 1, "CARRIER_MATCH": 2,
                               "SIM_SWAP_CHECK": 3},
        "ConsentAction": {"GIVEN": 0, "WITHDRAWN": 1, "REFUSED": 2},
        "Purpose": {"LENDING": 0, "CONTACT": 1, "IDENTITY_VERIFICATION": 2, "RISK_SHARING": 3,
                    "REPAYMENT_NOTICE": 4, "MARKETING": 5},
        "DisputeAction": {"OPEN": 0, "CLOSE": 1},
        "ErasureReason": {"REQUEST": 0, "RETENTION": 1},
        "AccessRole": {"PLATFORM": 0, "REGULATOR": 1, "ADMIN": 2},
        "AccessPurpose": {"SERVICE": 0, "SUPERVISION": 1, "OPERATION": 2, "SUBJECT_COPY": 3},
    }


@pytest.mark.parametrize("vector", RECORD_VECTORS["records"], ids=lambda v: v["record"]["type"])
def test_every_vector_hashes_and_recovers_as_the_spec_says(vector: dict[str, Any]) -> None:
    record = spec.read_record({**vector["record"], "signature": vector["signature"]})
    chain_id, contract = DOMAIN["chainId"], DOMAIN["verifyingContract"]
    assert "0x" + spec.struct_hash(record, chain_id, contract).hex() == vector["structHash"]
    digest = spec.record_hash(record, chain_id, contract)
    assert "0x" + digest.hex() == vector["recordHash"]
    assert spec.signer(record, digest) == record.platform


def test_the_record_example_hashes_to_the_hash_the_spec_states() -> None:
    text = spec.spec_text("records.md")
    (block,) = spec.fenced_blocks(text, "json")
    stated = re.search(r"record hash is `(0x[0-9a-f]{64})`", text)
    assert stated
    record = spec.read_record(spec.parse_document(block))
    digest = spec.record_hash(record, 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    assert "0x" + digest.hex() == stated.group(1)
    assert spec.signer(record, digest) == record.platform


def test_an_amount_beyond_2_to_the_53_must_be_read_exactly() -> None:
    doc = spec.parse_document(spec.fenced_blocks(spec.spec_text("records.md"), "json")[0])
    assert doc["amount"] > 2**53
    exact = spec.record_hash(spec.read_record(doc), 31337, DOMAIN["verifyingContract"])
    # What a reader that parses numbers as doubles would hash instead:
    rounded = {**doc, "amount": int(float(doc["amount"]))}
    assert rounded["amount"] != doc["amount"]
    assert spec.record_hash(spec.read_record(rounded), 31337,
                            DOMAIN["verifyingContract"]) != exact


@pytest.mark.parametrize(("change", "why"), [
    ({"extra": 1}, "unknown member"),
    ({"action": 0}, "an enum by number"),
    ({"timestamp": 1767225600.0}, "an integer with a fraction"),
    ({"timestamp": "1767225600"}, "an integer as a string"),
    ({"factors": True}, "a boolean for an integer"),
    ({"platform": "0x70997970c51812dc3a010c7d01b50e0d17dc79C8"}, "a wrong EIP-55 checksum"),
    ({"platform": "70997970c51812dc3a010c7d01b50e0d17dc79c8"}, "an address without 0x"),
    ({"subject": "0x1234"}, "a bytes32 of 2 bytes"),
    ({"signature": "0x00"}, "a short signature"),
])
def test_the_spec_conformance_rules_refuse(change: dict[str, Any], why: str) -> None:
    vector = RECORD_VECTORS["records"][0]
    with pytest.raises(Unreadable):
        spec.read_record({**vector["record"], "signature": vector["signature"], **change})


def test_a_member_named_twice_is_unreadable() -> None:
    with pytest.raises(Unreadable):
        spec.parse_document('{"format": "bindledger.proof/1", "format": "x"}')


def test_high_s_and_v_outside_27_28_are_refused() -> None:
    vector = RECORD_VECTORS["records"][0]
    record = spec.read_record({**vector["record"], "signature": vector["signature"]})
    digest = bytes.fromhex(vector["recordHash"][2:])
    r, s, v = record.signature[:32], int.from_bytes(record.signature[32:64], "big"), \
        record.signature[64]
    twin = r + (spec.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    with pytest.raises(Failed, match="high s"):
        spec.signer(spec.Record(record.type, record.message, twin), digest)
    with pytest.raises(Failed, match="not 27 or 28"):
        spec.signer(spec.Record(record.type, record.message,
                                record.signature[:64] + bytes([v - 27])), digest)


# --- Merkle -------------------------------------------------------------------------------------


def test_the_known_answer_roots_and_consistency_proofs_verify_as_merkle_md_says() -> None:
    leaves = [bytes.fromhex(leaf) for leaf in MERKLE_VECTORS["leaves"]]
    roots = {int(k): bytes.fromhex(v) for k, v in MERKLE_VECTORS["roots"].items()}
    assert bytes.fromhex(MERKLE_VECTORS["empty_root"]) == spec.EMPTY_ROOT
    for case in MERKLE_VECTORS["inclusion_proofs"]:
        index, size = case["leaf_index"], case["tree_size"]
        path = [bytes.fromhex(node) for node in case["proof"]]
        assert spec.inclusion_root(spec.leaf_hash(leaves[index]), index, size, path) == roots[size]
    for case in MERKLE_VECTORS["consistency_proofs"]:
        m, n = case["old_size"], case["new_size"]
        spec.verify_consistency(m, n, roots[m], roots[n], [bytes.fromhex(p) for p in case["proof"]])


def test_from_size_0_only_the_empty_root_and_an_empty_proof_are_consistent() -> None:
    root = bytes.fromhex(MERKLE_VECTORS["roots"]["8"])
    spec.verify_consistency(0, 8, spec.EMPTY_ROOT, root, [])
    for placeholder in (bytes(32), root):
        with pytest.raises(Failed):
            spec.verify_consistency(0, 8, placeholder, root, [])


def test_the_example_heads_are_consistent() -> None:
    heads = example("heads.json")
    (old, new) = [(h["treeSize"], bytes.fromhex(h["rootHash"][2:])) for h in heads["heads"]]
    proof = [bytes.fromhex(node[2:]) for node in heads["consistencyProof"]]
    spec.verify_consistency(old[0], new[0], old[1], new[1], proof)


# --- Proof bundles and timelines ------------------------------------------------------------------


def test_the_bundle_in_the_spec_is_the_example_file_and_passes_every_offline_check() -> None:
    (block,) = spec.fenced_blocks(spec.spec_text("proof-bundle.md"), "json")
    assert spec.parse_document(block) == example("proof.json")
    spec.offline_checks(spec.read_bundle(example("proof.json")))


@pytest.mark.parametrize(("path", "value", "failure"), [
    (("record", "amounts", 2), 12000000000000001, "record hash"),
    (("recordHash",), "0x" + "00" * 32, "record hash"),
    (("anchor", "chainId"), 1, "record hash"),
    (("leafIndex",), 2, "inclusion"),
    (("head", "rootHash"), "0x" + "00" * 32, "inclusion"),
    (("treeSize",), 8, "inclusion"),
    (("anchor", "platform"), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "anchoring platform"),
])
def test_a_tampered_bundle_fails_the_check_the_spec_names(
        path: tuple[Any, ...], value: Any, failure: str) -> None:
    doc = copy.deepcopy(example("proof.json"))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(Failed, match=failure):
        spec.offline_checks(spec.read_bundle(doc))


@pytest.mark.parametrize("member", ["record", "head", "anchor", None])
def test_an_unknown_member_anywhere_in_a_bundle_is_unreadable(member: str | None) -> None:
    doc = copy.deepcopy(example("proof.json"))
    (doc if member is None else doc[member])["note"] = "trust me"
    with pytest.raises(Unreadable, match="unknown member"):
        spec.read_bundle(doc)


def test_the_example_timeline_is_complete_and_every_entry_verifies_offline() -> None:
    timeline = spec.read_timeline(example("timeline.json"))
    for entry in timeline.entries:
        spec.offline_checks(entry)
    # The example's chain facts are made up: its refusal chain is the one its refusal builds.
    spec.completeness(timeline, timeline.chain_head, spec.refusal_chain(timeline))
    kinds = [e.record.type for e in timeline.entries]
    assert kinds == ["Binding", "Verification", "Consent", "LoanCreation", "Refusal",
                     "Verification", "Repayment"]


def test_the_example_refusal_names_the_refused_call_and_an_error_of_its_rule() -> None:
    timeline = spec.read_timeline(example("timeline.json"))
    (refusal,) = [e for e in timeline.entries if e.record.type == "Refusal"]
    assert spec.refusal_offline(refusal) == ("disburse",
                                             "RiskRulesTooFewFactors(bytes32,uint8,uint8)")
    # The record after it still follows the head the refusal was judged on.
    after = timeline.entries[timeline.entries.index(refusal) + 1]
    assert after.record.message["prev"] == refusal.record.message["prev"]


def test_the_example_loan_repayments_are_what_the_loan_check_adds_up() -> None:
    timeline = spec.read_timeline(example("timeline.json"))
    repaid = sum(e.record.message["amount"] for e in timeline.entries
                 if e.record.type == "Repayment" and e.record.message["loan"] == timeline.loan)
    assert repaid == 12000000000000001


@pytest.mark.parametrize(("change", "failure"), [
    (lambda entries: entries.pop(1), "chain broken"),
    (lambda entries: entries.insert(2, entries.pop(3)), "chain broken"),
    (lambda entries: entries.pop(), "missing at the end"),
    (lambda entries: entries.clear(), "no entries"),
    (lambda entries: entries.pop(4), "refusals missing"),
])
def test_a_timeline_with_a_record_missing_or_moved_is_incomplete(change: Any,
                                                                 failure: str) -> None:
    whole = spec.read_timeline(example("timeline.json"))
    timeline = spec.read_timeline(example("timeline.json"))
    change(timeline.entries)
    with pytest.raises(Failed, match=failure):
        spec.completeness(timeline, whole.chain_head, spec.refusal_chain(whole))


def test_the_refusal_tables_cover_every_rule_that_refuses() -> None:
    assert sorted(spec.rule_errors()) == ["R1", "R2", "R3", "R4", "R7", "R8", "R9"]
    # Refusal, Evidence, Erasure, Access and ModelRelease records are written by BindLedger and
    # never go to the contract; every other type does (a RiskWarning too, which BindLedger
    # writes and relays), through the function the table names.
    assert set(spec.rule_functions()) == {
        kind for kind in spec.record_types()
        if kind not in {"Refusal", "Evidence", "Erasure", "Access", "ModelRelease"}}
