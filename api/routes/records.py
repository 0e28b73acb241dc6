"""Records: write (drafts signed by BindLedger, or records signed by the platform) and read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response, status
from starlette.convertors import Convertor, register_url_convertor

from api.access import ReadsDep
from api.auth import Caller, PlatformDep, ReaderDep
from api.deps import BYTES32, LedgerDep
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotencyKeyHeader, fingerprint, key_digest
from api.limits import GuardedRoute
from api.models import RecordCreated, RecordPublic, RecordsCreated
from api.problems import problems
from api.purposes import ConsentsDep
from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import SignedRecord
from ledger.core.reference_guard import check_references
from ledger.drafts import RecordDraft, prepare
from ledger.errors import LedgerError
from ledger.service import Accepted, RecordNotFoundError

# One request of platform-signed records: enough to spread the per-request cost of HTTP over
# many records, and (at about 500 bytes a record) inside api.limits.MAX_REQUEST_BYTES.
MAX_BATCH_RECORDS = 100

# SQLite row ids are signed 64-bit integers.
RecordId = Annotated[int, Path(ge=1, lt=2**63, description="the record's id")]


class RecordIdSegment(Convertor[str]):
    """A path segment taken as a record id: any but `signed`, whose path is its own route's.
    OpenAPI matches a concrete path before a templated one, so GET /v1/records/signed is the
    405 of POST /v1/records/signed, not a record id that is not an integer (422). Any other
    segment is the id's to refuse (`abc`, `-1`: 422)."""

    regex = r"(?!signed(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("record_id", RecordIdSegment())

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


def _answered(response: Response, accepted: list[Accepted]) -> None:
    """A write that stored nothing new (every record was stored before) answers 200."""
    if all(a.already_stored for a in accepted):
        response.status_code = status.HTTP_200_OK


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordCreated,
    response_model_by_alias=True,
    responses={**IDEMPOTENT_RESPONSES, **problems(
        400, 403, 409, 422, d400="the body is not JSON text, or the Idempotency-Key header is "
        "empty, too long or not ASCII", d422="a malformed draft, or an Idempotency-Key sent "
        'before with another body (`"error": "IdempotencyKeyReusedError"`)')},
)
def create_record(
    draft: RecordDraft,
    ledger: LedgerDep,
    platform: PlatformDep,
    response: Response,
    consents: ConsentsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RecordCreated:
    """Write a record from a draft with raw identifiers; BindLedger computes the keyed
    references, signs the record with the platform's key and stores it before answering.
    With an `Idempotency-Key` header, a retry of the same draft returns the first record
    (200) instead of writing a second one."""
    key = None if idempotency_key is None else key_digest(idempotency_key)
    prepared = prepare(draft, platform.address, ledger.refs, ledger.now())
    consents.check(platform.address, prepared.subject, draft.type)
    if key is None:
        return _created(ledger.sign_and_submit(platform, prepared.subject, prepared.build))
    accepted = ledger.sign_and_submit_once(
        platform, key, fingerprint(ledger.refs.secret, "POST /v1/records", draft),
        prepared.subject, prepared.build,
    )
    _answered(response, [accepted])
    return _created(accepted)


@router.post(
    "/signed",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordCreated,
    response_model_by_alias=True,
    responses={200: {"description": "the record was stored before (a retry): the stored one, "
                                    "nothing new is written"}, **problems(403, 409)},
)
async def create_signed_record(
    ledger: LedgerDep,
    platform: PlatformDep,
    document: Annotated[dict[str, Any], Body()],
    response: Response,
    consents: ConsentsDep,
) -> RecordCreated:
    """Write a record the platform signed itself (EIP-712 under this deployment's domain).
    Its `prev` must be the hash of the subject's latest record (409 otherwise). Sending a
    stored record again is safe: the stored one is returned with 200."""
    signed = SignedRecord.from_json(document)
    if signed.record.platform != platform.address:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the record names another platform than this API key's"
        )
    check_references(signed.record)  # 422 for a raw value in a reference member
    consents.check(platform.address, signed.record.subject, signed.record.TYPE_NAME)
    accepted = await ledger.submit_async(signed)
    _answered(response, [accepted])
    return _created(accepted)


@router.post(
    "/signed/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordsCreated,
    response_model_by_alias=True,
    responses={200: {"description": "every record was stored before (a retry): the stored "
                                    "ones, nothing new is written"}, **problems(403, 409)},
)
async def create_signed_records(
    ledger: LedgerDep,
    platform: PlatformDep,
    document: Annotated[dict[str, Any], Body()],
    response: Response,
    consents: ConsentsDep,
) -> RecordsCreated:
    """Write up to 100 records the platform signed itself, `{"records": [...]}`, all or none,
    in one commit: for platforms that send many records. A record may extend the chain of one
    before it in the batch. Errors are those of `/signed`, naming the first record at fault.

    Records already stored (matched by hash) are answered as stored, in their place, and the
    others are written: a batch resent whole answers 200, one with new records added 201."""
    documents = document.get("records")
    if not isinstance(documents, list) or not 0 < len(documents) <= MAX_BATCH_RECORDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"expected {{\"records\": [...]}} with 1 to {MAX_BATCH_RECORDS} records",
        )
    batch = []
    try:
        for index, item in enumerate(documents):
            signed = SignedRecord.from_json(item)
            if signed.record.platform != platform.address:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"record {index}: the record names another platform than this API key's",
                )
            check_references(signed.record)  # a refusal here names record len(batch)
            consents.check(platform.address, signed.record.subject, signed.record.TYPE_NAME)
            batch.append(signed)
        accepted = await ledger.submit_many_async(batch)
        _answered(response, accepted)
        return RecordsCreated(records=[_created(a) for a in accepted])
    except LedgerError as exc:
        index = getattr(exc, "index", len(batch))
        exc.args = (f"record {index}: {exc}",)
        raise


def _readable(ledger: LedgerDep, caller: Caller, record_id: int) -> Accepted:
    """The record, if `caller` may read it: a platform its own, a regulator or an admin any."""
    accepted = ledger.record(record_id)
    if caller.platform is not None and accepted.row.platform != caller.platform.address:
        # The same 404 as for no record: a platform does not learn which ids others hold.
        raise RecordNotFoundError(f"no record with id {record_id}")
    return accepted


def _public(ledger: LedgerDep, accepted: Accepted) -> RecordPublic:
    return RecordPublic(
        **_created(accepted).model_dump(),
        record=accepted.record.to_json(),
        anchored=ledger.is_anchored(accepted.row),
    )


@router.get("", response_model=RecordPublic, response_model_by_alias=True,
            responses=problems(404, d404="no such record here (another platform's is the "
                               "same 404)"))
def find_record(
    ledger: LedgerDep,
    caller: ReaderDep,
    reads: ReadsDep,
    consents: ConsentsDep,
    record_hash: Annotated[str, Query(
        alias="hash", pattern=BYTES32,
        description="the record's hash (recordHash), as a write answered it")],
) -> RecordPublic:
    """The record with this hash, read as by id (a platform's key: its own; a regulator's or
    an admin's: any): for a client that lost the answer to a write."""
    own = caller.platform.address if caller.platform is not None else None
    accepted = ledger.record_by_hash(from_hex(record_hash, length=32), own)
    consents.check(accepted.row.platform, accepted.row.subject, accepted.row.record_type)
    reads.of_record(accepted.row)
    return _public(ledger, accepted)


@router.get("/{record_id:record_id}", response_model=RecordPublic, response_model_by_alias=True,
            responses=problems(404))
def get_record(
    record_id: RecordId, ledger: LedgerDep, caller: ReaderDep, reads: ReadsDep,
    consents: ConsentsDep,
) -> RecordPublic:
    """The record (a platform's key: its own; a regulator's or an admin's: any)."""
    accepted = _readable(ledger, caller, record_id)
    consents.check(accepted.row.platform, accepted.row.subject, accepted.row.record_type)
    reads.of_record(accepted.row)
    return _public(ledger, accepted)


@router.get("/{record_id:record_id}/proof", responses=problems(404, 409, d409="not anchored yet"))
def get_proof(
    record_id: RecordId, ledger: LedgerDep, caller: ReaderDep, reads: ReadsDep,
    consents: ConsentsDep,
) -> dict[str, Any]:
    """The record's proof bundle (`bindledger.proof/1`); 409 while it is not anchored. Read
    as the record is."""
    accepted = _readable(ledger, caller, record_id)
    consents.check(accepted.row.platform, accepted.row.subject, accepted.row.record_type)
    bundle = ledger.proof_bundle(record_id).to_json()
    reads.of_record(accepted.row)
    return bundle
