"""What the rule routes share: the rules client dependency, and the route class that turns a
contract refusal into its answer (the rule, the custom error and its facts). Who may call a
rule route is api/auth.py's business.

Kept apart from api/deps.py and api/main.py so that the rule routes add to the service without
changing how the other routes work.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response, status

from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.problems import problem
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


def refusal_status(exc: ContractRefusedError) -> int:
    if isinstance(exc, AccessDeniedError):
        return status.HTTP_403_FORBIDDEN
    if isinstance(exc, UnknownLoanError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, RecordConflictError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_CONTENT  # a rule (R1-R9) or a malformed record


class RulesRoute(GuardedRoute):
    """A guarded route whose contract refusals answer with the rule and the facts:
    a problem with `rule`, `reason`, `facts`, `evidence` and `recorded` (422 for a rule)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_refusals(request: Request) -> Response:
            try:
                return await handler(request)
            except ContractRefusedError as exc:
                body = exc.to_json()
                detail, error = body.pop("detail"), body.pop("error")
                return problem(refusal_status(exc), detail, error, **body)

        return answer_refusals
