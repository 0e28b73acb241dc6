"""Timelines: a subject's or a loan's, read with a key; and verifying one against this server's
chain, with none."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status

from api.access import ReadsDep
from api.auth import ReaderDep
from api.budget import MeterDep
from api.deps import BYTES32, LedgerDep, PlatformQuery, platform_read_by
from api.limits import DocumentRoute, GuardedRoute
from api.models import CHAIN_UNREACHABLE
from api.problems import problems
from ledger.core.encoding import from_hex
from ledger.core.timeline import Timeline
from ledger.timeline import export_loan_timeline, export_timeline, verify_timeline

router = APIRouter(prefix="/v1", tags=["verify"], route_class=DocumentRoute)
subjects = APIRouter(prefix="/v1/subjects", tags=["timelines"], route_class=GuardedRoute)
loans = APIRouter(prefix="/v1/loans", tags=["timelines"], route_class=GuardedRoute)


@router.post("/verify/timeline", responses={**CHAIN_UNREACHABLE, **problems(
    413, d413="the body is larger than MAX_DOCUMENT_BYTES, or (without a key) the timeline has "
    "more entries than BINDLEDGER_VERIFY_MAX_TIMELINE_ENTRIES")})
def verify_timeline_document(
    ledger: LedgerDep, meter: MeterDep, document: Annotated[Any, Body()]
) -> dict[str, Any]:
    """Check a timeline (`bindledger.timeline/1`): every record as a proof bundle, and the
    records as an unbroken hash chain reaching the subject's head on chain. An unreadable
    document is a 422 saying why; 503 "cannot check: chain unreachable" when the chain does
    not answer. Without a key: at most BINDLEDGER_VERIFY_MAX_TIMELINE_ENTRIES entries (413
    beyond), each costing one check of the client's budget (429 when spent)."""
    timeline = Timeline.from_json(document)
    meter.spend_timeline(len(timeline.entries))
    return verify_timeline(timeline, ledger.chain).to_json()


@subjects.get("/{ref}/timeline", responses=problems(403, 404, 409))
def subject_timeline(
    ref: Annotated[
        str, Path(pattern=BYTES32, description="the subject's keyed reference")
    ],
    ledger: LedgerDep,
    caller: ReaderDep,
    reads: ReadsDep,
    platform: PlatformQuery = None,
) -> dict[str, Any]:
    """The subject's timeline (`bindledger.timeline/1`) with every record's proof: a platform's
    key reads its own subjects'; a regulator's or an admin's any platform's, named by
    `?platform=`. 409 while a record is unanchored."""
    address = platform_read_by(caller, ledger, platform).address
    timeline = export_timeline(ledger, address, from_hex(ref, length=32, what="subject"))
    if not timeline.entries:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no records of this subject here")
    reads.of_subject(address, timeline.subject)
    return timeline.to_json()


@loans.get("/{loan_id}/timeline", responses=problems(404, 409))
def loan_timeline(
    loan_id: Annotated[
        str, Path(pattern=BYTES32, description="the loan's id (its creation "
                  "record's hash)")
    ],
    ledger: LedgerDep,
    caller: ReaderDep,
    reads: ReadsDep,
) -> dict[str, Any]:
    """The loan's timeline: its subject's, naming the loan, which `bindledger verify` checks
    against the contract's state of the loan too. A platform's key reads its own loans'; a
    regulator's or an admin's any loan's (its id names the platform). 404 for no such loan;
    409 while a record is unanchored."""
    own = caller.platform.address if caller.platform else None
    loan = from_hex(loan_id, length=32, what="loan id")
    timeline = export_loan_timeline(ledger, loan, own)
    reads.of_subject(timeline.platform, timeline.subject, target=loan)
    return timeline.to_json()
