"""Key transparency against a real server: device lists come with proofs from the key log,
and a server (or anyone with its database) that substitutes a key is caught by the client."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from haven.client.api import ApiError
from haven.client.messenger import IdentityChanged
from haven.core import b64
from haven.safety.keylog import KeyLog
from haven.store.stores import stores_at
from haven.store.tables import devices, key_log
from tests.client.conftest import MakeClient
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio

ATTACKER_KEYS = {"curve25519": b64.encode(bytes(range(32))), "ed25519": b64.encode(bytes(32))}


async def test_device_lists_are_proven_and_the_log_only_grows(
    make_client: MakeClient, server: Server
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.devices_of(bob.state.account_id)
    first = alice.state.key_log_head
    assert first is not None
    assert alice.state.key_log_key == bob.state.key_log_key  # both pinned the same key
    carol = await make_client("carol")  # the log grows: a consistency proof is checked
    await alice.devices_of(carol.state.account_id)
    assert alice.state.key_log_head is not None
    assert alice.state.key_log_head["size"] > first["size"]


async def test_a_substituted_key_is_caught(
    make_client: MakeClient, server: Server, db_url: str
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    # Someone with the database swaps bob's identity keys for their own, without the log.
    async with stores_at(db_url) as stores:
        await stores.db.run(
            lambda c: c.execute(
                sa.update(devices)
                .where(devices.c.device_id == bob.state.device_id)
                .values(**ATTACKER_KEYS)
            )
        )
    with pytest.raises(IdentityChanged, match="not the ones in the key log"):
        await alice.devices_of(bob.state.account_id)
    assert alice.state.outbox == []


async def test_a_rewritten_log_is_caught(
    make_client: MakeClient, server: Server, db_url: str
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.devices_of(bob.state.account_id)
    # This time the log is rewritten too, and the server restarted over it.
    async with stores_at(db_url) as stores:

        def rewrite(conn: sa.Connection) -> None:
            conn.execute(
                sa.update(devices)
                .where(devices.c.device_id == bob.state.device_id)
                .values(**ATTACKER_KEYS)
            )
            row = conn.execute(
                sa.select(key_log).where(key_log.c.device_id == bob.state.device_id)
            ).one()
            data = row.data
            for name, value in ATTACKER_KEYS.items():
                old = bob.state.identity.identity_keys()[name]
                data = data.replace(old, value)
            conn.execute(sa.update(key_log).where(key_log.c.seq == row.seq).values(data=data))

        await stores.db.run(rewrite)
    state = server.app.state.haven
    state.key_log = KeyLog(state.stores, state.key_log._key)  # a restart over the rows
    # Under the head signed before, the rewritten entry has no valid proof.
    with pytest.raises(IdentityChanged, match="does not verify"):
        await alice.devices_of(bob.state.account_id)
    # Once the log grows, the server refuses to sign a log that does not extend its signed
    # history: nobody, not even a newcomer with no history, gets the keys with a proof.
    carol = await make_client("carol")
    with pytest.raises(ApiError, match="no longer matches the head signed"):
        await carol.devices_of(bob.state.account_id)
