"""The published OpenAPI document lists the answers the edge gives on every route, and
every error as Haven's JSON error body (tests/server/test_openapi_fuzz.py holds the server
to the document; this holds the document to the edge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from haven.core.config import Config
from haven.server.app import create_app
from haven.server.routes.taxii import MEDIA

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    built: dict[str, Any] = create_app(Config(data_dir=Path("unused"))).openapi()
    return built


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def test_every_operation_lists_the_edges_answers(document: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in operations(document):
        listed = set(operation["responses"])
        expected = {"429"}
        if "requestBody" in operation:
            expected.add("413")
            if "application/json" in operation["requestBody"]["content"]:
                expected.add("400")
        if operation.get("security"):
            expected.add("401")
        if (method, path) != ("get", "/v1/health"):
            expected.add("503")
        missing += [(method, path, status) for status in sorted(expected - listed)]
    assert missing == []


def test_every_error_is_documented_as_the_json_error_body(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {"application/json": {"schema": ERROR_BODY}}, (
                    method, path, status,
                )  # fmt: skip
    assert "ErrorBody" in document["components"]["schemas"]


def test_taxii_answers_are_documented_with_their_media_type(document: dict[str, Any]) -> None:
    taxii = [(m, p, op) for m, p, op in operations(document) if p.startswith("/taxii2/")]
    assert len(taxii) == 5
    for _, _, operation in taxii:
        assert list(operation["responses"]["200"]["content"]) == [MEDIA]
    collection = document["paths"]["/taxii2/api/collections/{collection_id}/"]["get"]
    assert "404" in collection["responses"]


def test_the_health_check_never_promises_a_503(document: dict[str, Any]) -> None:
    assert "503" not in document["paths"]["/v1/health"]["get"]["responses"]
