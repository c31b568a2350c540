"""Registering accounts, adding and removing devices."""

from __future__ import annotations

from haven.core import b64, clock, ids, limits
from haven.core.config import Registration
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import (
    BindingProof,
    DeviceCredentials,
    DeviceInfo,
    DeviceList,
    IdentityKeys,
    KeyTransparency,
    SignedHead,
)
from haven.server.services import protection
from haven.server.state import ServerState
from haven.store.interfaces import DeviceRecord, Identity


def _identity(keys: IdentityKeys) -> Identity:
    return Identity(curve25519=keys.curve25519, ed25519=keys.ed25519)


async def register(state: ServerState, keys: IdentityKeys, invite: str | None) -> DeviceCredentials:
    if state.config.registration is Registration.INVITE and invite is None:
        raise HavenError(
            ErrorCode.INVITE_REQUIRED, "this server is invite-only: an invite is required"
        )
    account_id, device_id = ids.new_id(), ids.new_id()
    token = ids.device_token(device_id)
    await state.stores.accounts.create_account(
        account_id,
        device_id,
        _identity(keys),
        ids.token_digest(token),
        clock.now_ms(),
        None if invite is None else ids.token_digest(invite),
    )
    state.metrics.accounts_created.inc()
    return DeviceCredentials(account_id=account_id, device_id=device_id, token=token)


async def add_device(
    state: ServerState,
    by: DeviceRecord,
    keys: IdentityKeys,
    registration_lock: str | None = None,
    address: str = "unknown",
) -> DeviceCredentials:
    await protection.require_lock_if_protected(state, by.account_id, registration_lock, address)
    device_id = ids.new_id()
    token = ids.device_token(device_id)
    await state.stores.accounts.add_device(
        by.account_id,
        device_id,
        _identity(keys),
        ids.token_digest(token),
        clock.now_ms(),
        limits.MAX_DEVICES_PER_ACCOUNT,
    )
    await protection.announce_device(state, by.account_id, "device_linked", device_id)
    return DeviceCredentials(account_id=by.account_id, device_id=device_id, token=token)


async def list_devices(state: ServerState, account_id: str) -> DeviceList:
    found = await state.stores.accounts.devices(account_id)
    if found is None:
        raise HavenError(ErrorCode.NOT_FOUND, "no such account")
    head = await state.key_log.head(clock.now_ms())
    proofs = await state.key_log.proofs(account_id, [d.device_id for d in found], head.size)
    transparency = KeyTransparency(
        head=SignedHead(
            size=head.head.size, root=b64.encode(head.head.root),
            timestamp=head.head.timestamp_ms, signature=b64.encode(head.signature),
        ),
        proofs=[
            BindingProof(device_id=p.device_id, index=p.index, entry=p.entry,
                         path=[b64.encode(h) for h in p.path])
            for p in proofs
        ],
    )  # fmt: skip
    return DeviceList(
        transparency=transparency,
        account_id=account_id,
        devices=[
            DeviceInfo(
                device_id=d.device_id,
                identity_keys=IdentityKeys(
                    curve25519=d.identity.curve25519, ed25519=d.identity.ed25519
                ),
                created_at=d.created_at,
            )
            for d in found
        ],
    )


async def remove_device(state: ServerState, by: DeviceRecord, device_id: str) -> None:
    if not await state.stores.accounts.delete_device(by.account_id, device_id):
        raise HavenError(ErrorCode.NOT_FOUND, "no such device on your account")
    # Its open streams, on any server process, close now.
    await state.bus.revoke([device_id])
    await protection.announce_device(state, by.account_id, "device_removed", device_id)
