"""Shared fixtures: real SQLite and PostgreSQL stores, real Redis, async test support.

With CI=true a missing PostgreSQL or Redis fails the run; elsewhere those tests are skipped
with a line saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
from sqlalchemy import text

from haven.store.stores import Stores, open_stores
from haven.store.tables import metadata
from tests.processes import ServerProcess

PG_ADMIN_URL = os.environ.get("HAVEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HAVEN_TEST_REDIS", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def service_missing(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error})"
    if IN_CI:
        pytest.fail(f"{message}: CI=true requires it", pytrace=False)
    pytest.skip(message)


def _pg_admin(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"haven_test_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing("PostgreSQL", exc)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis", exc)
    yield REDIS_URL
    client.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'haven.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


async def fresh_stores(url: str) -> Stores:
    """Migrated stores over an empty database (PostgreSQL tables are truncated)."""
    opened = await open_stores(url)
    if opened.db.dialect == "postgresql":
        names = ", ".join(t.name for t in metadata.sorted_tables)
        await opened.db.run(
            lambda conn: conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        )
    return opened


@contextlib.asynccontextmanager
async def empty_stores(url: str) -> AsyncIterator[Stores]:
    opened = await fresh_stores(url)
    try:
        yield opened
    finally:
        await opened.db.close()


@pytest.fixture
async def stores(db_url: str) -> AsyncIterator[Stores]:
    async with empty_stores(db_url) as opened:
        yield opened


@pytest.fixture
async def pg_stores(pg_url: str) -> AsyncIterator[Stores]:
    async with empty_stores(pg_url) as opened:
        yield opened


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[type[ServerProcess]]:
    """Start server processes; every one is stopped when the test ends."""
    started: list[ServerProcess] = []

    class Tracked(ServerProcess):
        def start(self) -> ServerProcess:
            started.append(self)
            return super().start()

    yield Tracked
    for process in started:
        process.stop()
