"""The ASGI application: `create_app(config)` wires routes, middleware, stores and the bus."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

import haven
from haven.core import clock, limits, logprivacy
from haven.core.config import Config
from haven.linkguard.updates import ListUpdates
from haven.safety import auditlog, keylog, notices
from haven.safety.keylog import KeyLog
from haven.safety.reports import load_or_create_stamp_key
from haven.server import errors, openapi
from haven.server.bus import LocalBus, RedisBus
from haven.server.console import mount as console
from haven.server.credentials import CredentialCache
from haven.server.edge import AddressRateLimit, BodyLimit
from haven.server.metrics import Metrics
from haven.server.ratelimit import RateLimits
from haven.server.routes import (
    accounts,
    attachments,
    health,
    keys,
    linkguard,
    messages,
    moderation,
    protection,
    reports,
    standing,
    stream,
    taxii,
    transparency,
)
from haven.server.routes import (
    keylog as keylog_routes,
)
from haven.server.routes import (
    notices as notice_routes,
)
from haven.server.state import ServerState
from haven.store.stores import Stores, open_stores

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 60.0


async def _purge_expired(state: ServerState) -> None:
    while True:
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
        try:
            cutoff = clock.expiry_cutoff_ms()  # allows for other processes' clock skew
            gone = await state.stores.queues.purge_expired(cutoff)
            blobs = await state.stores.blobs.purge_expired(cutoff)
            await console.sweep(state.stores, clock.now_ms())
            if gone or blobs:
                log.info("expired %d envelopes and %d attachments", gone, blobs)
        except Exception:  # a failed sweep is retried next time; never kill the server
            log.exception("expiry sweep failed")


@dataclass(frozen=True)
class ServerKeys:
    audit: Ed25519PrivateKey
    notice: Ed25519PrivateKey
    key_log: Ed25519PrivateKey
    stamp: bytes


def load_keys(data_dir: Path) -> ServerKeys:
    """Every key the server signs or MACs with, loaded (or made). `haven server` calls this
    before it listens too, so a key file others can read stops it with one clear line
    (KeyFileError) rather than a traceback from the lifespan."""
    return ServerKeys(
        audit=auditlog.load_or_create_key(data_dir),
        notice=notices.load_or_create_key(data_dir),
        key_log=keylog.load_or_create_key(data_dir),
        stamp=load_or_create_stamp_key(data_dir),
    )


def create_app(config: Config) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # After uvicorn has configured its loggers: no client address, no token, in any.
        logprivacy.protect("uvicorn", "uvicorn.error", "uvicorn.access", "websockets.server")
        keys = load_keys(config.data_dir)
        stores: Stores = await open_stores(config.database_url)
        bus = RedisBus(config.redis) if config.redis else LocalBus()
        stores.queues.on_queued(bus.hand)
        await bus.start()
        state = ServerState(
            config=config,
            stores=stores,
            bus=bus,
            limits=RateLimits(enabled=config.rate_limits),
            metrics=Metrics(),
            credentials=CredentialCache(stores.accounts),
            link_lists=ListUpdates(stores),
            audit_key=keys.audit,
            notice_key=keys.notice,
            key_log=KeyLog(stores, keys.key_log),
            stamp_key=keys.stamp,
        )
        bus.on_revoke(state.credentials.evict)
        app.state.haven = state
        sweeper = asyncio.create_task(_purge_expired(state), name="haven-expiry")
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await bus.close()
            await stores.db.close()

    app = FastAPI(
        title="Haven",
        version=haven.__version__,
        summary="End-to-end encrypted messaging: the server stores and forwards ciphertext.",
        openapi_url="/v1/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; Haven serves no CDN code
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app)
    openapi.install(app)
    routers = (accounts, standing, keys, messages, attachments, stream, health, taxii, linkguard,
               reports, notice_routes, keylog_routes, moderation, transparency,
               protection)  # fmt: skip
    for module in routers:
        app.include_router(module.router)
    console.mount(app)  # after errors.install: the console wraps those handlers
    app.add_middleware(
        BodyLimit,
        default=limits.MAX_REQUEST_BODY_BYTES,
        per_path={"/v1/attachments": config.max_attachment_bytes, **console.BODY_LIMITS},
    )
    app.add_middleware(AddressRateLimit)
    return app
