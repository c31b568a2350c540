"""Engine set-up for SQLite (embedded default) and PostgreSQL, and the migration runner.

Store code is written as plain functions of a SQLAlchemy `Connection` that run inside one
transaction (`Database.run`). On PostgreSQL they run on asyncpg through SQLAlchemy's
asyncio bridge. On SQLite they run on the standard driver, right on the event loop's thread:
a SQLite transaction here is tens of microseconds of CPU with no network wait, so handing it
to another thread only adds GIL hand-offs (measured: the asyncio SQLite driver cost ~1 ms of
CPU per primary-key select, a worker thread ~0.3 ms with GIL contention, inline ~0.1 ms).
The price: a statement blocked on another process's write lock (the CLI) blocks the loop
for up to busy_timeout; Haven's own writers all live in the server process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from haven.core import clock
from haven.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[sa.Connection], T]

# Every PostgreSQL process that starts races to migrate; this lock lets exactly one do it.
_MIGRATION_LOCK_ID = 0x4A5E_0001


def async_url(url: str) -> str:
    """The asyncio driver for a plain postgresql:// URL (SQLite uses the standard driver)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite"))
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN covers reads too (atomic
        # read-modify-write), and IMMEDIATE so a writer never fails upgrading its lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of this process (kill -9); only an OS
        # crash or power cut can lose the last commits, and never corrupts the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")  # other processes (the CLI) wait
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """Owns the engine; `run` executes one transaction; `migrate()` updates the schema."""

    def __init__(self, url: str) -> None:
        self.url = url
        driver_url = async_url(url)
        self._sync: sa.Engine | None = None
        self._async: AsyncEngine | None = None
        if driver_url.startswith("sqlite"):
            self._sync = _sqlite_engine(driver_url)
            self.dialect = "sqlite"
        else:
            # No pre-ping: it costs a round trip per transaction. A connection that died
            # (database restart) fails once, is invalidated, and the work is retried.
            self._async = create_async_engine(driver_url, pool_size=20, max_overflow=10)
            self._autocommit = self._async.execution_options(isolation_level="AUTOCOMMIT")
            self.dialect = "postgresql"

    async def run(self, work: Work[T]) -> T:
        """Run `work(connection)` in one transaction: committed if it returns, rolled back
        (and the exception passed on) if it raises."""
        if self._async is not None:
            return await _on_postgres(self._async, work)
        assert self._sync is not None
        with self._sync.begin() as conn:
            return work(conn)

    async def read(self, work: Work[T]) -> T:
        """Run read-only `work` that needs no transaction around it (one statement, or
        statements that need not agree): on PostgreSQL this saves BEGIN and COMMIT."""
        if self._async is not None:
            return await _on_postgres(self._autocommit, work)
        return await self.run(work)

    async def migrate(self) -> int:
        """Apply every migration not yet applied, in order; returns the schema version."""

        def work(conn: sa.Connection) -> int:
            if self.dialect == "postgresql":
                conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
            _version_table().create(conn, checkfirst=True)
            current = conn.scalar(sa.text("SELECT COALESCE(MAX(version), 0) FROM haven_schema"))
            version = int(current or 0)
            for number, upgrade in MIGRATIONS:
                if number <= version:
                    continue
                log.info("applying migration %04d", number)
                upgrade(conn)
                conn.execute(
                    sa.text("INSERT INTO haven_schema (version, applied_at) VALUES (:v, :t)"),
                    {"v": number, "t": clock.now_ms()},
                )
                version = number
            return version

        return await self.run(work)

    async def ping(self) -> bool:
        try:
            await self.read(lambda conn: conn.execute(sa.text("SELECT 1")))
        except Exception:  # any driver error means "down" for a health check
            log.warning("database ping failed", exc_info=True)
            return False
        return True

    async def close(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        if self._sync is not None:
            self._sync.dispose()


async def _on_postgres(engine: AsyncEngine, work: Work[T]) -> T:
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    # The connection had died (a database restart): nothing was committed; once more on a
    # fresh one.
    async with engine.begin() as conn:
        return await conn.run_sync(work)


def _version_table() -> sa.Table:
    return sa.Table(
        "haven_schema",
        sa.MetaData(),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.BigInteger, nullable=False),
    )
