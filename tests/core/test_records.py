"""Records: EIP-712 hashing and signatures against known answers and eth-account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_keys import keys
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.records import (
    RECORD_TYPES,
    Binding,
    BindingAction,
    Domain,
    Record,
    RecordDecodeError,
    SignatureError,
    SignedRecord,
    VerificationMethod,
    factor_mask,
    factors_of,
    recover_signer,
    sign_record,
    verify_signature,
)
from ledger.core.refs import account_ref, phone_ref, subject_ref

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "records_eip712.json").read_text()
)
DOMAIN = Domain(VECTORS["domain"]["chainId"], VECTORS["domain"]["verifyingContract"])
KEY = bytes.fromhex(VECTORS["platformKey"][2:])
OTHER_KEY = bytes.fromhex("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cc3ad4d5")
PLATFORM = Account.from_key(KEY).address


def eth_account_digest(record: Record, domain: Domain) -> bytes:
    full = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            record.TYPE_NAME: [{"name": n, "type": t} for n, t in record.members()],
        },
        "primaryType": record.TYPE_NAME,
        "domain": domain.to_eip712(),
        "message": record.to_eip712_message(),
    }
    return bytes(_hash_eip191_message(encode_typed_data(full_message=full)))


@pytest.mark.parametrize("vector", VECTORS["records"], ids=lambda v: v["record"]["type"])
def test_record_hash_and_signature_match_the_known_answers(vector: dict[str, Any]) -> None:
    signed = SignedRecord.from_json({**vector["record"], "signature": vector["signature"]})
    record = signed.record
    assert record.type_string() == vector["typeString"]
    assert "0x" + record.struct_hash().hex() == vector["structHash"]
    assert "0x" + record.digest(DOMAIN).hex() == vector["recordHash"]
    assert sign_record(record, DOMAIN, KEY).signature == signed.signature
    assert verify_signature(signed, DOMAIN).hex() == vector["recordHash"][2:]


def test_keyed_references_match_the_known_answers() -> None:
    secret = VECTORS["secret"].encode()
    refs = VECTORS["references"]
    assert "0x" + subject_ref(secret, "110105199001011234").hex() == refs["subject 110105199001011234"]
    assert "0x" + phone_ref(secret, "+86 138 0013 8000").hex() == refs["phone +86 138 0013 8000"]
    assert "0x" + account_ref(secret, "LOAN-0001").hex() == refs["account LOAN-0001"]


hashes = st.binary(min_size=32, max_size=32)
uint64 = st.integers(0, 2**64 - 1)


@st.composite
def records(draw: st.DrawFn) -> Record:
    kind = draw(st.sampled_from(sorted(RECORD_TYPES)))
    template = next(v["record"] for v in VECTORS["records"] if v["record"]["type"] == kind)
    record = SignedRecord.from_json({**template, "signature": "0x" + "00" * 65}).record
    fields: dict[str, Any] = {"subject": draw(hashes), "prev": draw(hashes),
                              "timestamp": draw(uint64)}
    if kind == "Binding":
        fields["factors"] = draw(st.integers(0, 255))
        fields["action"] = draw(st.sampled_from(BindingAction))
    if kind == "Consent":
        fields["expires_at"] = draw(uint64)
    if kind == "Verification":
        fields["passed"] = draw(st.booleans())
    if kind == "Refusal":
        fields["call"] = draw(st.binary(max_size=600))
        fields["revert"] = draw(st.binary(max_size=100))
    return type(record)(**{**record.__dict__, **fields})


@settings(max_examples=60, deadline=None)
@given(record=records(), chain_id=st.integers(1, 2**64), contract=st.binary(min_size=20,
                                                                            max_size=20))
def test_record_hash_agrees_with_eth_account_for_any_record(record: Record, chain_id: int,
                                                            contract: bytes) -> None:
    domain = Domain(chain_id, "0x" + contract.hex())
    assert record.digest(domain) == eth_account_digest(record, domain)


@settings(max_examples=30, deadline=None)
@given(record=records())
def test_json_round_trip_keeps_the_record_and_its_hash(record: Record) -> None:
    signed = sign_record(record, DOMAIN, KEY)
    again = SignedRecord.from_json(json.loads(json.dumps(signed.to_json())))
    assert again == signed
    assert again.record.digest(DOMAIN) == record.digest(DOMAIN)


def sample() -> Binding:
    record = SignedRecord.from_json(
        {**VECTORS["records"][0]["record"], "signature": VECTORS["records"][0]["signature"]}
    ).record
    assert isinstance(record, Binding)
    return record


def test_the_domain_binds_a_record_to_one_deployment() -> None:
    record = sample()
    assert record.digest(DOMAIN) != record.digest(Domain(DOMAIN.chain_id + 1,
                                                         DOMAIN.verifying_contract))
    assert record.digest(DOMAIN) != record.digest(Domain(DOMAIN.chain_id, "0x" + "11" * 20))


def test_a_signature_by_another_key_is_refused_naming_the_signer() -> None:
    record = sample()
    sig = keys.PrivateKey(OTHER_KEY).sign_msg_hash(record.digest(DOMAIN))
    forged = SignedRecord(record, sig.to_bytes()[:64] + bytes([sig.v + 27]))
    with pytest.raises(SignatureError, match=f"signed by {Account.from_key(OTHER_KEY).address}"):
        verify_signature(forged, DOMAIN)


def test_signing_with_a_key_that_is_not_the_platforms_is_refused() -> None:
    with pytest.raises(SignatureError, match="is not the record's platform"):
        sign_record(sample(), DOMAIN, OTHER_KEY)


def test_malformed_and_malleable_signatures_are_refused() -> None:
    signed = sign_record(sample(), DOMAIN, KEY)
    digest = sample().digest(DOMAIN)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signed.signature[32:64], "big")
    high_s = signed.signature[:32] + (n - s).to_bytes(32, "big") + bytes([55 - signed.signature[64]])
    with pytest.raises(SignatureError, match="high-s"):
        recover_signer(digest, high_s)
    with pytest.raises(SignatureError, match="v must be 27 or 28"):
        recover_signer(digest, signed.signature[:64] + b"\x01")
    with pytest.raises(SignatureError, match="65 bytes"):
        recover_signer(digest, signed.signature[:64])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "Loan"}, "unknown record type"),
        ({"extra": 1}, "unknown field"),
        ({"subject": "0x1234"}, "must be 32 bytes"),
        ({"subject": "nothex"}, "0x-prefixed hex"),
        ({"action": "DESTROY"}, "must be one of"),
        ({"action": 0}, "must be one of"),
        ({"timestamp": -1}, "integer in"),
        ({"timestamp": 2**64}, "integer in"),
        ({"timestamp": "1"}, "integer in"),
        ({"factors": 256}, "integer in"),
        ({"platform": "0x1234"}, "must be an address"),
        # Addresses are written EIP-55 or all lowercase, always 0x-prefixed: a mixed case that
        # is not the checksum is a typo, and a bare or upper-case spelling is not the format.
        ({"platform": "0x70997970c51812dc3a010c7d01b50e0d17dc79C8"}, "EIP-55 checksum"),
        ({"platform": "70997970c51812dc3a010c7d01b50e0d17dc79c8"}, "must be an address"),
        ({"platform": "0X70997970c51812dc3a010c7d01b50e0d17dc79c8"}, "must be an address"),
        ({"platform": "0x70997970C51812DC3A010C7D01B50E0D17DC79C8"}, "EIP-55 checksum"),
        ({"timestamp": 1767225600.0}, "integer in"),
        ({"factors": True}, "integer in"),
        ({"signature": "0x00"}, "signature must be 65 bytes"),
    ],
)
def test_malformed_record_documents_are_refused_with_the_reason(change: dict[str, Any],
                                                                 message: str) -> None:
    doc = {**VECTORS["records"][0]["record"], "signature": VECTORS["records"][0]["signature"],
           **change}
    with pytest.raises(RecordDecodeError, match=message):
        SignedRecord.from_json(doc)


def test_an_all_lowercase_address_is_read_and_written_back_in_eip55() -> None:
    vector = VECTORS["records"][0]
    doc = {**vector["record"], "signature": vector["signature"]}
    doc["platform"] = doc["platform"].lower()
    assert SignedRecord.from_json(doc).to_json()["platform"] == vector["record"]["platform"]


def test_a_missing_field_is_named() -> None:
    doc = {**VECTORS["records"][0]["record"], "signature": VECTORS["records"][0]["signature"]}
    del doc["phone"]
    with pytest.raises(RecordDecodeError, match=r"missing field\(s\) \['phone'\]"):
        SignedRecord.from_json(doc)


def test_factor_masks_name_distinct_methods() -> None:
    mask = factor_mask([VerificationMethod.LIVENESS, VerificationMethod.SMS_OTP,
                        VerificationMethod.LIVENESS])
    assert factors_of(mask) == [VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS]
