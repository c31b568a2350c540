"""The public transparency routes on a real server: nothing until a report is published,
then exactly the published JSON and page, to anyone, the page under a strict policy."""

from __future__ import annotations

import json

import pytest

from haven.safety import auditlog
from haven.safety import transparency as tr
from haven.safety.records import audit_entry
from haven.store.stores import stores_at
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio

Q4_START = tr.Period.parse("2026-Q4").start_ms


async def publish_a_report(server: Server, db_url: str) -> tuple[str, str]:
    key = auditlog.load_or_create_key(server.data_dir)  # the one the server made on start
    async with stores_at(db_url) as stores:
        for n in range(3):
            await stores.audit.append(
                audit_entry("legal_request", Q4_START + n, authority="x", response="refused")
            )
            await auditlog.seal(stores, key, Q4_START + n)
        report = tr.compute(
            await stores.audit.entries(), await stores.audit.heads(), tr.Period.parse("2026-Q4"),
            public_key=auditlog.load_public_key(server.data_dir),
        )  # fmt: skip
    html_text, _, json_text = tr.render(report)
    tr.publish(server.data_dir, json_text, html_text)
    return json_text, html_text


async def test_nothing_is_served_before_a_report_is_published(server: Server) -> None:
    for path in ("/v1/transparency/latest", "/transparency"):
        response = await server.http.get(path)
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert "no transparency report has been published" in error["message"]


async def test_the_published_report_is_public(server: Server, db_url: str) -> None:
    json_text, html_text = await publish_a_report(server, db_url)
    latest = await server.http.get("/v1/transparency/latest")  # no token: public by design
    assert latest.status_code == 200
    assert latest.headers["content-type"] == "application/json"
    assert latest.text == json_text
    assert latest.json()["figures"]["legal_requests"]["refused"] == 3
    assert latest.json()["source"]["head"]["size"] == 3

    page = await server.http.get("/transparency")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == html_text
    assert "<svg" in page.text
    policy = [p.strip() for p in page.headers["content-security-policy"].split(";")]
    assert policy[:3] == ["default-src 'none'", "style-src 'unsafe-inline'", "img-src data:"]
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_publishing_again_replaces_the_report(server: Server, db_url: str) -> None:
    first, _ = await publish_a_report(server, db_url)
    second, _ = await publish_a_report(server, db_url)
    assert json.loads(first)["source"]["head"]["size"] == 3
    served = (await server.http.get("/v1/transparency/latest")).json()
    assert served == json.loads(second)
    assert served["source"]["head"]["size"] == 6
    assert not [p.name for p in (server.data_dir / tr.PUBLISH_DIR).iterdir()
                if p.name.startswith(".")]  # fmt: skip
