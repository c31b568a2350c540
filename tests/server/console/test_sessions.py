"""Sessions end by themselves: after an idle spell, and at their fixed lifetime."""

from __future__ import annotations

import pytest

from haven.core import clock
from haven.server.console import sessions
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_an_idle_session_and_an_old_session_are_over(
    admin: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await admin.get("/admin")).status_code == 200
    start = clock.now_ms()
    monkeypatch.setattr(clock, "now_ms", lambda: start + sessions.IDLE_MS - 60_000)
    assert (await admin.get("/admin")).status_code == 200  # used in time: still alive
    monkeypatch.setattr(clock, "now_ms", lambda: start + 2 * sessions.IDLE_MS)
    assert (await admin.get("/admin")).status_code == 303


async def test_no_session_outlives_its_lifetime_however_busy(
    admin: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = clock.now_ms()
    step = sessions.IDLE_MS // 2
    moment = start
    while moment < start + sessions.LIFETIME_MS - step:
        moment += step
        monkeypatch.setattr(clock, "now_ms", lambda at=moment: at)
        assert (await admin.get("/admin/audit")).status_code == 200
    monkeypatch.setattr(clock, "now_ms", lambda: start + sessions.LIFETIME_MS + 1)
    assert (await admin.get("/admin/audit")).status_code == 303
