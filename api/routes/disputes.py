"""Channel-takeover disputes: while one is open, the loan's late status stops advancing (R6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PlatformDep
from api.deps import LedgerDep
from api.routes.loans import loan_creation
from api.routes.subjects import HEX32, REFUSALS
from api.rule_models import DisputeOpened, LoanRecordCreated, RuleRecordCreated
from api.rules import RulesDep, RulesRoute
from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import Dispute, DisputeAction, LoanCreation
from ledger.drafts import DisputeDraft, UInt64, prepare_dispute
from ledger.errors import LedgerStateError
from ledger.rules import RuleRecordNotFoundError

DisputeId = Annotated[
    str, Path(pattern=HEX32, description="the dispute's id (hash of the record that opened it)")
]

router = APIRouter(prefix="/v1/disputes", tags=["rules"], route_class=RulesRoute)


class DisputeClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timestamp: UInt64 | None = Field(None, description="when the fact happened (default: now)")


class DisputeClosedError(LedgerStateError):
    """The dispute is closed already (a later dispute record of the loan exists)."""


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeOpened,
    response_model_by_alias=True,
    responses=REFUSALS,
)
def open_dispute(
    draft: DisputeDraft, ledger: LedgerDep, rules: RulesDep, platform: PlatformDep
) -> DisputeOpened:
    """Open a channel-takeover dispute on a loan (409 when one is open already)."""
    creation = loan_creation(rules, platform.address, to_hex(draft.loan_id))
    prepared = prepare_dispute(creation, DisputeAction.OPEN, draft.timestamp, ledger.now())
    done = rules.sign_and_submit(platform, prepared.subject, prepared.build)
    return DisputeOpened(id=to_hex(done.accepted.row.record_hash),
                         loan_id=to_hex(draft.loan_id), record=RuleRecordCreated.of(done))


@router.post(
    "/{dispute_id}/close",
    status_code=status.HTTP_201_CREATED,
    response_model=LoanRecordCreated,
    response_model_by_alias=True,
    responses=REFUSALS,
)
def close_dispute(
    dispute_id: DisputeId, ledger: LedgerDep, rules: RulesDep, platform: PlatformDep,
    body: Annotated[DisputeClose | None, Body()] = None,
) -> LoanRecordCreated:
    """Close the dispute; the time it was open moves the loan's later due times (R6)."""
    opened_hash = from_hex(dispute_id, length=32, what="dispute id")
    opened = rules.stored(platform.address, opened_hash, Dispute).signed.record
    assert isinstance(opened, Dispute)
    if opened.action is not DisputeAction.OPEN:
        raise RuleRecordNotFoundError(f"record {dispute_id} closes a dispute, it opens none")
    latest = _latest_dispute_hash(rules, platform.address, opened)
    if latest != opened_hash:
        raise DisputeClosedError(f"dispute {dispute_id} is closed already")
    creation = rules.loan_creation_of(platform.address, opened.subject, opened.loan)
    timestamp = body.timestamp if body is not None else None
    prepared = prepare_dispute(creation, DisputeAction.CLOSE, timestamp, ledger.now())
    done = rules.sign_and_submit(platform, prepared.subject, prepared.build)
    return LoanRecordCreated(loan_id=_loan_id(rules, platform.address, creation),
                             record=RuleRecordCreated.of(done))


def _latest_dispute_hash(rules: RulesDep, platform: str, opened: Dispute) -> bytes | None:
    latest = None
    for row in rules.ledger.store.records_of_subject(platform, opened.subject):
        if row.record_type == Dispute.TYPE_NAME:
            record = rules.ledger.read(row).record.record
            if isinstance(record, Dispute) and record.loan == opened.loan:
                latest = row.record_hash
    return latest


def _loan_id(rules: RulesDep, platform: str, creation: LoanCreation) -> str:
    return to_hex(creation.digest(rules.ledger.domain))


__all__ = ["loan_creation", "router"]
