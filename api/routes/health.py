"""Whether the service keeps its promise: every acknowledged record ends in a final anchor."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.models import Health
from ledger.anchoring.worker import AnchorWorker

router = APIRouter(tags=["health"], route_class=GuardedRoute)


@router.get(
    "/healthz",
    response_model=Health,
    response_model_by_alias=True,
    responses={503: {"model": Health, "description": "degraded: see `reason`"}},
)
def healthz(ledger: LedgerDep, request: Request, response: Response) -> Health:
    """`ok`, or `degraded` with HTTP 503 and a machine-readable reason."""
    worker: AnchorWorker | None = getattr(request.app.state, "worker", None)
    health = worker.health() if worker is not None else None
    degraded = health is not None and health.reason is not None
    if degraded:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="degraded" if degraded else "ok",
        reason=health.reason if health else None,
        detail=health.detail if health else None,
        chain_id=ledger.chain.chain_id,
        contract=ledger.contract.address,
        embedded_chain=ledger.chain.embedded,
        worker_error=worker.last_error if worker else None,
        anchoring_leader=health.leader if health else None,
        oldest_unanchored_seconds=health.oldest_unanchored_seconds if health else None,
    )
