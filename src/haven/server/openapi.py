"""The published OpenAPI document: FastAPI's, plus the answers the edge gives on every route.

FastAPI documents what each route declares. Some answers come from layers around every
route instead, and a client (or a generated test) must be able to rely on the document for
them too:

- 400 `invalid_json`: a JSON body that does not parse (every operation with a JSON body);
- 401 `unauthorized`: no valid credentials (every operation that requires them);
- 413 `body_too_large`: a body over the cap (every operation with a body);
- 429 `rate_limited`: the per-address limit runs in front of every route;
- 503 `unavailable`: the database cannot be reached or its disk is full (every operation but
  the health check, which reports that as `degraded` instead).

Every error is the same JSON body (`ErrorBody`, which the `errors()` helper of the routes
puts in the components) whatever the route's own media type: a TAXII route answers
`application/taxii+json` but its errors are `application/json`; and a 422 is Haven's
`validation_failed` error, not FastAPI's default validation body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorBody"}
_ERROR_CONTENT = {"application/json": {"schema": _ERROR_SCHEMA}}

_DESCRIPTIONS = {
    400: "Bad Request: the body is not valid JSON, or the request is malformed",
    401: "Unauthorized: valid credentials are required",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large: the body exceeds the cap",
    422: "Validation Error",
    429: "Too Many Requests: slow down and retry",
    503: "Service Unavailable: the database is unreachable or full; nothing was changed, retry",
}

# Operations whose failure to reach the database is an answer of their own, not a 503.
_NEVER_UNAVAILABLE = {("get", "/v1/health")}


def _edge_answers(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    answers = {429}
    body = operation.get("requestBody")
    if body is not None:
        answers.add(413)
        if "application/json" in body.get("content", {}):
            answers.add(400)
    if operation.get("security"):
        answers.add(401)
    if (method, path) not in _NEVER_UNAVAILABLE:
        answers.add(503)
    return answers


def add_edge_answers(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with every edge answer listed and every error documented as ErrorBody."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for answer in _edge_answers(path, method, operation):
                responses.setdefault(str(answer), {"description": _DESCRIPTIONS[answer]})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = dict(_ERROR_CONTENT)
    return document


def install(app: FastAPI) -> None:
    """Serve the completed document (built once, on first request, like FastAPI's own)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_edge_answers(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
