"""Loans: creation, disbursement (rules R1-R4, R7, R8), repayments, channel changes (R4),
collection contacts (R3), and the loan's risk as the contract sees it (R5, R6).

A loan's id in this API is the hash of its creation record: it names the platform, the subject
and the schedule, all kept in the log, and is the record the contract accepted on chain.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from api.access import ReadsDep
from api.auth import PlatformDep, ReaderDep
from api.deps import LedgerDep
from api.problems import problems
from api.purposes import Consents, ConsentsDep
from api.routes.subjects import HEX32, REFUSALS
from api.rule_models import LoanCreated, LoanRecordCreated, LoanRisk, RuleRecordCreated
from api.rules import RulesDep, RulesRoute
from ledger.config import Platform
from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import LoanCreation
from ledger.drafts import (
    ChannelChangeDraft,
    CollectionContactDraft,
    DisbursementDraft,
    LoanDraft,
    LoanEventDraft,
    RepaymentDraft,
    prepare_loan,
    prepare_loan_event,
)
from ledger.rules import RuleRecordNotFoundError, RulesClient
from ledger.service import Ledger

LoanId = Annotated[str, Path(pattern=HEX32, description="the loan's id (its creation record hash)")]

router = APIRouter(prefix="/v1/loans", tags=["rules"], route_class=RulesRoute)


def loan_creation(rules: RulesClient, platform: str, loan_id: str) -> LoanCreation:
    """The loan with this id of the platform at address `platform`; 404
    (RuleRecordNotFoundError) otherwise."""
    stored = rules.stored(platform, from_hex(loan_id, length=32, what="loan id"), LoanCreation)
    record = stored.signed.record
    assert isinstance(record, LoanCreation)
    return record


# Every loan event answers alike: 201 with the stored record, or the contract's refusal.
LOAN_EVENT: dict[str, Any] = {
    "status_code": status.HTTP_201_CREATED,
    "response_model": LoanRecordCreated,
    "response_model_by_alias": True,
    "responses": REFUSALS,
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LoanCreated,
    response_model_by_alias=True,
    responses=REFUSALS,
)
def create_loan(
    draft: LoanDraft, ledger: LedgerDep, rules: RulesDep, platform: PlatformDep,
    consents: ConsentsDep,
) -> LoanCreated:
    """Create a loan with its schedule: the contract checks the schedule and keeps its hash."""
    prepared = prepare_loan(draft, platform.address, ledger.refs, ledger.now())
    consents.check(platform.address, prepared.subject)
    done = rules.sign_and_submit(platform, prepared.subject, prepared.build)
    record = done.accepted.record.record
    assert isinstance(record, LoanCreation)
    return LoanCreated(id=to_hex(done.accepted.row.record_hash), loan=to_hex(record.loan),
                       record=RuleRecordCreated.of(done))


def _loan_event(
    loan_id: str, draft: LoanEventDraft, ledger: Ledger, rules: RulesClient, platform: Platform,
    consents: Consents,
) -> LoanRecordCreated:
    creation = loan_creation(rules, platform.address, loan_id)
    prepared = prepare_loan_event(draft, creation, ledger.refs, ledger.now())
    consents.check(platform.address, prepared.subject)
    done = rules.sign_and_submit(platform, prepared.subject, prepared.build)
    return LoanRecordCreated(loan_id=loan_id.lower(), record=RuleRecordCreated.of(done))


@router.post("/{loan_id}/disburse", **LOAN_EVENT)
def disburse(
    loan_id: LoanId, draft: DisbursementDraft, ledger: LedgerDep, rules: RulesDep,
    platform: PlatformDep, consents: ConsentsDep,
) -> LoanRecordCreated:
    """Disburse the loan. Refused (422, naming the rule and its facts) without an active
    two-factor binding (R1, R2), unexpired lending consent (R3), during a cooling period (R4),
    while a loan of the subject is delinquent or defaulted (R7), or when frozen (R8)."""
    return _loan_event(loan_id, draft, ledger, rules, platform, consents)


@router.post("/{loan_id}/repayments", **LOAN_EVENT)
def repay(
    loan_id: LoanId, draft: RepaymentDraft, ledger: LedgerDep, rules: RulesDep,
    platform: PlatformDep, consents: ConsentsDep,
) -> LoanRecordCreated:
    """Record a repayment; the loan's status (R6) follows from its schedule and repayments."""
    return _loan_event(loan_id, draft, ledger, rules, platform, consents)


@router.post("/{loan_id}/channel", **LOAN_EVENT)
def change_channel(
    loan_id: LoanId, draft: ChannelChangeDraft, ledger: LedgerDep, rules: RulesDep,
    platform: PlatformDep, consents: ConsentsDep,
) -> LoanRecordCreated:
    """Change the loan's repayment channel; refused during a cooling period (R4)."""
    return _loan_event(loan_id, draft, ledger, rules, platform, consents)


@router.post("/{loan_id}/contacts", **LOAN_EVENT)
def record_contact(
    loan_id: LoanId, draft: CollectionContactDraft, ledger: LedgerDep, rules: RulesDep,
    platform: PlatformDep, consents: ConsentsDep,
) -> LoanRecordCreated:
    """Record a collection contact; refused without unexpired contact consent (R3)."""
    return _loan_event(loan_id, draft, ledger, rules, platform, consents)


@router.get("/{loan_id}/risk", response_model=LoanRisk, response_model_by_alias=True,
            responses=problems(404))
def loan_risk(
    loan_id: LoanId, rules: RulesDep, caller: ReaderDep, reads: ReadsDep, consents: ConsentsDep
) -> LoanRisk:
    """The loan as the contract sees it now: phase, repayment status (R6), contact-risk flag
    (R5), open dispute, freeze (R8). A platform's key reads its own loans; a regulator's or an
    admin's any loan (its id names the platform)."""
    lender = caller.platform.address if caller.platform else _lender(rules, loan_id)
    creation = loan_creation(rules, lender, loan_id)
    consents.check(lender, creation.subject)
    state = rules.loan_state(lender, creation.subject, creation.loan)
    reads.of_subject(creation.platform, creation.subject,
                     target=from_hex(loan_id, length=32, what="loan id"))
    return LoanRisk.of(from_hex(loan_id, length=32, what="loan id"), creation.subject,
                       creation.loan, state)


def _lender(rules: RulesClient, loan_id: str) -> str:
    """The platform of the loan: its id is the hash of its creation record, which names it."""
    row = rules.ledger.store.get_record_by_hash(from_hex(loan_id, length=32, what="loan id"))
    if row is None:
        raise RuleRecordNotFoundError(f"no {LoanCreation.TYPE_NAME} record {loan_id.lower()}")
    return row.platform
