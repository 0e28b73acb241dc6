"""Tree heads and their anchors."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.auth import AnchorerDep
from api.budget import MeterDep
from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.models import HeadPublic, HeadsPublic
from api.problems import problems
from ledger.core.encoding import to_hex
from ledger.store.base import AnchorState, HeadRow

router = APIRouter(prefix="/v1", tags=["anchors"], route_class=GuardedRoute)


def _public(head: HeadRow) -> HeadPublic:
    return HeadPublic(
        platform=head.platform,
        tree_size=head.tree_size,
        root_hash=to_hex(head.root_hash),
        state=head.state.value,
        tx_hash=to_hex(head.tx_hash) if head.tx_hash else None,
        block_number=head.block_number,
        block_hash=to_hex(head.block_hash) if head.block_hash else None,
        block_time=head.block_time,
    )


@router.post("/anchor", response_model=HeadsPublic, response_model_by_alias=True,
             responses=problems(403))
def anchor_now(ledger: LedgerDep, caller: AnchorerDep) -> HeadsPublic:
    """Seal pending records into a head and anchor unfinished heads now, without waiting for
    the worker: a platform's key its own log, an admin's key every platform's."""
    if caller.platform is None:  # an admin
        return HeadsPublic(heads=[_public(h) for h in ledger.seal_and_anchor()])
    ledger.seal(caller.platform.address)
    heads = ledger.anchor_unfinished(caller.platform.address)
    return HeadsPublic(heads=[_public(h) for h in heads])


@router.get("/heads/latest", response_model=HeadsPublic, response_model_by_alias=True)
def latest_heads(
    ledger: LedgerDep,
    _meter: MeterDep,
    # An empty filter is no filter, as it always was.
    platform: str | None = Query(None, pattern=r"^(0x[0-9a-fA-F]{40})?$",
                                 description="only this platform (its address)"),
) -> HeadsPublic:
    """The latest anchored head of each platform (public: heads reveal nothing personal).
    Without a key, one check of the client's verification budget (429 when spent)."""
    platforms = [ledger.platform(platform).address] if platform else list(ledger.platforms)
    heads = [ledger.store.latest_head(p, AnchorState.FINAL) for p in platforms]
    return HeadsPublic(heads=[_public(h) for h in heads if h is not None])
