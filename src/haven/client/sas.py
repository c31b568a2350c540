"""Interactive emoji verification (SAS) between this device and one device of a contact,
over end-to-end encrypted messages, following the shape of Matrix's `m.sas.v1`:

    initiator                              responder
    start ------------------------------->
          <------------ accept (commitment = SHA-256(responder key || start))
    key (initiator's SAS key) ----------->
          <------------------------------- key (responder's SAS key; checked against
                                                 the commitment, so neither side can pick
                                                 its key after seeing the other's)
    both show 7 emoji; each person confirms they match on both screens
    mac (of own Ed25519 key) ------------>  <------------------------------- mac

A successful exchange marks the contact verified with exactly the verified device's key:
any other device of theirs holds sending until it is verified too.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable

from haven.client.messenger import Messenger, MessengerError
from haven.client.payload import Verify
from haven.core import clock, ids
from haven.crypto.errors import BadSignature
from haven.crypto.verification import Sas

Confirm = Callable[[list[tuple[str, str]]], Awaitable[bool]]
STEP_TIMEOUT_SECONDS = 120.0


class VerificationFailed(MessengerError):
    """The verification did not complete; nothing was marked verified."""


class _Exchange:
    def __init__(self, messenger: Messenger, txn: str, peer: str, device: str | None) -> None:
        self.messenger = messenger
        self.txn = txn
        self.peer = peer
        self.device = device  # the peer's device, once known
        self.sas = Sas()

    async def send(self, step: Verify) -> None:
        assert self.device is not None
        keys = self.messenger.state.devices[self.peer][self.device]
        await self.messenger.send_control({(self.peer, self.device): keys}, step)

    async def expect(self, step: str, within: float) -> Verify:
        deadline = clock.monotonic() + within
        while True:
            for index, (account, device, payload) in enumerate(self.messenger.verify_inbox):
                if account != self.peer or payload.txn != self.txn:
                    continue
                if self.device is not None and device != self.device:
                    continue
                del self.messenger.verify_inbox[index]
                if payload.step == "cancel":
                    raise VerificationFailed("the other side cancelled the verification")
                if payload.step != step:
                    await self.cancel()
                    raise VerificationFailed(f"expected {step}, got {payload.step}: cancelled")
                self.device = device
                return payload
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise VerificationFailed(f"no {step} from the other side in time")
            await self.messenger.receive(wait=min(remaining, 5.0))
            await asyncio.sleep(0)

    async def cancel(self) -> None:
        if self.device is not None:
            await self.send(Verify(txn=self.txn, step="cancel"))

    def info(self, initiator: tuple[str, str, str], responder: tuple[str, str, str]) -> str:
        return "HAVEN_SAS|" + "|".join([*initiator, *responder, self.txn])

    def mac_info(self, owner_account: str, owner_device: str) -> str:
        return f"HAVEN_SAS_MAC|{self.txn}|{owner_account}|{owner_device}"

    async def finish(self, emoji_info: str, confirm: Confirm, within: float) -> str:
        """Show the emoji; if the person confirms, exchange MACs of the Ed25519 keys."""
        if not await confirm(self.sas.emoji(emoji_info)):
            await self.cancel()
            raise VerificationFailed("the emoji did not match: the verification was cancelled")
        state = self.messenger.state
        await self.send(
            Verify(
                txn=self.txn,
                step="mac",
                mac=self.sas.mac(
                    state.identity.ed25519, self.mac_info(state.account_id, state.device_id)
                ),
            )
        )
        theirs = await self.expect("mac", within)
        assert self.device is not None
        their_key = state.devices[self.peer][self.device]["ed25519"]
        try:
            self.sas.check_mac(their_key, self.mac_info(self.peer, self.device), theirs.mac or "")
        except BadSignature as exc:
            raise VerificationFailed(str(exc)) from None
        state.verified[self.peer] = [their_key]
        self.messenger.save()
        return self.device


async def start(
    messenger: Messenger, contact: str, confirm: Confirm, within: float = STEP_TIMEOUT_SECONDS
) -> str:
    """Verify one device of `contact` (whichever answers first); returns its device id."""
    peer = messenger.resolve(contact)
    devices = await messenger.devices_of(peer)
    if not devices:
        raise VerificationFailed("the contact has no devices")
    exchange = _Exchange(messenger, ids.new_id(), peer, None)
    await messenger.send_control(
        {(peer, d): k for d, k in devices.items()}, Verify(txn=exchange.txn, step="start")
    )
    accept = await exchange.expect("accept", within)
    await exchange.send(Verify(txn=exchange.txn, step="key", public_key=exchange.sas.public_key))
    key = await exchange.expect("key", within)
    their_key = key.public_key or ""
    if not _commitment_ok(accept.commitment or "", their_key, exchange.txn):
        await exchange.cancel()
        raise VerificationFailed("the other side's key does not match its commitment")
    exchange.sas.establish(their_key)
    me = messenger.state
    assert exchange.device is not None
    info = exchange.info(
        (me.account_id, me.device_id, exchange.sas.public_key), (peer, exchange.device, their_key)
    )
    return await exchange.finish(info, confirm, within)


async def respond(
    messenger: Messenger, contact: str, confirm: Confirm, within: float = STEP_TIMEOUT_SECONDS
) -> str:
    """Answer a verification `contact` started; returns the verified device id."""
    peer = messenger.resolve(contact)
    waiting = _Exchange(messenger, "", peer, None)
    started = await _first_start(waiting, within)
    exchange = _Exchange(messenger, started.txn, peer, waiting.device)
    await exchange.send(
        Verify(
            txn=exchange.txn,
            step="accept",
            commitment=_commitment(exchange.sas.public_key, exchange.txn),
        )
    )
    key = await exchange.expect("key", within)
    their_key = key.public_key or ""
    exchange.sas.establish(their_key)
    await exchange.send(Verify(txn=exchange.txn, step="key", public_key=exchange.sas.public_key))
    me = messenger.state
    assert exchange.device is not None
    info = exchange.info(
        (peer, exchange.device, their_key), (me.account_id, me.device_id, exchange.sas.public_key)
    )
    return await exchange.finish(info, confirm, within)


async def _first_start(waiting: _Exchange, within: float) -> Verify:
    deadline = clock.monotonic() + within
    messenger = waiting.messenger
    while True:
        for index, (account, device, payload) in enumerate(messenger.verify_inbox):
            if account == waiting.peer and payload.step == "start":
                del messenger.verify_inbox[index]
                waiting.device = device
                return payload
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise VerificationFailed("the contact did not start a verification in time")
        await messenger.receive(wait=min(remaining, 5.0))


def _commitment(public_key: str, txn: str) -> str:
    return hashlib.sha256(f"{public_key}|{txn}".encode()).hexdigest()


def _commitment_ok(commitment: str, public_key: str, txn: str) -> bool:
    return hmac.compare_digest(commitment, _commitment(public_key, txn))
