"""Whole logs, in the C2SP tlog-tiles layout: a platform's tiles and entry bundles up to its
latest final anchored head, and that head as a checkpoint (ledger/audit/tiles.py defines the
layout and the entry encoding). Regulators and admins read every platform's log, a platform
its own; another platform's log is the same 404 as a platform not served here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from api.auth import Caller, ReaderDep
from api.deps import ADDRESS, LedgerDep
from api.limits import GuardedRoute
from api.problems import problems
from ledger.audit.source import (
    CHECKPOINT_CACHE,
    LogNotFoundError,
    TileNotFoundError,
    cache_control,
    checkpoint,
    tile_bytes,
)
from ledger.audit.tiles import TilePathError, parse_path
from ledger.config import Platform
from ledger.errors import LedgerValueError
from ledger.service import Ledger

PlatformPath = Annotated[str, Path(pattern=ADDRESS, description="the platform's address")]

router = APIRouter(prefix="/v1/logs", tags=["logs"], route_class=GuardedRoute)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **problems(404, d404="no such log for this key, or a tile beyond the anchored log"),
}


def _log_of(ledger: Ledger, caller: Caller, platform: str) -> Platform:
    """The platform whose log `caller` reads; the same 404 for one not served and for one the
    caller may not read, so a platform learns nothing of which others are served."""
    try:
        served = ledger.platform(platform)
    except LedgerValueError:
        served = None
    own = caller.platform
    if served is None or (own is not None and own.address != served.address):
        raise LogNotFoundError(f"no log of platform {platform:.42} here")
    return served


@router.get("/{platform}/checkpoint", responses=_NOT_FOUND)
def get_checkpoint(
    platform: PlatformPath, ledger: LedgerDep, caller: ReaderDep, response: Response
) -> dict[str, Any]:
    """The latest FINAL anchored head of the platform's log (`bindledger.checkpoint/1`): its
    size and root, and the transaction that anchored it. Tiles are served up to this size.
    Size 0 with `anchor: null` while no head is final."""
    response.headers["Cache-Control"] = CHECKPOINT_CACHE
    return checkpoint(ledger, _log_of(ledger, caller, platform)).to_json()


@router.get(
    "/{platform}/tile/{path:path}",
    response_class=Response,
    responses={**_NOT_FOUND, 200: {"content": {"application/octet-stream": {}},
                                   "description": "the tile's bytes"}},
)
def get_tile(platform: PlatformPath, path: str, ledger: LedgerDep, caller: ReaderDep) -> Response:
    """A hash tile (`tile/<L>/<N>[.p/<W>]`: W hashes of 32 bytes) or an entry bundle
    (`tile/entries/<N>[.p/<W>]`: each stored record's canonical JSON after its length as a
    big-endian uint16), as C2SP tlog-tiles lays them out. Full tiles never change and are
    served as immutable."""
    served = _log_of(ledger, caller, platform)
    try:
        tile = parse_path(f"tile/{path}")
    except TilePathError as exc:
        raise TileNotFoundError(str(exc)) from None
    return Response(
        tile_bytes(ledger, served, tile),
        media_type="application/octet-stream",
        headers={"Cache-Control": cache_control(tile)},
    )
