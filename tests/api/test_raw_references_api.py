"""The routes that take platform-signed records refuse reference members that hold raw values
(a phone number or an ID number in ASCII, zero-padded into bytes32) with a 422 explaining what
a reference is; nothing of the record is stored."""

from __future__ import annotations

import httpx
import pytest

from ledger.core.records import Binding, BindingAction, SignedRecord, sign_record
from tests.api.conftest import Shared, chain_independent
from tests.support.api import ADDRESS_A, KEY_A, ledger_error

RAW_PHONE = "+8613912345678"
RAW_SUBJECT = "ID:320101198001012367"


def padded(text: str) -> bytes:
    return text.encode().ljust(32, b"\x00")


def binding(shared: Shared, subject_id: str, *, subject: bytes | None = None,
            phone: bytes | None = None, prev: bytes | None = None) -> SignedRecord:
    ledger = shared.ledger
    subject = subject if subject is not None else ledger.refs.subject(subject_id)
    record = Binding(
        platform=ADDRESS_A, subject=subject,
        prev=prev if prev is not None else ledger.subject_head(ADDRESS_A, subject),
        timestamp=1_700_000_000, action=BindingAction.BIND,
        phone=phone if phone is not None else ledger.refs.phone("13800138000"),
        account=ledger.refs.account("A-1"), factors=3)
    return sign_record(record, ledger.domain, bytes.fromhex(KEY_A[2:]))


def assert_refused_as_raw(response: httpx.Response, member: str) -> None:
    status, error, detail = ledger_error(response)
    assert (status, error) == (422, "RawValueReferenceError"), response.text
    assert member in detail and "HMAC-SHA256" in detail and "consortium" in detail
    assert RAW_PHONE[1:] not in response.text and RAW_SUBJECT[3:] not in response.text


@chain_independent
@pytest.mark.parametrize("route", ["/v1/records/signed", "/v1/subjects/records/signed"])
def test_a_raw_phone_or_subject_in_a_signed_record_is_refused(
        route: str, shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    raw_phone = binding(shared, subject_id, phone=padded(RAW_PHONE))
    assert_refused_as_raw(shared_a.post(route, json=raw_phone.to_json()), "Binding.phone")
    raw_subject = binding(shared, subject_id, subject=padded(RAW_SUBJECT), prev=bytes(32))
    assert_refused_as_raw(shared_a.post(route, json=raw_subject.to_json()), "Binding.subject")
    assert shared.ledger.store.records_of_subject(ADDRESS_A, padded(RAW_SUBJECT)) == []


@chain_independent
def test_a_batch_with_one_raw_reference_is_refused_whole_naming_the_record(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    good = binding(shared, subject_id)
    raw = binding(shared, subject_id + "-2", phone=padded(RAW_PHONE))
    response = shared_a.post("/v1/records/signed/batch",
                             json={"records": [good.to_json(), raw.to_json()]})
    assert_refused_as_raw(response, "Binding.phone")
    assert response.json()["detail"].startswith("record 1:")
    subject = shared.ledger.refs.subject(subject_id)
    assert shared.ledger.store.records_of_subject(ADDRESS_A, subject) == []


@chain_independent
def test_records_with_keyed_references_are_still_accepted(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    response = shared_a.post("/v1/records/signed", json=binding(shared, subject_id).to_json())
    assert response.status_code == 201, response.text
