"""Timelines: verify one against this server's chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from api.deps import LedgerDep
from api.limits import DocumentRoute
from ledger.core.timeline import Timeline
from ledger.timeline import verify_timeline

router = APIRouter(prefix="/v1", tags=["verify"], route_class=DocumentRoute)


@router.post("/verify/timeline")
def verify_timeline_document(ledger: LedgerDep, document: Any = Body(...)) -> dict[str, Any]:
    """Check a timeline (`bindledger.timeline/1`): every record as a proof bundle, and the
    records as an unbroken hash chain reaching the subject's head on chain. An unreadable
    document is a 422 saying why."""
    return verify_timeline(Timeline.from_json(document), ledger.chain).to_json()
