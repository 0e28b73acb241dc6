"""The rule routes over real HTTP, on eth-tester and on anvil: subjects, loans, disputes and
freezes. Records pass the contract's rules before they are stored; a refusal is a 422 naming the
rule, the contract's custom error and its arguments.

The ledger runs on BindLedgerHarness (a test-only BindLedger whose clock the test sets), so that
cooling periods and repayment status are tested without waiting.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.main import create_app
from ledger.anchors import AnchorContract
from ledger.artifacts import load_artifact
from ledger.chain.client import ChainClient
from ledger.config import DEV_REGULATOR_API_KEY, Settings
from ledger.core.encoding import to_hex
from ledger.core.records import Binding, BindingAction, sign_record
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.api import API_KEY_A, API_KEY_B, POLICY_HASH, client
from tests.support.server import serving

HOUR = 3600
DAY = 24 * HOUR
COOLING = 72 * HOUR
GRACE = 15 * DAY
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z

embedded_only = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


@dataclass
class Rig:
    """A served ledger on the harness contract, with clients for two platforms and a regulator."""

    ledger: Ledger
    a: httpx.Client
    b: httpx.Client
    regulator: httpx.Client
    now: int = T0

    def set_time(self, time: int) -> None:
        self.now = time
        chain = self.ledger.chain
        # A known gas limit: eth-tester estimates gas by binary search, a dozen executions.
        sent = chain.sign_call(Settings().admin_account,
                               self.ledger.contract.contract.functions.setTime(time), gas=100_000)
        chain.broadcast(sent)
        chain.wait_for_receipt(sent.tx_hash)

    def subject_ref(self, subject_id: str) -> str:
        return to_hex(self.ledger.refs.subject(subject_id))


@pytest.fixture
def rig(settings: Settings, chain: ChainClient, store: SqliteStore) -> Iterator[Rig]:
    admin = settings.admin_account
    chain.fund(admin.address)
    artifact = load_artifact("BindLedgerHarness")
    contract = AnchorContract(chain, chain.deploy(admin, artifact, admin.address), artifact)
    ledger = open_ledger(settings, chain=chain, store=store, contract=contract)
    with (serving(create_app(settings, ledger, run_worker=False)) as url,
          client(url, API_KEY_A) as a, client(url, API_KEY_B) as b,
          client(url, DEV_REGULATOR_API_KEY) as regulator):
        rig = Rig(ledger, a, b, regulator)
        rig.set_time(T0)
        # Records are stamped with the harness's time: the contract takes only those within its
        # window around its own clock.
        ledger._clock = lambda: rig.now
        yield rig


@pytest.fixture
def subject_id() -> str:
    return f"SUBJECT-{uuid.uuid4().hex}"


# --- Helpers: the drafts a platform sends ---------------------------------------------------


def post_record(c: httpx.Client, doc: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = c.post("/v1/subjects/records", json=doc)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def verification(subject_id: str, method: str, passed: bool = True,
                 phone: str = "138 0013 8000") -> dict[str, Any]:
    return {"type": "Verification", "subjectId": subject_id, "method": method, "passed": passed,
            "phone": phone}


def binding(subject_id: str, factors: list[str], action: str = "BIND",
            phone: str = "138 0013 8000") -> dict[str, Any]:
    return {"type": "Binding", "subjectId": subject_id, "action": action, "phone": phone,
            "accountId": "ACCOUNT-1", "factors": factors}


def consent(subject_id: str, purpose: str = "LENDING", expires_at: int = T0 + 365 * DAY,
            action: str = "GIVEN") -> dict[str, Any]:
    return {"type": "Consent", "subjectId": subject_id, "action": action, "purpose": purpose,
            "policyHash": POLICY_HASH, "expiresAt": expires_at}


def schedule(start: int, count: int = 3, amount: int = 100) -> dict[str, list[int]]:
    return {"dueTimes": [start + 30 * DAY * (i + 1) for i in range(count)],
            "amounts": [amount] * count}


def create_loan(c: httpx.Client, subject_id: str, loan_number: str = "LOAN-1",
                start: int = T0, count: int = 3) -> dict[str, Any]:
    response = c.post("/v1/loans", json={"subjectId": subject_id, "loanId": loan_number,
                                         **schedule(start, count)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def disburse(c: httpx.Client, loan_id: str, amount: int = 300) -> httpx.Response:
    return c.post(f"/v1/loans/{loan_id}/disburse", json={"amount": amount})


def refusal(response: httpx.Response) -> tuple[int, str | None, str, dict[str, Any]]:
    """(status, rule, custom error, facts) of a refusal by the contract."""
    body = response.json()
    return response.status_code, body["rule"], body["reason"], body["facts"]


def risk(c: httpx.Client, loan_id: str) -> dict[str, Any]:
    response = c.get(f"/v1/loans/{loan_id}/risk")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def onboard(c: httpx.Client, subject_id: str) -> None:
    """Verified by SMS code and liveness, bound with both, lending and contact consent given."""
    post_record(c, verification(subject_id, "SMS_OTP"))
    post_record(c, verification(subject_id, "LIVENESS"))
    post_record(c, binding(subject_id, ["SMS_OTP", "LIVENESS"]))
    post_record(c, consent(subject_id, "LENDING"))
    post_record(c, consent(subject_id, "CONTACT"))


# --- The channel-takeover case, end to end ----------------------------------------------------


def test_channel_takeover_end_to_end(rig: Rig, subject_id: str) -> None:
    a = rig.a
    ref = rig.subject_ref(subject_id)
    onboard(a, subject_id)
    created = create_loan(a, subject_id)
    loan_id, due = created["id"], T0 + 30 * DAY
    assert disburse(a, loan_id).status_code == 201
    bound = a.get(f"/v1/subjects/{ref}/binding").json()
    assert (bound["active"], bound["factors"]) == (True, ["SMS_OTP", "LIVENESS"])

    # Weeks later the carrier reports a SIM swap, and the number is rebound by someone else.
    rig.set_time(due - 3 * DAY)
    post_record(a, verification(subject_id, "SIM_SWAP_CHECK", passed=False))
    rig.set_time(rig.now + HOUR)
    post_record(a, binding(subject_id, ["SMS_OTP"], action="REBIND", phone="139 1234 5678"))
    ends = rig.now + COOLING
    assert risk(a, loan_id)["contactRisk"] is True
    bound = a.get(f"/v1/subjects/{ref}/binding").json()
    assert (bound["active"], bound["coolingEndsAt"]) == (False, ends)

    # The new holder tries to move the repayment channel: refused during cooling (R4), and the
    # refused record is not in the log (the subject's head there is still the chain's).
    platform_a = next(iter(rig.ledger.platforms))
    head_before = rig.ledger.subject_head(platform_a, bytes.fromhex(ref[2:]))
    response = a.post(f"/v1/loans/{loan_id}/channel", json={"channel": "ATTACKER-BANK-9"})
    assert refusal(response) == (422, "R4", "RiskRulesCoolingPeriod",
                                 {"subject": ref, "endsAt": ends})
    body = response.json()
    assert body["error"] == "RuleRefusedError" and "R4" in body["detail"]
    evidence = body["evidence"]
    assert evidence["function"] == "changeRepaymentChannel"
    assert evidence["record"]["type"] == "ChannelChange" and evidence["blockNumber"] is not None
    assert rig.ledger.subject_head(platform_a, bytes.fromhex(ref[2:])) == head_before
    assert to_hex(head_before) == a.get(f"/v1/subjects/{ref}/binding").json()["head"]

    # Repayment notices went astray; the borrower disputes, and late status stops advancing.
    rig.set_time(due + 5 * DAY)
    assert risk(a, loan_id)["status"] == "GRACE"
    response = a.post("/v1/disputes", json={"loanId": loan_id})
    assert response.status_code == 201, response.text
    dispute_id = response.json()["id"]
    rig.set_time(due + 60 * DAY)
    state = risk(a, loan_id)
    assert (state["status"], state["disputeOpen"]) == ("GRACE", True)

    # The borrower re-verifies with face liveness: the contact-risk flag is cleared.
    post_record(a, verification(subject_id, "LIVENESS"))
    state = risk(a, loan_id)
    assert (state["contactRisk"], state["disputeOpen"], state["status"]) == (False, True, "GRACE")

    # Resolved: the dispute closes, the installment is paid, the loan is current; the 55 days of
    # dispute move the later due times.
    response = a.post(f"/v1/disputes/{dispute_id}/close")
    assert response.status_code == 201, response.text
    assert response.json()["loanId"] == loan_id
    response = a.post(f"/v1/loans/{loan_id}/repayments", json={"amount": 100})
    assert response.status_code == 201, response.text
    state = risk(a, loan_id)
    assert (state["status"], state["pausedTotal"], state["nextDue"], state["repaid"]) == (
        "CURRENT", 55 * DAY, T0 + 60 * DAY + 55 * DAY, 100)

    # Every accepted record has an inclusion proof; the last one is the chain's subject head.
    record_id = response.json()["record"]["id"]
    assert a.post("/v1/anchor").status_code == 200
    proof = a.get(f"/v1/records/{record_id}/proof")
    assert proof.status_code == 200, proof.text
    assert proof.json()["record"]["type"] == "Repayment"
    assert a.get(f"/v1/subjects/{ref}/binding").json()["head"] == (
        response.json()["record"]["recordHash"])
    verdict = a.post("/v1/verify", json=proof.json())
    assert verdict.status_code == 200 and verdict.json()["verified"] is True, verdict.text


# --- Disbursement refusals name the rule and the facts -----------------------------------------


def test_disbursement_refusals_name_each_rule(rig: Rig, subject_id: str) -> None:
    a = rig.a
    ref = rig.subject_ref(subject_id)
    loan_id = create_loan(a, subject_id)["id"]
    assert refusal(disburse(a, loan_id)) == (422, "R1", "RiskRulesNoActiveBinding",
                                             {"subject": ref})
    post_record(a, binding(subject_id, ["SMS_OTP"]))
    assert refusal(disburse(a, loan_id)) == (
        422, "R2", "RiskRulesTooFewFactors", {"subject": ref, "factors": 1, "required": 2})
    post_record(a, binding(subject_id, ["SMS_OTP", "LIVENESS"], action="REBIND"))
    ends = T0 + COOLING
    assert refusal(disburse(a, loan_id)) == (
        422, "R3", "RiskRulesNoConsent", {"subject": ref, "purpose": "LENDING"})
    post_record(a, consent(subject_id, expires_at=T0 + DAY))
    assert refusal(disburse(a, loan_id)) == (
        422, "R4", "RiskRulesCoolingPeriod", {"subject": ref, "endsAt": ends})
    rig.set_time(ends)
    # An expired lending consent stops the route before the contract is asked (api/purposes.py);
    # the contract's own R3 refusal of it is shown in tests/contracts.
    expired = disburse(a, loan_id)
    assert (expired.status_code, expired.json()["error"], expired.json()["consentState"]) == (
        403, "ConsentNotGivenError", "expired")
    post_record(a, consent(subject_id, expires_at=T0 + 365 * DAY))
    assert disburse(a, loan_id).status_code == 201

    # A second loan while the first is past its grace period (R7).
    second = create_loan(a, subject_id, "LOAN-2", start=rig.now)
    first_loan = risk(a, loan_id)["loan"]
    rig.set_time(T0 + 30 * DAY + GRACE + 1)
    assert refusal(disburse(a, second["id"])) == (
        422, "R7", "RiskRulesSubjectInArrears",
        {"subject": ref, "platform": next(iter(rig.ledger.platforms)), "loan": first_loan,
         "status": "DELINQUENT"})
    response = a.post(f"/v1/loans/{loan_id}/repayments", json={"amount": 100})
    assert response.status_code == 201, response.text

    # A regulator freezes the loan (a loan is its platform's), then the platform (R8).
    platform_a = next(iter(rig.ledger.platforms))
    freeze = {"platform": platform_a, "subject": ref, "loan": second["loan"]}
    response = rig.regulator.post("/v1/freezes", json=freeze)
    assert response.status_code == 200, response.text
    assert risk(a, second["id"])["frozen"] is True
    assert refusal(disburse(a, second["id"])) == (
        422, "R8", "RiskRulesLoanFrozen",
        {"platform": platform_a, "subject": ref, "loan": second["loan"]})
    assert rig.regulator.post("/v1/freezes", json={**freeze, "frozen": False}).status_code == 200
    response = rig.regulator.post("/v1/freezes", json={"platform": platform_a.lower()})
    assert response.status_code == 200, response.text
    assert response.json()["platform"] == platform_a
    assert refusal(disburse(a, second["id"])) == (
        422, "R8", "RiskRulesPlatformFrozen", {"platform": platform_a})
    assert a.get(f"/v1/subjects/{ref}/binding").json()["platformFrozen"] is True
    response = rig.regulator.post("/v1/freezes", json={"platform": platform_a, "frozen": False})
    assert response.status_code == 200
    assert disburse(a, second["id"]).status_code == 201


# --- Each route's answers ---------------------------------------------------------------------


@embedded_only
def test_loan_routes_answer_conflicts_and_unknown_loans(rig: Rig, subject_id: str) -> None:
    a, b = rig.a, rig.b
    onboard(a, subject_id)
    created = create_loan(a, subject_id)
    loan_id = created["id"]
    assert created["record"]["type"] == "LoanCreation" and created["loan"] != loan_id
    # The same loan number again: the contract holds it already.
    response = a.post("/v1/loans", json={"subjectId": subject_id, "loanId": "LOAN-1",
                                         **schedule(T0)})
    assert refusal(response)[:3] == (409, None, "RiskRulesLoanExists")
    # Another platform may number its loan the same: loan ids are per platform.
    post_record(b, binding(subject_id, ["SMS_OTP", "LIVENESS"]))
    assert create_loan(b, subject_id)["loan"] != created["loan"]
    # A schedule the contract refuses.
    response = a.post("/v1/loans", json={"subjectId": subject_id, "loanId": "LOAN-9",
                                         "dueTimes": [T0 + DAY, T0 + DAY], "amounts": [1, 2]})
    assert refusal(response) == (422, None, "RiskRulesInvalidSchedule",
                                 {"loan": response.json()["facts"]["loan"], "index": 1})
    # Repaying before disbursement, disbursing twice: the wrong phase.
    response = a.post(f"/v1/loans/{loan_id}/repayments", json={"amount": 1})
    assert refusal(response)[:4] == (409, None, "RiskRulesWrongLoanPhase",
                                     {"loan": created["loan"], "phase": "CREATED",
                                      "required": "DISBURSED"})
    assert disburse(a, loan_id).status_code == 201
    assert refusal(disburse(a, loan_id))[:3] == (409, None, "RiskRulesWrongLoanPhase")
    # Unknown ids, other platforms' loans and malformed input.
    unknown = "0x" + "ab" * 32
    for path in (f"/v1/loans/{unknown}/risk", f"/v1/loans/{loan_id}/risk"):
        c = a if unknown in path else b
        response = c.get(path)
        assert (response.status_code, response.json()["error"]) == (
            404, "RuleRecordNotFoundError"), path
    assert disburse(a, unknown).status_code == 404
    assert a.get("/v1/loans/0x1234/risk").status_code == 422
    assert disburse(a, loan_id, amount=-1).status_code == 422
    response = a.post("/v1/loans", json={"subjectId": subject_id, "loanId": "L", "dueTimes": [],
                                         "amounts": []})
    assert response.status_code == 422
    assert httpx.get(f"{a.base_url}/v1/loans/{loan_id}/risk").status_code == 401
    # A regulator reads any platform's loan without naming the platform: the loan id does.
    regulator_view = rig.regulator.get(f"/v1/loans/{loan_id}/risk")
    assert regulator_view.status_code == 200, regulator_view.text
    assert regulator_view.json() == a.get(f"/v1/loans/{loan_id}/risk").json()
    response = rig.regulator.get(f"/v1/loans/{unknown}/risk")
    assert (response.status_code, response.json()["error"]) == (404, "RuleRecordNotFoundError")
    # The collection contact needs contact consent (given in onboard): accepted.
    response = a.post(f"/v1/loans/{loan_id}/contacts", json={"channel": "138 0013 8000"})
    assert response.status_code == 201, response.text
    assert a.post(f"/v1/loans/{loan_id}/contacts", json={"channel": "x"}).status_code == 422


@embedded_only
def test_collection_contact_without_consent_is_refused_r3(rig: Rig, subject_id: str) -> None:
    a = rig.a
    post_record(a, binding(subject_id, ["SMS_OTP", "LIVENESS"]))
    post_record(a, consent(subject_id))
    loan_id = create_loan(a, subject_id)["id"]
    response = a.post(f"/v1/loans/{loan_id}/contacts", json={"channel": "138 0013 8000"})
    assert refusal(response) == (422, "R3", "RiskRulesNoConsent",
                                 {"subject": rig.subject_ref(subject_id), "purpose": "CONTACT"})


@embedded_only
def test_dispute_routes(rig: Rig, subject_id: str) -> None:
    a, b = rig.a, rig.b
    onboard(a, subject_id)
    loan = create_loan(a, subject_id)
    response = a.post("/v1/disputes", json={"loanId": loan["id"]})
    assert response.status_code == 201, response.text
    dispute_id = response.json()["id"]
    # One dispute at a time.
    assert refusal(a.post("/v1/disputes", json={"loanId": loan["id"]})) == (
        409, None, "RiskRulesDisputeState", {"loan": loan["loan"], "open": True})
    # Another platform cannot see or close it.
    assert b.post(f"/v1/disputes/{dispute_id}/close").status_code == 404
    assert b.post("/v1/disputes", json={"loanId": loan["id"]}).status_code == 404
    response = a.post(f"/v1/disputes/{dispute_id}/close", json={"timestamp": T0})
    assert response.status_code == 201, response.text
    # Closed already; a closing record is no dispute to close.
    response = a.post(f"/v1/disputes/{dispute_id}/close")
    assert (response.status_code, response.json()["error"]) == (409, "DisputeClosedError")
    closing = a.post(f"/v1/disputes/{loan['id']}/close")
    assert closing.status_code == 404
    assert a.post("/v1/disputes", json={"loanId": "0x12"}).status_code == 422


@embedded_only
def test_freezes_need_a_regulator(rig: Rig, subject_id: str) -> None:
    platform_a = next(iter(rig.ledger.platforms))
    response = rig.a.post("/v1/freezes", json={"platform": platform_a})
    assert (response.status_code, response.json()["detail"]) == (
        403, "this route needs a regulator's API key; the key given is a platform's")
    with client(str(rig.a.base_url), "not-a-key") as stranger:
        assert stranger.post("/v1/freezes", json={"platform": platform_a}).status_code == 401
    with client(str(rig.a.base_url), None) as anonymous:
        assert anonymous.post("/v1/freezes", json={"platform": platform_a}).status_code == 401
    for body in ({}, {"platform": platform_a, "subject": "0x" + "00" * 32},
                 {"subject": "0x" + "00" * 32, "loan": "0x" + "00" * 32},
                 {"platform": "0x1234"}):
        assert rig.regulator.post("/v1/freezes", json=body).status_code == 422, body
    unknown = {"platform": platform_a, "subject": "0x" + "01" * 32, "loan": "0x" + "02" * 32}
    response = rig.regulator.post("/v1/freezes", json=unknown)
    assert refusal(response) == (404, None, "RiskRulesUnknownLoan", unknown)
    # A regulator whose role was revoked is refused by the contract: the role is on chain.
    contract = rig.ledger.contract.contract
    regulator = Settings().regulator_list[0]
    rig.ledger.chain.transact(Settings().admin_account, contract.functions.revokeRole(
        contract.functions.REGULATOR_ROLE().call(), regulator.address))
    response = rig.regulator.post("/v1/freezes", json={"platform": platform_a})
    assert refusal(response)[:3] == (403, None, "AccessControlUnauthorizedAccount")


@embedded_only
def test_subject_routes(rig: Rig, subject_id: str) -> None:
    a, b = rig.a, rig.b
    ref = rig.subject_ref(subject_id)
    empty = a.get(f"/v1/subjects/{ref}/binding").json()
    assert (empty["bound"], empty["active"], empty["head"]) == (False, False, "0x" + "00" * 32)
    assert a.get("/v1/subjects/0x12/binding").status_code == 422
    assert httpx.get(f"{a.base_url}/v1/subjects/{ref}/binding").status_code == 401
    # Binding state follows the contract's rules: a second BIND is a conflict.
    created = post_record(a, binding(subject_id, ["SMS_OTP", "LIVENESS"]))
    assert created["type"] == "Binding" and created["txHash"].startswith("0x")
    response = a.post("/v1/subjects/records", json=binding(subject_id, ["SMS_OTP"]))
    assert refusal(response) == (409, None, "RiskRulesAlreadyBound", {"subject": ref})
    state = a.get(f"/v1/subjects/{ref}/binding").json()
    assert (state["bound"], state["active"], state["head"]) == (True, True, created["recordHash"])
    # Each platform has its own view of the subject.
    assert b.get(f"/v1/subjects/{ref}/binding").json()["bound"] is False
    assert a.post("/v1/subjects/records", json={"type": "Binding"}).status_code == 422


@embedded_only
def test_platform_signed_rule_records_are_relayed(rig: Rig, subject_id: str) -> None:
    a = rig.a
    ledger = rig.ledger
    platform = next(iter(ledger.platforms.values()))
    subject = ledger.refs.subject(subject_id)

    def signed(prev: bytes, action: BindingAction = BindingAction.BIND) -> dict[str, Any]:
        record = Binding(platform=platform.address, subject=subject, prev=prev, timestamp=T0,
                         action=action, phone=ledger.refs.phone("138 0013 8000"),
                         account=ledger.refs.account("A-1"), factors=3)
        return sign_record(record, ledger.domain, bytes(platform.account.key)).to_json()

    first = signed(bytes(32))
    response = a.post("/v1/subjects/records/signed", json=first)
    assert response.status_code == 201, response.text
    head = bytes.fromhex(response.json()["recordHash"][2:])
    # The same record again, or one on a stale head: the hash chain refuses it before the chain.
    again = a.post("/v1/subjects/records/signed", json=first)
    assert (again.status_code, again.json()["error"]) == (409, "ChainBreakError")
    # Another platform's API key cannot relay it.
    response = rig.b.post("/v1/subjects/records/signed",
                          json=signed(head, BindingAction.REBIND))
    assert response.status_code == 403
    response = a.post("/v1/subjects/records/signed", json=signed(head, BindingAction.REBIND))
    assert response.status_code == 201, response.text


def test_records_written_to_the_log_only_reach_the_contract_before_the_next_rule_record(
        rig: Rig, subject_id: str) -> None:
    """POST /v1/records is the fast path (log only); the contract learns of the records it
    holds when the subject's next rule record comes, and judges with them."""
    a, ref = rig.a, rig.subject_ref(subject_id)
    logged = a.post("/v1/records", json=binding(subject_id, ["SMS_OTP", "LIVENESS"]))
    assert logged.status_code == 201, logged.text
    assert a.get(f"/v1/subjects/{ref}/binding").json()["bound"] is False
    created = post_record(a, verification(subject_id, "CARRIER_MATCH"))
    bound = a.get(f"/v1/subjects/{ref}/binding").json()
    assert bound["bound"] is True and bound["head"] == created["recordHash"]


def test_p1_phone_signals_show_a_swap_detected_at_another_platform(
    rig: Rig, subject_id: str
) -> None:
    phone = "138 0013 8000"
    phone_ref = to_hex(rig.ledger.refs.phone(phone))
    empty = rig.b.get(f"/v1/phones/{phone_ref}/signals")
    assert empty.status_code == 200, empty.text
    assert (empty.json()["holder"], empty.json()["coolingEndsAt"]) == (None, 0)
    post_record(rig.a, binding(subject_id, ["SMS_OTP", "LIVENESS"], phone=phone))
    post_record(rig.a, verification(subject_id, "SIM_SWAP_CHECK", passed=False, phone=phone))
    # The other platform, and a regulator, see the swap detected at the first.
    for reader in (rig.b, rig.regulator):
        signals = reader.get(f"/v1/phones/{phone_ref}/signals").json()
        assert signals == {
            "phone": phone_ref, "holder": rig.subject_ref(subject_id),
            "coolingEndsAt": T0 + COOLING, "holderCoolingEndsAt": T0 + COOLING,
            "holderNumberReused": False, "holderOpenLoans": 0,
        }
