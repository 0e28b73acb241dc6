"""POST /v1/records/signed/batch: many platform-signed records in one request, all or none."""

from __future__ import annotations

from typing import Any

import httpx

from ledger.core.records import SignedRecord, Verification, VerificationMethod, sign_record
from ledger.service import Ledger
from tests.support.api import ADDRESS_A, ADDRESS_B, KEY_A, KEY_B

ZERO = bytes(32)


def chain_of(ledger: Ledger, platform: str, key: str, subject_id: str, n: int) -> list[Any]:
    """n records of one subject, each extending the one before (signed, as JSON)."""
    subject, prev, out = ledger.refs.subject(subject_id), ZERO, []
    for i in range(n):
        record = Verification(
            platform=platform, subject=subject, prev=prev, timestamp=1_700_000_000 + i,
            method=VerificationMethod.SMS_OTP, passed=True, phone=ledger.refs.phone("13800138000"),
        )
        out.append(sign_record(record, ledger.domain, bytes.fromhex(key[2:])).to_json())
        prev = record.digest(ledger.domain)
    return out


def test_a_batch_is_stored_in_order_and_may_extend_its_own_chains(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    docs = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 3) + chain_of(
        ledger_, ADDRESS_A, KEY_A, "S-2", 2)
    response = api_a.post("/v1/records/signed/batch", json={"records": docs})
    assert response.status_code == 201, response.text
    created = response.json()["records"]
    assert [c["leafIndex"] for c in created] == [0, 1, 2, 3, 4]
    for doc, c in zip(docs, created, strict=True):
        stored = ledger_.record(c["id"])
        assert stored.record == SignedRecord.from_json(doc)
    assert ledger_.subject_head(ADDRESS_A, ledger_.refs.subject("S-1")).hex() == created[2][
        "recordHash"][2:]


def test_one_bad_record_refuses_the_whole_batch_and_names_it(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    docs = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 3)
    stale = dict(docs[2], prev="0x" + "00" * 32)  # breaks the chain: its signature is now bad
    response = api_a.post("/v1/records/signed/batch", json={"records": [docs[0], docs[1], stale]})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("record 2:")
    assert ledger_.pending(ADDRESS_A) == 0 and ledger_.store.record_hashes(ADDRESS_A) == []

    resent = api_a.post("/v1/records/signed/batch", json={"records": [docs[1]]})
    assert resent.status_code == 409 and resent.json()["detail"].startswith("record 0:")
    assert ledger_.store.record_hashes(ADDRESS_A) == []


def test_records_of_another_platform_and_bad_shapes_are_refused(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    other = chain_of(ledger_, ADDRESS_B, KEY_B, "S-1", 1)
    mine = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 1)
    response = api_a.post("/v1/records/signed/batch", json={"records": mine + other})
    assert response.status_code == 403 and response.json()["detail"].startswith("record 1:")
    for body in ({"records": []}, {"records": mine * 101}, {"records": "x"}, {}):
        assert api_a.post("/v1/records/signed/batch", json=body).status_code == 422
    assert ledger_.store.record_hashes(ADDRESS_A) == []
