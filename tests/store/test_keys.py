from __future__ import annotations

import asyncio

import pytest

from haven.core.errors import ErrorCode, HavenError
from haven.store.interfaces import Address, SignedKeyRecord
from haven.store.stores import Stores, open_stores
from tests.store.test_accounts import register

pytestmark = pytest.mark.anyio


def keys(device: str, n: int, start: int = 0) -> list[SignedKeyRecord]:
    return [SignedKeyRecord(f"k{i}", f"{device[:8]}-{i}", "sig") for i in range(start, start + n)]


async def test_each_one_time_key_is_handed_out_once_then_the_fallback(stores: Stores) -> None:
    account, device, _ = await register(stores)
    fallback = SignedKeyRecord("f1", "fallback", "sig")
    counts = await stores.keys.put_keys(device, keys(device, 2), fallback, max_stored=10)
    assert (counts.one_time, counts.has_fallback) == (2, True)
    address = Address(account, device)
    got = [(await stores.keys.claim([address]))[0] for _ in range(4)]
    assert [c.fallback for c in got] == [False, False, True, True]
    handed = [c.key.key_id for c in got if c.key]
    assert handed[:2] == ["k0", "k1"]
    assert handed[2:] == ["f1", "f1"]
    assert (await stores.keys.counts(device)).one_time == 0


async def test_device_without_keys_claims_nothing(stores: Stores) -> None:
    account, device, _ = await register(stores)
    [claimed] = await stores.keys.claim([Address(account, device)])
    assert claimed.key is None
    assert claimed.fallback


async def test_reupload_of_same_key_id_is_ignored(stores: Stores) -> None:
    _, device, _ = await register(stores)
    await stores.keys.put_keys(device, keys(device, 3), None, max_stored=10)
    counts = await stores.keys.put_keys(device, keys(device, 3), None, max_stored=10)
    assert counts.one_time == 3


async def test_overfull_upload_is_refused_whole(stores: Stores) -> None:
    _, device, _ = await register(stores)
    await stores.keys.put_keys(device, keys(device, 3), None, max_stored=4)
    with pytest.raises(HavenError) as raised:
        await stores.keys.put_keys(
            device, keys(device, 2, start=3), SignedKeyRecord("f", "f", "s"), max_stored=4
        )
    assert raised.value.code is ErrorCode.TOO_MANY_KEYS
    counts = await stores.keys.counts(device)
    assert (counts.one_time, counts.has_fallback) == (3, False)


async def test_unknown_device_in_claim_claims_nothing(stores: Stores) -> None:
    account, device, _ = await register(stores)
    other, _, _ = await register(stores)
    await stores.keys.put_keys(device, keys(device, 1), None, max_stored=10)
    with pytest.raises(HavenError) as raised:
        # The right device id under the wrong account is unknown too.
        await stores.keys.claim([Address(account, device), Address(other, device)])
    assert raised.value.code is ErrorCode.UNKNOWN_DEVICE
    assert (await stores.keys.counts(device)).one_time == 1


@pytest.mark.postgres
async def test_concurrent_claims_never_hand_out_a_key_twice(pg_url: str, pg_stores: Stores) -> None:
    stores = pg_stores
    account, device, _ = await register(stores)
    await stores.keys.put_keys(device, keys(device, 100), None, max_stored=500)
    await stores.keys.put_keys(device, keys(device, 100, start=100), None, max_stored=500)
    # Separate engines, so claims really run in parallel transactions.
    clients = [await open_stores(pg_url) for _ in range(8)]
    try:

        async def claim_many(s: Stores) -> list[str]:
            out = []
            for _ in range(30):
                [c] = await s.keys.claim([Address(account, device)])
                if not c.fallback and c.key:
                    out.append(c.key.key_id)
            return out

        results = await asyncio.gather(*(claim_many(c) for c in clients))
    finally:
        for c in clients:
            await c.db.close()
    handed = [k for r in results for k in r]
    assert len(handed) == 200
    assert len(set(handed)) == 200
