"""The console is served whole from this server: its static files, nothing from a CDN,
its sessions swept."""

from __future__ import annotations

import re

import pytest

from haven.core import clock, ids
from haven.server.console import mount, sessions
from haven.server.console.rendering import STATIC, TEMPLATES
from haven.store.stores import stores_at
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_static_files_are_served_from_here(admin: Console) -> None:
    css = await admin.server.http.get("/admin/static/console.css")
    js = await admin.server.http.get("/admin/static/console.js")
    assert (css.status_code, js.status_code) == (200, 200)
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]


def test_nothing_is_loaded_from_anywhere_else() -> None:
    external = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.I)
    for folder in (TEMPLATES, STATIC):
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8")
            assert not external.search(text), path.name
            assert "@import" not in text, path.name


async def test_the_sweep_forgets_sessions_that_are_over(admin: Console, console_db: str) -> None:
    now = clock.now_ms()
    async with stores_at(console_db) as stores:
        await stores.console.create_session(
            ids.token_digest("old"), admin.operator.operator_id, "t", 0, now + 10_000
        )
        assert await mount.sweep(stores, now) == 1
        assert (
            await stores.console.session(ids.token_digest(admin.session), now, sessions.IDLE_MS)
            is not None
        )
