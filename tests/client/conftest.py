"""Real clients (separate profiles) against a real server on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from haven.client.messenger import Messenger

# Fixtures from the server tests: a real server per test, on SQLite and PostgreSQL.
from tests.server.conftest import (
    Server,
    server,  # noqa: F401
)

PASSPHRASE = "correct horse battery staple"

MakeClient = Callable[[str], Awaitable[Messenger]]


@pytest.fixture
async def make_client(
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[MakeClient]:
    opened: list[Messenger] = []

    async def make(name: str) -> Messenger:
        client = await Messenger.create_account(tmp_path / name, server.url, PASSPHRASE)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.close()


async def second_device(first: Messenger, directory: Path) -> Messenger:
    """Another device on `first`'s account, linked the way a person does it."""
    code = Messenger.begin_link(directory, first.state.server, PASSPHRASE)
    approval, _ = await first.approve_link(code)
    return await Messenger.complete_link(directory, PASSPHRASE, approval)
