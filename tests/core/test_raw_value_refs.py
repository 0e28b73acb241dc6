"""A keyed reference is 32 bytes of HMAC-SHA256 output: indistinguishable from random. A raw
identifier squeezed into bytes32 is not: it is printable text, or padded with zero bytes, or
made of a handful of byte values. `looks_like_raw_value` says which, and an HMAC output
essentially never trips it."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from ledger.core.records import Binding, BindingAction, Consent, ConsentAction, Purpose
from ledger.core.reference_guard import (
    RawValueReferenceError,
    check_references,
    reference_members,
)
from ledger.core.refs import looks_like_raw_value, raw_value_reason

PLATFORM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def padded(text: str) -> bytes:
    return text.encode().ljust(32, b"\x00")


@pytest.mark.parametrize("value, reason", [
    (padded("+8613912345678"), "zero bytes"),
    (padded("ID:320101198001012367"), "zero bytes"),
    (b"ID:320101198001012367 padded out", "printable ASCII"),
    (("13912345678" * 3)[:32].encode(), "printable ASCII"),
    ((13912345678).to_bytes(32, "big"), "zero bytes"),
    (bytes.fromhex("8613912345678f" * 4 + "ffffffff"), "distinct byte values"),
    (b"\x01\x02\x03\x04" * 8, "distinct byte values"),
])
def test_raw_values_squeezed_into_bytes32_are_recognised(value: bytes, reason: str) -> None:
    assert looks_like_raw_value(value)
    found = raw_value_reason(value)
    assert found is not None and reason in found


def test_each_rule_tells_the_platform_exactly_why() -> None:
    assert raw_value_reason(padded("+8613912345678")) == (
        "it has a run of 4 or more zero bytes (padding)")
    assert raw_value_reason(b"ID:320101198001012367 padded out") == "it is printable ASCII text"
    assert raw_value_reason(bytes.fromhex("8613912345678f" * 4 + "ffffffff")) == (
        "it has only 8 distinct byte values (an HMAC output has about 30; fewer than 16 is "
        "refused)")


def test_the_edges_of_each_rule() -> None:
    random = bytes(range(100, 132))  # 32 distinct, non-printable bytes
    assert not looks_like_raw_value(random)
    three_zeros = bytes(3) + random[3:]
    four_zeros = bytes(4) + random[4:]
    assert not looks_like_raw_value(three_zeros)
    assert "zero bytes" in (raw_value_reason(four_zeros) or "")
    sixteen = bytes(range(200, 216)) * 2  # exactly 16 distinct values
    fifteen = (bytes(range(200, 215)) * 3)[:32]
    assert not looks_like_raw_value(sixteen)
    assert "distinct byte values" in (raw_value_reason(fifteen) or "")
    # One byte outside printable ASCII is enough to make a value not text.
    text = b"A" * 16 + bytes(range(0x41, 0x51))
    assert looks_like_raw_value(text)
    assert not looks_like_raw_value(text[:-1] + b"\x80")


def test_hmac_outputs_essentially_never_look_like_raw_values() -> None:
    secret = os.urandom(32)
    tripped = [
        i for i in range(100_000)
        if looks_like_raw_value(hmac.new(secret, i.to_bytes(8, "big"), hashlib.sha256).digest())
    ]
    assert tripped == []


def test_only_reference_members_are_checked_and_zero_means_no_account() -> None:
    assert reference_members(Binding) == ("subject", "phone", "account")
    # prev is a record hash (zero before a subject's first record); policyHash a plain hash
    # of a public text: neither is a reference.
    assert reference_members(Consent) == ("subject",)
    subject, phone = os.urandom(32), os.urandom(32)
    unbound = Binding(platform=PLATFORM, subject=subject, prev=bytes(32), timestamp=1,
                      action=BindingAction.UNBIND, phone=phone, account=bytes(32), factors=0)
    check_references(unbound)  # a zero account is the protocol's "no account"
    consent = Consent(platform=PLATFORM, subject=subject, prev=bytes(32), timestamp=1,
                      action=ConsentAction.GIVEN, purpose=Purpose.LENDING,
                      policy_hash=b"\xab" * 32, expires_at=2)
    check_references(consent)


def test_a_raw_phone_in_a_binding_is_refused_naming_the_member_and_the_rule() -> None:
    record = Binding(platform=PLATFORM, subject=os.urandom(32), prev=bytes(32), timestamp=1,
                     action=BindingAction.BIND, phone=padded("+8613912345678"),
                     account=os.urandom(32), factors=3)
    with pytest.raises(RawValueReferenceError) as refused:
        check_references(record)
    message = str(refused.value)
    assert "Binding.phone" in message and "HMAC-SHA256" in message
    assert "consortium" in message and "8613912345678" not in message
    zero_subject = Binding(platform=PLATFORM, subject=bytes(32), prev=bytes(32), timestamp=1,
                           action=BindingAction.BIND, phone=os.urandom(32),
                           account=os.urandom(32), factors=3)
    with pytest.raises(RawValueReferenceError, match="Binding.subject"):
        check_references(zero_subject)
