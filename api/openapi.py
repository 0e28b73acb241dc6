"""The OpenAPI document, as clients generate code from it: every status a route answers, each
with its body, and the document and its viewer behind an API key.

Routes declare the errors particular to them (`responses=problems(404, 409)`); the errors
every route of a kind shares by construction are added here, so that no route can forget
them: 401 (an unknown key is refused on every route, api/auth.py), 503 (the database or the
chain failed), 422 (a parameter or body that does not match), 400, 413 and 415 (a route with a
body, api/limits.py) and 429 (the metered public routes, api/budget.py). Every error body is
a problem details object (api/problems.py) served as `application/problem+json`.

`/openapi.json` and `/docs` need a key of any role (platform, regulator or admin), like
every route that is not public: the document lists every route a key may call, which is of
use to key holders only. The viewer loads Swagger UI from its CDN, as FastAPI's own does.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from api.auth import AuthenticatedDep
from api.budget import is_metered
from api.problems import (
    DESCRIPTIONS,
    PROBLEM_MEDIA_TYPE,
    Problem,
    RefusalProblem,
    ValidationProblem,
)
from api.rules import RulesRoute

_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying",
                                "schema": {"type": "integer", "minimum": 0}}}
_AUTH_CHALLENGE = {"WWW-Authenticate": {"description": "how to authenticate: APIKey",
                                        "schema": {"type": "string"}}}


def add_documentation(app: FastAPI) -> None:
    """Serve the OpenAPI document at /openapi.json and its viewer at /docs, to key holders."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_of(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json(_caller: AuthenticatedDep) -> JSONResponse:
        return JSONResponse(openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(_caller: AuthenticatedDep) -> HTMLResponse:
        # The document is written into the page: the page's own request for /openapi.json
        # could not carry the key the browser's extension or proxy added to this one.
        spec = json.dumps(openapi()).replace("</", "<\\/")
        return HTMLResponse(_SWAGGER_PAGE.replace("__SPEC__", spec),
                            headers={"Cache-Control": "no-store"})


_SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>BindLedger API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({spec: __SPEC__, dom_id: "#swagger-ui"});</script>
</body></html>
"""


def document_of(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of `app`, with the errors every route shares (module docstring)."""
    doc = get_openapi(title=app.title, version=app.version, summary=app.summary,
                      description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, ValidationProblem, RefusalProblem):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        for method in context.methods or ():
            operation = doc["paths"][context.path_format][method.lower()]
            _complete(operation, route)
    # FastAPI's own 422 body, replaced by ValidationProblem on every route above.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _complete(operation: dict[str, Any], route: APIRoute) -> None:
    responses: dict[str, Any] = operation["responses"]
    shared = [401, 503]
    if operation.get("parameters") or route.body_field is not None:
        shared.append(422)
    if route.body_field is not None:
        shared += [400, 413, 415]
    if is_metered(route):
        shared.append(429)
    for status in shared:
        responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
    refusals = isinstance(route, RulesRoute)
    for code, response in responses.items():
        if int(code) < 400 or _other_body(response):
            continue
        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _problem_schema(int(code), refusals)}}
        if code == "401":
            response.setdefault("headers", {}).update(_AUTH_CHALLENGE)
        if code in ("429", "503"):
            response.setdefault("headers", {}).update(_RETRY_AFTER)


def _other_body(response: dict[str, Any]) -> bool:
    """Whether an error response has a body of its own (the health report's 503)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return bool(ref) and ref.rsplit("/", 1)[-1] not in ("Problem", "HTTPValidationError")


def _problem_schema(code: int, refusals: bool) -> dict[str, Any]:
    ref = "#/components/schemas/{}".format
    if code == 422:
        kinds = ["ValidationProblem", *(["RefusalProblem"] if refusals else []), "Problem"]
        return {"anyOf": [{"$ref": ref(kind)} for kind in kinds]}
    if refusals and code in (403, 404, 409):
        return {"anyOf": [{"$ref": ref("RefusalProblem")}, {"$ref": ref("Problem")}]}
    return {"$ref": ref("Problem")}
