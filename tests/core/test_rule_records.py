"""Rule records (loans, repayments, channel changes, contacts, disputes): EIP-712 arrays.

A loan's schedule is the only array in any record: EIP-712 hashes `uint64[]` and `uint128[]`
members as keccak256 of their elements' 32-byte encodings, concatenated. Checked here against
eth-account's generic encoder for any schedule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.records import (
    MAX_INSTALLMENTS,
    Dispute,
    DisputeAction,
    Domain,
    LoanCreation,
    RecordDecodeError,
    SignedRecord,
    sign_record,
)
from tests.core.test_records import DOMAIN, KEY, PLATFORM, eth_account_digest

hashes = st.binary(min_size=32, max_size=32)


@st.composite
def loan_creations(draw: st.DrawFn) -> LoanCreation:
    count = draw(st.integers(0, MAX_INSTALLMENTS))
    return LoanCreation(
        platform=PLATFORM,
        subject=draw(hashes),
        prev=draw(hashes),
        timestamp=draw(st.integers(0, 2**64 - 1)),
        loan=draw(hashes),
        due_times=tuple(draw(st.lists(st.integers(0, 2**64 - 1), min_size=count,
                                      max_size=count))),
        amounts=tuple(draw(st.lists(st.integers(0, 2**128 - 1), min_size=count,
                                    max_size=count))),
    )


@settings(max_examples=60, deadline=None)
@given(record=loan_creations(), chain_id=st.integers(1, 2**64))
def test_schedule_hash_agrees_with_eth_account(record: LoanCreation, chain_id: int) -> None:
    domain = Domain(chain_id, DOMAIN.verifying_contract)
    assert record.digest(domain) == eth_account_digest(record, domain)


@settings(max_examples=30, deadline=None)
@given(record=loan_creations())
def test_loan_creation_round_trips_through_json(record: LoanCreation) -> None:
    signed = sign_record(record, DOMAIN, KEY)
    again = SignedRecord.from_json(json.loads(json.dumps(signed.to_json())))
    assert again == signed
    assert again.record.digest(DOMAIN) == record.digest(DOMAIN)


def test_the_array_encoding_is_the_eip712_one() -> None:
    record = LoanCreation(platform=PLATFORM, subject=bytes(32), prev=bytes(32), timestamp=1,
                          loan=bytes(32), due_times=[5, 6], amounts=[])
    assert record.type_string() == (
        "LoanCreation(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,"
        "bytes32 loan,uint64[] dueTimes,uint128[] amounts)"
    )
    # Lists are kept as tuples, so that records stay hashable and immutable.
    assert record.due_times == (5, 6) and record.amounts == ()
    words = (5).to_bytes(32, "big") + (6).to_bytes(32, "big")
    expected = keccak(
        record.type_hash() + bytes(12) + bytes.fromhex(PLATFORM[2:]) + bytes(64)
        + (1).to_bytes(32, "big") + bytes(32) + keccak(words) + keccak(b"")
    )
    assert record.struct_hash() == expected


def _doc(**change: Any) -> dict[str, Any]:
    record = LoanCreation(platform=PLATFORM, subject=bytes(32), prev=bytes(32), timestamp=1,
                          loan=bytes(32), due_times=[5], amounts=[7])
    return {**sign_record(record, DOMAIN, KEY).to_json(), **change}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dueTimes": 5}, "must be a JSON array"),
        ({"dueTimes": "0x05"}, "must be a JSON array"),
        ({"dueTimes": [-1]}, r"dueTimes\[0\] must be an integer in \[0, 2\^64\)"),
        ({"amounts": [1, 2**128]}, r"amounts\[1\] must be an integer in \[0, 2\^128\)"),
        ({"amounts": ["7"]}, r"amounts\[0\] must be an integer"),
        ({"amounts": [1] * (MAX_INSTALLMENTS + 1)}, f"at most {MAX_INSTALLMENTS}"),
    ],
)
def test_malformed_schedules_are_refused_with_the_reason(change: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(RecordDecodeError, match=message):
        SignedRecord.from_json(_doc(**change))


def test_dispute_actions_are_named() -> None:
    record = Dispute(platform=PLATFORM, subject=bytes(32), prev=bytes(32), timestamp=1,
                     loan=bytes(32), action=DisputeAction.CLOSE)
    assert record.to_json()["action"] == "CLOSE"
    assert record.digest(DOMAIN) == eth_account_digest(record, DOMAIN)
