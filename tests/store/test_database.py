from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database, async_url
from haven.store.migrations import MIGRATIONS
from haven.store.stores import Stores
from haven.store.tables import metadata

pytestmark = pytest.mark.anyio


async def test_migrated_schema_matches_the_tables_queries_use(stores: Stores) -> None:
    def reflect(conn: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(conn)
        return {
            name: {c["name"] for c in inspector.get_columns(name)}
            for name in inspector.get_table_names()
            if name != "haven_schema"
        }

    actual = await stores.db.run(reflect)
    expected = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    assert actual == expected


async def test_migrations_run_once(db_url: str, stores: Stores) -> None:
    again = Database(db_url)
    try:
        assert await again.migrate() == MIGRATIONS[-1][0]
        rows = await again.run(
            lambda conn: conn.scalar(sa.text("SELECT COUNT(*) FROM haven_schema"))
        )
        assert rows == len(MIGRATIONS)
    finally:
        await again.close()


def test_plain_urls_get_asyncio_drivers() -> None:
    assert async_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert async_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    with pytest.raises(ValueError, match="unsupported database"):
        async_url("mysql://h/db")


# -- outages: a database that cannot be reached or written is "retry later", not a bug ---------


async def test_an_unreachable_database_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = Database(f"postgresql://postgres@127.0.0.1:{port}/haven")
    try:
        with pytest.raises(HavenError) as raised:
            await db.run(lambda conn: conn.execute(sa.text("SELECT 1")))
        assert raised.value.code is ErrorCode.UNAVAILABLE
        assert raised.value.status == 503
    finally:
        await db.close()


async def test_a_full_sqlite_database_is_storage_full_and_keeps_what_it_had(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'full.sqlite3'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("data", sa.LargeBinary))
    try:
        await db.run(lambda conn: table.create(conn))
        await db.run(lambda conn: conn.execute(sa.insert(table), {"data": b"kept"}))

        def overfill(conn: sa.Connection) -> None:
            # The same error SQLite gives when the disk itself is full (tests/e2e fills one).
            conn.exec_driver_sql("PRAGMA max_page_count = 8")
            conn.execute(sa.insert(table), [{"data": bytes(4096)} for _ in range(64)])

        with pytest.raises(HavenError) as raised:
            await db.run(overfill)
        assert raised.value.code is ErrorCode.STORAGE_FULL
        assert raised.value.status == 507
        rows = await db.read(lambda conn: conn.execute(sa.select(table.c.data)).scalars().all())
        assert rows == [b"kept"]  # the failed transaction left nothing behind
    finally:
        await db.close()


async def test_a_broken_constraint_is_not_an_outage(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    table = sa.Table("u", sa.MetaData(), sa.Column("k", sa.Integer, primary_key=True))
    try:
        await db.run(lambda conn: table.create(conn))
        await db.run(lambda conn: conn.execute(sa.insert(table), {"k": 1}))
        with pytest.raises(IntegrityError):
            await db.run(lambda conn: conn.execute(sa.insert(table), {"k": 1}))
    finally:
        await db.close()
