"""Every console route, walked from the app's route table: without a console session it
shows nothing and changes nothing, whatever token is offered (a device token, an
operator's API token, a forged or ended session); with a session, a POST without the
session's form token, or from another origin, is refused; every response carries the
console's security headers; hostile indicator values render as text."""

from __future__ import annotations

import re

import pytest

from haven.core import ids
from haven.server.console import sessions
from haven.server.console.rendering import CONTENT_SECURITY_POLICY
from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import stores_at
from tests.server.conftest import Server
from tests.server.console.conftest import Console, sign_in
from tests.server.test_authorization import http_routes

pytestmark = pytest.mark.anyio

PUBLIC = {
    ("GET", "/admin/login"): "the sign-in form",
    ("POST", "/admin/login"): "signing in",
    ("GET", "/admin/first-run"): "the first admin's one-time link (the link is the secret)",
    ("POST", "/admin/first-run"): "creating the first admin with that link",
}
HOSTILE = "<script>alert(1)</script>"


def console_routes() -> list[tuple[str, str]]:
    return [(m, p) for m, p in http_routes() if p == "/admin" or p.startswith("/admin/")]


def protected_routes() -> list[tuple[str, str]]:
    return [route for route in console_routes() if route not in PUBLIC]


def fill(path: str) -> str:
    path = re.sub(r"\{(appeal_id|report_id)\}", "1", path)
    return re.sub(r"\{[^}]+\}", ids.new_id(), path)


def test_the_route_table_has_the_console_and_its_public_routes() -> None:
    assert set(PUBLIC) <= set(console_routes())
    pages = {p for m, p in protected_routes() if m == "GET"}
    for page in ("/admin", "/admin/accounts", "/admin/reports", "/admin/notices",
                 "/admin/intel", "/admin/links", "/admin/relays", "/admin/audit",
                 "/admin/transparency"):  # fmt: skip
        assert page in pages


async def outsiders(server: Server, console_db: str) -> dict[str, dict[str, str]]:
    device = await server.register()
    operator_id = ids.new_id()
    api_token = ids.operator_token(operator_id)
    async with stores_at(console_db) as stores:
        await stores.operators.create(operator_id, "api-only", "admin",
                                      ids.token_digest(api_token), 1)  # fmt: skip
    ended = await sign_in(server, console_db, name="Gone")
    await ended.post("/admin/logout")
    live = await sign_in(server, console_db, name="Live")
    return {
        "no session": {},
        "a device token": device.auth,
        "an operator API token": {"Authorization": f"Bearer {api_token}"},
        "a forged session cookie": {"Cookie": f"{sessions.COOKIE}={ids.new_token()}"},
        "a signed-out session": ended.cookie,
        "a live session's token as a bearer token": {"Authorization": f"Bearer {live.session}"},
        "a live session's cookie under another name": {"Cookie": f"haven_session={live.session}"},
    }


@pytest.mark.parametrize(("method", "path"), protected_routes())
async def test_every_console_route_refuses_callers_without_a_session(
    console_server: Server, console_db: str, method: str, path: str
) -> None:
    callers = await outsiders(console_server, console_db)
    async with stores_at(console_db) as stores:
        entries = await stores.audit.count()
    for label, headers in callers.items():
        response = await console_server.http.request(
            method, fill(path), headers=headers, data={"csrf_token": "x"}
        )
        if method == "GET":
            assert response.status_code == 303, (label, response.text[:200])
            assert response.headers["location"].startswith("/admin/login?next="), label
        else:
            assert response.status_code == 401, (label, response.text[:200])
            assert "Sign in again" in response.text, label
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    async with stores_at(console_db) as stores:
        assert await stores.audit.count() == entries


@pytest.mark.parametrize(
    ("method", "path"), [route for route in protected_routes() if route[0] == "POST"]
)
async def test_every_console_post_needs_the_form_token_and_this_origin(
    admin: Console, console_db: str, method: str, path: str
) -> None:
    target = fill(path)
    for label, data, headers in (
        ("no token", {}, {}),
        ("a wrong token", {"csrf_token": "not-the-token"}, {}),
        ("another session's token", {"csrf_token": (await sign_in(
            admin.server, console_db, name="Other")).csrf}, {}),
        ("another origin", {"csrf_token": admin.csrf}, {"Origin": "https://evil.example"}),
        ("a cross-site fetch", {"csrf_token": admin.csrf}, {"Sec-Fetch-Site": "cross-site"}),
    ):  # fmt: skip
        response = await admin.server.http.post(
            target, data=data, headers={**admin.cookie, **headers}
        )
        assert response.status_code == 403, (label, response.text[:300])
    # The session itself still works: the refusals changed nothing.
    assert (await admin.get("/admin")).status_code == 200


async def test_sign_in_forms_need_their_own_token(console_server: Server) -> None:
    for path in ("/admin/login", "/admin/first-run"):
        bare = await console_server.http.post(
            path,
            data={"name": "Ana", "password": "x" * 20, "password_again": "x" * 20,
                  "token": "t", "csrf_token": "forged"},
        )  # fmt: skip
        assert bare.status_code == 403, path


async def test_first_run_page_without_a_valid_link_shows_nothing(console_server: Server) -> None:
    for query in ("", "?token=" + ids.new_token()):
        response = await console_server.http.get("/admin/first-run" + query)
        assert response.status_code == 403
        assert "password" not in response.text.lower()


async def test_every_page_carries_the_security_headers(admin: Console) -> None:
    for path in ("/admin", "/admin/login", "/admin/static/console.css", "/admin/nowhere"):
        response = await admin.get(path)
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    assert (await admin.get("/admin/nowhere")).status_code == 404


async def test_hostile_indicator_values_render_as_text(admin: Console, console_db: str) -> None:
    source = IntelSource(f"pub {HOSTILE}", f"report {HOSTILE}", "f.txt", 1, None, "clear")
    async with stores_at(console_db) as stores:
        await stores.intel.import_records(
            [IntelRecord("domain", HOSTILE, (source,))], "hostile peer", 1
        )
    page = await admin.get("/admin/intel/search", q="alert(1)")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert HOSTILE not in page.text
    assert "<script" not in page.text.replace('<script src="/admin/static/console.js"', "")


async def test_a_moderator_cannot_change_what_the_service_trusts(moderator: Console) -> None:
    for path, data in (
        ("/admin/links/allow", {"target": "example.org"}),
        ("/admin/invites", {"uses": "1"}),
        ("/admin/intel/peers", {"name": "peer"}),
        ("/admin/transparency/publish", {"period": "2026"}),
    ):
        response = await moderator.post(path, data)
        assert response.status_code == 403, path
        assert "only an admin" in response.text
    upload = await moderator.post(
        "/admin/intel/import", files={"file": ("x.txt", b"evil.example\n", "text/plain")}
    )
    assert upload.status_code == 403
