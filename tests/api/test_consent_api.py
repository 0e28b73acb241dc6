"""Purpose-bound consent in every route (PIPL art. 14-15), over real HTTP on the harness
contract: each route whose legal basis is consent (api/purposes.py) serves a subject whose
consent for the route's purpose is given, and stops at once, 403 naming the purpose and the
consent's state, once that consent is withdrawn, refused or expired. Routes of another basis
(the subject's copy, the timeline, repayments under the contract) go on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.purposes import ROUTES, LegalBasis, purpose_of
from ledger.config import Settings
from ledger.core.encoding import to_hex
from ledger.core.records import Verification, VerificationMethod, sign_record
from tests.api.test_rules_api import (
    DAY,
    T0,
    Rig,
    consent,
    create_loan,
    disburse,
    embedded_only,
    onboard,
    post_record,
    rig,
    subject_id,
    verification,
)
from tests.support.api import ADDRESS_A, ledger_error

__all__ = ["rig", "subject_id"]  # fixtures, shared with the rule routes' tests

PHONE = "138 0013 8000"
EVIDENCE = b'{"carrier":"CMCC","match":true}'


@dataclass
class Story:
    """A borrower onboarded with every purpose consented to, a loan disbursed, another created,
    a verification with evidence, all anchored: what every route needs to answer 2xx."""

    rig: Rig
    subject_id: str
    ref: str
    loan: str  # disbursed
    fresh_loan: str  # created, not disbursed
    record: dict[str, Any]  # a Verification with evidence
    bare: dict[str, Any]  # a Verification without


def tell(rig: Rig, subject_id: str) -> Story:
    a = rig.a
    onboard(a, subject_id)
    for purpose in ("IDENTITY_VERIFICATION", "RISK_SHARING"):
        post_record(a, consent(subject_id, purpose))
    loan = create_loan(a, subject_id, "LOAN-1")["id"]
    assert disburse(a, loan).status_code == 201
    fresh = create_loan(a, subject_id, "LOAN-2")["id"]
    record = post_record(a, verification(subject_id, "CARRIER_MATCH"))
    bare = post_record(a, verification(subject_id, "CARRIER_MATCH"))
    attached = a.post(f"/v1/records/{record['id']}/evidence", content=EVIDENCE,
                      headers={"Content-Type": "application/json"})
    assert attached.status_code == 201, attached.text
    assert a.post("/v1/anchor").status_code == 200
    return Story(rig, subject_id, rig.subject_ref(subject_id), loan, fresh, record, bare)


def signed_verification(story: Story) -> dict[str, Any]:
    """A Verification the platform signed itself, on the subject's head."""
    ledger = story.rig.ledger
    platform = ledger.platform(ADDRESS_A)
    subject = ledger.refs.subject(story.subject_id)
    record = Verification(platform=platform.address, subject=subject,
                          prev=ledger.subject_head(platform.address, subject),
                          timestamp=ledger.now(), method=VerificationMethod.SMS_OTP,
                          passed=True, phone=ledger.refs.phone(PHONE))
    return sign_record(record, ledger.domain, bytes(platform.account.key)).to_json()


# One request per route whose basis is consent: what a platform sends there for the subject.
REQUESTS: dict[str, Callable[[Story], httpx.Response]] = {
    "POST /v1/subjects/records": lambda s: s.rig.a.post(
        "/v1/subjects/records", json=verification(s.subject_id, "SMS_OTP")),
    "POST /v1/subjects/records/signed": lambda s: s.rig.a.post(
        "/v1/subjects/records/signed", json=signed_verification(s)),
    "GET /v1/subjects/{ref}/binding": lambda s: s.rig.a.get(f"/v1/subjects/{s.ref}/binding"),
    "GET /v1/phones/{ref}/signals": lambda s: s.rig.a.get(
        f"/v1/phones/{to_hex(s.rig.ledger.refs.phone(PHONE))}/signals"),
    "POST /v1/loans": lambda s: s.rig.a.post("/v1/loans", json={
        "subjectId": s.subject_id, "loanId": "LOAN-3", "dueTimes": [T0 + 30 * DAY],
        "amounts": [100]}),
    "POST /v1/loans/{loan_id}/disburse": lambda s: disburse(s.rig.a, s.fresh_loan),
    "GET /v1/loans/{loan_id}/risk": lambda s: s.rig.a.get(f"/v1/loans/{s.loan}/risk"),
    "POST /v1/loans/{loan_id}/contacts": lambda s: s.rig.a.post(
        f"/v1/loans/{s.loan}/contacts", json={"channel": PHONE}),
    "POST /v1/records": lambda s: s.rig.a.post(
        "/v1/records", json=verification(s.subject_id, "SMS_OTP")),
    "POST /v1/records/signed": lambda s: s.rig.a.post(
        "/v1/records/signed", json=signed_verification(s)),
    "POST /v1/records/signed/batch": lambda s: s.rig.a.post(
        "/v1/records/signed/batch", json={"records": [signed_verification(s)]}),
    "GET /v1/records": lambda s: s.rig.a.get(
        "/v1/records", params={"hash": s.record["recordHash"]}),
    "GET /v1/records/{record_id}": lambda s: s.rig.a.get(f"/v1/records/{s.record['id']}"),
    "GET /v1/records/{record_id}/proof": lambda s: s.rig.a.get(
        f"/v1/records/{s.record['id']}/proof"),
    "POST /v1/records/{record_id}/evidence": lambda s: s.rig.a.post(
        f"/v1/records/{s.bare['id']}/evidence", content=EVIDENCE,
        headers={"Content-Type": "application/json"}),
    "GET /v1/records/{record_id}/evidence": lambda s: s.rig.a.get(
        f"/v1/records/{s.record['id']}/evidence"),
}
# The record type those of REQUESTS that take records of any type send or read.
RECORD_TYPE = "Verification"


def consent_routes() -> list[str]:
    return [route for route, basis in ROUTES.items() if basis.basis is LegalBasis.CONSENT]


def test_the_table_names_every_route_of_the_api_and_no_other(settings: Settings) -> None:
    paths = create_app(settings).openapi()["paths"]
    served = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    assert served == set(ROUTES)
    assert set(REQUESTS) == set(consent_routes())  # every consent route is tested below


def stopped(response: httpx.Response, purpose: str, state: str) -> bool:
    status, error, detail = ledger_error(response)
    body = response.json()
    return (status, error, body["purpose"], body["consentState"]) == (
        403, "ConsentNotGivenError", purpose, state) and purpose in detail


@embedded_only
@pytest.mark.parametrize("route", consent_routes())
def test_a_withdrawn_or_expired_consent_stops_the_route_at_once(
        rig: Rig, subject_id: str, route: str) -> None:
    story = tell(rig, subject_id)
    purpose = purpose_of(route, RECORD_TYPE)
    assert purpose is not None
    request = REQUESTS[route]

    post_record(rig.a, consent(subject_id, purpose.name, action="WITHDRAWN"))
    response = request(story)
    assert stopped(response, purpose.name, "withdrawn"), response.text

    post_record(rig.a, consent(subject_id, purpose.name, action="REFUSED"))
    assert stopped(request(story), purpose.name, "refused")

    # Given again, until tomorrow: served; the day after, expired.
    post_record(rig.a, consent(subject_id, purpose.name, expires_at=rig.now + DAY))
    response = request(story)
    assert response.status_code in (200, 201), response.text
    rig.set_time(rig.now + DAY)
    assert stopped(request(story), purpose.name, "expired")


@embedded_only
def test_a_withdrawal_stops_its_purpose_only_and_not_the_subjects_rights(
        rig: Rig, subject_id: str) -> None:
    story = tell(rig, subject_id)
    a = rig.a
    for purpose in ("RISK_SHARING", "MARKETING", "REPAYMENT_NOTICE", "CONTACT"):
        post_record(a, consent(subject_id, purpose, action="WITHDRAWN"))
    # Lending goes on: consent for lending is its own.
    assert disburse(a, story.fresh_loan).status_code == 201
    post_record(a, consent(subject_id, "LENDING", action="WITHDRAWN"))
    assert stopped(a.get(f"/v1/loans/{story.loan}/risk"), "LENDING", "withdrawn")
    # Under the contract, the loan is still repaid; the subject still gets its timeline and
    # copy; a regulator still reads what the platform may not.
    assert a.post(f"/v1/loans/{story.loan}/repayments", json={"amount": 100}).status_code == 201
    assert a.get(f"/v1/subjects/{story.ref}/timeline").status_code in (200, 409)
    assert a.post("/v1/anchor").status_code == 200
    assert a.get(f"/v1/subjects/{story.ref}/export").status_code == 200
    assert rig.regulator.get(f"/v1/loans/{story.loan}/risk").status_code == 200

