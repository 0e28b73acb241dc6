"""Timelines: verify one against this server's chain."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Security, status

from api.deps import LedgerDep, api_key_header
from api.limits import DocumentRoute, GuardedRoute
from api.rules import RulesDep
from ledger.core.encoding import from_hex
from ledger.core.timeline import Timeline
from ledger.timeline import export_timeline, verify_timeline

router = APIRouter(prefix="/v1", tags=["verify"], route_class=DocumentRoute)
subjects = APIRouter(prefix="/v1/subjects", tags=["timelines"], route_class=GuardedRoute)


@router.post("/verify/timeline")
def verify_timeline_document(ledger: LedgerDep, document: Annotated[Any, Body()]) -> dict[str, Any]:
    """Check a timeline (`bindledger.timeline/1`): every record as a proof bundle, and the
    records as an unbroken hash chain reaching the subject's head on chain. An unreadable
    document is a 422 saying why."""
    return verify_timeline(Timeline.from_json(document), ledger.chain).to_json()


def _reader_platform(
    ledger: LedgerDep, rules: RulesDep, platform: str | None, api_key: str | None
) -> str:
    """Whose timeline the key may read: a platform its own; a regulator any platform's."""
    if not api_key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")

    def matches(key: str) -> bool:
        return hmac.compare_digest(key.encode(), api_key.encode())

    own = next((p for p in ledger.platforms.values() if matches(p.api_key)), None)
    if own is not None:
        if platform is not None and ledger.platform(platform).address != own.address:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "a platform reads only its own subjects' timelines"
            )
        return own.address
    if rules.regulator_by_api_key(matches) is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key")
    if platform is not None:
        return ledger.platform(platform).address
    if len(ledger.platforms) != 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "several platforms are served here: say which with ?platform=",
        )
    return next(iter(ledger.platforms))


@subjects.get("/{ref}/timeline")
def subject_timeline(
    ref: Annotated[
        str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="the subject's keyed reference")
    ],
    ledger: LedgerDep,
    rules: RulesDep,
    platform: Annotated[str | None, Query(description="the platform (for a regulator)")] = None,
    api_key: str | None = Security(api_key_header),
) -> dict[str, Any]:
    """The subject's timeline (`bindledger.timeline/1`) with every record's proof, for a
    regulator (any platform) or the subject's own platform; 409 while a record is unanchored."""
    address = _reader_platform(ledger, rules, platform, api_key)
    timeline = export_timeline(ledger, address, from_hex(ref, length=32, what="subject"))
    if not timeline.entries:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no records of this subject here")
    return timeline.to_json()
