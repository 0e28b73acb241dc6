"""Every limit of a record, tested at its edge and one past it, with the exact reason given.

A record is checked when it is made, whether parsed from JSON or built in Python, so a
record that exists is one the contract would take member for member: bytes32 members of
exactly 32 bytes, byte strings of at most MAX_BYTES_MEMBER, enum members of their range, and
signatures whose s is in the lower half of the group order (the contract refuses the
malleable upper half).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ledger.core import records
from ledger.core.records import (
    MAX_BYTES_MEMBER,
    MAX_INSTALLMENTS,
    Binding,
    BindingAction,
    Consent,
    LoanCreation,
    Purpose,
    Record,
    RecordDecodeError,
    Refusal,
    SignatureError,
    SignedRecord,
    Verification,
    VerificationMethod,
    factor_mask,
    factors_of,
    recover_signer,
    sign_record,
)
from tests.core.test_records import DOMAIN, KEY, PLATFORM, VECTORS

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 order
HIGH_S = "signature s is out of range (high-s signatures are malleable)"
BASE = {"platform": PLATFORM, "subject": b"\x01" * 32, "prev": bytes(32), "timestamp": 1}


def binding(**members: Any) -> Binding:
    return Binding(**{**BASE, "action": BindingAction.BIND, "phone": b"\x02" * 32,
                      "account": b"\x03" * 32, "factors": 3, **members})


def refusal(**members: Any) -> Refusal:
    return Refusal(**{**BASE, "refused": b"\x04" * 32, "rule": 1, "call": b"", "revert": b"",
                      "block": 0, **members})


def refused_reason(make: Any, *args: Any, **members: Any) -> str:
    with pytest.raises(RecordDecodeError) as refused:
        make(*args, **members)
    return str(refused.value)


# -- factor masks ------------------------------------------------------------------------------

@pytest.mark.parametrize("method", list(VerificationMethod))
def test_a_mask_of_one_method_has_exactly_that_methods_bit(method: VerificationMethod) -> None:
    # No mask of the other tests leaves out SMS_OTP: a mask that starts with bit 0 set (a
    # binding claiming an SMS code nobody sent) is caught only by a mask without it.
    assert factor_mask([method]) == 1 << method
    assert factors_of(1 << method) == [method]


def test_the_mask_of_no_method_is_zero() -> None:
    assert factor_mask([]) == 0
    assert factors_of(0) == []


def test_the_mask_of_every_method_names_every_method_in_order() -> None:
    assert factor_mask(reversed(VerificationMethod)) == 0b1111
    assert factors_of(0b1111) == list(VerificationMethod)
    assert factors_of(0b1111_0000) == []  # bits beyond the methods name none


# -- bytes32 members ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 31, 33])
def test_a_bytes32_member_of_another_length_is_refused(size: int) -> None:
    assert refused_reason(binding, phone=b"\x02" * size) == "Binding.phone must be 32 bytes"


def test_a_bytes32_member_that_is_not_bytes_is_refused() -> None:
    assert refused_reason(binding, subject="0x" + "01" * 32) == "Binding.subject must be 32 bytes"


def test_a_bytes32_member_in_json_must_have_32_bytes_and_the_reason_says_how_many() -> None:
    doc = {**binding().to_json(), "account": "0x" + "03" * 31}
    with pytest.raises(RecordDecodeError) as refused:
        Binding.from_json(doc)
    assert str(refused.value) == "Binding.account must be 32 bytes, got 31"


# -- byte-string members -----------------------------------------------------------------------

def test_a_byte_string_of_exactly_the_maximum_size_is_kept() -> None:
    record = refusal(call=b"\xaa" * MAX_BYTES_MEMBER)
    assert len(record.call) == MAX_BYTES_MEMBER
    assert Refusal.from_json(record.to_json()) == record


def test_a_byte_string_one_byte_over_the_maximum_is_refused() -> None:
    assert refused_reason(refusal, revert=b"\xaa" * (MAX_BYTES_MEMBER + 1)) == (
        "Refusal.revert must be at most 8192 bytes")


def test_a_byte_string_member_that_is_not_bytes_is_refused() -> None:
    assert refused_reason(refusal, call="0x00") == "Refusal.call must be at most 8192 bytes"


def test_a_byte_string_in_json_is_hex_and_named_when_it_is_not() -> None:
    with pytest.raises(RecordDecodeError) as refused:
        Refusal.from_json({**refusal().to_json(), "call": "00"})
    assert str(refused.value) == "Refusal.call must be 0x-prefixed hex, got '00'"


# -- enum members ------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "member", "enum", "past"), [
    (binding, "action", BindingAction, 3),
    (lambda **m: Verification(**{**BASE, "method": 0, "passed": True,
                                 "phone": b"\x02" * 32, **m}),
     "method", VerificationMethod, 4),
    (lambda **m: Consent(**{**BASE, "action": 0, "purpose": 0, "policy_hash": bytes(32),
                            "expires_at": 0, **m}),
     "purpose", Purpose, 6),
])
def test_an_enum_member_takes_its_last_value_and_refuses_one_past_it(
        make: Any, member: str, enum: Any, past: int) -> None:
    last = max(enum)
    assert getattr(make(**{member: int(last)}), member) is last  # an int becomes the member
    type_name = make().TYPE_NAME
    assert refused_reason(make, **{member: past}) == (
        f"{type_name}.{member}: {past} is not a valid {enum.__name__}")
    assert refused_reason(make, **{member: -1}) == (
        f"{type_name}.{member}: -1 is not a valid {enum.__name__}")


def test_an_enum_member_in_json_is_named_and_its_type_is_named_when_wrong() -> None:
    with pytest.raises(RecordDecodeError) as refused:
        Binding.from_json({**binding().to_json(), "action": "DESTROY"})
    assert str(refused.value) == (
        "Binding.action must be one of ['BIND', 'REBIND', 'UNBIND'], got 'DESTROY'")


# -- integers and arrays -----------------------------------------------------------------------

def test_a_uint_member_takes_its_largest_value_and_refuses_one_more() -> None:
    assert binding(factors=255).factors == 255
    assert refused_reason(binding, factors=256) == (
        "Binding.factors must be an integer in [0, 2^8), got 256")
    assert refused_reason(binding, timestamp=-1) == (
        "Binding.timestamp must be an integer in [0, 2^64), got -1")


def loan(count: int, **members: Any) -> LoanCreation:
    return LoanCreation(**{**BASE, "loan": b"\x05" * 32,
                           "due_times": tuple(range(1, count + 1)), "amounts": (1,) * count,
                           **members})


def test_a_schedule_of_exactly_the_maximum_installments_is_kept_and_one_more_refused() -> None:
    assert len(loan(MAX_INSTALLMENTS).due_times) == MAX_INSTALLMENTS
    assert refused_reason(loan, MAX_INSTALLMENTS + 1) == (
        "LoanCreation.dueTimes has 37 items, at most 36")


def test_each_installment_is_checked_against_the_element_type_by_its_index() -> None:
    assert refused_reason(loan, 2, amounts=(1, 2**128)) == (
        "LoanCreation.amounts[1] must be an integer in [0, 2^128), got "
        "340282366920938463463374607431768211456")
    assert refused_reason(loan, 1, due_times=5) == "LoanCreation.dueTimes must be a list, got 5"


def test_a_record_without_a_type_name_is_named_record_in_its_reasons() -> None:
    assert refused_reason(Record, **{**BASE, "prev": b""}) == "Record.prev must be 32 bytes"


# -- record documents --------------------------------------------------------------------------

@pytest.mark.parametrize(("doc", "reason"), [
    ([], "record must be a JSON object"),
    ({"type": "Loan"}, ("unknown record type 'Loan'; expected one of ['Access', 'Binding', "
                       "'ChannelChange', 'CollectionContact', 'Consent', 'Disbursement', "
                       "'Dispute', 'Erasure', 'Evidence', 'LoanCreation', 'ModelRelease', "
                       "'Refusal', 'Repayment', 'RiskWarning', 'Verification']")),
    ({"type": "Binding"}, "record has no signature"),
])
def test_a_document_that_is_not_a_signed_record_is_told_why(doc: object, reason: str) -> None:
    with pytest.raises(RecordDecodeError) as refused:
        SignedRecord.from_json(doc)
    assert str(refused.value) == reason


# -- the low-s bound of signatures -------------------------------------------------------------

def with_s(signature: bytes, s: int) -> bytes:
    return signature[:32] + s.to_bytes(32, "big") + signature[64:]


def signed_sample() -> tuple[bytes, bytes]:
    record = SignedRecord.from_json({**VECTORS["records"][0]["record"],
                                     "signature": VECTORS["records"][0]["signature"]}).record
    return record.digest(DOMAIN), sign_record(record, DOMAIN, KEY).signature


@pytest.mark.parametrize("s", [0, N // 2 + 1, N - 1, 2**256 - 1],
                         ids=["zero", "half+1", "order-1", "max"])
def test_an_s_outside_the_lower_half_of_the_order_is_refused_as_malleable(s: int) -> None:
    digest, signature = signed_sample()
    with pytest.raises(SignatureError) as refused:
        recover_signer(digest, with_s(signature, s))
    assert str(refused.value) == HIGH_S


@pytest.mark.parametrize("s", [1, N // 2], ids=["one", "half"])
def test_an_s_at_either_end_of_the_lower_half_passes_the_bound(s: int) -> None:
    digest, signature = signed_sample()
    # The bound lets it through: recovery yields some key (not the platform's, as s was
    # changed), which is what an in-range s that is not the signer's gives.
    signer = recover_signer(digest, with_s(signature, s))
    assert signer != PLATFORM
    assert signer.startswith("0x") and len(signer) == 42


def test_the_signers_own_low_s_signature_recovers_the_platform() -> None:
    digest, signature = signed_sample()
    assert int.from_bytes(signature[32:64], "big") <= N // 2
    assert recover_signer(digest, signature) == PLATFORM


def test_a_signature_no_key_could_make_is_refused_with_the_reason() -> None:
    digest, signature = signed_sample()
    # r = 0 is no point's x: libsecp256k1 refuses it, and so does eth-keys, whose reason shows.
    with pytest.raises(SignatureError) as refused:
        recover_signer(digest, bytes(32) + signature[32:])
    assert str(refused.value) == (
        "signature does not recover a key: failed to recover ECDSA public key")


def test_a_well_formed_signature_is_recovered_without_the_slow_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # eth-keys only gives the reason for what libsecp256k1 refuses; a good signature never
    # reaches it (through it, recovery costs three times as much).
    def slow_path(*_: object) -> None:
        raise AssertionError("a well-formed signature went through eth-keys")

    digest, signature = signed_sample()
    monkeypatch.setattr(records.keys, "Signature", slow_path)
    assert recover_signer(digest, signature) == PLATFORM


def test_a_bool_member_takes_only_true_or_false() -> None:
    def verification(**m: Any) -> Verification:
        return Verification(**{**BASE, "method": 0, "passed": True, "phone": b"\x02" * 32, **m})

    assert verification(passed=False).passed is False
    assert refused_reason(verification, passed=1) == (
        "Verification.passed must be true or false, got 1")


def test_a_member_type_no_schema_declares_is_a_schema_bug() -> None:
    with pytest.raises(AssertionError) as bug:
        records._check_typed("Record.note", "string", None, "x")
    assert str(bug.value) == "unsupported Solidity type string"


# -- hashing: direct encoders, computed once -------------------------------------------------

def test_every_member_of_every_record_is_hashed_by_a_direct_encoder(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # eth-abi's generic encoder is only the fallback for a type no schema has: every member
    # type of every record must have its own 32-byte encoding (and give eth-account's hash,
    # checked in test_records.py).
    def generic(*_: object) -> bytes:
        raise AssertionError("a record member went through eth-abi's generic encoder")

    monkeypatch.setattr(records, "abi_encode", generic)
    for record_type in records.RECORD_TYPES.values():
        for _name, sol in record_type.members():
            encode = records._encoder(sol)
            sample = {"address": PLATFORM, "bytes32": bytes(32), "bytes": b"\x01",
                      "bool": True}.get(sol, (1, 2) if sol.endswith("[]") else 1)
            assert len(encode(sample)) == 32, (record_type.TYPE_NAME, sol)


def test_type_hashes_and_member_encoders_are_computed_once_per_record_type() -> None:
    for record_type in records.RECORD_TYPES.values():
        assert records._type_hash(record_type) is records._type_hash(record_type)
        assert records._member_encoders(record_type) is records._member_encoders(record_type)


def test_a_record_of_any_kind_keeps_its_members_through_its_eip712_message() -> None:
    record = loan(2)
    message = record.to_eip712_message()
    assert message == {"platform": PLATFORM, "subject": b"\x01" * 32, "prev": bytes(32),
                       "timestamp": 1, "loan": b"\x05" * 32, "dueTimes": [1, 2],
                       "amounts": [1, 1]}
    assert dataclasses.replace(record, timestamp=2).to_eip712_message()["timestamp"] == 2


def test_a_record_built_with_a_bad_address_names_its_member() -> None:
    with pytest.raises(RecordDecodeError) as refused:
        Binding(platform="0x12", subject=bytes(range(32)), prev=bytes(32), timestamp=1,
                action=BindingAction.BIND, phone=bytes(range(1, 33)),
                account=bytes(range(2, 34)), factors=3)
    assert str(refused.value) == "Binding.platform must be an address, got '0x12'"


def test_the_signer_of_a_record_is_recovered_as_its_twenty_bytes() -> None:
    from eth_account import Account

    from ledger.core.records import Domain, sign_record, signer_address

    account = Account.from_key(bytes([7]) * 32)
    domain = Domain(31337, "0x" + "ab" * 20)
    record = Binding(platform=account.address, subject=bytes(range(32)), prev=bytes(32),
                     timestamp=1, action=BindingAction.BIND, phone=bytes(range(1, 33)),
                     account=bytes(range(2, 34)), factors=3)
    signed = sign_record(record, domain, bytes(account.key))
    assert signer_address(record.digest(domain), signed.signature) == bytes.fromhex(
        account.address[2:])


def test_a_schedule_of_several_installments_hashes_as_eth_account_does() -> None:
    # One installment hides how array elements are joined: two or more show it.
    from tests.core.test_records import eth_account_digest

    record = LoanCreation(platform=PLATFORM, subject=bytes(range(32)), prev=bytes(32),
                          timestamp=1, loan=bytes(range(3, 35)), due_times=[10, 20, 30],
                          amounts=[100, 200, 300])
    assert record.digest(DOMAIN) == eth_account_digest(record, DOMAIN)
