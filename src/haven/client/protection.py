"""Account protection on this device: the registration lock (derived here: the PIN or
passphrase never leaves the device), turning protection on and off, linking a device to a
protected account, a new device asking to join and its approval, removing devices, and
the signed security alerts the server sends about all of these.

Alerts arrive as signed notices (`Messenger.notices`): the client shows one only if it
carries the server's notice signature, so nothing a person sends can imitate one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from haven.client.api import ApiError, HavenApi
from haven.client.messenger import Messenger, MessengerError
from haven.client.profile import ClientState, Profile, new_pickle_key
from haven.client.servertls import parse_pin
from haven.core import b64, clock
from haven.core.wire import DeviceActivity, LinkRequestInfo, ProtectionStatus
from haven.crypto.identity import DeviceIdentity
from haven.crypto.reglock import WeakLock, derive_proof

# The server's own alerts (haven/safety/alerts/), as opposed to an operator's notices.
ALERT_TEMPLATES = frozenset(
    {
        "device_linked", "device_removed", "link_requested", "lock_changed",
        "protection_on", "protection_disabling", "protection_kept", "protection_invite",
        "reporting_campaign",
    }
)  # fmt: skip
JOIN_POLL_SECONDS = 2.0
PROTECTED = ("on", "disabling")


def lock_proof(lock: str, account_id: str) -> str:
    """What this device sends instead of the lock: Argon2id of it, bound to the account."""
    try:
        return b64.encode(derive_proof(lock, account_id))
    except WeakLock as exc:
        raise MessengerError(str(exc)) from None


def key_digits(identity_keys: dict[str, str]) -> str:
    """Six digits of a device's signing key, to compare on the new device's screen and on
    the approving one before letting it in."""
    digest = hashlib.sha256(identity_keys["ed25519"].encode("ascii")).digest()
    number = int.from_bytes(digest[:8], "big") % 1_000_000
    return f"{number // 1000:03d} {number % 1000:03d}"


async def status(messenger: Messenger) -> ProtectionStatus:
    return await messenger.api.protection()


async def turn_on(messenger: Messenger, lock: str, language: str = "en") -> ProtectionStatus:
    proof = lock_proof(lock, messenger.state.account_id)
    return await messenger.api.change_protection(
        action="enable", registration_lock=proof, language=language
    )


async def turn_off(messenger: Messenger, lock: str) -> ProtectionStatus:
    """Asks for protection to be turned off: it stays on through the cooling-off period."""
    proof = lock_proof(lock, messenger.state.account_id)
    return await messenger.api.change_protection(action="disable", registration_lock=proof)


async def cancel_turn_off(messenger: Messenger) -> ProtectionStatus:
    return await messenger.api.change_protection(action="cancel_disable")


async def change_lock(messenger: Messenger, current: str, new: str) -> ProtectionStatus:
    account = messenger.state.account_id
    return await messenger.api.change_protection(
        action="change_lock", registration_lock=lock_proof(current, account),
        new_lock=lock_proof(new, account),
    )  # fmt: skip


async def approve_link(
    messenger: Messenger, code: str, ask_lock: Callable[[], str]
) -> tuple[str, str]:
    """`Messenger.approve_link`, with the registration lock when the account is protected
    (asked for only then)."""
    proof = None
    if (await status(messenger)).status in PROTECTED:
        proof = lock_proof(ask_lock(), messenger.state.account_id)
    return await messenger.approve_link(code, proof)


# -- a new device asking to join a protected account ---------------------------------------


def _api_for(state: ClientState, token: str | None) -> HavenApi:
    pin = parse_pin(state.server_pin) if state.server_pin else None
    return HavenApi(state.server, token, relays=state.relays, server_pin=pin)


async def begin_join(
    directory: Path,
    server: str,
    account_id: str,
    lock: str,
    passphrase: str,
    server_pin: str | None = None,
    relays: list[str] | None = None,
) -> dict[str, Any]:
    """On the new device: ask to join `account_id` with its registration lock. Returns the
    request (id, this device's id, when it expires, the digits to compare); the device
    waits for approval with `finish_join`."""
    profile = Profile.create(directory, passphrase)
    identity = DeviceIdentity.create()
    keys = identity.identity_keys()
    state = ClientState(
        server, account_id, "", "", new_pickle_key(), identity, relays=list(relays or []),
        server_pin=server_pin,
    )  # fmt: skip
    async with _api_for(state, None) as anonymous:
        pending = await anonymous.request_join(account_id, keys, lock_proof(lock, account_id))
    state.device_id, state.token = pending.device_id, pending.token
    state.join_request = {"request_id": pending.request_id, "expires_at": pending.expires_at}
    state.devices[account_id] = {pending.device_id: keys}
    profile.save(state)
    return {
        "account_id": account_id, "device_id": pending.device_id,
        "request_id": pending.request_id, "expires_at": pending.expires_at,
        "check": key_digits(keys),
    }  # fmt: skip


async def finish_join(directory: Path, passphrase: str, wait: float) -> Messenger | None:
    """Wait up to `wait` seconds for a device of the account to approve this one; then
    this device is part of the account (a Messenger), or None while still waiting.
    MessengerError once the request has expired: nothing changed on the account."""
    profile, state = Profile.open(directory, passphrase)
    request = state.join_request
    if request is None:
        raise MessengerError("this device is not waiting to join an account")
    deadline = clock.monotonic() + wait
    api = _api_for(state, state.token)
    try:
        while True:
            try:
                await api.protection()  # works once the device exists
                break
            except ApiError as exc:
                if exc.status != 401:
                    raise
            if clock.now_ms() >= int(request["expires_at"]):
                raise MessengerError(
                    "the request to join expired before a device of the account approved it; "
                    "nothing changed. Start again (in a new profile directory)"
                )
            if clock.monotonic() >= deadline:
                await api.close()
                return None
            await asyncio.sleep(JOIN_POLL_SECONDS)
    except BaseException:
        await api.close()
        raise
    state.join_request = None
    profile.save(state)
    messenger = Messenger(profile, state, api)
    try:
        await messenger.pin_notice_key()
        await messenger.refill_keys(force=True)
    except BaseException:
        await messenger.close()
        raise
    return messenger


async def link_requests(messenger: Messenger) -> list[LinkRequestInfo]:
    return await messenger.api.link_requests()


async def approve_request(messenger: Messenger, request_id: str) -> LinkRequestInfo:
    approved = await messenger.api.approve_link_request(request_id)
    own = messenger.state.devices.setdefault(messenger.state.account_id, {})
    own[approved.device_id] = approved.identity_keys.model_dump()
    messenger.save()
    return approved


async def deny_request(messenger: Messenger, request_id: str) -> None:
    await messenger.api.deny_link_request(request_id)


# -- devices -------------------------------------------------------------------------------


async def devices(messenger: Messenger) -> list[DeviceActivity]:
    return await messenger.api.device_activity()


async def remove_device(messenger: Messenger, device_id: str) -> None:
    if device_id == messenger.state.device_id:
        raise MessengerError("this is the device you are using; remove it from another one")
    await messenger.api.remove_device(device_id)
    messenger.state.devices.get(messenger.state.account_id, {}).pop(device_id, None)
    messenger.save()


# -- alerts --------------------------------------------------------------------------------


def label(notice: dict[str, Any]) -> str:
    """How a verified notice is introduced: the server's own alert, or the operator's."""
    if notice.get("template") in ALERT_TEMPLATES:
        return "SECURITY ALERT from your Haven server"
    return "SECURITY NOTICE from your Haven operator"


def about_this_device(messenger: Messenger, notice: dict[str, Any]) -> bool:
    return messenger.state.device_id in str(notice.get("body", ""))


async def new_alerts(messenger: Messenger) -> list[dict[str, Any]]:
    """Notices and alerts not shown on this device before (a refused one included, as
    refused), oldest first; from now on they count as shown."""
    found = await messenger.notices()
    fresh = [n for n in found if n["notice_id"] > messenger.state.alerts_seen]
    if fresh:
        messenger.state.alerts_seen = max(n["notice_id"] for n in found)
        messenger.save()
    return fresh
