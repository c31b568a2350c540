from __future__ import annotations

import pytest
import sqlalchemy as sa

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
