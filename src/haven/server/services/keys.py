"""The key directory: uploads are checked against the device's Ed25519 identity key."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haven.core import b64, limits
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import (
    ClaimedKey,
    ClaimRequest,
    ClaimResponse,
    IdentityKeys,
    KeyCount,
    KeysUpload,
    SignedKey,
    key_signing_message,
)
from haven.server.state import ServerState
from haven.store.interfaces import Address, DeviceRecord, KeyCounts, SignedKeyRecord


def _verified(signer: Ed25519PublicKey, key: SignedKey) -> SignedKeyRecord:
    try:
        signer.verify(b64.decode(key.signature), key_signing_message(b64.decode(key.key)))
    except InvalidSignature:
        raise HavenError(
            ErrorCode.BAD_SIGNATURE,
            f"key {key.key_id!r} is not signed by this device's identity key: nothing was stored",
        ) from None
    return SignedKeyRecord(key_id=key.key_id, public_key=key.key, signature=key.signature)


def _count(counts: KeyCounts) -> KeyCount:
    return KeyCount(one_time_key_count=counts.one_time, has_fallback_key=counts.has_fallback)


async def upload(state: ServerState, device: DeviceRecord, upload: KeysUpload) -> KeyCount:
    signer = Ed25519PublicKey.from_public_bytes(b64.decode(device.identity.ed25519))
    one_time = [_verified(signer, k) for k in upload.one_time_keys]
    fallback = None if upload.fallback_key is None else _verified(signer, upload.fallback_key)
    counts = await state.stores.keys.put_keys(
        device.device_id, one_time, fallback, limits.MAX_ONE_TIME_KEYS_STORED
    )
    return _count(counts)


async def count(state: ServerState, device: DeviceRecord) -> KeyCount:
    return _count(await state.stores.keys.counts(device.device_id))


async def claim(state: ServerState, request: ClaimRequest) -> ClaimResponse:
    wanted = [Address(d.account_id, d.device_id) for d in request.devices]
    claimed = await state.stores.keys.claim(wanted)
    return ClaimResponse(
        keys=[
            ClaimedKey(
                account_id=c.device.account_id,
                device_id=c.device.device_id,
                identity_keys=IdentityKeys(
                    curve25519=c.device.identity.curve25519, ed25519=c.device.identity.ed25519
                ),
                one_time_key=None
                if c.key is None
                else SignedKey(
                    key_id=c.key.key_id, key=c.key.public_key, signature=c.key.signature
                ),
                fallback=c.fallback,
            )
            for c in claimed
        ]
    )
