"""The evidence vault over HTTP: a platform attaches evidence to its record, which is kept
encrypted and committed to by an anchored Evidence record; the platform and regulators read it
back; an erasure makes it unreadable for everyone (410) while the subject's timeline still
verifies, and the Erasure record is anchored like any other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ledger.config import DEV_ADMIN_API_KEY, DEV_REGULATOR_API_KEY
from ledger.core.encoding import from_hex, to_hex
from ledger.privacy.commitment import commit
from ledger.privacy.vault import MAX_EVIDENCE_BYTES
from ledger.service import Ledger
from tests.support.api import ADDRESS_A, VERIFICATION, client, ledger_error

CARRIER_ANSWER = b'{"carrier":"CMCC","simSwappedWithin72h":false,"checkedAt":"2025-01-02"}'


@pytest.fixture
def regulator(api_url: str) -> Iterator[httpx.Client]:
    with client(api_url, DEV_REGULATOR_API_KEY) as c:
        yield c


def write_record(api: httpx.Client, subject_id: str) -> dict[str, Any]:
    response = api.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def attach(api: httpx.Client, record_id: int, content: bytes = CARRIER_ANSWER,
           media_type: str = "application/json") -> httpx.Response:
    return api.post(f"/v1/records/{record_id}/evidence", content=content,
                    headers={"Content-Type": media_type})


def test_evidence_is_kept_and_read_back_with_its_commitment(
        api_a: httpx.Client, api_b: httpx.Client, regulator: httpx.Client, api_url: str,
        ledger_: Ledger, subject_id: str) -> None:
    record = write_record(api_a, subject_id)
    response = attach(api_a, record["id"])
    assert response.status_code == 201, response.text
    stored = response.json()
    assert (stored["recordId"], stored["mediaType"], stored["size"]) == (
        record["id"], "application/json", len(CARRIER_ANSWER))
    salt = from_hex(stored["salt"], length=32)
    assert stored["commitment"] == to_hex(commit(salt, "application/json", CARRIER_ANSWER))
    # The Evidence record beside the subject's chain commits to it, and names the record.
    evidence_record = api_a.get(f"/v1/records/{stored['evidenceRecordId']}").json()["record"]
    assert evidence_record["type"] == "Evidence"
    assert (evidence_record["record"], evidence_record["commitment"]) == (
        record["recordHash"], stored["commitment"])
    assert evidence_record["subject"] == record["subject"]
    for reader in (api_a, regulator):
        read = reader.get(f"/v1/records/{record['id']}/evidence")
        assert read.status_code == 200, read.text
        assert read.content == CARRIER_ANSWER
        assert read.headers["content-type"] == "application/json"
        assert read.headers["x-evidence-commitment"] == stored["commitment"]
    # Another platform gets exactly the 404 of a record that does not exist.
    other = api_b.get(f"/v1/records/{record['id']}/evidence")
    missing = api_b.get("/v1/records/999999/evidence")
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"] == missing.json()["error"] == "RecordNotFoundError"
    with client(api_url, DEV_ADMIN_API_KEY) as admin:
        assert admin.get(f"/v1/records/{record['id']}/evidence").status_code == 403
    # At rest it is encrypted: the content is not in the store.
    row = ledger_.store.evidence_of_record(record["id"])
    assert row is not None and row.ciphertext is not None
    assert CARRIER_ANSWER not in row.ciphertext


def test_evidence_is_bounded_typed_and_attached_once(
        api_a: httpx.Client, api_b: httpx.Client, subject_id: str) -> None:
    record = write_record(api_a, subject_id)
    too_large = attach(api_a, record["id"], b"x" * (MAX_EVIDENCE_BYTES + 1))
    assert too_large.status_code == 413 and "MAX_EVIDENCE_BYTES" in too_large.text
    untyped = attach(api_a, record["id"], media_type="not a media type")
    assert ledger_error(untyped)[:2] == (422, "MediaTypeError")
    assert attach(api_b, record["id"]).status_code == 404  # not B's record
    assert attach(api_a, record["id"]).status_code == 201
    again = attach(api_a, record["id"])
    assert ledger_error(again)[:2] == (409, "EvidenceExistsError")
    assert api_a.get(f"/v1/records/{record['id']}/evidence").content == CARRIER_ANSWER


def test_a_record_without_evidence_is_404(api_a: httpx.Client, subject_id: str) -> None:
    record = write_record(api_a, subject_id)
    response = api_a.get(f"/v1/records/{record['id']}/evidence")
    assert ledger_error(response)[:2] == (404, "EvidenceNotFoundError")


def test_after_erasure_the_evidence_is_gone_and_the_timeline_still_verifies(
        api_a: httpx.Client, regulator: httpx.Client, api_url: str, ledger_: Ledger,
        subject_id: str) -> None:
    record = write_record(api_a, subject_id)
    second = write_record(api_a, subject_id)
    assert attach(api_a, record["id"]).status_code == 201
    assert attach(api_a, second["id"], b"OTP delivered", "text/plain").status_code == 201
    ref = record["subject"]
    erased = api_a.post(f"/v1/subjects/{ref}/erasure")
    assert erased.status_code == 201, erased.text
    erasure = erased.json()
    assert (erasure["platform"], erasure["subject"]) == (ADDRESS_A, ref)
    erasure_record = api_a.get(f"/v1/records/{erasure['erasureRecordId']}").json()["record"]
    assert (erasure_record["type"], erasure_record["items"]) == ("Erasure", 2)
    for reader in (api_a, regulator):
        gone = reader.get(f"/v1/records/{record['id']}/evidence")
        status, error, detail = ledger_error(gone)
        assert (status, error) == (410, "EvidenceErasedError")
        assert detail.startswith("the subject's evidence was erased on 20")
        assert detail.endswith(f"record {erasure['erasureRecordId']}")
    assert ledger_.store.vault_key(ADDRESS_A, from_hex(ref, length=32)) is None
    # Nothing new is kept for an erased subject; erasing again answers the first erasure.
    assert ledger_error(attach(api_a, record["id"] + 0))[:2] == (410, "EvidenceErasedError")
    again = api_a.post(f"/v1/subjects/{ref}/erasure")
    assert again.status_code == 200 and again.json() == erasure
    # The Erasure record is anchored, and the subject's timeline, with the Evidence and
    # Erasure records beside its chain, still verifies.
    assert api_a.post("/v1/anchor").status_code == 200
    bundle = api_a.get(f"/v1/records/{erasure['erasureRecordId']}/proof")
    assert bundle.status_code == 200, bundle.text
    assert httpx.post(f"{api_url}/v1/verify", json=bundle.json()).json()["verified"] is True
    timeline = api_a.get(f"/v1/subjects/{ref}/timeline").json()
    kinds = [entry["record"]["type"] for entry in timeline["entries"]]
    assert kinds == ["Verification", "Verification", "Evidence", "Evidence", "Erasure"]
    verdict = httpx.post(f"{api_url}/v1/verify/timeline", json=timeline).json()
    assert verdict["verified"] is True, verdict


def test_a_regulator_erases_naming_the_platform_and_a_stranger_subject_is_404(
        api_a: httpx.Client, regulator: httpx.Client, subject_id: str) -> None:
    record = write_record(api_a, subject_id)
    assert attach(api_a, record["id"]).status_code == 201
    ref = record["subject"]
    erased = regulator.post(f"/v1/subjects/{ref}/erasure", params={"platform": ADDRESS_A})
    assert erased.status_code == 201, erased.text
    gone = api_a.get(f"/v1/records/{record['id']}/evidence")
    assert gone.status_code == 410
    stranger = api_a.post(f"/v1/subjects/0x{'ab' * 32}/erasure")
    assert ledger_error(stranger)[:2] == (404, "NothingToEraseError")
