"""Last seen: written once per period per device, rounded down to it, and never a reason
to refuse a request."""

from __future__ import annotations

import pytest

from haven.core import clock
from haven.server.presence import LastSeen
from haven.store.interfaces import DeviceActivityRecord, DeviceRecord, Identity

pytestmark = pytest.mark.anyio

HOUR_MS = 3600 * 1000


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.writes: list[tuple[str, int]] = []
        self.fail = fail

    async def touch(self, device_id: str, account_id: str, at: int) -> None:
        if self.fail:
            raise OSError("disk full")
        self.writes.append((device_id, at))

    async def activity(self, account_id: str) -> list[DeviceActivityRecord]:
        return []


def device(name: str) -> DeviceRecord:
    return DeviceRecord("a" * 32, name * 32, Identity("c", "e"), 0)


async def test_one_write_per_hour_rounded_down(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [10 * HOUR_MS + 123]
    monkeypatch.setattr(clock, "now_ms", lambda: now[0])
    store, seen = Recorder(), LastSeen()
    for _ in range(5):
        await seen.touch(store, device("1"))
    await seen.touch(store, device("2"))
    now[0] += HOUR_MS
    await seen.touch(store, device("1"))
    assert store.writes == [("1" * 32, 10 * HOUR_MS), ("2" * 32, 10 * HOUR_MS),
                            ("1" * 32, 11 * HOUR_MS)]  # fmt: skip


async def test_a_failed_write_is_retried_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    seen = LastSeen()
    await seen.touch(Recorder(fail=True), device("1"))
    assert "last seen" in caplog.text
    working = Recorder()
    await seen.touch(working, device("1"))
    assert len(working.writes) == 1
