"""The service's state for its operators: how far each platform's log is sealed and anchored,
and the anchoring worker. Counts and sizes only: nothing about subjects, no keys."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import AdminDep
from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.models import AdminStatus, PlatformStatus, WorkerStatus
from api.problems import problems
from ledger.anchoring.worker import AnchorWorker
from ledger.service import Ledger
from ledger.store.base import AnchorState

router = APIRouter(prefix="/v1/admin", tags=["admin"], route_class=GuardedRoute)


@router.get("/status", response_model=AdminStatus, response_model_by_alias=True,
            responses=problems(403))
def status(ledger: LedgerDep, _admin: AdminDep, request: Request) -> AdminStatus:
    """Per platform: records pending (not sealed) and unanchored, the latest head's size and
    the latest anchored one's; and the worker's rounds and last error. A snapshot: the worker
    may seal or anchor between two of its reads."""
    worker: AnchorWorker | None = getattr(request.app.state, "worker", None)
    return AdminStatus(
        platforms=[_platform_status(ledger, address) for address in ledger.platforms],
        worker=None if worker is None else WorkerStatus(
            rounds=worker.rounds,
            last_error=worker.last_error,
            every_records=worker.every_records,
            every_seconds=worker.every_seconds,
        ),
    )


def _platform_status(ledger: Ledger, address: str) -> PlatformStatus:
    pending = ledger.pending(address)
    sealed = ledger.store.latest_head(address)
    anchored = ledger.store.latest_head(address, AnchorState.FINAL)
    sealed_size = sealed.tree_size if sealed else 0
    anchored_size = anchored.tree_size if anchored else 0
    return PlatformStatus(
        platform=address,
        name=ledger.platforms[address].name,
        pending=pending,
        unanchored=max(0, pending + sealed_size - anchored_size),
        sealed_tree_size=sealed.tree_size if sealed else None,
        anchored_tree_size=anchored.tree_size if anchored else None,
    )
