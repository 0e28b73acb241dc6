"""Why each route processes a subject's data: its purpose and legal basis (PIPL art. 13).

`ROUTES` is the specification: every route of the API is in it (tests check), with the
purpose it processes a subject's data for, and the legal basis of that processing. A route
whose basis is consent checks the subject's consent for its purpose at the platform, and a
withdrawn, refused or expired consent stops it at once: 403 `ConsentNotGivenError`, naming the
purpose and the consent's state (art. 15). Routes that take records of any type take the
purpose of the record's type (`RECORD_TYPES`).

Only a platform's key is checked: a regulator reads under the regulator's legal duty
(art. 13(3)), and an admin operates the service without processing for a lending purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request

from api.auth import AuthenticatedDep, Caller, Role
from api.deps import LedgerDep
from ledger.core.records import Purpose
from ledger.privacy.consent import require_consent
from ledger.service import Ledger


class LegalBasis(StrEnum):
    CONSENT = "consent"  # art. 13(1): the subject's consent for the purpose
    CONTRACT = "contract"  # art. 13(2): necessary to perform the loan contract
    LEGAL_DUTY = "legal duty"  # art. 13(3): the lender's record-keeping, the regulator's supervision
    SUBJECT_RIGHT = "subject right"  # art. 44-47: the subject's own request (copy, erasure, complaint)
    NO_SUBJECT = "no subject's data"  # heads, proofs of logs, health: nothing about a subject


@dataclass(frozen=True)
class Basis:
    basis: LegalBasis
    purpose: Purpose | None = None  # the purpose consented to, when the basis is consent


def consent(purpose: Purpose) -> Basis:
    return Basis(LegalBasis.CONSENT, purpose)


CONTRACT = Basis(LegalBasis.CONTRACT)
LEGAL_DUTY = Basis(LegalBasis.LEGAL_DUTY)
SUBJECT_RIGHT = Basis(LegalBasis.SUBJECT_RIGHT)
NO_SUBJECT = Basis(LegalBasis.NO_SUBJECT)
BY_RECORD_TYPE = Basis(LegalBasis.CONSENT)  # the purpose of the record's type

# The purpose of each record type, for the routes that take or return records of any type.
RECORD_TYPES: dict[str, Basis] = {
    "Binding": consent(Purpose.IDENTITY_VERIFICATION),
    "Verification": consent(Purpose.IDENTITY_VERIFICATION),
    # Recording consent, its withdrawal or refusal is how the subject decides (art. 15).
    "Consent": SUBJECT_RIGHT,
    "LoanCreation": consent(Purpose.LENDING),
    "Disbursement": consent(Purpose.LENDING),
    # A loan granted is repaid, and its repayment account kept, under the contract.
    "Repayment": CONTRACT,
    "ChannelChange": CONTRACT,
    "CollectionContact": consent(Purpose.CONTACT),
    "Dispute": SUBJECT_RIGHT,
    # What BindLedger writes about its own handling: refusals, commitments, erasures, reads.
    "Refusal": LEGAL_DUTY,
    "Evidence": LEGAL_DUTY,
    "Erasure": LEGAL_DUTY,
    "Access": LEGAL_DUTY,
    # Fraud monitoring is a lender's duty (Anti-Telecom and Online Fraud Law, art. 18: monitor
    # and act on abnormal accounts), so the risk model's warnings need no consent of their own.
    "RiskWarning": LEGAL_DUTY,
    # The model put into service: about no subject.
    "ModelRelease": NO_SUBJECT,
}

ROUTES: dict[str, Basis] = {
    # Identity verification before the loan: binding and verifications, and their state.
    "POST /v1/subjects/records": BY_RECORD_TYPE,
    "POST /v1/subjects/records/signed": BY_RECORD_TYPE,
    "GET /v1/subjects/{ref}/binding": consent(Purpose.IDENTITY_VERIFICATION),
    # The consortium's signals about a phone's holder.
    "GET /v1/phones/{ref}/signals": consent(Purpose.RISK_SHARING),
    # Lending: the loan, its disbursement, its risk.
    "POST /v1/loans": consent(Purpose.LENDING),
    "POST /v1/loans/{loan_id}/disburse": consent(Purpose.LENDING),
    "GET /v1/loans/{loan_id}/risk": consent(Purpose.LENDING),
    "POST /v1/loans/{loan_id}/repayments": CONTRACT,
    "POST /v1/loans/{loan_id}/channel": CONTRACT,
    "POST /v1/loans/{loan_id}/contacts": consent(Purpose.CONTACT),
    # Records of any type, their proofs and their evidence: the purpose of the record's type.
    "POST /v1/records": BY_RECORD_TYPE,
    "POST /v1/records/signed": BY_RECORD_TYPE,
    "POST /v1/records/signed/batch": BY_RECORD_TYPE,
    "GET /v1/records": BY_RECORD_TYPE,
    "GET /v1/records/{record_id}": BY_RECORD_TYPE,
    "GET /v1/records/{record_id}/proof": BY_RECORD_TYPE,
    "POST /v1/records/{record_id}/evidence": BY_RECORD_TYPE,
    "GET /v1/records/{record_id}/evidence": BY_RECORD_TYPE,
    # The record of what was done stays readable: it is the lender's duty to keep it, and
    # what shows that a withdrawal was respected.
    "GET /v1/subjects/{ref}/timeline": LEGAL_DUTY,
    "GET /v1/loans/{loan_id}/timeline": LEGAL_DUTY,
    # The subject's rights: a copy (art. 45), erasure (art. 47), a dispute of a takeover.
    "GET /v1/subjects/{ref}/export": SUBJECT_RIGHT,
    "POST /v1/subjects/{ref}/erasure": SUBJECT_RIGHT,
    "POST /v1/disputes": SUBJECT_RIGHT,
    "POST /v1/disputes/{dispute_id}/close": SUBJECT_RIGHT,
    # The early warning: releasing a model (no subject's data) and scoring a subject with it,
    # under the lender's duty to monitor for fraud (see "RiskWarning" above).
    "POST /v1/risk/releases": NO_SUBJECT,
    "POST /v1/subjects/{ref}/risk": LEGAL_DUTY,
    # Supervision: a regulator freezes a platform.
    "POST /v1/freezes": LEGAL_DUTY,
    # Logs, heads, proofs checked by anyone, health: hashes and counts, no subject's data.
    "POST /v1/anchor": NO_SUBJECT,
    "GET /v1/heads/latest": NO_SUBJECT,
    "POST /v1/verify": NO_SUBJECT,
    "POST /v1/verify/timeline": NO_SUBJECT,
    "GET /v1/logs/{platform}/checkpoint": NO_SUBJECT,
    "GET /v1/logs/{platform}/tile/{path}": NO_SUBJECT,
    "GET /v1/admin/status": NO_SUBJECT,
    "GET /healthz": NO_SUBJECT,
}


def purpose_of(route: str, record_type: str | None = None) -> Purpose | None:
    """The purpose whose consent `route` needs (for a record of `record_type`, on routes that
    take any), or None when its basis is not consent. Requires `route` to be in ROUTES."""
    basis = ROUTES[route]
    if basis is BY_RECORD_TYPE:
        if record_type is None:
            raise AssertionError(f"{route} takes the purpose of a record's type: name it")
        basis = RECORD_TYPES[record_type]
    return basis.purpose if basis.basis is LegalBasis.CONSENT else None


@dataclass(frozen=True)
class Consents:
    """The consent check of one request: who calls, through which route. Each subject's
    consent for a purpose is read once a request (a batch names a subject many times)."""

    ledger: Ledger
    caller: Caller
    route: str
    _checked: set[tuple[str, bytes, Purpose]] = field(default_factory=set)

    def check(self, platform: str, subject: bytes, record_type: str | None = None) -> None:
        """Raises ConsentNotGivenError (403) when the route's purpose (for a record of
        `record_type` on routes taking any) needs consent and the subject's consent at
        `platform` is withdrawn, refused or expired."""
        purpose = purpose_of(self.route, record_type)
        if purpose is None or self.caller.role is not Role.PLATFORM:
            return
        if (platform, subject, purpose) not in self._checked:
            require_consent(self.ledger, platform, subject, purpose)
            self._checked.add((platform, subject, purpose))


async def consents(request: Request, caller: AuthenticatedDep, ledger: LedgerDep) -> Consents:
    route = request.scope.get("route")
    # The template as the OpenAPI document writes it: /v1/records/{record_id}, no convertor.
    template = getattr(route, "path_format", None) or request.url.path
    return Consents(ledger, caller, f"{request.method} {template}")


ConsentsDep = Annotated[Consents, Depends(consents)]
