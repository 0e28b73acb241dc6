"""Typed dependencies shared by the routes."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from ledger.config import Platform
from ledger.service import Ledger

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the platform's API key"
)


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_platform(ledger: LedgerDep, api_key: str | None = Security(api_key_header)) -> Platform:
    if not api_key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    for platform in ledger.platforms.values():
        # Constant time, so response timing does not reveal how much of a key was right.
        if hmac.compare_digest(platform.api_key.encode(), api_key.encode()):
            return platform
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key")


PlatformDep = Annotated[Platform, Depends(get_platform)]
