"""The verification page, served with everything it needs (no external resources)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["pages"], include_in_schema=False)

_STATIC = Path(__file__).resolve().parents[1] / "static"
_TYPES = {"verify.js": "text/javascript", "verify.css": "text/css"}
# The page runs only its own script and talks only to this server.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'")


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
