"""Request limits applied before FastAPI parses a body: media type, size, then JSON nesting
depth."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response, status
from fastapi.routing import APIRoute

from api.problems import problem
from ledger.core.jsonlimits import JsonTooDeepError, check_json_depth

# Records are a few hundred bytes and proof bundles at most a few kilobytes.
MAX_REQUEST_BYTES = 64 * 1024


# Timelines carry a proof per record: a long-standing borrower's fits in a few megabytes.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class GuardedRoute(APIRoute):
    """A route whose request body is JSON (415 otherwise), bounded in size (413) and JSON
    depth (422)."""

    max_bytes: ClassVar[int] = MAX_REQUEST_BYTES

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None

        async def guarded(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                refusal = await _refuse_oversized_or_deep(request, self.max_bytes, takes_json)
                if refusal is not None:
                    return refusal
            return await handler(request)

        return guarded


class DocumentRoute(GuardedRoute):
    """A route that takes whole evidence documents (timelines)."""

    max_bytes: ClassVar[int] = MAX_DOCUMENT_BYTES


def is_json(content_type: str) -> bool:
    """application/json, or a +json type (RFC 6839), with any parameters."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


async def _refuse_oversized_or_deep(
    request: Request, max_bytes: int, takes_json: bool
) -> Response | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return _too_large(max_bytes)
    request._body = bytes(body)  # the handler reads this instead of the consumed stream
    content_type = request.headers.get("content-type", "")
    # FastAPI would read a body of another type as no body at all ("Field required"). An
    # empty body without a type is no body, which a route's model accepts or refuses itself.
    declares_other = bool(body or content_type) and not is_json(content_type)
    if declares_other and (takes_json or body):
        what = f"Content-Type {content_type:.60}" if content_type else "no Content-Type"
        return problem(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                       f"the body must be application/json, got {what}",
                       "UnsupportedMediaTypeError")
    try:
        check_json_depth(request._body)
    except JsonTooDeepError as exc:
        return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc), "JsonTooDeepError")
    return None


def _too_large(max_bytes: int) -> Response:
    return problem(status.HTTP_413_CONTENT_TOO_LARGE,
                   f"request body is larger than {max_bytes} bytes", "RequestTooLarge")
