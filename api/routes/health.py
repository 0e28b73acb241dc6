from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.models import Health

router = APIRouter(tags=["health"], route_class=GuardedRoute)


@router.get("/healthz", response_model=Health, response_model_by_alias=True)
def healthz(ledger: LedgerDep, request: Request) -> Health:
    worker = getattr(request.app.state, "worker", None)
    return Health(
        status="ok",
        chain_id=ledger.chain.chain_id,
        contract=ledger.contract.address,
        embedded_chain=ledger.chain.embedded,
        worker_error=worker.last_error if worker else None,
    )
