"""Every error the API answers is an RFC 9457 problem details object
(`application/problem+json`): `type`, `title`, `status` and `detail`, plus `error` naming the
error for programs, and the members some errors add (`errors` of a malformed request, the
rule and facts of a contract refusal). One shape, whichever layer refused: a route, a
dependency, the request limits, the router (unknown route, wrong method) or the ledger.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"

# No problem type of BindLedger needs more than its status and `error` to be told apart:
# "about:blank" says so (RFC 9457 4.2.1), and `title` is then the status phrase.
ABOUT_BLANK = "about:blank"


# What each status means when a route does not say more.
DESCRIPTIONS = {
    400: "the body is not text in a JSON encoding, or a header is malformed",
    401: "the X-API-Key header is missing (on a route that needs one) or names no key here",
    403: "the key's role may not call this route, or may not reach this party's data",
    404: "no such resource here (another platform's is the same 404)",
    405: "the route does not take this method (see the Allow header)",
    409: "does not fit the current state (a conflict, or not anchored yet)",
    410: "gone: the subject was erased",
    413: "the body is larger than the route takes",
    415: "the body is not application/json",
    422: "a parameter or the body is malformed, or refused by a rule",
    429: "the caller's verification budget is spent: retry after Retry-After seconds",
    503: "the chain or the database did not answer: nothing was concluded",
}


def problems(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """Responses of the error statuses `codes`, for a route decorator's `responses=`; a
    description given as `d404="..."` replaces the default one."""
    return {code: {"model": Problem,
                   "description": descriptions.get(f"d{code}", DESCRIPTIONS[code])}
            for code in codes}


class FieldProblem(BaseModel):
    """One field of a malformed request. The offending input is left out: it may be a raw
    phone or ID number."""

    loc: list[str | int] = Field(description="where: body, query, path or header, then the field")
    msg: str = Field(description="what is wrong with it")
    type: str = Field(description="pydantic's error type, for programs")


class Problem(BaseModel):
    """An RFC 9457 problem details object, as every error of this API answers."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(ABOUT_BLANK, description="always about:blank: `error` tells problems apart")
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(ge=400, le=599, description="the HTTP status code")
    detail: str = Field(description="what went wrong, for people")
    error: str = Field(description="the error's name, for programs (e.g. RecordNotFoundError)")


class ValidationProblem(Problem):
    """A request that does not match this document (422)."""

    errors: list[FieldProblem] = Field(description="one per field at fault")


class RefusalProblem(Problem):
    """A refusal by the contract: the rule, the custom error and its arguments."""

    rule: str | None = Field(description="R1-R8, or null for a refusal no rule names")
    reason: str = Field(description="the contract's custom error")
    facts: dict[str, Any] = Field(description="the custom error's arguments")
    evidence: dict[str, Any] | None = Field(description="the stored records the refusal cites")
    recorded: dict[str, Any] | None = Field(
        None, description="the refusal's own record in the log (id, recordHash, leafIndex)")


def problem(
    code: int, detail: str, error: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The answer for an error: a problem details object with status `code`."""
    body: dict[str, Any] = {"type": ABOUT_BLANK, "title": _title(code), "status": code,
                            "detail": detail, "error": error, **extra}
    return JSONResponse(body, status_code=code, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _title(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _methods_of(request: Request) -> list[str]:
    """Every method some route takes at the request's path."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and regex.match(request.url.path) and context.methods:
            methods |= context.methods
    return sorted(methods)


def _error_name(code: int) -> str:
    """The `error` of an HTTPException, which has no class of its own: "NotFound"."""
    return _title(code).title().replace(" ", "").replace("-", "")


async def http_problem(request: Request, exc: Exception) -> JSONResponse:
    """HTTPException of a route or dependency, and the router's own 404 and 405."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        # Starlette names the methods of the first route of the path only.
        allowed = ", ".join(_methods_of(request))
        headers = {**(headers or {}), "Allow": allowed}
        detail = f"{request.method} is not taken here; this path takes {allowed}"
    return problem(exc.status_code, detail, _error_name(exc.status_code), headers)


async def validation_problem(request: Request, exc: Exception) -> JSONResponse:
    """A request FastAPI could not match to the route's parameters and body model."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "malformed request"}
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}",
        "RequestValidationError",
        errors=errors,
    )
