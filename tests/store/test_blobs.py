from __future__ import annotations

import pytest

from haven.core import ids
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio


async def test_blob_round_trip_and_expiry(stores: Stores) -> None:
    live, old = ids.new_id(), ids.new_id()
    payload = bytes(range(256)) * 1000
    await stores.blobs.put(live, payload, now=10, expires_at=1_000)
    await stores.blobs.put(old, b"x", now=10, expires_at=20)
    assert await stores.blobs.get(live, now=500) == payload
    assert await stores.blobs.get(old, now=500) is None
    assert await stores.blobs.get(ids.new_id(), now=500) is None
    assert await stores.blobs.purge_expired(now=500) == 1
    assert await stores.blobs.get(live, now=500) == payload
