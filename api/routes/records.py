"""Records: write (drafts signed by BindLedger, or records signed by the platform) and read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status

from api.auth import Caller, PlatformDep, ReaderDep
from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.models import RecordCreated, RecordPublic, RecordsCreated
from ledger.core.encoding import to_hex
from ledger.core.records import SignedRecord
from ledger.drafts import RecordDraft, prepare
from ledger.errors import LedgerError
from ledger.service import Accepted

# One request of platform-signed records: enough to spread the per-request cost of HTTP over
# many records, and (at about 500 bytes a record) inside api.limits.MAX_REQUEST_BYTES.
MAX_BATCH_RECORDS = 100

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
async def create_signed_record(
    ledger: LedgerDep, platform: PlatformDep, document: Annotated[dict[str, Any], Body()]
) -> RecordCreated:
    """Write a record the platform signed itself (EIP-712 under this deployment's domain).
    Its `prev` must be the hash of the subject's latest record (409 otherwise)."""
    signed = SignedRecord.from_json(document)
    if signed.record.platform != platform.address:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the record names another platform than this API key's"
        )
    return _created(await ledger.submit_async(signed))


@router.post(
    "/signed/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordsCreated,
    response_model_by_alias=True,
)
async def create_signed_records(
    ledger: LedgerDep, platform: PlatformDep, document: Annotated[dict[str, Any], Body()]
) -> RecordsCreated:
    """Write up to 100 records the platform signed itself, `{"records": [...]}`, all or none,
    in one commit: for platforms that send many records. A record may extend the chain of one
    before it in the batch. Errors are those of `/signed`, naming the first record at fault."""
    documents = document.get("records")
    if not isinstance(documents, list) or not 0 < len(documents) <= MAX_BATCH_RECORDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"expected {{\"records\": [...]}} with 1 to {MAX_BATCH_RECORDS} records",
        )
    batch = []
    try:
        for index, item in enumerate(documents):
            batch.append(SignedRecord.from_json(item))
            if batch[-1].record.platform != platform.address:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"record {index}: the record names another platform than this API key's",
                )
        accepted = await ledger.submit_many_async(batch)
        return RecordsCreated(records=[_created(a) for a in accepted])
    except LedgerError as exc:
        index = getattr(exc, "index", len(batch))
        exc.args = (f"record {index}: {exc}",)
        raise


def _readable(ledger: LedgerDep, caller: Caller, record_id: int) -> Accepted:
    """The record, if `caller` may read it: a platform its own, a regulator or an admin any."""
    accepted = ledger.record(record_id)
    if caller.platform is not None and accepted.row.platform != caller.platform.address:
        # 404, not 403: a platform does not learn which ids other platforms hold.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no record with id {record_id}")
    return accepted


@router.get("/{record_id}", response_model=RecordPublic, response_model_by_alias=True)
def get_record(record_id: RecordId, ledger: LedgerDep, caller: ReaderDep) -> RecordPublic:
    """The record (a platform's key: its own; a regulator's or an admin's: any)."""
    accepted = _readable(ledger, caller, record_id)
    created = _created(accepted)
    return RecordPublic(
        **created.model_dump(),
        record=accepted.record.to_json(),
        anchored=ledger.is_anchored(accepted.row),
    )


@router.get("/{record_id}/proof")
def get_proof(record_id: RecordId, ledger: LedgerDep, caller: ReaderDep) -> dict[str, Any]:
    """The record's proof bundle (`bindledger.proof/1`); 409 while it is not anchored. Read
    as the record is."""
    _readable(ledger, caller, record_id)
    return ledger.proof_bundle(record_id).to_json()
