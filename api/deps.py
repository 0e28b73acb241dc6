"""Typed dependencies shared by the routes: the ledger, and whose records a reader reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status

from api.auth import Caller
from api.shapes import ADDRESS, BYTES32
from ledger.config import Platform
from ledger.privacy.setup import lenders
from ledger.service import Ledger


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]

PlatformQuery = Annotated[
    str | None,
    Query(alias="platform", pattern=ADDRESS,
          description="the platform whose records to read, by address (for a regulator or an "
                      "admin; needed when several platforms are served here)"),
]


def platform_read_by(caller: Caller, ledger: Ledger, platform: str | None) -> Platform:
    """Whose records `caller` reads on a route about one platform's subject: a platform its
    own only (403 if `platform` names another); a regulator or an admin the one `platform`
    names, which it may leave out when only one platform is served here (422 otherwise)."""
    own = caller.platform
    if own is not None:
        if platform is not None and ledger.platform(platform).address != own.address:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "a platform reads only its own subjects' records: leave out ?platform=",
            )
        return own
    if platform is not None:
        return ledger.platform(platform)
    served = lenders(ledger)
    if len(served) != 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "several platforms are served here: say which with ?platform=",
        )
    return served[0]


__all__ = ["ADDRESS", "BYTES32", "LedgerDep", "PlatformQuery", "get_ledger", "platform_read_by"]
