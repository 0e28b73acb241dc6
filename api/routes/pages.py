"""The verification page, served with everything it needs (no external resources)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["pages"], include_in_schema=False)

_STATIC = Path(__file__).resolve().parents[1] / "static"
_TYPES = {
    "verifier.js": "text/javascript",
    "verify.css": "text/css",
    "verify-standalone.html": "text/html",
}
# The page runs only its own script. It talks to this server, or, when the user chooses to
# verify against their own node, to that node's JSON-RPC URL (any http or https origin).
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' http: https:; frame-ancestors 'none'")


@router.get("/verify", response_class=HTMLResponse)
def verify_page() -> HTMLResponse:
    return HTMLResponse((_STATIC / "verify.html").read_text(),
                        headers={"Content-Security-Policy": _CSP})


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in _TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response((_STATIC / name).read_text(), media_type=_TYPES[name],
                    headers={"Cache-Control": "no-cache"})
