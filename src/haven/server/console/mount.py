"""Putting the console into the app: its pages under /admin, its bundled static files
(no CDN), its error pages and security headers, and its sign-in rate limiter."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from haven.core import limits
from haven.server.console import errors
from haven.server.console.headers import ConsoleHeaders
from haven.server.console.pages import (
    accounts,
    audit,
    dashboard,
    intel,
    links,
    notices,
    relays,
    reports,
    signin,
    transparency,
)
from haven.server.console.rendering import STATIC
from haven.server.console.sessions import IDLE_MS
from haven.server.console.throttle import LoginThrottle
from haven.store.stores import Stores

PAGES = (signin, dashboard, accounts, reports, notices, intel, links, relays, audit,
         transparency)  # fmt: skip
STATIC_PATH = "/admin/static"
# Request bodies the console accepts beyond the JSON API's cap: intel files.
BODY_LIMITS = {intel.UPLOAD_PATH: limits.CONSOLE_MAX_UPLOAD_BYTES + 64 * limits.KIB}


def mount(app: FastAPI) -> None:
    """Call after `haven.server.errors.install(app)`: the console wraps those handlers."""
    app.state.console_throttle = LoginThrottle()
    for module in PAGES:
        app.include_router(module.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    errors.install(app)
    app.add_middleware(ConsoleHeaders)


async def sweep(stores: Stores, now: int) -> int:
    """Forget sessions that are over: they are refused anyway, this keeps the table small."""
    return await stores.console.purge_sessions(now, IDLE_MS)
