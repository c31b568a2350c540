"""Key transparency, client side (no I/O): check a device list against the server's key
log before trusting any key in it.

- the head must be signed by the key-log key pinned when this device joined;
- it must extend the last head this device saw (a consistency proof), so the server cannot
  rewrite history or show this device a log it later denies;
- every listed device must come with its binding (account, device, exactly these keys)
  and an inclusion proof against that head.

Any failure is a `KeyTransparencyError` naming what is wrong; the caller sends nothing.
What it cannot see alone: a server showing different users different logs (that needs
heads compared between users, e.g. at verification time)."""

from __future__ import annotations

import json
from typing import Any

from haven.core import b64
from haven.core.wire import DeviceList, SignedHead
from haven.merkle.hashing import leaf_hash
from haven.merkle.heads import HeadError, SignedTreeHead, TreeHead, verify_head
from haven.merkle.proofs import ProofError, verify_consistency, verify_inclusion


class KeyTransparencyError(Exception):
    """The server's key log does not vouch for what it showed: possibly a key substitution."""


def _head(signed: SignedHead) -> SignedTreeHead:
    try:
        return SignedTreeHead(
            TreeHead(signed.size, b64.decode(signed.root), signed.timestamp),
            b64.decode(signed.signature),
        )
    except (HeadError, b64.Base64Error) as exc:
        raise KeyTransparencyError(f"the key log head is malformed: {exc}") from None


def check_head(pinned_key: str, head: SignedHead) -> SignedTreeHead:
    tree = _head(head)
    try:
        verify_head(b64.decode(pinned_key), tree)
    except (HeadError, b64.Base64Error):
        raise KeyTransparencyError(
            "the key log head is not signed by this server's key-log key"
        ) from None
    return tree


def needs_consistency(last: dict[str, Any] | None, head: SignedTreeHead) -> bool:
    return last is not None and int(last["size"]) != head.head.size


def check_extends(last: dict[str, Any] | None, head: SignedTreeHead, path: list[str]) -> None:
    """The new head extends the last one this device saw."""
    if last is None:
        return
    old_size, old_root = int(last["size"]), b64.decode(last["root"])
    if head.head.size < old_size:
        raise KeyTransparencyError(
            f"the key log shrank from {old_size} to {head.head.size} entries: history was rewritten"
        )
    try:
        verify_consistency(
            old_size, head.head.size, old_root, head.head.root, [b64.decode(h) for h in path]
        )
    except (ProofError, b64.Base64Error):
        raise KeyTransparencyError(
            "the key log does not extend the one this device saw before: history was rewritten"
        ) from None


def check_devices(account_id: str, listed: DeviceList, head: SignedTreeHead) -> None:
    """Every listed device's keys are in the log under `head`."""
    proofs = {p.device_id: p for p in (listed.transparency.proofs if listed.transparency else [])}
    for device in listed.devices:
        proof = proofs.get(device.device_id)
        if proof is None:
            raise KeyTransparencyError(
                f"device {device.device_id} of {account_id} is not in the key log: its keys "
                "may have been substituted; nothing was sent"
            )
        try:
            entry = json.loads(proof.entry)
        except ValueError:
            raise KeyTransparencyError("a key-log entry is not valid JSON") from None
        expected = {
            "event": "added",
            "account": account_id,
            "device": device.device_id,
            "keys": device.identity_keys.model_dump(),
        }
        if {k: entry.get(k) for k in expected} != expected:
            raise KeyTransparencyError(
                f"the keys shown for device {device.device_id} of {account_id} are not the "
                "ones in the key log: possible key substitution; nothing was sent"
            )
        try:
            verify_inclusion(
                leaf_hash(proof.entry.encode("utf-8")), proof.index, head.head.size,
                [b64.decode(h) for h in proof.path], head.head.root,
            )  # fmt: skip
        except (ProofError, b64.Base64Error):
            raise KeyTransparencyError(
                f"the key-log proof for device {device.device_id} of {account_id} does not "
                "verify: the log may have been altered; nothing was sent"
            ) from None


def remembered(head: SignedTreeHead) -> dict[str, Any]:
    return {"size": head.head.size, "root": b64.encode(head.head.root)}
