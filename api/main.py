"""The FastAPI application: routes, error mapping, and the anchoring worker's lifetime."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Keyring, identify
from api.budget import VerifyBudget
from api.models import CHAIN_RETRY_AFTER_SECONDS
from api.openapi import add_documentation
from api.problems import http_problem, problem, validation_problem
from api.routes import (
    admin,
    anchors,
    disputes,
    evidence,
    freezes,
    health,
    loans,
    logs,
    pages,
    records,
    risk,
    subjects,
    timelines,
    verify,
)
from ledger.anchoring.worker import AnchorWorker
from ledger.chain.client import ChainUnreachableError
from ledger.chain.redact import redact_text
from ledger.config import Admin, Settings
from ledger.errors import (
    LedgerError,
    LedgerGoneError,
    LedgerLookupError,
    LedgerStateError,
    LedgerValueError,
)
from ledger.privacy.consent import ConsentNotGivenError
from ledger.privacy.retention import erase_expired
from ledger.privacy.setup import lenders
from ledger.risk.model import load_model
from ledger.rules import rules_for
from ledger.runtime import open_ledger
from ledger.service import Ledger, NotAnchoredError
from ledger.verify import AnchorCheckCache

log = logging.getLogger("bindledger.api")


def create_app(
    settings: Settings | None = None, ledger: Ledger | None = None, run_worker: bool = True,
    budget: VerifyBudget | None = None,
) -> FastAPI:
    """Build the app. With `ledger`, use it as is (tests, the demo); otherwise open one from
    `settings` when the app starts. `budget` bounds what callers without a key may make the
    verification routes do (default: from the BINDLEDGER_VERIFY_* environment)."""
    settings = settings or Settings()
    admins = settings.admin_list  # read now: a malformed BINDLEDGER_ADMINS fails here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = ledger or open_ledger(settings)
        app.state.keyring = keyring_of(app.state.ledger, admins)
        worker = None
        if run_worker:
            worker = AnchorWorker(
                app.state.ledger,
                settings.anchor_every_records,
                settings.anchor_every_seconds,
                degraded_after=settings.health_degraded_after_seconds,
                housekeeping=functools.partial(
                    erase_expired, app.state.ledger, settings.retention),
            )
            worker.start()
        app.state.worker = worker
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(
        title="BindLedger",
        summary="Tamper-evident evidence of phone bindings, verifications and consent",
        version="0.1.0",
        lifespan=lifespan,
        # Every route, public ones included, refuses an unknown key (api/auth.py).
        dependencies=[Depends(identify)],
        # Served by add_documentation, behind a key like every route that is not public.
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.anchor_checks = AnchorCheckCache()
    app.state.budget = budget or VerifyBudget.from_env()
    # Read now: a model file that cannot be read fails here, not at the first request.
    app.state.risk_model = (
        None if settings.risk_model is None else load_model(Path(settings.risk_model))
    )
    for router in (evidence.router, records.router, anchors.router, verify.router, timelines.router,
                   health.router, pages.router):
        app.include_router(router)
    for router in (subjects.router, subjects.phones, timelines.subjects, timelines.loans,
                   loans.router, disputes.router, freezes.router, admin.router, logs.router,
                   risk.router):
        app.include_router(router)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(LedgerError, _ledger_error)
    add_documentation(app)
    return app


def keyring_of(ledger: Ledger, admins: list[Admin]) -> Keyring:
    """The API keys this app admits: the ledger's platforms, the regulators its rules client
    acts for (whose accounts hold REGULATOR_ROLE), and the admins."""
    # Not the access log's pseudo-platform: nobody calls the API as the access log.
    return Keyring([*lenders(ledger), *rules_for(ledger).regulators, *admins])


def _status_of(exc: LedgerError) -> int:
    if isinstance(exc, PermissionError):
        return status.HTTP_403_FORBIDDEN
    if isinstance(exc, NotAnchoredError | LedgerStateError):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, LedgerGoneError):
        return status.HTTP_410_GONE
    if isinstance(exc, LedgerLookupError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, LedgerValueError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    return status.HTTP_503_SERVICE_UNAVAILABLE  # the chain or store failed, not the request


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    code = _status_of(exc)
    # Messages of BindLedger's errors name a node by scheme and host only; anything quoted
    # from elsewhere is redacted once more, for the answer and the log alike.
    detail = redact_text(str(exc))
    if code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, detail)
    headers = None
    if isinstance(exc, ChainUnreachableError):
        headers = {"Retry-After": str(CHAIN_RETRY_AFTER_SECONDS)}
    extra = {}
    if isinstance(exc, ConsentNotGivenError):
        extra = {"purpose": exc.status.purpose.name, "consentState": exc.status.state.value}
    return problem(code, detail, type(exc).__name__, headers, **extra)
