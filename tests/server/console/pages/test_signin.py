"""Signing in and out as an operator does: the same answer for every wrong guess, a
throttle after a few, TOTP when set up, session cookies a script cannot read, and the
first admin made from the one-time link `haven up` prints."""

from __future__ import annotations

import asyncio
import re

import pytest

from haven.core import clock, limits
from haven.server.console import credentials, firstrun, sessions
from haven.server.console.pages.signin import safe_next
from tests.server.conftest import Server
from tests.server.console.conftest import (
    PASSWORD,
    Console,
    add_operator,
    form_token,
    login,
    session_cookie,
)

pytestmark = pytest.mark.anyio


async def test_a_wrong_name_and_a_wrong_password_get_the_same_answer(
    console_server: Server, console_db: str
) -> None:
    await add_operator(console_db, "Ana")
    wrong_password = await login(console_server, "Ana", "not the password at all")
    unknown_name = await login(console_server, "Nobody", PASSWORD)
    for response in (wrong_password, unknown_name):
        assert response.status_code == 401
        assert "Wrong name, password or code." in response.text
        assert sessions.COOKIE not in response.cookies


async def test_signing_in_sets_a_host_only_secure_http_only_strict_cookie(
    console_server: Server, console_db: str
) -> None:
    await add_operator(console_db, "Ana")
    signed = await login(console_server, "Ana", PASSWORD, next_="/admin/audit")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/admin/audit"
    [cookie] = [
        c for c in signed.headers.get_list("set-cookie") if c.startswith("__Host-haven_session=")
    ]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)


async def test_signing_out_ends_the_session_on_the_server(admin: Console) -> None:
    assert (await admin.get("/admin")).status_code == 200
    out = await admin.post("/admin/logout")
    assert (out.status_code, out.headers["location"]) == (303, "/admin/login")
    again = await admin.get("/admin")  # the old cookie, replayed
    assert again.status_code == 303


async def test_only_console_paths_are_followed_after_sign_in() -> None:
    assert safe_next("/admin/reports?status=open") == "/admin/reports?status=open"
    for hostile in ("https://evil.example/", "//evil.example/admin", "/v1/health", "/admin\\x"):
        assert safe_next(hostile) == "/admin"


async def test_repeated_failures_are_throttled_even_with_the_right_password(
    console_server: Server, console_db: str
) -> None:
    await add_operator(console_db, "Ana")
    for _ in range(limits.CONSOLE_LOGIN_FREE_FAILURES):
        assert (await login(console_server, "Ana", "wrong password here")).status_code == 401
    await login(console_server, "Ana", "wrong password here")
    throttled = await login(console_server, "Ana", PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.text
    assert sessions.COOKIE not in throttled.cookies


async def test_simultaneous_guesses_get_only_the_free_attempts(
    console_server: Server, console_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_operator(console_db, "Ana")
    checked: list[str] = []
    matches = credentials.password_matches

    def counted(password: str, stored: str | None) -> bool:
        checked.append(password)
        return matches(password, stored)

    monkeypatch.setattr(credentials, "password_matches", counted)
    free = limits.CONSOLE_LOGIN_FREE_FAILURES
    guesses = [login(console_server, "Ana", f"wrong password {n}") for n in range(free + 6)]
    answers = await asyncio.gather(*guesses)
    # However the requests interleaved, only the free attempts reached a password check.
    assert sorted(a.status_code for a in answers) == [401] * free + [429] * 6
    assert len(checked) == free


async def test_totp_is_required_once_set_up_and_each_code_works_once(
    console_server: Server, console_db: str
) -> None:
    secret = credentials.new_totp_secret()
    await add_operator(console_db, "Ana", totp_secret=secret)
    assert (await login(console_server, "Ana", PASSWORD)).status_code == 401
    assert (await login(console_server, "Ana", PASSWORD, code="000000")).status_code == 401
    code = credentials.totp_code(secret, clock.now_ms() / 1000)
    signed = await login(console_server, "Ana", PASSWORD, code=code)
    assert signed.status_code == 303
    session_cookie(signed)
    replayed = await login(console_server, "Ana", PASSWORD, code=code)
    assert replayed.status_code == 401


async def test_the_first_run_link_makes_the_first_admin_once(
    console_server: Server, console_db: str
) -> None:
    stores = console_server.app.state.haven.stores
    page = await console_server.http.get("/admin/login")
    assert "No operator has a console password yet" in page.text
    link = await firstrun.issue_link(stores, console_server.url)
    assert link is not None
    assert link.startswith(f"{console_server.url}/admin/first-run?token=")
    path = link.removeprefix(console_server.url)
    form = await console_server.http.get(path)
    assert form.status_code == 200
    signin = {"Cookie": f"{sessions.SIGNIN_COOKIE}={form.cookies[sessions.SIGNIN_COOKIE]}"}
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token is not None
    fields = {"token": token.group(1), "name": "Ana", "csrf_token": form_token(form.text)}
    mismatch = await console_server.http.post(
        "/admin/first-run", headers=signin,
        data={**fields, "password": PASSWORD, "password_again": PASSWORD + "!"},
    )  # fmt: skip
    assert mismatch.status_code == 400
    assert "not the same" in mismatch.text
    short = await console_server.http.post(
        "/admin/first-run", headers=signin,
        data={**fields, "password": "short", "password_again": "short"},
    )  # fmt: skip
    assert short.status_code == 400
    made = await console_server.http.post(
        "/admin/first-run", headers=signin,
        data={**fields, "password": PASSWORD, "password_again": PASSWORD},
    )  # fmt: skip
    assert made.status_code == 303
    dashboard = await console_server.http.get(
        "/admin", headers={"Cookie": f"{sessions.COOKIE}={session_cookie(made)}"}
    )
    assert "Ana (admin)" in dashboard.text
    assert (await console_server.http.get(path)).status_code == 403  # spent
    assert await firstrun.issue_link(stores, console_server.url) is None  # not needed any more
    assert (await login(console_server, "Ana", PASSWORD)).status_code == 303
