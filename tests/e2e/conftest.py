"""Whole-system tests: real `haven server` processes on loopback ports."""

from __future__ import annotations

import pytest

from tests.conftest import fresh_stores


@pytest.fixture
async def empty_db(db_url: str) -> str:
    emptied = await fresh_stores(db_url)
    await emptied.db.close()
    return db_url
