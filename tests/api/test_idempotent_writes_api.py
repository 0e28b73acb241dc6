"""Writes can be retried safely: a client whose acknowledgement was lost sends again.

- A platform-signed record that is already stored is answered with the stored one: 200 (not
  201), same id, hash and leaf index, and nothing is written twice. In a batch, the stored
  records are answered as stored and the others are written (201 if any was).
- A draft sent with an `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header)
  is written once: the same key with the same body is answered with the first record (200);
  the same key with another body is a 422; keys belong to the platform that sent them.
- `GET /v1/records?hash=0x...` finds a record by its hash, read as by id: another platform's
  record is the same 404 as none at all.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.idempotency import MAX_IDEMPOTENCY_KEY_LENGTH
from ledger.core.records import Verification, VerificationMethod, sign_record
from ledger.service import Ledger
from tests.api.test_records_batch_api import chain_of
from tests.support.api import (
    ADDRESS_A,
    API_KEY_A,
    CONSENT,
    KEY_A,
    VERIFICATION,
    client,
    ledger_error,
)

# Writes do not depend on the chain: these tests run on the embedded chain only.
pytestmark = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


def created(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


# -- platform-signed records ---------------------------------------------------------------


def test_resending_a_stored_signed_record_returns_it_with_200(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    doc = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 1)[0]
    first = api_a.post("/v1/records/signed", json=doc)
    assert first.status_code == 201, first.text

    again = api_a.post("/v1/records/signed", json=doc)

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(ledger_.store.record_hashes(ADDRESS_A)) == 1


def test_a_stored_record_is_found_even_after_its_subject_moved_on(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    docs = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 3)
    ids = [api_a.post("/v1/records/signed", json=d).json()["id"] for d in docs]

    again = api_a.post("/v1/records/signed", json=docs[0])

    assert (again.status_code, again.json()["id"]) == (200, ids[0])


def test_resending_a_stored_batch_returns_the_stored_records_with_200(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    docs = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 3)
    first = api_a.post("/v1/records/signed/batch", json={"records": docs})
    assert first.status_code == 201, first.text

    again = api_a.post("/v1/records/signed/batch", json={"records": docs})

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(ledger_.store.record_hashes(ADDRESS_A)) == 3


def test_a_batch_of_stored_and_new_records_writes_only_the_new_ones_with_201(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    docs = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 4)
    stored = api_a.post("/v1/records/signed/batch", json={"records": docs[:2]}).json()["records"]

    response = api_a.post("/v1/records/signed/batch", json={"records": docs})

    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert records[:2] == stored
    assert [r["leafIndex"] for r in records] == [0, 1, 2, 3]
    assert len(ledger_.store.record_hashes(ADDRESS_A)) == 4


def test_a_record_that_is_not_stored_and_does_not_extend_the_chain_is_still_409(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    api_a.post("/v1/records/signed", json=chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 1)[0])
    # Another record on the same (now stale) position: prev zero, another timestamp.
    fork = Verification(
        platform=ADDRESS_A, subject=ledger_.refs.subject("S-1"), prev=bytes(32),
        timestamp=1_600_000_000, method=VerificationMethod.SMS_OTP, passed=True,
        phone=ledger_.refs.phone("13800138000"))
    signed = sign_record(fork, ledger_.domain, bytes.fromhex(KEY_A[2:]))

    response = api_a.post("/v1/records/signed", json=signed.to_json())

    assert ledger_error(response)[:2] == (409, "ChainBreakError")


# -- drafts with an Idempotency-Key ----------------------------------------------------------


def test_a_draft_sent_twice_with_one_key_is_written_once(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    headers = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = api_a.post("/v1/records", json=VERIFICATION, headers=headers)
    assert first.status_code == 201, first.text

    again = api_a.post("/v1/records", json=VERIFICATION, headers=headers)

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(ledger_.store.record_hashes(ADDRESS_A)) == 1


@pytest.mark.parametrize("policy_hash", ["0x" + "80" * 32, "0x" + "ab" * 32])
def test_a_draft_with_a_hash_in_no_text_encoding_is_written_once_too(
        api_a: httpx.Client, ledger_: Ledger, policy_hash: str) -> None:
    # The fingerprint reads the hash as hex, not as text: 0x80... is no UTF-8.
    draft = {**CONSENT, "policyHash": policy_hash}
    headers = {"Idempotency-Key": "consent-1"}
    first = api_a.post("/v1/records", json=draft, headers=headers)
    assert first.status_code == 201, first.text
    again = api_a.post("/v1/records", json=draft, headers=headers)
    assert (again.status_code, again.json()) == (200, first.json())
    other = api_a.post("/v1/records", json={**draft, "policyHash": "0x" + "01" * 32},
                       headers=headers)
    assert ledger_error(other)[:2] == (422, "IdempotencyKeyReusedError")


def test_a_key_may_be_sent_without_the_quotes_of_a_structured_field(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    first = api_a.post("/v1/records", json=VERIFICATION, headers={"Idempotency-Key": '"k-1"'})
    again = api_a.post("/v1/records", json=VERIFICATION, headers={"Idempotency-Key": "k-1"})
    assert (again.status_code, again.json()) == (200, first.json())


def test_without_a_key_each_draft_is_a_new_record(api_a: httpx.Client, ledger_: Ledger) -> None:
    ids = {api_a.post("/v1/records", json=VERIFICATION).json()["id"] for _ in range(2)}
    assert len(ids) == 2


def test_the_same_key_with_another_body_is_refused_422(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    headers = {"Idempotency-Key": "k-1"}
    api_a.post("/v1/records", json=VERIFICATION, headers=headers)

    other = api_a.post("/v1/records", json={**VERIFICATION, "passed": False}, headers=headers)

    assert ledger_error(other) == (
        422, "IdempotencyKeyReusedError",
        ("this Idempotency-Key was sent with another request body: use a new key for a new "
         "request"),
    )
    assert len(ledger_.store.record_hashes(ADDRESS_A)) == 1


def test_keys_belong_to_the_platform_that_sent_them(
        api_a: httpx.Client, api_b: httpx.Client) -> None:
    headers = {"Idempotency-Key": "k-1"}
    a = api_a.post("/v1/records", json=VERIFICATION, headers=headers)
    b = api_b.post("/v1/records", json=VERIFICATION, headers=headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["platform"] != b.json()["platform"]


@pytest.mark.parametrize("key", ["", '""', "x" * (MAX_IDEMPOTENCY_KEY_LENGTH + 1), "k\u00e9y"])
def test_an_empty_overlong_or_non_ascii_key_is_refused_400(
        api_a: httpx.Client, ledger_: Ledger, key: str) -> None:
    response = api_a.post("/v1/records", json=VERIFICATION,
                          headers={"Idempotency-Key": key.encode()})  # UTF-8 bytes as sent
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters")
    assert ledger_.store.record_hashes(ADDRESS_A) == []


def test_a_key_of_the_longest_length_is_taken(api_a: httpx.Client) -> None:
    key = "x" * MAX_IDEMPOTENCY_KEY_LENGTH
    response = api_a.post("/v1/records", json=VERIFICATION, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text


def test_the_key_table_holds_no_raw_key_or_personal_data(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    api_a.post("/v1/records", json=VERIFICATION, headers={"Idempotency-Key": "order-4711"})
    conn = ledger_.store._conn  # type: ignore[attr-defined]
    rows = conn.execute("SELECT * FROM idempotency_keys").fetchall()
    assert len(rows) == 1
    dump = repr(rows)
    for raw in ("order-4711", VERIFICATION["subjectId"], "138", "0013"):
        assert raw not in dump


# -- finding a record by its hash ------------------------------------------------------------


def test_a_record_is_found_by_its_hash(api_a: httpx.Client) -> None:
    first = api_a.post("/v1/records", json=VERIFICATION).json()

    found = api_a.get("/v1/records", params={"hash": first["recordHash"]})

    assert found.status_code == 200, found.text
    assert found.json() == api_a.get(f"/v1/records/{first['id']}").json()


def test_another_platforms_record_is_the_same_404_as_none(
        api_url: str, api_a: httpx.Client, api_b: httpx.Client) -> None:
    theirs = api_b.post("/v1/records", json=VERIFICATION).json()
    unknown = "0x" + "ab" * 32

    hidden = api_a.get("/v1/records", params={"hash": theirs["recordHash"]})
    missing = api_a.get("/v1/records", params={"hash": unknown})

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() | {
        "detail": missing.json()["detail"].replace(unknown, theirs["recordHash"])}
    assert hidden.json()["error"] == "RecordNotFoundError"
    with client(api_url, API_KEY_A) as a:  # and by id, the same way
        by_id = a.get(f"/v1/records/{theirs['id']}")
        none = a.get("/v1/records/999999")
    assert by_id.status_code == none.status_code == 404
    assert by_id.json().keys() == none.json().keys()
    assert by_id.json()["error"] == none.json()["error"] == "RecordNotFoundError"


@pytest.mark.parametrize("value", ["0x12", "ab" * 32, "0x" + "zz" * 32])
def test_a_malformed_hash_is_refused_422(api_a: httpx.Client, value: str) -> None:
    assert api_a.get("/v1/records", params={"hash": value}).status_code == 422


def test_the_openapi_document_names_the_new_answers(api_a: httpx.Client) -> None:
    paths = api_a.get("/openapi.json").json()["paths"]
    draft = paths["/v1/records"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in draft["parameters"]]
    assert {"200", "201", "400", "422"} <= draft["responses"].keys()
    assert {"200", "201"} <= paths["/v1/records/signed"]["post"]["responses"].keys()
    assert {"200", "201"} <= paths["/v1/records/signed/batch"]["post"]["responses"].keys()
    assert "hash" in [p["name"] for p in paths["/v1/records"]["get"]["parameters"]]


def test_concurrent_resends_store_one_record_and_all_get_it(
        api_url: str, ledger_: Ledger) -> None:
    from concurrent.futures import ThreadPoolExecutor

    doc = chain_of(ledger_, ADDRESS_A, KEY_A, "S-1", 1)[0]
    draft_key = {"Idempotency-Key": "same-draft"}

    def send(i: int) -> tuple[int, int]:
        with client(api_url, API_KEY_A) as c:
            r = (c.post("/v1/records/signed", json=doc) if i % 2
                 else c.post("/v1/records", json=VERIFICATION, headers=draft_key))
            return i % 2, r.status_code * 10**9 + r.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    for kind in (0, 1):
        codes = sorted(a // 10**9 for k, a in answers if k == kind)
        ids = {a % 10**9 for k, a in answers if k == kind}
        assert codes == [200] * 7 + [201] and len(ids) == 1
    assert len(ledger_.store.record_hashes(ADDRESS_A)) == 2
