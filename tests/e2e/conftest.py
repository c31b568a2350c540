"""Whole-system tests: real `haven server` processes on loopback ports, and private
PostgreSQL and Redis servers for the fault tests to crash (see tests/services.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import fresh_stores, service_missing
from tests.services import PrivatePostgres, PrivateRedis, ServiceUnavailable, SmallFilesystem


@pytest.fixture
async def empty_db(db_url: str) -> str:
    emptied = await fresh_stores(db_url)
    await emptied.db.close()
    return db_url


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of this test's own, to crash and restart (never the shared one)."""
    try:
        server = PrivatePostgres()
    except ServiceUnavailable as exc:
        service_missing("a private PostgreSQL", exc)
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis of this test's own, to kill and bring back (never the shared one)."""
    try:
        server = PrivateRedis()
    except ServiceUnavailable as exc:
        service_missing("a private Redis", exc)
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def small_filesystem() -> Iterator[SmallFilesystem]:
    """An 8 MiB tmpfs for a data directory, to fill up (needs the right to mount)."""
    try:
        filesystem = SmallFilesystem("8m")
    except ServiceUnavailable as exc:
        service_missing("a small filesystem to fill", exc)
    try:
        yield filesystem
    finally:
        filesystem.close()
