"""Every read of a subject's data through the API leaves an Access record (PIPL art. 54).

Routes that read a subject's records, proofs, timelines, binding state or evidence take
`ReadsDep` and, once they have what they answer with, say what was read; the Access record is
committed before the answer goes out (one staged record per read, sharing group commits with
every other write), so no read goes unlogged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.auth import AuthenticatedDep, Caller
from api.deps import LedgerDep
from ledger.core.records import AccessPurpose
from ledger.privacy.setup import privacy_for
from ledger.service import Ledger
from ledger.store.base import RecordRow


@dataclass(frozen=True)
class Reads:
    """The reads of one request: who reads (`caller`), through which route."""

    ledger: Ledger
    caller: Caller
    route: str

    def of_record(self, row: RecordRow) -> None:
        """The caller read this record (or its proof, or its evidence)."""
        privacy_for(self.ledger).access.record(
            self.caller.party, self.route, row.platform, row.subject, row.record_hash
        )

    def of_subject(
        self,
        platform: str,
        subject: bytes,
        target: bytes | None = None,
        purpose: AccessPurpose | None = None,
    ) -> None:
        """The caller read `platform`'s data about the subject as a whole (`target`: what
        names the part read, such as a loan; the subject's reference by default)."""
        privacy_for(self.ledger).access.record(
            self.caller.party, self.route, platform, subject,
            subject if target is None else target, purpose,
        )


async def reads(request: Request, caller: AuthenticatedDep, ledger: LedgerDep) -> Reads:
    route = request.scope.get("route")
    # The template as the OpenAPI document writes it: /v1/records/{record_id}, no convertor.
    template = getattr(route, "path_format", None) or request.url.path
    return Reads(ledger, caller, f"{request.method} {template}")


ReadsDep = Annotated[Reads, Depends(reads)]
