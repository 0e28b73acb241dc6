"""Records: write (drafts signed by BindLedger, or records signed by the platform) and read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status

from api.deps import LedgerDep, PlatformDep
from api.limits import GuardedRoute
from api.models import RecordCreated, RecordPublic
from ledger.core.encoding import to_hex
from ledger.core.records import SignedRecord
from ledger.drafts import RecordDraft, prepare
from ledger.service import Accepted

# SQLite row ids are signed 64-bit integers.
RecordId = Annotated[int, Path(ge=1, lt=2**63, description="the record's id")]

router = APIRouter(prefix="/v1/records", tags=["records"], route_class=GuardedRoute)


def _created(accepted: Accepted) -> RecordCreated:
    row = accepted.row
    return RecordCreated(
        id=row.id,
        record_hash=to_hex(row.record_hash),
        leaf_index=row.leaf_index,
        subject=to_hex(row.subject),
        platform=row.platform,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordCreated,
    response_model_by_alias=True,
)
def create_record(draft: RecordDraft, ledger: LedgerDep, platform: PlatformDep) -> RecordCreated:
    """Write a record from a draft with raw identifiers; BindLedger computes the keyed
    references, signs the record with the platform's key and stores it before answering."""
    prepared = prepare(draft, platform.address, ledger.refs, ledger.now())
    return _created(ledger.sign_and_submit(platform, prepared.subject, prepared.build))


@router.post(
    "/signed",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordCreated,
    response_model_by_alias=True,
)
def create_signed_record(
    ledger: LedgerDep, platform: PlatformDep, document: dict[str, Any] = Body(...)
) -> RecordCreated:
    """Write a record the platform signed itself (EIP-712 under this deployment's domain).
    Its `prev` must be the hash of the subject's latest record (409 otherwise)."""
    signed = SignedRecord.from_json(document)
    if signed.record.platform != platform.address:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the record names another platform than this API key's"
        )
    return _created(ledger.submit(signed))


def _own(ledger: LedgerDep, platform: PlatformDep, record_id: int) -> Accepted:
    accepted = ledger.record(record_id)
    if accepted.row.platform != platform.address:
        # 404, not 403: a platform does not learn which ids other platforms hold.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no record with id {record_id}")
    return accepted


@router.get("/{record_id}", response_model=RecordPublic, response_model_by_alias=True)
def get_record(record_id: RecordId, ledger: LedgerDep, platform: PlatformDep) -> RecordPublic:
    accepted = _own(ledger, platform, record_id)
    created = _created(accepted)
    return RecordPublic(
        **created.model_dump(),
        record=accepted.record.to_json(),
        anchored=ledger.is_anchored(accepted.row),
    )


@router.get("/{record_id}/proof")
def get_proof(record_id: RecordId, ledger: LedgerDep, platform: PlatformDep) -> dict[str, Any]:
    """The record's proof bundle (`bindledger.proof/1`); 409 while it is not anchored."""
    _own(ledger, platform, record_id)
    return ledger.proof_bundle(record_id).to_json()
