"""What the rule routes share: the rules client and regulator dependencies, and the route class
that turns a contract refusal into its answer (the rule, the custom error and its facts).

Kept apart from api/deps.py and api/main.py so that the rule routes add to the service without
changing how the other routes work.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, Security, status
from fastapi.responses import JSONResponse

from api.deps import LedgerDep, api_key_header
from api.limits import GuardedRoute
from ledger.config import Regulator
from ledger.rules import (
    AccessDeniedError,
    ContractRefusedError,
    RecordConflictError,
    RulesClient,
    UnknownLoanError,
    rules_for,
)


def get_rules(ledger: LedgerDep) -> RulesClient:
    return rules_for(ledger)


RulesDep = Annotated[RulesClient, Depends(get_rules)]


def get_regulator(
    rules: RulesDep, ledger: LedgerDep, api_key: str | None = Security(api_key_header)
) -> Regulator:
    if not api_key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    given = api_key.encode()

    def matches(key: str) -> bool:
        # Constant time, so response timing does not reveal how much of a key was right.
        return hmac.compare_digest(key.encode(), given)

    regulator = rules.regulator_by_api_key(matches)
    if regulator is not None:
        return regulator
    if any(matches(p.api_key) for p in ledger.platforms.values()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs a regulator's API key")
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key")


RegulatorDep = Annotated[Regulator, Depends(get_regulator)]


def refusal_status(exc: ContractRefusedError) -> int:
    if isinstance(exc, AccessDeniedError):
        return status.HTTP_403_FORBIDDEN
    if isinstance(exc, UnknownLoanError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, RecordConflictError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_CONTENT  # a rule (R1-R8) or a malformed record


class RulesRoute(GuardedRoute):
    """A guarded route whose contract refusals answer with the rule and the facts:
    `{"detail", "error", "rule", "reason", "facts", "evidence"}` (422 for a rule)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_refusals(request: Request) -> Response:
            try:
                return await handler(request)
            except ContractRefusedError as exc:
                return JSONResponse(exc.to_json(), status_code=refusal_status(exc))

        return answer_refusals
