"""The one-time sign-in link `haven up` prints while no operator has a console password:
whoever opens it first (within the hour) chooses the first admin's name and password.
Only the link token's SHA-256 is stored, and the link is spent in the transaction that
creates the admin."""

from __future__ import annotations

from haven.core import clock, ids, limits
from haven.store.stores import Stores

PATH = "/admin/first-run"


def link_digest(token: str) -> bytes:
    return ids.token_digest(f"console-first-run:{token}")


async def issue_link(stores: Stores, base_url: str) -> str | None:
    """A fresh first-run link, or None when some operator can already sign in."""
    if await stores.console.has_console_operator():
        return None
    token = ids.new_token()
    now = clock.now_ms()
    expires = now + limits.CONSOLE_FIRST_RUN_LINK_SECONDS * 1000
    await stores.console.create_link(link_digest(token), now, expires)
    return f"{base_url.rstrip('/')}{PATH}?token={token}"
