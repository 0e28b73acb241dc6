"""Request limits applied before FastAPI parses a body: size, then JSON nesting depth."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ledger.core.jsonlimits import JsonTooDeepError, check_json_depth

# Records are a few hundred bytes and proof bundles at most a few kilobytes.
MAX_REQUEST_BYTES = 64 * 1024


class GuardedRoute(APIRoute):
    """A route whose request body is bounded in size and JSON depth (413 / 422 otherwise)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                refusal = await _refuse_oversized_or_deep(request)
                if refusal is not None:
                    return refusal
            return await handler(request)

        return guarded


async def _refuse_oversized_or_deep(request: Request) -> Response | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        return _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            return _too_large()
    request._body = bytes(body)  # the handler reads this instead of the consumed stream
    try:
        check_json_depth(request._body)
    except JsonTooDeepError as exc:
        return JSONResponse({"detail": str(exc), "error": "JsonTooDeepError"},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return None


def _too_large() -> Response:
    return JSONResponse(
        {"detail": f"request body is larger than {MAX_REQUEST_BYTES} bytes",
         "error": "RequestTooLarge"},
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )
