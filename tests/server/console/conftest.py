"""A real server with the console, and a signed-in operator's browser-like client: the
session cookie and the form token, sent the way a browser sends them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from haven.core import clock, ids
from haven.server.console import credentials, sessions
from haven.store.interfaces import OperatorRecord
from haven.store.stores import stores_at
from tests.server.conftest import Server, make_config, serve

PASSWORD = "a long console password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def form_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form token"
    return found.group(1)


@dataclass
class Console:
    server: Server
    operator: OperatorRecord
    session: str
    csrf: str

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"{sessions.COOKIE}={self.session}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.server.http.get(path, params=params, headers=self.cookie)

    async def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        with_token: bool = True,
    ) -> httpx.Response:
        body = dict(data or {})
        if with_token:
            body["csrf_token"] = self.csrf
        return await self.server.http.post(
            path, data=body, files=files, headers={**self.cookie, **(headers or {})}
        )


async def add_operator(
    db_url: str,
    name: str = "Ana",
    role: str = "admin",
    password: str = PASSWORD,
    totp_secret: bytes | None = None,
) -> OperatorRecord:
    operator = OperatorRecord(ids.new_id(), name, role, clock.now_ms())
    token = ids.operator_token(operator.operator_id)
    async with stores_at(db_url) as stores:
        await stores.operators.create(
            operator.operator_id, name, role, ids.token_digest(token), operator.created_at
        )
        hashed = credentials.hash_password(password)
        await stores.console.set_password(operator.operator_id, hashed, totp_secret, 1)
    return operator


async def login(
    server: Server, name: str, password: str, code: str = "", next_: str = "/admin"
) -> httpx.Response:
    """The sign-in form, as a browser fills it in: the page first (its cookie and token)."""
    form = await server.http.get("/admin/login")
    signin = form.cookies.get(sessions.SIGNIN_COOKIE)
    assert signin
    return await server.http.post(
        "/admin/login",
        data={"name": name, "password": password, "code": code, "next": next_,
              "csrf_token": form_token(form.text)},
        headers={"Cookie": f"{sessions.SIGNIN_COOKIE}={signin}"},
    )  # fmt: skip


def session_cookie(response: httpx.Response) -> str:
    found = response.cookies.get(sessions.COOKIE)
    assert found, f"no session cookie ({response.status_code}): {response.text[:300]}"
    return found


async def sign_in(server: Server, db_url: str, name: str = "Ana", role: str = "admin") -> Console:
    operator = await add_operator(db_url, name, role)
    signed = await login(server, name, PASSWORD)
    assert signed.status_code == 303, signed.text
    token = session_cookie(signed)
    dashboard = await server.http.get("/admin", headers={"Cookie": f"{sessions.COOKIE}={token}"})
    return Console(server, operator, token, form_token(dashboard.text))


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its real cost takes a fifth of a second per hash; these tests hash often
    and are about the console, not the cost (tests/server/console/test_credentials.py
    checks the real parameters)."""
    monkeypatch.setattr(credentials, "ARGON2_MEMORY_KIB", 8 * 1024)
    monkeypatch.setattr(credentials, "ARGON2_ITERATIONS", 1)


@pytest.fixture
def console_db(tmp_path: Path) -> str:
    # Console pages are storage-agnostic (the stores have their own suites on both
    # databases): SQLite keeps these tests quick on a shared machine.
    return f"sqlite:///{tmp_path / 'console.sqlite3'}"


@pytest.fixture
async def console_server(console_db: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with serve(make_config(console_db, tmp_path)) as running:
        yield running


@pytest.fixture
async def admin(console_server: Server, console_db: str) -> Console:
    return await sign_in(console_server, console_db)


@pytest.fixture
async def moderator(console_server: Server, console_db: str) -> Console:
    return await sign_in(console_server, console_db, name="Mo", role="moderator")
