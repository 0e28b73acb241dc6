"""Request limits applied before FastAPI parses a body: size, then JSON nesting depth."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ledger.core.jsonlimits import JsonTooDeepError, check_json_depth

# Records are a few hundred bytes and proof bundles at most a few kilobytes.
MAX_REQUEST_BYTES = 64 * 1024


# Timelines carry a proof per record: a long-standing borrower's fits in a few megabytes.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class GuardedRoute(APIRoute):
    """A route whose request body is bounded in size and JSON depth (413 / 422 otherwise)."""

    max_bytes: ClassVar[int] = MAX_REQUEST_BYTES

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                refusal = await _refuse_oversized_or_deep(request, self.max_bytes)
                if refusal is not None:
                    return refusal
            return await handler(request)

        return guarded


class DocumentRoute(GuardedRoute):
    """A route that takes whole evidence documents (timelines)."""

    max_bytes: ClassVar[int] = MAX_DOCUMENT_BYTES


async def _refuse_oversized_or_deep(request: Request, max_bytes: int) -> Response | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return _too_large(max_bytes)
    request._body = bytes(body)  # the handler reads this instead of the consumed stream
    try:
        check_json_depth(request._body)
    except JsonTooDeepError as exc:
        return JSONResponse({"detail": str(exc), "error": "JsonTooDeepError"},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return None


def _too_large(max_bytes: int) -> Response:
    return JSONResponse(
        {"detail": f"request body is larger than {max_bytes} bytes",
         "error": "RequestTooLarge"},
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )
