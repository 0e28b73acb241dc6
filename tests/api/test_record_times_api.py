"""Time sanity of log-only records, POST /v1/records/signed and /signed/batch: no timestamp
beyond the ledger's clock plus the allowed skew (BINDLEDGER_MAX_CLOCK_SKEW_SECONDS), none
before the record it follows; each refused with a 422 saying which and by how much."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ledger.config import Settings
from ledger.core.encoding import to_hex
from ledger.core.records import Verification, VerificationMethod, sign_record
from ledger.record_times import DEFAULT_MAX_CLOCK_SKEW_SECONDS
from ledger.service import Ledger
from tests.support.api import ADDRESS_A, KEY_A

UINT64_MAX = 2**64 - 1


def verification(ledger: Ledger, subject_id: str, timestamp: int, prev: bytes) -> Verification:
    return Verification(
        platform=ADDRESS_A, subject=ledger.refs.subject(subject_id), prev=prev,
        timestamp=timestamp, method=VerificationMethod.SMS_OTP, passed=True,
        phone=ledger.refs.phone("13800138000"))


def signed(ledger: Ledger, record: Verification) -> dict[str, Any]:
    return sign_record(record, ledger.domain, bytes.fromhex(KEY_A[2:])).to_json()


def head(ledger: Ledger, subject_id: str) -> bytes:
    return ledger.subject_head(ADDRESS_A, ledger.refs.subject(subject_id))


def test_the_default_skew_is_a_few_minutes() -> None:
    assert Settings().max_clock_skew_seconds == DEFAULT_MAX_CLOCK_SKEW_SECONDS == 300


@pytest.mark.parametrize("ahead", [DEFAULT_MAX_CLOCK_SKEW_SECONDS + 60, None])
def test_a_record_from_beyond_the_allowed_skew_is_refused(
        api_a: httpx.Client, ledger_: Ledger, ahead: int | None) -> None:
    now = ledger_.now()
    timestamp = UINT64_MAX if ahead is None else now + ahead
    record = verification(ledger_, "S-future", timestamp, bytes(32))
    response = api_a.post("/v1/records/signed", json=signed(ledger_, record))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "RecordTimeInFutureError"
    seconds = int(body["detail"].split(" is ")[1].split(" s ")[0])
    assert timestamp - now - 5 <= seconds <= timestamp - now  # the clock ran while it was sent
    assert body["detail"].startswith(f"record timestamp {timestamp} is ")
    assert body["detail"].endswith(
        f"more than the allowed clock skew of {DEFAULT_MAX_CLOCK_SKEW_SECONDS} s")
    assert head(ledger_, "S-future") == bytes(32)  # nothing stored


def test_a_record_within_the_skew_is_stored(api_a: httpx.Client, ledger_: Ledger) -> None:
    record = verification(ledger_, "S-soon", ledger_.now() + 60, bytes(32))
    response = api_a.post("/v1/records/signed", json=signed(ledger_, record))
    assert response.status_code == 201, response.text


def test_a_record_earlier_than_the_one_it_follows_is_refused(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    first = verification(ledger_, "S-back", 1_700_000_000, bytes(32))
    assert api_a.post("/v1/records/signed", json=signed(ledger_, first)).status_code == 201
    prev = first.digest(ledger_.domain)
    back = verification(ledger_, "S-back", 1_700_000_000 - 90, prev)
    response = api_a.post("/v1/records/signed", json=signed(ledger_, back))
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["error"], body["detail"]) == (
        "RecordTimeBeforePreviousError",
        (f"record timestamp {1_700_000_000 - 90} is 90 s before that of the subject's previous "
         f"record {to_hex(prev)} (1700000000): a subject's records may not go back in time"),
    )
    same_second = verification(ledger_, "S-back", 1_700_000_000, prev)
    assert api_a.post("/v1/records/signed", json=signed(ledger_, same_second)).status_code == 201


def test_a_batch_is_refused_whole_naming_the_record_out_of_time(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    # Within the batch: the third record goes back 30 s from the second, which it follows.
    records, prev = [], bytes(32)
    for timestamp in (1_700_000_000, 1_700_000_100, 1_700_000_070):
        records.append(verification(ledger_, "S-batch", timestamp, prev))
        prev = records[-1].digest(ledger_.domain)
    body = {"records": [signed(ledger_, r) for r in records]}
    response = api_a.post("/v1/records/signed/batch", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "RecordTimeBeforePreviousError"
    assert response.json()["detail"].startswith(
        "record 2: record timestamp 1700000070 is 30 s before that of the subject's previous "
        "record")
    assert head(ledger_, "S-batch") == bytes(32)

    # And one from the future, after a record that is fine.
    future = verification(ledger_, "S-batch", UINT64_MAX, records[0].digest(ledger_.domain))
    response = api_a.post("/v1/records/signed/batch",
                          json={"records": [signed(ledger_, records[0]), signed(ledger_, future)]})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "RecordTimeInFutureError"
    assert response.json()["detail"].startswith(f"record 1: record timestamp {UINT64_MAX} is ")
    assert head(ledger_, "S-batch") == bytes(32)
