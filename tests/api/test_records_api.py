"""POST /v1/records, /v1/records/signed and GET /v1/records/{id}[/proof], over real HTTP.

Platforms write drafts with raw identifiers (BindLedger signs for them) or records they signed
themselves; they read back only their own records, which carry keyed references only.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_keys import keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core.encoding import to_hex
from ledger.core.records import (
    RECORD_TYPES,
    Domain,
    Record,
    SignedRecord,
    Verification,
    VerificationMethod,
    sign_record,
)
from ledger.core.refs import normalize_phone
from ledger.service import Ledger
from tests.api.conftest import Shared, chain_independent
from tests.support.api import (
    ADDRESS_A,
    ADDRESS_B,
    API_KEY_A,
    BINDING,
    CONSENT,
    DRAFTS,
    KEY_A,
    KEY_B,
    VERIFICATION,
    client,
    http_error,
    json_values,
    ledger_error,
    post_json_bytes,
    validation_errors,
)

HEX32 = re.compile(r"0x[0-9a-f]{64}")
ZERO = "0x" + "00" * 32


def signed_verification(ledger: Ledger, platform: str, key: str, *, subject_id: str,
                        domain: Domain | None = None) -> SignedRecord:
    """A Verification record naming `platform`, signed by `key`, on top of the subject's
    chain head (under the ledger's domain unless `domain`)."""
    subject = ledger.refs.subject(subject_id)
    record = Verification(
        platform=platform, subject=subject, prev=ledger.subject_head(platform, subject),
        # Now: it may follow a drafted record, which the ledger stamps with its clock. Another
        # phone than the drafts': never the same record as a draft of the same second.
        timestamp=ledger.now(), method=VerificationMethod.SMS_OTP, passed=True,
        phone=ledger.refs.phone("13900139000"),
    )
    return sign_record(record, domain or ledger.domain, bytes.fromhex(key[2:]))


def signature_by(key: str, record: Record, domain: Domain) -> str:
    """A well-formed signature of the record's hash by `key`, whoever the record names."""
    sig = keys.PrivateKey(bytes.fromhex(key[2:])).sign_msg_hash(record.digest(domain))
    return to_hex(sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27]))


# -- writing drafts -----------------------------------------------------------------------


@pytest.mark.parametrize("record_type", DRAFTS)
def test_a_draft_of_each_type_is_stored_and_acknowledged_with_201(
        record_type: str, shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    response = shared_a.post("/v1/records", json={**DRAFTS[record_type], "subjectId": subject_id})

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "recordHash", "leafIndex", "subject", "platform"}
    assert isinstance(body["id"], int) and isinstance(body["leafIndex"], int)
    assert HEX32.fullmatch(body["recordHash"])
    assert body["platform"] == ADDRESS_A
    assert body["subject"] == to_hex(shared.ledger.refs.subject(subject_id))
    stored = shared.ledger.record(body["id"])  # durable before the answer
    assert (stored.row.leaf_index, to_hex(stored.row.record_hash)) == (
        body["leafIndex"], body["recordHash"])
    assert stored.record.record.TYPE_NAME == record_type


def test_leaf_indexes_count_up_in_each_platforms_own_log(
        api_a: httpx.Client, api_b: httpx.Client) -> None:
    a = [api_a.post("/v1/records", json=d).json()["leafIndex"] for d in DRAFTS.values()]
    b = [api_b.post("/v1/records", json=d).json()["leafIndex"] for d in DRAFTS.values()]
    assert a == [0, 1, 2]
    assert b == [0, 1, 2]


def test_records_of_one_subject_form_a_hash_chain(shared_a: httpx.Client,
                                                  subject_id: str) -> None:
    hashes, prevs = [], []
    for draft in (VERIFICATION, BINDING, CONSENT):
        created = shared_a.post("/v1/records", json={**draft, "subjectId": subject_id}).json()
        hashes.append(created["recordHash"])
        prevs.append(shared_a.get(f"/v1/records/{created['id']}").json()["record"]["prev"])
    assert prevs == [ZERO, hashes[0], hashes[1]]


def test_the_stored_record_carries_keyed_references_only(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    created = shared_a.post("/v1/records", json={**BINDING, "subjectId": subject_id}).json()

    response = shared_a.get(f"/v1/records/{created['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["anchored"] is False
    refs = shared.ledger.refs
    assert body["record"] == {
        "type": "Binding",
        "platform": ADDRESS_A,
        "subject": to_hex(refs.subject(subject_id)),
        "prev": ZERO,
        "timestamp": body["record"]["timestamp"],
        "action": "BIND",
        "phone": to_hex(refs.phone("138 0013 8000")),
        "account": to_hex(refs.account("LOAN-0001")),
        "factors": 0b11,  # SMS_OTP | LIVENESS
        "signature": body["record"]["signature"],
    }
    e164 = normalize_phone("138 0013 8000")
    for raw in (subject_id, "138 0013 8000", "13800138000", e164, "LOAN-0001"):
        assert raw not in response.text


def test_the_stored_record_is_signed_by_its_platform_under_the_deployments_domain(
        shared: Shared, shared_a: httpx.Client) -> None:
    created = shared_a.post("/v1/records", json=CONSENT).json()
    document = shared_a.get(f"/v1/records/{created['id']}").json()["record"]

    signed = SignedRecord.from_json(document)

    domain = shared.ledger.domain
    assert to_hex(signed.record.digest(domain)) == created["recordHash"]
    assert signed == sign_record(signed.record, domain, bytes.fromhex(KEY_A[2:]))


# -- proofs -------------------------------------------------------------------------------


def test_a_record_has_no_proof_until_it_is_anchored_409(api_a: httpx.Client) -> None:
    record_id = api_a.post("/v1/records", json=VERIFICATION).json()["id"]

    response = api_a.get(f"/v1/records/{record_id}/proof")

    assert ledger_error(response) == (
        409, "NotAnchoredError", f"record {record_id} is not anchored yet; anchor and retry")


def test_after_anchoring_the_proof_bundle_verifies(api_a: httpx.Client) -> None:
    ids = [api_a.post("/v1/records", json=d).json()["id"] for d in DRAFTS.values()]
    assert api_a.post("/v1/anchor").status_code == 200

    for record_id in ids:
        assert api_a.get(f"/v1/records/{record_id}").json()["anchored"] is True
        proof = api_a.get(f"/v1/records/{record_id}/proof")
        assert proof.status_code == 200
        bundle = proof.json()
        assert bundle["format"] == "bindledger.proof/1"
        assert bundle["treeSize"] == bundle["head"]["treeSize"] == 3
        verdict = api_a.post("/v1/verify", json=bundle).json()
        assert verdict["verified"] is True, verdict
        assert verdict["reason"] == "all checks passed"


# -- records signed by the platform -------------------------------------------------------


def test_a_record_signed_by_the_platform_is_accepted_201(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    signed = signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id=subject_id)

    response = shared_a.post("/v1/records/signed", json=signed.to_json())

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["recordHash"] == to_hex(signed.record.digest(shared.ledger.domain))
    assert body["platform"] == ADDRESS_A and body["subject"] == to_hex(signed.record.subject)
    assert shared_a.get(f"/v1/records/{body['id']}").json()["record"] == signed.to_json()


def test_a_signed_record_extends_the_chain_of_drafted_records(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    first = shared_a.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id}).json()
    signed = signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id=subject_id)
    assert to_hex(signed.record.prev) == first["recordHash"]

    response = shared_a.post("/v1/records/signed", json=signed.to_json())

    assert response.status_code == 201, response.text
    assert response.json()["leafIndex"] == first["leafIndex"] + 1


def test_a_signed_record_with_a_stale_prev_is_refused_409(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    # prev: zero, the subject's empty chain, which the next draft makes stale
    stale = signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id=subject_id)
    head = shared_a.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id}).json()

    response = shared_a.post("/v1/records/signed", json=stale.to_json())

    assert ledger_error(response) == (
        409, "ChainBreakError",
        (f"record does not extend the subject's hash chain: prev must be {head['recordHash']}, "
         f"got {ZERO}"),
    )


def test_the_same_signed_record_is_written_once_and_a_resend_gets_it_back(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    signed = signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id=subject_id)
    first = shared_a.post("/v1/records/signed", json=signed.to_json())

    again = shared_a.post("/v1/records/signed", json=signed.to_json())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()  # same id, hash and leaf index


def test_a_record_naming_the_platform_but_signed_by_another_key_is_refused_422(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    genuine = signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id=subject_id)
    document = {**genuine.to_json(),
                "signature": signature_by(KEY_B, genuine.record, shared.ledger.domain)}

    response = shared_a.post("/v1/records/signed", json=document)

    assert ledger_error(response) == (
        422, "SignatureError", f"signed by {ADDRESS_B}, but the record names platform {ADDRESS_A}")


def test_a_record_signed_for_another_deployment_is_refused_422(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    here = shared.ledger.domain
    elsewhere = Domain(here.chain_id + 1, here.verifying_contract)
    signed = signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id=subject_id,
                                 domain=elsewhere)

    response = shared_a.post("/v1/records/signed", json=signed.to_json())

    status, error, detail = ledger_error(response)
    assert (status, error) == (422, "SignatureError")
    assert re.fullmatch(f"signed by 0x[0-9a-fA-F]{{40}}, but the record names platform "
                        f"{ADDRESS_A}", detail)


def test_a_record_naming_another_platform_is_forbidden_403(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    theirs = signed_verification(shared.ledger, ADDRESS_B, KEY_B, subject_id=subject_id)

    response = shared_a.post("/v1/records/signed", json=theirs.to_json())

    assert http_error(response) == (403, "the record names another platform than this API key's")


def test_a_record_naming_a_platform_not_served_here_is_forbidden_403(
        shared: Shared, shared_a: httpx.Client, subject_id: str) -> None:
    stranger = "0x" + "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
    address = str(Account.from_key(stranger).address)
    theirs = signed_verification(shared.ledger, address, stranger, subject_id=subject_id)

    response = shared_a.post("/v1/records/signed", json=theirs.to_json())

    assert http_error(response) == (403, "the record names another platform than this API key's")


# -- reading ------------------------------------------------------------------------------


def test_another_platforms_record_looks_like_no_record_404(shared: Shared) -> None:
    with client(shared.url, API_KEY_A) as a:
        for path in (f"/v1/records/{shared.record_b}", f"/v1/records/{shared.record_b}/proof"):
            assert http_error(a.get(path)) == (404, f"no record with id {shared.record_b}")


@chain_independent
@pytest.mark.parametrize("suffix", ["", "/proof"])
def test_an_unknown_record_id_is_404(shared: Shared, suffix: str) -> None:
    with client(shared.url) as a:
        response = a.get(f"/v1/records/999999{suffix}")
    assert ledger_error(response) == (404, "RecordNotFoundError", "no record with id 999999")


@chain_independent
@pytest.mark.parametrize("record_id", ["0", "-1"])
@pytest.mark.parametrize("suffix", ["", "/proof"])
def test_a_record_id_below_one_is_refused_422(shared: Shared, record_id: str,
                                              suffix: str) -> None:
    with client(shared.url) as a:
        response = a.get(f"/v1/records/{record_id}{suffix}")
    assert validation_errors(response) == [
        (["path", "record_id"], "Input should be greater than or equal to 1")]


NOT_AN_INTEGER = "Input should be a valid integer, unable to parse string as an integer"


@chain_independent
@pytest.mark.parametrize("record_id", ["abc", "1.5", "1e3", "0x1"])
@pytest.mark.parametrize("suffix", ["", "/proof"])
def test_a_record_id_that_is_not_an_integer_is_422(shared: Shared, record_id: str,
                                                   suffix: str) -> None:
    with client(shared.url) as a:
        response = a.get(f"/v1/records/{record_id}{suffix}")
    assert validation_errors(response) == [
        (["path", "record_id"], NOT_AN_INTEGER)]


@pytest.mark.parametrize("suffix", ["", "/proof"])
def test_the_largest_sqlite_integer_is_a_record_id_that_is_not_found(
        shared: Shared, suffix: str) -> None:
    with client(shared.url) as a:
        response = a.get(f"/v1/records/{2**63 - 1}{suffix}")
    assert http_error(response) == (404, f"no record with id {2**63 - 1}")


@pytest.mark.parametrize("suffix", ["", "/proof"])
def test_a_record_id_beyond_sqlite_integers_is_422_not_500(shared: Shared, suffix: str) -> None:
    with client(shared.url) as a:
        response = a.get(f"/v1/records/{2**63}{suffix}")
    assert validation_errors(response) == [
        (["path", "record_id"], "Input should be less than 9223372036854775808")]


# -- refused input ------------------------------------------------------------------------

ENDPOINTS_WITH_KEY = [
    ("POST", "/v1/records"), ("POST", "/v1/records/signed"), ("GET", "/v1/records/1"),
    ("GET", "/v1/records/1/proof"), ("POST", "/v1/anchor"),
]


@chain_independent
@pytest.mark.parametrize(("method", "path"), ENDPOINTS_WITH_KEY)
@pytest.mark.parametrize(("api_key", "detail"), [
    (None, "missing X-API-Key header"),
    ("", "missing X-API-Key header"),
    ("not-a-key", "unknown API key"),
    (API_KEY_A + "x", "unknown API key"),
    (API_KEY_A[:-1], "unknown API key"),
])
def test_a_platform_endpoint_without_a_valid_api_key_is_401(
        shared: Shared, method: str, path: str, api_key: str | None, detail: str) -> None:
    with client(shared.url, api_key) as c:
        response = c.request(method, path, json=VERIFICATION)
    assert http_error(response) == (401, detail)


def _without(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}


NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"
METHODS = "Value error, must be one of ['SMS_OTP', 'LIVENESS', 'CARRIER_MATCH', 'SIM_SWAP_CHECK']"
BELOW_2_64 = "Input should be less than 18446744073709551616"
NOT_NEGATIVE = "Input should be greater than or equal to 0"
NOT_HEX = "Value error, value must be 0x-prefixed hex, got "


def bad(case_id: str, draft: Any, loc: list[Any], msg: str) -> Any:
    return pytest.param(draft, [(["body", *loc], msg)], id=case_id)


BAD_DRAFTS = [
    bad("json-array", [VERIFICATION], [], NOT_AN_OBJECT),
    bad("json-string", "Binding", [], NOT_AN_OBJECT),
    bad("no-type", {}, [], "Unable to extract tag using discriminator 'type'"),
    bad("unknown-type", {**VERIFICATION, "type": "Loan"}, [],
        "Input tag 'Loan' found using 'type' does not match any of the expected tags: "
        "'Binding', 'Verification', 'Consent'"),
    bad("binding-without-phone", _without(BINDING, "phone"), ["Binding", "phone"],
        "Field required"),
    bad("binding-without-account", _without(BINDING, "accountId"), ["Binding", "accountId"],
        "Field required"),
    bad("verification-without-passed", _without(VERIFICATION, "passed"),
        ["Verification", "passed"], "Field required"),
    bad("consent-without-subject", _without(CONSENT, "subjectId"), ["Consent", "subjectId"],
        "Field required"),
    bad("unknown-field", {**CONSENT, "phone": "13800138000"}, ["Consent", "phone"],
        "Extra inputs are not permitted"),
    bad("unknown-action", {**BINDING, "action": "BOND"}, ["Binding", "action"],
        "Value error, must be one of ['BIND', 'REBIND', 'UNBIND']"),
    bad("enum-by-number", {**BINDING, "action": 0}, ["Binding", "action"],
        "Value error, must be one of ['BIND', 'REBIND', 'UNBIND']"),
    bad("unknown-factor", {**BINDING, "factors": ["SMS_OTP", "FINGERPRINT"]},
        ["Binding", "factors", 1], METHODS),
    bad("too-many-factors", {**BINDING, "factors": ["SMS_OTP"] * 5}, ["Binding", "factors"],
        "List should have at most 4 items after validation, not 5"),
    bad("enum-name-in-lower-case", {**VERIFICATION, "method": "sms_otp"},
        ["Verification", "method"], METHODS),
    bad("unknown-purpose", {**CONSENT, "purpose": "PROFILING"}, ["Consent", "purpose"],
        "Value error, must be one of ['LENDING', 'CONTACT', 'IDENTITY_VERIFICATION', "
        "'RISK_SHARING', 'REPAYMENT_NOTICE', 'MARKETING']"),
    bad("negative-timestamp", {**VERIFICATION, "timestamp": -1}, ["Verification", "timestamp"],
        NOT_NEGATIVE),
    bad("timestamp-2^64", {**VERIFICATION, "timestamp": 2**64}, ["Verification", "timestamp"],
        BELOW_2_64),
    bad("timestamp-10^30", {**VERIFICATION, "timestamp": 10**30},
        ["Verification", "timestamp"], BELOW_2_64),
    bad("fractional-timestamp", {**VERIFICATION, "timestamp": 1.5},
        ["Verification", "timestamp"], "Input should be a valid integer"),
    bad("timestamp-as-text", {**VERIFICATION, "timestamp": "5"},
        ["Verification", "timestamp"], "Input should be a valid integer"),
    bad("passed-as-text", {**VERIFICATION, "passed": "yes"},
        ["Verification", "passed"], "Input should be a valid boolean"),
    bad("passed-as-number", {**VERIFICATION, "passed": 1},
        ["Verification", "passed"], "Input should be a valid boolean"),
    bad("negative-expiry", {**CONSENT, "expiresAt": -5}, ["Consent", "expiresAt"],
        NOT_NEGATIVE),
    bad("expiry-2^64", {**CONSENT, "expiresAt": 2**64}, ["Consent", "expiresAt"], BELOW_2_64),
    bad("policy-hash-31-bytes", {**CONSENT, "policyHash": "0x" + "ab" * 31},
        ["Consent", "policyHash"], "Value error, value must be 32 bytes, got 31"),
    bad("policy-hash-33-bytes", {**CONSENT, "policyHash": "0x" + "ab" * 33},
        ["Consent", "policyHash"], "Value error, value must be 32 bytes, got 33"),
    bad("policy-hash-without-0x", {**CONSENT, "policyHash": "ab" * 32},
        ["Consent", "policyHash"], NOT_HEX + repr("ab" * 32)),
    bad("policy-hash-not-hex", {**CONSENT, "policyHash": "0x" + "zz" * 32},
        ["Consent", "policyHash"], NOT_HEX + repr("0x" + "zz" * 32)),
    bad("policy-hash-number", {**CONSENT, "policyHash": 7}, ["Consent", "policyHash"],
        NOT_HEX + "7"),
    bad("empty-phone", {**VERIFICATION, "phone": ""}, ["Verification", "phone"],
        "String should have at least 1 character"),
    bad("phone-too-long", {**VERIFICATION, "phone": "1" * 65}, ["Verification", "phone"],
        "String should have at most 64 characters"),
    bad("phone-as-number", {**VERIFICATION, "phone": 13800138000}, ["Verification", "phone"],
        "Input should be a valid string"),
    bad("empty-subject", {**VERIFICATION, "subjectId": ""}, ["Verification", "subjectId"],
        "String should have at least 1 character"),
    bad("subject-too-long", {**VERIFICATION, "subjectId": "x" * 257},
        ["Verification", "subjectId"], "String should have at most 256 characters"),
]


@chain_independent
@pytest.mark.parametrize(("draft", "errors"), BAD_DRAFTS)
def test_a_malformed_draft_is_refused_422_naming_the_field(
        shared: Shared, draft: Any, errors: list[tuple[list[Any], str]]) -> None:
    with client(shared.url) as a:
        response = a.post("/v1/records", json=draft)
    assert validation_errors(response) == errors


@chain_independent
@pytest.mark.parametrize(("phone", "detail"), [
    ("12", "not a valid phone number for its country code +86 (wrong length or unassigned range)"),
    ("abc", "not a phone number: contains no phone number"),
    ("   ", "phone number is empty"),
    ("138 0013 800", ("not a valid phone number for its country code +86 (wrong length or "
                      "unassigned range)")),
    ("+999 1234 5678", "not a phone number: unknown country code"),
])
@pytest.mark.parametrize("record_type", ["Binding", "Verification"])
def test_an_invalid_phone_number_is_refused_422_without_echoing_it(
        shared: Shared, record_type: str, phone: str, detail: str) -> None:
    with client(shared.url) as a:
        response = a.post("/v1/records", json={**DRAFTS[record_type], "phone": phone})
    assert ledger_error(response) == (422, "InvalidPhoneNumberError", detail)


@chain_independent
def test_a_blank_subject_id_is_refused_422(shared: Shared) -> None:
    with client(shared.url) as a:
        response = a.post("/v1/records", json={**VERIFICATION, "subjectId": " \t "})
    assert ledger_error(response) == (422, "InvalidIdentifierError", "subject identifier is empty")


@chain_independent
@pytest.mark.parametrize("path", ["/v1/records", "/v1/records/signed"])
@pytest.mark.parametrize("body", [b"not json", b"{", b'{"type": "Binding",}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_refused_422(shared: Shared, path: str, body: bytes) -> None:
    with client(shared.url) as a:
        response = post_json_bytes(a, path, body)
    [(loc, msg)] = validation_errors(response)
    assert (loc[0], msg) == ("body", "JSON decode error")


@chain_independent
def test_a_missing_body_is_refused_422(shared: Shared) -> None:
    with client(shared.url) as a:
        for path in ("/v1/records", "/v1/records/signed"):
            assert validation_errors(a.post(path)) == [(["body"], "Field required")]


@pytest.fixture
def signed_doc(shared: Shared) -> dict[str, Any]:
    """A valid record of platform A signed under the shared deployment's domain."""
    return signed_verification(shared.ledger, ADDRESS_A, KEY_A, subject_id="S-signed").to_json()


def _signed_case(change: dict[str, Any], detail: str, drop: str | None = None) -> Any:
    return pytest.param(change, drop, detail, id=detail[:50])


KNOWN_TYPES = sorted(RECORD_TYPES)
BAD_SIGNED = [
    _signed_case({"type": "Loan"}, f"unknown record type 'Loan'; expected one of {KNOWN_TYPES}"),
    _signed_case({}, f"unknown record type None; expected one of {KNOWN_TYPES}", drop="type"),
    _signed_case({}, "record has no signature", drop="signature"),
    _signed_case({}, "Verification: missing field(s) ['phone']", drop="phone"),
    _signed_case({"note": "x"}, "Verification: unknown field(s) ['note']"),
    _signed_case({"signature": "0x" + "11" * 64}, "signature must be 65 bytes, got 64"),
    _signed_case({"signature": "11" * 65}, "signature must be 0x-prefixed hex, got '1111"),
    _signed_case({"method": "PIN"}, "Verification.method must be one of ['SMS_OTP', 'LIVENESS', "
                 "'CARRIER_MATCH', 'SIM_SWAP_CHECK'], got 'PIN'"),
    _signed_case({"timestamp": -1}, "Verification.timestamp must be an integer in [0, 2^64), "
                 "got -1"),
    _signed_case({"timestamp": 2**64}, "Verification.timestamp must be an integer in [0, 2^64), "
                 "got 18446744073709551616"),
    _signed_case({"timestamp": "1700000000"}, "Verification.timestamp must be an integer in "
                 "[0, 2^64), got '1700000000'"),
    _signed_case({"passed": "yes"}, "Verification.passed must be true or false, got 'yes'"),
    _signed_case({"platform": "0x1234"}, "Verification.platform must be an address, "
                 "got '0x1234'"),
    _signed_case({"phone": "0x" + "00" * 31}, "Verification.phone must be 32 bytes, got 31"),
    _signed_case({"subject": None}, "Verification.subject must be 0x-prefixed hex, got None"),
]


@chain_independent
@pytest.mark.parametrize(("change", "drop", "detail"), BAD_SIGNED)
def test_a_malformed_signed_record_is_refused_422_naming_the_problem(
        shared: Shared, signed_doc: dict[str, Any], change: dict[str, Any], drop: str | None,
        detail: str) -> None:
    document = {k: v for k, v in {**signed_doc, **change}.items() if k != drop}
    with client(shared.url) as a:
        response = a.post("/v1/records/signed", json=document)
    status, error, actual = ledger_error(response)
    assert (status, error) == (422, "RecordDecodeError")
    assert actual.startswith(detail), actual


@chain_independent
@pytest.mark.parametrize("document", [[], "record", 5, None])
def test_a_signed_record_that_is_not_an_object_is_refused_422(shared: Shared,
                                                              document: Any) -> None:
    with client(shared.url) as a:
        response = post_json_bytes(a, "/v1/records/signed", json.dumps(document).encode())
    [(loc, msg)] = validation_errors(response)
    assert loc == ["body"] and msg in ("Input should be a valid dictionary", "Field required")


@pytest.mark.parametrize("record_type", [[], {}, ["Verification"]])
def test_a_record_type_that_is_an_array_or_object_is_refused_422(
        shared: Shared, signed_doc: dict[str, Any], record_type: Any) -> None:
    with client(shared.url) as a:
        response = a.post("/v1/records/signed", json={**signed_doc, "type": record_type})
    assert response.status_code == 422, response.text


# -- fuzz ---------------------------------------------------------------------------------

DRAFT_MEMBERS = sorted({k for d in DRAFTS.values() for k in d} - {"type"} | {"timestamp"})


def draft_like() -> Any:
    """Objects shaped like drafts: a (mostly) known type and members with random values."""
    return st.fixed_dictionaries(
        {"type": st.sampled_from([*DRAFTS, "Loan", ""]) | json_values(4)},
        optional={name: st.sampled_from([v for d in DRAFTS.values() for k, v in d.items()
                                         if k == name] or [None]) | json_values(6)
                  for name in DRAFT_MEMBERS},
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_values() | draft_like(), signed=st.booleans())
def test_random_json_posted_as_a_record_never_gets_a_5xx(
        shared: Shared, document: Any, signed: bool) -> None:
    with client(shared.url) as a:
        response = a.post("/v1/records/signed" if signed else "/v1/records", json=document)
    assert response.status_code < 500, (document, response.text)
    if response.status_code >= 400:
        assert response.json()["detail"], response.text  # a refusal always says why
    else:
        assert response.status_code == 201
