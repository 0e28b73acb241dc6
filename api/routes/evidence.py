"""The evidence vault: evidence attached to a record, read back, and a subject's erasure."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from fastapi.routing import APIRoute

from api.access import ReadsDep
from api.auth import Caller, PlatformDep, Role, caller_in
from api.deps import LedgerDep, PlatformQuery, platform_read_by
from api.privacy_models import ErasureDone, EvidenceStored
from api.problems import problem, problems
from api.purposes import ConsentsDep
from api.routes.records import RecordId
from api.routes.subjects import HEX32
from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import AccessPurpose
from ledger.privacy.export import subject_copy
from ledger.privacy.setup import privacy_for
from ledger.privacy.vault import MAX_EVIDENCE_BYTES
from ledger.service import Accepted, Ledger, RecordNotFoundError

SubjectRef = Annotated[str, Path(pattern=HEX32, description="the subject's keyed reference")]
# Evidence is read by the record's platform and by regulators; an operator has no need to.
EvidenceReaderDep = Annotated[Caller, Depends(caller_in(Role.PLATFORM, Role.REGULATOR))]
# A subject's copy is asked for by its platform (for the subject) or by a regulator.
CopierDep = Annotated[Caller, Depends(caller_in(Role.PLATFORM, Role.REGULATOR))]
# A subject's erasure is asked for by its platform (for the subject) or by a regulator.
EraserDep = Annotated[Caller, Depends(caller_in(Role.PLATFORM, Role.REGULATOR))]


class EvidenceRoute(APIRoute):
    """A route taking a raw body of at most MAX_EVIDENCE_BYTES (413 otherwise); the body is
    not JSON, so no depth check."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            if request.method == "POST":
                declared = request.headers.get("content-length", "")
                body = bytearray()
                if not (declared.isdigit() and int(declared) > MAX_EVIDENCE_BYTES):
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > MAX_EVIDENCE_BYTES:
                            break
                if len(body) > MAX_EVIDENCE_BYTES or (
                        declared.isdigit() and int(declared) > MAX_EVIDENCE_BYTES):
                    return problem(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"evidence is larger than {MAX_EVIDENCE_BYTES} bytes (MAX_EVIDENCE_BYTES)",
                        "EvidenceTooLargeError")
                request._body = bytes(body)
            return await handler(request)

        return bounded


router = APIRouter(tags=["evidence"], route_class=EvidenceRoute)


def _own_record(ledger: Ledger, caller: Caller, record_id: int) -> Accepted:
    """The record, if `caller` may reach it: a platform its own (another platform's is the
    same 404 as none), a regulator any."""
    accepted = ledger.record(record_id)
    if caller.platform is not None and accepted.row.platform != caller.platform.address:
        raise RecordNotFoundError(f"no record with id {record_id}")
    return accepted


@router.post(
    "/v1/records/{record_id:record_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceStored,
    response_model_by_alias=True,
    responses=problems(403, 404, 409, 410, 413, d409="the record has evidence",
                       d413=f"larger than {MAX_EVIDENCE_BYTES} bytes"),
)
async def attach_evidence(
    record_id: RecordId,
    request: Request,
    ledger: LedgerDep,
    platform: PlatformDep,
    consents: ConsentsDep,
    content_type: Annotated[str | None, Header()] = None,
) -> EvidenceStored:
    """Attach evidence to one of the platform's records (the raw body, with its media type as
    Content-Type, at most 1 MiB): kept encrypted with the subject's data key, and committed to
    by a salted hash in an Evidence record beside the subject's chain."""
    accepted = _own_record(ledger, Caller.of(platform), record_id)
    consents.check(accepted.row.platform, accepted.row.subject, accepted.row.record_type)
    content = await request.body()
    vault = privacy_for(ledger).vault
    row = vault.attach(platform, accepted.row, content_type or "", content)
    return EvidenceStored.of(row)


@router.get(
    "/v1/records/{record_id:record_id}/evidence",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}},
                     "description": "the evidence, as attached, with its media type"},
               **problems(403, 404, 410)},
)
def read_evidence(
    record_id: RecordId, ledger: LedgerDep, caller: EvidenceReaderDep, reads: ReadsDep,
    consents: ConsentsDep,
) -> Response:
    """The record's evidence, decrypted (a platform's key: its own records'; a regulator's:
    any). The commitment's salt and the Evidence record come as headers, to check it by.
    410 "erased on ..., record N" once the subject is erased."""
    accepted = _own_record(ledger, caller, record_id)
    consents.check(accepted.row.platform, accepted.row.subject, accepted.row.record_type)
    opened = privacy_for(ledger).vault.read(accepted.row)
    reads.of_record(accepted.row)
    row = opened.row
    return Response(
        opened.content,
        media_type=row.media_type,
        headers={"X-Evidence-Record": str(row.evidence_record_id),
                 "X-Evidence-Commitment": to_hex(row.commitment),
                 "X-Evidence-Salt": to_hex(row.salt),
                 "Cache-Control": "no-store"},
    )


@router.post(
    "/v1/subjects/{ref}/erasure",
    status_code=status.HTTP_201_CREATED,
    response_model=ErasureDone,
    response_model_by_alias=True,
    responses={200: {"description": "erased before: the first erasure"},
               **problems(403, 404, 409)},
)
def erase_subject(
    ref: SubjectRef, ledger: LedgerDep, caller: EraserDep, response: Response,
    platform_address: PlatformQuery = None,
) -> ErasureDone:
    """Erase the subject at a platform (its platform's key, or a regulator's naming the
    platform by `?platform=`): its data key is destroyed, so its evidence is unreadable by
    anyone, and an Erasure record is written beside its chain, anchored like any record.
    Its records (keyed references and hashes) stay and still verify."""
    platform = platform_read_by(caller, ledger, platform_address)
    subject = from_hex(ref, length=32, what="subject")
    erased = privacy_for(ledger).vault.erase(platform, subject)
    if erased.already:
        response.status_code = status.HTTP_200_OK
    return ErasureDone.of(erased)


@router.get(
    "/v1/subjects/{ref}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}},
                     "description": "the subject's copy (bindledger.subject-copy/1)"},
               **problems(403, 404, 409, 410, d409="a record is not anchored yet")},
)
def export_subject(
    ref: SubjectRef, ledger: LedgerDep, caller: CopierDep, reads: ReadsDep,
    platform_address: PlatformQuery = None,
) -> Response:
    """The subject's copy (PIPL art. 45), for its platform or a regulator (`?platform=`): a
    zip of the timeline, the decrypted evidence, the access records of reads of the
    subject's data, and a manifest of SHA-256 digests that `check_copy` verifies against the
    chain. 409 while a record is unanchored."""
    platform = platform_read_by(caller, ledger, platform_address)
    subject = from_hex(ref, length=32, what="subject")
    if ledger.store.last_record_of_subject(platform.address, subject) is None:
        raise RecordNotFoundError("no records of this subject here")
    archive = subject_copy(ledger, platform.address, subject, ledger.now())
    reads.of_subject(platform.address, subject, purpose=AccessPurpose.SUBJECT_COPY)
    return Response(archive, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="subject-{ref[2:18]}.zip"',
        "Cache-Control": "no-store"})
