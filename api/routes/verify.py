"""Verification of proof bundles against this server's chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from api.budget import MeterDep
from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.models import CHAIN_UNREACHABLE
from ledger.core.bundle import ProofBundle
from ledger.verify import verify_bundle

router = APIRouter(prefix="/v1", tags=["verify"], route_class=GuardedRoute)


@router.post("/verify", responses=CHAIN_UNREACHABLE)
def verify(
    ledger: LedgerDep, request: Request, _meter: MeterDep, document: Annotated[Any, Body()]
) -> dict[str, Any]:
    """Check a proof bundle: record hash, platform signature, inclusion, head on chain and the
    anchor transaction. An unreadable bundle is a 422 saying why; a readable one gets a verdict
    naming the check that failed and what was expected, unless the chain cannot be reached:
    then 503 "cannot check: chain unreachable", since nothing was concluded. Without a key, a
    bundle costs one check of the client's budget (429 when spent)."""
    # The ledger's own artifact, read once: the chain client reuses its contract objects.
    bundle = ProofBundle.from_json(document)
    cache = request.app.state.anchor_checks  # bundles of one head share its chain reads
    return verify_bundle(bundle, ledger.chain, ledger.contract.artifact, cache).to_json()
