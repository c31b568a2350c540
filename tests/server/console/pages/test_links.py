"""Link blocking in the console: a URL tested against the list clients hold, with the
intel behind a block; the allowlist overrides it in a new list version."""

from __future__ import annotations

import pytest

from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import stores_at
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def listed(db_url: str, value: str) -> None:
    source = IntelSource("Amnesty International", "Pegasus 2021", "domains.txt", 7, None, "clear")
    async with stores_at(db_url) as stores:
        await stores.intel.import_records([IntelRecord("domain", value, (source,))], "t", 1)


async def test_testing_urls_and_allowlisting(admin: Console, console_db: str) -> None:
    await listed(console_db, "weather4free.com")
    blocked = await admin.get("/admin/links/test", url="https://news.weather4free.com/a?b=1")
    assert 'class="verdict blocked"' in blocked.text
    assert "weather4free.com/" in blocked.text
    assert "Amnesty International: Pegasus 2021" in blocked.text
    version = blocked.text.split('id="list-version">')[1].split("<")[0]
    clean = await admin.get("/admin/links/test", url="https://example.org/")
    assert 'class="verdict clean"' in clean.text
    invalid = await admin.get("/admin/links/test", url="javascript:alert(1)")
    assert 'class="verdict invalid"' in invalid.text
    lookalike = await admin.get("/admin/links/test", url="https://paypa1.com/")
    assert "imitates paypal.com" in lookalike.text

    allowed = await admin.post("/admin/links/allow", {"target": "weather4free.com", "note": "ok"})
    assert allowed.status_code == 303
    after = await admin.get("/admin/links/test", url="https://news.weather4free.com/a?b=1")
    assert 'class="verdict clean"' in after.text
    assert int(after.text.split('id="list-version">')[1].split("<")[0]) > int(version)
    twice = await admin.post("/admin/links/allow", {"target": "weather4free.com"})
    assert twice.status_code == 409
    assert (await admin.post("/admin/links/allow", {"target": "not a host"})).status_code == 400
    removed = await admin.post("/admin/links/disallow", {"expression": "weather4free.com/"})
    assert removed.status_code == 303
    again = await admin.get("/admin/links/test", url="https://weather4free.com/")
    assert 'class="verdict blocked"' in again.text
