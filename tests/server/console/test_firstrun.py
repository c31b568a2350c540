"""The one-time first-run link: issued only while nobody can sign in."""

from __future__ import annotations

import pytest

from haven.core import clock, ids
from haven.server.console import firstrun
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio


async def test_a_link_is_issued_only_while_no_operator_has_a_password(stores: Stores) -> None:
    link = await firstrun.issue_link(stores, "http://127.0.0.1:8080/")
    assert link is not None
    prefix = "http://127.0.0.1:8080/admin/first-run?token="
    assert link.startswith(prefix)
    token = link.removeprefix(prefix)
    assert await stores.console.link_usable(firstrun.link_digest(token), clock.now_ms())
    assert not await stores.console.link_usable(ids.token_digest(token), clock.now_ms())
    operator_id = ids.new_id()
    await stores.operators.create(operator_id, "Ana", "admin", ids.token_digest("t"), 1)
    assert await firstrun.issue_link(stores, "http://x") is not None  # an API token only
    await stores.console.set_password(operator_id, "$argon2id$h", None, 1)
    assert await firstrun.issue_link(stores, "http://x") is None
