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
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from haven.core import clock
from haven.core.errors import ErrorCode, HavenError
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
        (and the exception passed on) if it raises. A database that cannot be reached or
        written (a restart, a full disk) is a HavenError a client can act on: retry later.
        (Nothing was changed, unless the connection died during COMMIT itself, when no one
        can know: a retried send may then be stored twice, which clients de-duplicate.)"""
        if self._async is not None:
            return await _outages_as_errors(_on_postgres(self._async, work))
        return await _outages_as_errors(self._on_sqlite(work))

    async def _on_sqlite(self, work: Work[T]) -> T:
        assert self._sync is not None
        with self._sync.begin() as conn:
            return work(conn)

    async def read(self, work: Work[T]) -> T:
        """Run read-only `work` that needs no transaction around it (one statement, or
        statements that need not agree): on PostgreSQL this saves BEGIN and COMMIT."""
        if self._async is None:
            return await self.run(work)
        return await _outages_as_errors(_on_postgres(self._autocommit, work))

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


# SQLSTATEs of a PostgreSQL that is going away or not back yet: connection exceptions
# (class 08), admin or crash shutdown, "cannot connect now" (starting up).
_PG_GONE = ("08", "57P01", "57P02", "57P03")
_PG_DISK_FULL = "53100"
_SQLITE_FULL = 13
_SQLITE_GONE = frozenset({5, 6, 10, 14})  # BUSY, LOCKED, IOERR, CANTOPEN (primary codes)
_LOG_EVERY_SECONDS = 10.0
_last_logged = -_LOG_EVERY_SECONDS


def outage(exc: BaseException) -> HavenError | None:
    """The HavenError for a database that is unreachable or full; None for anything else
    (a constraint, a bug: those are not the client's to retry)."""
    full = HavenError(ErrorCode.STORAGE_FULL, "the server's storage is full; retry later")
    gone = HavenError(ErrorCode.UNAVAILABLE, "the database is unavailable; retry shortly")
    found: HavenError | None = None
    if isinstance(exc, OSError):
        found = gone  # connecting failed: refused, reset, unreachable
    elif isinstance(exc, DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", None) or "")
        sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
        sqlite_code = None if sqlite_code is None else int(sqlite_code) & 0xFF
        if state == _PG_DISK_FULL or sqlite_code == _SQLITE_FULL:
            found = full
        elif (
            exc.connection_invalidated
            or state.startswith(_PG_GONE)
            or sqlite_code in _SQLITE_GONE
            or isinstance(exc.orig, OSError)
        ):
            found = gone
    if found is not None:
        _log_outage(found, exc)
    return found


async def _outages_as_errors(call: Awaitable[T]) -> T:
    try:
        return await call
    except (DBAPIError, OSError) as exc:
        error = outage(exc)
        if error is None:
            raise
        raise error from exc


def _log_outage(error: HavenError, cause: BaseException) -> None:
    # Every request fails alike while it lasts: one line every few seconds says enough.
    global _last_logged
    now = clock.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:
        _last_logged = now
        log.warning("%s (%s)", error.message, str(cause).splitlines()[0][:200])


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
