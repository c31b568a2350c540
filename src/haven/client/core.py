"""The client's sans-I/O core: how received payloads change the device's state, what a
person is shown, and what a group send must share first. No network, no disk: the
messenger (`haven.client.messenger`) does the I/O around these and the tests can drive
them directly."""

from __future__ import annotations

import hashlib
from typing import Any

from haven.client.payload import (
    GroupUpdate,
    RoomKey,
    Text,
    decode_payload,
    franking_content,
    unframe_megolm,
)
from haven.client.profile import ClientState, Group
from haven.core import b64
from haven.core.wire import Envelope
from haven.crypto import franking
from haven.crypto.errors import DecryptionFailed, IntegrityError
from haven.crypto.megolm import OutboundGroup

Targets = dict[tuple[str, str], dict[str, str]]  # (account, device) -> identity keys


def ciphertext_digest(envelope: Envelope) -> str:
    return hashlib.sha256(envelope.ciphertext.encode()).hexdigest()


def is_repeat(state: ClientState, envelope: Envelope) -> bool:
    """Delivered again (same envelope), or the same bytes re-sent after a lost answer: Olm
    and Megolm cannot, and must not, open a ciphertext twice."""
    return (
        envelope.envelope_id in state.seen_envelopes
        or ciphertext_digest(envelope) in state.seen_ciphertexts
    )


def remember(state: ClientState, envelope: Envelope) -> None:
    state.seen_envelopes.append(envelope.envelope_id)
    state.seen_ciphertexts.append(ciphertext_digest(envelope))


def plan_group_send(group: Group, targets: Targets) -> tuple[OutboundGroup, Targets]:
    """The outbound session to use and the devices that must first be given its key:
    everyone after a rotation (a device left, or the session is old), else newcomers."""
    devices = frozenset(f"{a}/{d}" for a, d in targets)
    outbound = group.outbound
    if outbound is None or outbound.needs_rotation(devices):
        group.outbound = OutboundGroup.create(devices)
        return group.outbound, targets
    newcomers = {t: k for t, k in targets.items() if f"{t[0]}/{t[1]}" not in outbound.members}
    outbound.members = outbound.members | devices
    return outbound, newcomers


def marker(state: ClientState, envelope: Envelope, error: Exception) -> dict[str, Any]:
    """What the person sees instead of a message that could not be read or trusted."""
    marker = {
        "envelope_id": envelope.envelope_id,
        "status": "undecryptable",
        "error": str(error),
        "from": envelope.sender.account_id,
        "from_device": envelope.sender.device_id,
        "server_time": envelope.server_time,
    }
    state.messages.append(marker)
    return marker


def decrypt_group(state: ClientState, raw: bytes, account: str, device: str) -> tuple[Text, str]:
    session_id, ciphertext = unframe_megolm(raw)
    plaintext, owner, _ = state.inbound.decrypt(session_id, ciphertext)
    if owner != f"{account}/{device}":
        raise DecryptionFailed("a group message from a device that does not own its key")
    payload = decode_payload(plaintext)
    group_id = state.session_groups.get(session_id, "")
    group = state.groups.get(group_id)
    if (
        not isinstance(payload, Text)
        or payload.conversation != group_id
        or group is None
        or account not in group.members
    ):
        raise DecryptionFailed("a group message that does not belong to its group")
    return payload, group_id


def accept_room_key(state: ClientState, key: RoomKey, account: str, device: str) -> None:
    group = state.groups.get(key.group_id)
    if group is None or account not in group.members:
        raise DecryptionFailed("a group key from someone who is not in that group")
    session_id = state.inbound.add(key.session_key, f"{account}/{device}")
    if session_id != key.session_id:
        raise DecryptionFailed("the group key does not match its session id")
    state.session_groups[session_id] = key.group_id


def accept_group_update(state: ClientState, update: GroupUpdate, account: str) -> None:
    known = state.groups.get(update.group_id)
    if known is None:
        if account not in update.members:
            raise DecryptionFailed("a group invitation from someone outside the group")
        state.groups[update.group_id] = Group(update.name, list(update.members), update.version)
        return
    if account not in known.members:
        raise DecryptionFailed("a group change from someone who is not in the group")
    if update.version > known.version:
        known.name, known.members = update.name, list(update.members)
        known.version = update.version


def conversation_of(state: ClientState, payload: Text, sender_account: str) -> str:
    if sender_account == state.account_id:
        return payload.conversation  # a copy of what my other device sent
    if payload.conversation != state.account_id:
        raise DecryptionFailed("the message names a conversation it does not belong to")
    return sender_account


def record(
    state: ClientState, payload: Text, direction: str, account: str, device: str, conversation: str,
    server_time: int | None, saved: list[dict[str, Any]] | None = None,
    franking_tag: str | None = None,
    envelope: Envelope | None = None,
) -> dict[str, Any]:  # fmt: skip
    message = {
        "message_id": payload.message_id,
        "status": "ok",
        "direction": direction,
        "from": account,
        "from_device": device,
        "conversation": conversation,
        "body": payload.body,
        "attachments": saved
        if saved is not None
        else [{"name": a.name, "size": a.size} for a in payload.attachments],
        "sent_at": payload.sent_at,
        "server_time": server_time,
        # What a report would reveal: the committed content and its key (issue: safety).
        "franking_key": payload.franking_key,
        "franking_content": b64.encode(franking_content(payload)),
        "franking_tag": franking_tag,
        # What the server stamped at delivery: with the above, a report of this message
        # can be verified by the moderators.
        "envelope_id": None if envelope is None else envelope.envelope_id,
        "delivery_stamp": None if envelope is None else envelope.delivery_stamp,
    }
    state.messages.append(message)
    return message


def franking_tag(text: Text) -> bytes:
    return franking.commit(b64.decode(text.franking_key), franking_content(text))


def check_franking(text: Text, tag: str | None) -> None:
    """A message whose clear commitment does not match could not be reported: refuse it."""
    if tag is None:
        raise IntegrityError("the message carries no franking commitment")
    franking.verify(b64.decode(text.franking_key), franking_content(text), b64.decode(tag))
