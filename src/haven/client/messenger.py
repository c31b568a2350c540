"""The messenger: what a person's device does. Encrypts to every device of the peer and to
its own other devices (Olm, one ciphertext per device), decrypts what arrives, de-duplicates,
keeps the one-time key supply topped up, and saves its state before anything irreversible
(a send, an ack), so a crash never loses a message or reuses a ratchet step."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haven.client import core, servertls
from haven.client import keytransparency as kt
from haven.client.api import ApiError, HavenApi, Unreachable
from haven.client.core import Targets
from haven.client.links import LinkChecker, Verdict
from haven.client.payload import (
    ENVELOPE_KIND_MEGOLM,
    ENVELOPE_KIND_OLM,
    AnyPayload,
    AttachmentRef,
    GroupUpdate,
    RoomKey,
    Text,
    Verify,
    decode_payload,
    encode_payload,
    frame_megolm,
    frame_olm,
    unframe_olm,
)
from haven.client.profile import ClientState, Group, Profile, new_pickle_key
from haven.client.stream import EnvelopeStream
from haven.core import b64, clock, ids, relaylink
from haven.core import notices as signed_notices
from haven.core.wire import DeviceList, Envelope
from haven.crypto import attachments, franking
from haven.crypto.errors import CryptoError, DecryptionFailed
from haven.crypto.identity import DeviceIdentity, verify_key_signature
from haven.crypto.linking import (
    check_digits,
    link_code,
    new_link_secret,
    open_approval,
    parse_link_code,
    seal_approval,
)
from haven.crypto.verification import safety_number
from haven.linkguard.extract import find_links

KEYS_LOW = 20
KEYS_BATCH = 50
SEND_ATTEMPTS = 4


class MessengerError(Exception):
    """Something the person must know about; the message says what to do."""


def _parse_relay(link: str) -> relaylink.RelayLink:
    try:
        return relaylink.parse(link)
    except relaylink.RelayLinkError as exc:
        raise MessengerError(f"not a usable relay link: {exc}") from None


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT


def _server_pin(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return servertls.parse_pin(text)
    except ValueError as exc:
        raise MessengerError(str(exc)) from None


def _api(state: ClientState) -> HavenApi:
    pin = _server_pin(state.server_pin)
    return HavenApi(state.server, state.token, relays=state.relays, server_pin=pin)


def _check_relays_allowed(server: str, relays: list[str]) -> None:
    if relays:
        try:
            servertls.check_relay_allowed(server)
        except servertls.ServerNotPrivate as exc:
            raise MessengerError(str(exc)) from None


class LinkBlocked(MessengerError):
    """The message links to known surveillance or attack infrastructure: not sent."""

    def __init__(self, verdicts: list[Verdict]) -> None:
        blocked = [v for v in verdicts if v.status == "blocked"]
        lines = [f"{v.url}: {v.reason}" + (f" [{'; '.join(v.sources)}]" if v.sources else "")
                 for v in blocked]  # fmt: skip
        super().__init__("not sent: the message links to blocked sites\n" + "\n".join(lines))
        self.verdicts = verdicts


class IdentityChanged(MessengerError):
    """A known device presented a different identity key: possibly an attack."""


class Messenger:
    def __init__(self, profile: Profile, state: ClientState, api: HavenApi) -> None:
        self.profile = profile
        self.state = state
        self.api = api
        # Verification steps received and not yet consumed (live only while a verification
        # runs; a restarted one starts over).
        self.verify_inbox: list[tuple[str, str, Verify]] = []
        # The chat UI's poller and its send action both flush the outbox; one at a time,
        # or both would send the head entry and one would pop an entry it never sent.
        self._flushing = asyncio.Lock()
        self.links = LinkChecker(profile.directory, state.server)

    # -- set-up --------------------------------------------------------------------------

    @classmethod
    async def create_account(
        cls,
        directory: Path,
        server: str,
        passphrase: str,
        invite: str | None = None,
        relays: list[str] | None = None,
        server_pin: str | None = None,
    ) -> Messenger:
        """A new account on `server`, reached through `relays` (invite links) when it
        cannot be reached directly: some people can only ever reach it that way. A
        `server_pin` (printed by `haven server --tls`) is how a self-signed server is
        recognised, directly and through relays."""
        for link in relays or []:
            _parse_relay(link)  # a bad link is a clear error before anything is made
        _check_relays_allowed(server, relays or [])
        pin = _server_pin(server_pin)
        profile = Profile.create(directory, passphrase)
        identity = DeviceIdentity.create()
        async with HavenApi(server, relays=relays or [], server_pin=pin) as anonymous:
            credentials = await anonymous.register(identity.identity_keys(), invite)
        state = ClientState(
            server=server,
            account_id=credentials.account_id,
            device_id=credentials.device_id,
            token=credentials.token,
            pickle_key=new_pickle_key(),
            identity=identity,
            relays=list(relays or []),
            server_pin=server_pin,
        )
        state.devices[state.account_id] = {state.device_id: identity.identity_keys()}
        profile.save(state)
        messenger = cls(profile, state, _api(state))
        await messenger.pin_notice_key()
        await messenger.refill_keys(force=True)
        return messenger

    @classmethod
    def open(cls, directory: Path, passphrase: str) -> Messenger:
        profile, state = Profile.open(directory, passphrase)
        if state.link_secret is not None:
            raise MessengerError(
                "this device is waiting to be linked: approve its link code on your other "
                "device, then run `haven account link --approval CODE` here"
            )
        if state.join_request is not None:
            raise MessengerError(
                "this device is waiting for one of your devices to let it join: run "
                "`haven account join --profile DIR` here to keep waiting"
            )
        return cls(profile, state, _api(state))

    # -- linking a new device ------------------------------------------------------------

    @staticmethod
    def begin_link(
        directory: Path, server: str, passphrase: str, server_pin: str | None = None
    ) -> str:
        """On the new device: make its keys and return the link code to show."""
        _server_pin(server_pin)
        profile = Profile.create(directory, passphrase)
        identity = DeviceIdentity.create()
        secret = new_link_secret()
        state = ClientState(
            server, "", "", "", new_pickle_key(), identity, link_secret=secret,
            server_pin=server_pin,
        )  # fmt: skip
        profile.save(state)
        return link_code(identity.identity_keys(), secret)

    async def approve_link(
        self, code: str, registration_lock: str | None = None
    ) -> tuple[str, str]:
        """On an existing device: register the new device (a protected account also needs
        its registration-lock proof, haven.client.protection); returns (approval code,
        check digits to compare with the new device's screen)."""
        keys, box = parse_link_code(code)
        credentials = await self.api.add_device(keys, registration_lock)
        self.state.devices.setdefault(self.state.account_id, {})[credentials.device_id] = keys
        self.save()
        approval = seal_approval(
            box,
            {
                "server": self.state.server,
                "account_id": credentials.account_id,
                "device_id": credentials.device_id,
                "token": credentials.token,
                # How the new device recognises the server and reaches it when blocked.
                "server_pin": self.state.server_pin or "",
                "relays": "\n".join(self.state.relays),
            },
        )
        return approval, check_digits(code)

    @classmethod
    async def complete_link(cls, directory: Path, passphrase: str, approval: str) -> Messenger:
        """On the new device: take the approval and become a device of the account."""
        profile, state = Profile.open(directory, passphrase)
        if state.link_secret is None:
            raise MessengerError("this profile is already linked to an account")
        credentials = open_approval(state.link_secret, approval)
        state.server = credentials.get("server", state.server)
        state.server_pin = credentials.get("server_pin") or state.server_pin
        for link in credentials.get("relays", "").split("\n"):
            if link and link not in state.relays:
                state.relays.append(link)
        state.account_id = credentials["account_id"]
        state.device_id = credentials["device_id"]
        state.token = credentials["token"]
        state.link_secret = None
        state.devices[state.account_id] = {state.device_id: state.identity.identity_keys()}
        profile.save(state)
        messenger = cls(profile, state, _api(state))
        await messenger.pin_notice_key()
        await messenger.refill_keys(force=True)
        return messenger

    async def pin_notice_key(self) -> None:
        """Trust on first use: the keys notices and key-log heads must be signed with from
        now on."""
        self.state.notice_key = (await self.api.notice_key()).key
        self.state.key_log_key = (await self.api.key_log_key()).key
        self.save()

    def add_relay(self, link: str) -> str:
        """Remember a relay invite link (tried when the server cannot be reached
        directly); returns how to name it."""
        parsed = _parse_relay(link)
        _check_relays_allowed(self.state.server, [link])
        if link not in self.state.relays:
            self.state.relays.append(link)
            self.save()
        return f"{parsed.host}:{parsed.port}"

    async def close(self) -> None:
        await self.api.close()

    def save(self) -> None:
        self.profile.save(self.state)

    async def refill_keys(self, force: bool = False) -> None:
        count = await self.api.key_count()
        if not force and count.one_time_key_count >= KEYS_LOW and count.has_fallback_key:
            return
        fresh = self.state.identity.new_one_time_keys(KEYS_BATCH)
        fallback = None if count.has_fallback_key else self.state.identity.new_fallback_key()
        self.save()  # the account now knows these keys: never upload keys we could lose
        await self.api.upload_keys(
            [k.to_wire() for k in fresh], None if fallback is None else fallback.to_wire()
        )

    # -- contacts and devices ------------------------------------------------------------

    def add_contact(self, account_id: str, name: str) -> None:
        if not ids.is_id(account_id):
            raise MessengerError(f"{account_id!r} is not an account id (32 hex characters)")
        if name in self.state.contacts and self.state.contacts[name] != account_id:
            raise MessengerError(f"the name {name!r} is already used for another contact")
        self.state.contacts[name] = account_id
        self.save()

    def resolve(self, name_or_id: str) -> str:
        if name_or_id in self.state.contacts:
            return self.state.contacts[name_or_id]
        if ids.is_id(name_or_id):
            return name_or_id
        raise MessengerError(f"no contact called {name_or_id!r}: add it with `haven contacts add`")

    async def devices_of(self, account_id: str, sending: bool = False) -> dict[str, dict[str, str]]:
        """The account's current devices, pinned on first sight; a known device whose
        identity key changed is refused. Sending to a verified contact whose devices changed
        since verification is held until the person verifies again."""
        listed = await self.api.devices(account_id)
        try:
            await self._check_key_log(account_id, listed)
        except kt.KeyTransparencyError as exc:
            raise IdentityChanged(str(exc)) from None
        pinned = self.state.devices.setdefault(account_id, {})
        current: dict[str, dict[str, str]] = {}
        for device in listed.devices:
            keys = device.identity_keys.model_dump()
            known = pinned.get(device.device_id)
            if known is not None and known != keys:
                raise IdentityChanged(
                    f"device {device.device_id} of {account_id} changed its identity key: "
                    "nothing was sent; verify the contact before trusting it again"
                )
            pinned[device.device_id] = keys
            current[device.device_id] = keys
        verified = self.state.verified.get(account_id)
        now_keys = sorted(k["ed25519"] for k in current.values())
        if sending and verified is not None and verified != now_keys:
            raise IdentityChanged(
                f"{self._name_of(account_id)}'s devices changed since you verified them: nothing "
                "was sent. Compare safety numbers again (`haven verify`) and accept to continue"
            )
        return current

    async def _check_key_log(self, account_id: str, listed: DeviceList) -> None:
        """Nothing is trusted from a device list the server's key log does not vouch for."""
        if listed.transparency is None:
            raise kt.KeyTransparencyError("the server sent no key-log proofs")
        if self.state.key_log_key is None:  # a profile from before key transparency
            self.state.key_log_key = (await self.api.key_log_key()).key
        head = kt.check_head(self.state.key_log_key, listed.transparency.head)
        last = self.state.key_log_head
        if kt.needs_consistency(last, head) and last is not None:
            proof = await self.api.key_log_consistency(int(last["size"]), head.head.size)
            kt.check_extends(last, head, proof.path)
        elif last is not None and b64.decode(last["root"]) != head.head.root:
            raise kt.KeyTransparencyError(
                "the key log has two different histories of the same length: history was rewritten"
            )
        kt.check_devices(account_id, listed, head)
        if last is None or head.head.size >= int(last["size"]):
            self.state.key_log_head = kt.remembered(head)
            self.save()

    def _name_of(self, account_id: str) -> str:
        names = [n for n, a in self.state.contacts.items() if a == account_id]
        return names[0] if names else account_id

    # -- verification --------------------------------------------------------------------

    async def safety_number(self, contact: str) -> tuple[str, str, list[str]]:
        """(account id, safety number, their device keys) for comparing out of band."""
        peer = self.resolve(contact)
        theirs = sorted(k["ed25519"] for k in (await self.devices_of(peer)).values())
        mine = sorted(k["ed25519"] for k in (await self.devices_of(self.state.account_id)).values())
        number = safety_number(self.state.account_id, mine, peer, theirs)
        return peer, number, theirs

    async def mark_verified(self, contact: str) -> str:
        """Trust the contact's current device keys (after comparing safety numbers)."""
        peer, number, theirs = await self.safety_number(contact)
        self.state.verified[peer] = theirs
        self.save()
        return number

    def is_verified(self, account_id: str) -> bool:
        return account_id in self.state.verified

    async def _ensure_sessions(self, targets: dict[tuple[str, str], dict[str, str]]) -> None:
        missing = [
            a for a, keys in targets.items() if not self.state.olm.has_session(keys["curve25519"])
        ]
        if not missing:
            return
        claimed = await self.api.claim([{"account_id": a, "device_id": d} for a, d in missing])
        for key in claimed.keys:
            pinned = targets[(key.account_id, key.device_id)]
            if key.identity_keys.model_dump() != pinned:
                raise IdentityChanged(f"device {key.device_id} answered with different keys")
            if key.one_time_key is None:
                raise MessengerError(
                    f"device {key.device_id} has published no keys yet; it must come online first"
                )
            verify_key_signature(
                pinned["ed25519"], key.one_time_key.key, key.one_time_key.signature
            )
            session = self.state.identity.outbound_session(
                pinned["curve25519"], key.one_time_key.key
            )
            self.state.olm.add(pinned["curve25519"], session)

    # -- sending -------------------------------------------------------------------------

    async def send_text(self, to: str, body: str, attach: list[Path] | None = None) -> str:
        peer = self.resolve(to)
        await self._refuse_blocked_links(body)
        text = await self._text(peer, body, attach)
        targets = await self._targets([peer])
        if not any(account == peer for account, _ in targets):
            raise MessengerError(f"{to} has no devices to send to")
        outgoing = await self._encrypt_olm(targets, encode_payload(text))
        core.record(
            self.state, text, "out", self.state.account_id, self.state.device_id, peer, None
        )
        self.state.seen_messages.append(text.message_id)
        tag = core.franking_tag(text)
        for recipient, ciphertext in outgoing:
            self._enqueue([recipient], ciphertext, ENVELOPE_KIND_OLM, tag)
        await self.flush_outbox()
        return text.message_id

    # -- notices -------------------------------------------------------------------------

    async def notices(self) -> list[dict[str, Any]]:
        """Notices from the server's operator, each checked against the notice key pinned
        when this device joined. One that fails is reported as refused, never shown."""
        if self.state.notice_key is None:  # a profile from before notices: pin it now
            self.state.notice_key = (await self.api.notice_key()).key
            self.save()
        pinned = Ed25519PublicKey.from_public_bytes(b64.decode(self.state.notice_key))
        shown: list[dict[str, Any]] = []
        for item in await self.api.notices():
            notice = signed_notices.Notice(**item.notice.model_dump())
            try:
                signed_notices.verify(pinned, notice, b64.decode(item.signature))
            except (signed_notices.BadNoticeSignature, b64.Base64Error):
                shown.append({"notice_id": notice.notice_id, "verified": False,
                              "error": "a notice with a bad signature was refused"})  # fmt: skip
                continue
            if notice.account_id != self.state.account_id:
                shown.append({"notice_id": notice.notice_id, "verified": False,
                              "error": "a notice for another account was refused"})  # fmt: skip
                continue
            shown.append({"notice_id": notice.notice_id, "verified": True, "title": notice.title,
                          "body": notice.body, "created_at": notice.created_at,
                          "template": notice.template})  # fmt: skip
        return shown

    # -- reports -------------------------------------------------------------------------

    async def report(self, message_id: str, reason: str) -> tuple[int, bool]:
        """Reveal a received message to the server's moderators (its text, franking key
        and delivery stamp). Returns (report id, whether the server verified it)."""
        found = [
            m for m in self.state.messages
            if m.get("message_id") == message_id and m.get("direction") == "in"
        ]  # fmt: skip
        if not found:
            raise MessengerError("no received message with that id")
        message = found[-1]
        if not message.get("delivery_stamp") or not message.get("franking_tag"):
            raise MessengerError("this message carries no delivery stamp: it cannot be reported")
        filed = await self.api.report(
            envelope_id=message["envelope_id"],
            sender={"account_id": message["from"], "device_id": message["from_device"]},
            server_time=message["server_time"],
            franking_tag=message["franking_tag"],
            delivery_stamp=message["delivery_stamp"],
            content=message["franking_content"],
            franking_key=message["franking_key"],
            reason=reason,
        )
        return filed.report_id, filed.verified

    # -- link checks ---------------------------------------------------------------------

    async def check_link(self, url: str) -> Verdict:
        """Blocked (with the sources and reason) or clean, checked on this device: the
        server learns at most a 4-byte hash prefix, and only when the link is a hit."""
        await self._refresh_links()
        return await self.links.check(url, self.api)

    async def check_links(self, text: str) -> list[Verdict]:
        links = find_links(text)
        if not links:
            return []
        await self._refresh_links()
        return [await self.links.check(link, self.api) for link in links]

    async def _refresh_links(self) -> None:
        with contextlib.suppress(Unreachable):
            await self.links.refresh(self.api)  # offline: check against the list we have

    async def _refuse_blocked_links(self, body: str) -> None:
        verdicts = await self.check_links(body)
        if any(v.status == "blocked" for v in verdicts):
            raise LinkBlocked(verdicts)

    async def _text(self, conversation: str, body: str, attach: list[Path] | None) -> Text:
        refs = [await self._upload(path) for path in attach or []]
        return Text(
            message_id=ids.new_id(),
            conversation=conversation,
            body=body,
            attachments=refs,
            franking_key=b64.encode(franking.new_key()),
            sent_at=clock.now_ms(),
        )

    async def _targets(self, accounts: list[str]) -> Targets:
        """Every device of these accounts and this account's other devices."""
        targets: Targets = {}
        for account in dict.fromkeys([*accounts, self.state.account_id]):
            for device, keys in (await self.devices_of(account, sending=True)).items():
                if (account, device) != (self.state.account_id, self.state.device_id):
                    targets[(account, device)] = keys
        return targets

    async def _encrypt_olm(
        self, targets: Targets, plaintext: bytes
    ) -> list[tuple[dict[str, str], bytes]]:
        await self._ensure_sessions(targets)
        outgoing = []
        for (account_id, device_id), keys in targets.items():
            kind, ciphertext = self.state.olm.encrypt(keys["curve25519"], plaintext)
            recipient = {"account_id": account_id, "device_id": device_id}
            outgoing.append((recipient, frame_olm(kind, ciphertext)))
        return outgoing

    # -- groups --------------------------------------------------------------------------

    async def create_group(self, name: str, members: list[str]) -> str:
        accounts = list(dict.fromkeys([self.state.account_id, *(self.resolve(m) for m in members)]))
        group_id = ids.new_id()
        self.state.groups[group_id] = Group(name=name, members=accounts, version=1)
        await self._announce(group_id, accounts)
        return group_id

    async def add_member(self, group: str, member: str) -> None:
        group_id = self.group_id(group)
        state = self.state.groups[group_id]
        account = self.resolve(member)
        if account not in state.members:
            state.members.append(account)
            state.version += 1
        await self._announce(group_id, state.members)

    async def remove_member(self, group: str, member: str) -> None:
        group_id = self.group_id(group)
        state = self.state.groups[group_id]
        account = self.resolve(member)
        if account not in state.members:
            raise MessengerError(f"{member} is not in the group")
        audience = list(state.members)
        state.members.remove(account)
        state.version += 1
        # The removed member learns it was removed; the next message rotates the key.
        await self._announce(group_id, audience)

    def group_id(self, name_or_id: str) -> str:
        for gid, group in self.state.groups.items():
            if name_or_id in (gid, group.name):
                return gid
        raise MessengerError(f"no group {name_or_id!r}")

    async def send_control(self, targets: Targets, payload: AnyPayload) -> None:
        """Send a payload that is not a conversation message (keys, group changes,
        verification steps) over Olm to exactly these devices."""
        for recipient, ciphertext in await self._encrypt_olm(targets, encode_payload(payload)):
            self._enqueue([recipient], ciphertext, ENVELOPE_KIND_OLM)
        await self.flush_outbox()

    async def _announce(self, group_id: str, audience: list[str]) -> None:
        group = self.state.groups[group_id]
        update = GroupUpdate(
            group_id=group_id, name=group.name, members=group.members, version=group.version
        )
        await self.send_control(await self._targets(audience), update)

    async def send_group(self, group: str, body: str, attach: list[Path] | None = None) -> str:
        group_id = self.group_id(group)
        state = self.state.groups[group_id]
        if self.state.account_id not in state.members:
            raise MessengerError("you are no longer a member of this group")
        await self._refuse_blocked_links(body)
        text = await self._text(group_id, body, attach)
        targets = await self._targets(state.members)
        outbound, share_to = core.plan_group_send(state, targets)
        key_messages = []
        if share_to:
            room_key = RoomKey(
                group_id=group_id, session_id=outbound.session_id, session_key=outbound.session_key
            )
            key_messages = await self._encrypt_olm(share_to, encode_payload(room_key))
        ciphertext = frame_megolm(outbound.session_id, outbound.encrypt(encode_payload(text)))
        core.record(
            self.state, text, "out", self.state.account_id, self.state.device_id, group_id, None
        )
        self.state.seen_messages.append(text.message_id)
        for recipient, sealed in key_messages:  # keys first: the server keeps per-sender order
            self._enqueue([recipient], sealed, ENVELOPE_KIND_OLM)
        recipients = [{"account_id": a, "device_id": d} for a, d in targets]
        if recipients:
            self._enqueue(recipients, ciphertext, ENVELOPE_KIND_MEGOLM, core.franking_tag(text))
        await self.flush_outbox()
        return text.message_id

    def _enqueue(
        self,
        recipients: list[dict[str, str]],
        ciphertext: bytes,
        kind: str,
        franking_tag: bytes | None = None,
    ) -> None:
        self.state.outbox.append(
            {
                "recipients": recipients,
                "ciphertext": b64.encode(ciphertext),
                "kind": kind,
                "franking_tag": None if franking_tag is None else b64.encode(franking_tag),
            }
        )

    async def flush_outbox(self) -> None:
        """Send what is waiting, in order. Saved first, so that a crash from here on can
        only send an envelope twice (receivers drop the repeat), never lose it or reuse a
        ratchet step; a network failure leaves the rest for the next call."""
        async with self._flushing:
            self.save()
            try:
                while self.state.outbox:
                    entry = self.state.outbox[0]
                    tag = entry["franking_tag"]
                    try:
                        await self._send_with_retry(
                            entry["recipients"], b64.decode(entry["ciphertext"]), entry["kind"],
                            None if tag is None else b64.decode(tag),
                        )  # fmt: skip
                    except ApiError as exc:
                        if exc.code != "unknown_recipient":
                            raise
                        # The device was removed meanwhile: no one is left to deliver to.
                    self.state.outbox.pop(0)
            finally:
                self.save()

    async def _send_with_retry(
        self,
        recipients: list[dict[str, str]],
        ciphertext: bytes,
        kind: str,
        franking_tag: bytes | None = None,
    ) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await self.api.send(recipients, ciphertext, kind, franking_tag)
                return
            except Unreachable:
                if attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)

    async def _upload(self, path: Path) -> AttachmentRef:
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise MessengerError(f"cannot read {path}: {exc.strerror}") from None
        blob, key = attachments.encrypt(data)
        created = await self.api.upload_attachment(blob)
        return AttachmentRef(
            attachment_id=created.attachment_id,
            name=path.name[:255],
            size=key.size,
            key=b64.encode(key.key),
            nonce=b64.encode(key.nonce),
            sha256=b64.encode(key.sha256),
        )

    # -- receiving -----------------------------------------------------------------------

    async def receive(self, wait: float = 0) -> list[dict[str, Any]]:
        """New messages (and markers for ones that could not be decrypted), each once,
        fetched over HTTP (long-poll up to `wait` seconds)."""
        await self._flush_quietly()
        batch = await self.api.fetch(wait=wait)
        return await self._take(batch.envelopes, self.api.ack)

    async def _flush_quietly(self) -> None:
        """Leftovers from an interrupted send go out before anything new comes in."""
        if self.state.outbox:
            with contextlib.suppress(Unreachable):
                await self.flush_outbox()

    async def receive_from(self, stream: EnvelopeStream, wait: float) -> list[dict[str, Any]]:
        """The same, from envelopes the server pushes on a WebSocket stream."""
        await self._flush_quietly()
        return await self._take(await stream.next_batch(wait), stream.ack)

    async def _take(
        self, envelopes: list[Envelope], ack: Callable[[list[str]], Awaitable[None]]
    ) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        for envelope in envelopes:
            if core.is_repeat(self.state, envelope):
                continue
            message = await self._open(envelope)
            core.remember(self.state, envelope)
            if message is not None:
                fresh.append(message)
        if envelopes:
            self.save()  # what we acknowledge must already be safe on disk
            await ack([e.envelope_id for e in envelopes])
            await self.refill_keys()
        return fresh

    async def _open(self, envelope: Envelope) -> dict[str, Any] | None:
        sender = envelope.sender
        try:
            payload, conversation = await self._decrypt(envelope)
        except (CryptoError, MessengerError, b64.Base64Error) as exc:
            return core.marker(self.state, envelope, exc)
        if not isinstance(payload, Text):
            return None  # keys and group updates were applied; nothing to show
        try:
            core.check_franking(payload, envelope.franking_tag)
        except CryptoError as exc:
            return core.marker(self.state, envelope, exc)
        if payload.message_id in self.state.seen_messages:
            return None  # a re-send of a message we already have
        self.state.seen_messages.append(payload.message_id)
        saved = [
            await self._fetch_attachment(payload.message_id, ref) for ref in payload.attachments
        ]
        message = core.record(self.state,
            payload, "in", sender.account_id, sender.device_id, conversation, envelope.server_time,
            saved, envelope.franking_tag, envelope,
        )  # fmt: skip
        # Checked before it is shown: a blocked link is rendered as such, never clickable.
        message["links"] = [v.to_json() for v in await self.check_links(payload.body)]
        return message

    async def _decrypt(self, envelope: Envelope) -> tuple[AnyPayload, str]:
        sender = envelope.sender
        raw = b64.decode(envelope.ciphertext)
        if envelope.kind == ENVELOPE_KIND_MEGOLM:
            return core.decrypt_group(self.state, raw, sender.account_id, sender.device_id)
        if envelope.kind != ENVELOPE_KIND_OLM:
            raise DecryptionFailed(f"unknown message kind {envelope.kind!r}")
        keys = self.state.devices.get(sender.account_id, {}).get(sender.device_id)
        if keys is None:
            keys = (await self.devices_of(sender.account_id)).get(sender.device_id)
        if keys is None:
            raise DecryptionFailed("the sending device is not registered to its account")
        kind, ciphertext = unframe_olm(raw)
        payload = decode_payload(
            self.state.olm.decrypt(self.state.identity, keys["curve25519"], kind, ciphertext)
        )
        if isinstance(payload, Text):
            return payload, core.conversation_of(self.state, payload, sender.account_id)
        if isinstance(payload, Verify):
            # Handled by whoever runs the verification (haven.client.sas); kept until then.
            self.verify_inbox.append((sender.account_id, sender.device_id, payload))
            return payload, sender.account_id
        if isinstance(payload, RoomKey):
            core.accept_room_key(self.state, payload, sender.account_id, sender.device_id)
        else:
            core.accept_group_update(self.state, payload, sender.account_id)
        return payload, payload.group_id

    async def _fetch_attachment(self, message_id: str, ref: AttachmentRef) -> dict[str, Any]:
        try:
            blob = await self.api.download_attachment(ref.attachment_id)
            data = attachments.decrypt(
                blob,
                attachments.AttachmentKey(
                    b64.decode(ref.key), b64.decode(ref.nonce), b64.decode(ref.sha256), ref.size
                ),
            )
        except (ApiError, CryptoError, b64.Base64Error) as exc:
            return {"name": ref.name, "error": str(exc)}
        # The name is the sender's: never let it choose where the file goes.
        safe = hashlib.sha256(ref.name.encode()).hexdigest()[:8] + "-" + Path(ref.name).name
        target = self.profile.attachments_dir / message_id / safe.replace("/", "_")
        # Decrypted files are for this user only, whatever the process umask says.
        for directory in (self.profile.attachments_dir, target.parent):
            directory.mkdir(mode=0o700, exist_ok=True)
            directory.chmod(0o700)
        await asyncio.to_thread(_write_private, target, data)
        return {"name": ref.name, "path": str(target), "size": len(data)}
