from __future__ import annotations

import pytest

from haven.core import clock, ids
from haven.core.errors import ErrorCode, HavenError
from haven.store.interfaces import Identity
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio


def identity() -> Identity:
    return Identity(curve25519=ids.new_token()[:43], ed25519=ids.new_token()[:43])


async def register(stores: Stores, invite: bytes | None = None) -> tuple[str, str, str]:
    account_id, device_id, token = ids.new_id(), ids.new_id(), ids.new_token()
    await stores.accounts.create_account(
        account_id, device_id, identity(), ids.token_digest(token), clock.now_ms(), invite
    )
    return account_id, device_id, token


async def test_credentials_hold_the_token_digest(stores: Stores) -> None:
    account_id, device_id, token = await register(stores)
    found = await stores.accounts.credentials(device_id)
    assert found is not None
    device, digest = found
    assert (device.account_id, device.device_id) == (account_id, device_id)
    assert digest == ids.token_digest(token)
    assert await stores.accounts.credentials(ids.new_id()) is None


async def test_identity_key_cannot_be_registered_twice(stores: Stores) -> None:
    same = identity()
    await stores.accounts.create_account(
        ids.new_id(), ids.new_id(), same, ids.token_digest("a"), 1, None
    )
    with pytest.raises(HavenError) as raised:
        await stores.accounts.create_account(
            ids.new_id(), ids.new_id(), same, ids.token_digest("b"), 1, None
        )
    assert raised.value.code is ErrorCode.IDENTITY_KEY_IN_USE


async def test_invite_is_consumed_once_and_failed_use_changes_nothing(stores: Stores) -> None:
    digest = ids.token_digest("invite-code")
    now = clock.now_ms()
    await stores.invites.create(digest, now, now + 60_000, uses=1, note="for Ana")
    account_id, _, _ = await register(stores, invite=digest)
    assert await stores.accounts.devices(account_id) is not None
    before = await stores.invites.list(now)
    assert before == []
    lost = ids.new_id()
    with pytest.raises(HavenError) as raised:
        await stores.accounts.create_account(
            lost, ids.new_id(), identity(), ids.token_digest("t"), now, digest
        )
    assert raised.value.code is ErrorCode.INVITE_INVALID
    assert await stores.accounts.devices(lost) is None


async def test_expired_invite_is_refused(stores: Stores) -> None:
    digest = ids.token_digest("old")
    await stores.invites.create(digest, 0, 1, uses=5, note="")
    with pytest.raises(HavenError) as raised:
        await register(stores, invite=digest)
    assert raised.value.code is ErrorCode.INVITE_INVALID


async def test_device_cap_is_enforced(stores: Stores) -> None:
    account_id, _, _ = await register(stores)
    await stores.accounts.add_device(
        account_id, ids.new_id(), identity(), ids.token_digest("2"), 2, max_devices=2
    )
    with pytest.raises(HavenError) as raised:
        await stores.accounts.add_device(
            account_id, ids.new_id(), identity(), ids.token_digest("3"), 3, max_devices=2
        )
    assert raised.value.code is ErrorCode.TOO_MANY_DEVICES
    devices = await stores.accounts.devices(account_id)
    assert devices is not None
    assert len(devices) == 2


async def test_add_device_to_missing_account_is_not_found(stores: Stores) -> None:
    with pytest.raises(HavenError) as raised:
        await stores.accounts.add_device(
            ids.new_id(), ids.new_id(), identity(), ids.token_digest("x"), 1, max_devices=5
        )
    assert raised.value.code is ErrorCode.NOT_FOUND


async def test_delete_device_only_within_its_own_account(stores: Stores) -> None:
    alice, alice_device, _ = await register(stores)
    bob, _, _ = await register(stores)
    assert not await stores.accounts.delete_device(bob, alice_device)
    assert await stores.accounts.credentials(alice_device) is not None
    assert await stores.accounts.delete_device(alice, alice_device)
    assert await stores.accounts.credentials(alice_device) is None
    assert await stores.accounts.devices(alice) == []
