"""End-to-end encryption cost, in one run: Haven's crypto layer beside raw vodozemac calls,
and beside Signal's client library (libsignal) doing the same jobs with Signal's protocol.

Method, the same for every rate below and on both sides of every comparison: the state a
measurement needs (identities, an established session, a shared group key) is built before
timing; one untimed warm-up batch of a tenth of the count runs first (it also checks that
the plaintext comes back); then `REPEATS` timed batches of the full count run, and the
fastest gives the rate. Every message carries the same 200-byte payload and all state stays
in memory. Haven and vodozemac run in this process (Python over vodozemac's Rust core);
libsignal runs in a Node process (`bench/anchors/libsignal/bench.mjs`: JavaScript over
libsignal's Rust core, through its async store interfaces) with the same counts, after
Haven's figures, never at the same time. So each side is its library's public binding,
language overhead included.

- Session set-ups: the responder makes a one-time key and signs it, the initiator checks
  the signature, starts an outbound session and encrypts the first message, the responder
  opens an inbound session from it (fresh session stores each time; identity keys are made
  before timing). Haven: `DeviceIdentity` + `OlmSessions` (Olm's 3DH). libsignal:
  one-time EC pre-key plus a signed one-time Kyber-1024 KEM pre-key, a `PreKeyBundle`
  with the medium-term signed pre-key made before timing, `processPreKeyBundle`,
  `signalEncrypt`, `signalDecryptPreKey` (PQXDH). PQXDH's KEM (key generation, signature,
  encapsulation, decapsulation) is post-quantum work Olm does not do at all.
- 1:1 messages: encrypt + decrypt on one established session, directions alternating so
  both ratchets turn. Haven: `OlmSessions.encrypt`/`decrypt` (the Double Ratchet).
  libsignal 0.103: `signalEncrypt`/`signalDecrypt`, which run the Double Ratchet plus SPQR,
  a sparse post-quantum ratchet whose KEM pieces ride on the messages.
- Group messages: one message to an N-member group is one encryption by the sender and one
  decryption by each member (N + 1 operations); the group key reaches every member before
  timing. Haven: `OutboundGroup.encrypt`, `InboundGroups.decrypt` (Megolm, replay check
  included). libsignal: `SenderKeyDistributionMessage` processed by each member, then
  `groupEncrypt` and `groupDecrypt` (sender keys). Haven's messenger also rotates its Megolm
  session every 100 messages (a new key over Olm to every member); that is not counted.
  Neither side's envelope (Haven's franking commitment, Signal's sealed sender) is included.
- A group message through a real server: Megolm (encrypt once, the server fans out) against
  encrypting to each member device with Olm (what 1:1 fan-out costs); one message, timed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vodozemac

from bench.common import (
    ROOT,
    WORK,
    AnchorUnavailable,
    Scale,
    haven_server,
    may_install,
    not_installing,
)
from haven.core.wire import key_signing_message
from haven.crypto.identity import DeviceIdentity, verify_key_signature
from haven.crypto.megolm import InboundGroups, OutboundGroup
from haven.crypto.olm import OlmSessions

PLAINTEXT = b"x" * 200
REPEATS = 3

LIBSIGNAL_SOURCE = ROOT / "bench" / "anchors" / "libsignal"
LIBSIGNAL_WORK = WORK / "libsignal"
LIBSIGNAL_FILES = ("package.json", "package-lock.json", "bench.mjs")
INSTALL_TIMEOUT_S = 600
RUN_TIMEOUT_S = 1200

# (how many to run, whether to check the plaintext): one batch of a measurement.
Batch = Callable[[int, bool], None]


def best_rate(batch: Batch, count: int, repeats: int = REPEATS) -> float:
    """Operations per second of the fastest of `repeats` timed batches, after a warm-up.
    bench.mjs's `bestRate` does exactly this on libsignal's side."""
    batch(max(1, count // 10), True)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        batch(count, False)
        best = min(best, time.perf_counter() - start)
    return round(count / best, 1)


def _check(plaintext: bytes, what: str) -> None:
    if plaintext != PLAINTEXT:
        raise RuntimeError(f"{what}: the plaintext did not come back")


def raw_messages(n: int, repeats: int = REPEATS) -> float:
    alice, bob = vodozemac.Account(), vodozemac.Account()
    bob.generate_one_time_keys(1)
    otk = next(iter(bob.one_time_keys.values()))
    a = alice.create_outbound_session(bob.curve25519_key, otk)
    pre = a.encrypt(PLAINTEXT).to_pre_key()
    assert pre is not None
    b, _ = bob.create_inbound_session(alice.curve25519_key, pre)
    turns = itertools.cycle(((a, b), (b, a)))

    def batch(count: int, check: bool) -> None:
        for _ in range(count):
            sender, receiver = next(turns)
            plaintext = receiver.decrypt(sender.encrypt(PLAINTEXT))
            if check:
                _check(bytes(plaintext), "raw 1:1 message")

    return best_rate(batch, n, repeats)


def haven_messages(n: int, repeats: int = REPEATS) -> float:
    alice, bob = DeviceIdentity.create(), DeviceIdentity.create()
    a, b = OlmSessions(), OlmSessions()
    [otk] = bob.new_one_time_keys(1)
    a.add(bob.curve25519, alice.outbound_session(bob.curve25519, otk.key))
    kind, ct = a.encrypt(bob.curve25519, PLAINTEXT)
    b.decrypt(bob, alice.curve25519, kind, ct)
    turns = itertools.cycle(((a, alice, b, bob), (b, bob, a, alice)))

    def batch(count: int, check: bool) -> None:
        for _ in range(count):
            out, me, inbox, them = next(turns)
            kind, ct = out.encrypt(them.curve25519, PLAINTEXT)
            plaintext = inbox.decrypt(them, me.curve25519, kind, ct)
            if check:
                _check(plaintext, "Haven 1:1 message")

    return best_rate(batch, n, repeats)


def raw_setups(n: int, repeats: int = REPEATS) -> float:
    bob = vodozemac.Account()
    alice = vodozemac.Account()

    def batch(count: int, check: bool) -> None:
        for _ in range(count):
            bob.generate_one_time_keys(1)
            otk = next(iter(bob.one_time_keys.values()))
            bob.mark_keys_as_published()
            # Like for like: every client must sign its one-time keys and check the signature.
            signature = bob.sign(key_signing_message(otk.to_bytes()))
            bob.ed25519_key.verify_signature(key_signing_message(otk.to_bytes()), signature)
            session = alice.create_outbound_session(bob.curve25519_key, otk)
            pre = session.encrypt(PLAINTEXT).to_pre_key()
            assert pre is not None
            _, plaintext = bob.create_inbound_session(alice.curve25519_key, pre)
            if check:
                _check(bytes(plaintext), "raw session set-up")

    return best_rate(batch, n, repeats)


def haven_setups(n: int, repeats: int = REPEATS) -> float:
    bob, alice = DeviceIdentity.create(), DeviceIdentity.create()

    def batch(count: int, check: bool) -> None:
        for _ in range(count):
            [otk] = bob.new_one_time_keys(1)
            verify_key_signature(bob.ed25519, otk.key, otk.signature)
            sessions = OlmSessions()
            sessions.add(bob.curve25519, alice.outbound_session(bob.curve25519, otk.key))
            kind, ct = sessions.encrypt(bob.curve25519, PLAINTEXT)
            plaintext = OlmSessions().decrypt(bob, alice.curve25519, kind, ct)
            if check:
                _check(plaintext, "Haven session set-up")

    return best_rate(batch, n, repeats)


def haven_group(members: int, n: int, repeats: int = REPEATS) -> float:
    """Group messages per second, each encrypted once and decrypted by every member."""
    outbound = OutboundGroup.create(frozenset(f"member-{i}" for i in range(members)))
    inboxes = [InboundGroups() for _ in range(members)]
    for inbox in inboxes:
        inbox.add(outbound.session_key, "sender-device")
    session_id = outbound.session_id

    def batch(count: int, check: bool) -> None:
        for _ in range(count):
            ct = outbound.encrypt(PLAINTEXT)
            for inbox in inboxes:
                plaintext, _, _ = inbox.decrypt(session_id, ct)
                if check:
                    _check(plaintext, "Haven group message")

    return best_rate(batch, n, repeats)


async def group_fan_out(members: int) -> dict[str, Any]:
    """Seconds for one message to a `members`-member group through the server, sessions
    already established: Megolm (one encryption, one request) vs Olm to every device."""
    from haven.client.messenger import Messenger

    with tempfile.TemporaryDirectory(prefix="haven-e2ee-") as tmp:
        root = Path(tmp)
        with haven_server(root / "server", f"sqlite:///{root / 'server.sqlite3'}") as (url, _):
            clients = [
                await Messenger.create_account(root / f"m{i}", url, "bench passphrase")
                for i in range(members + 1)
            ]
            try:
                alice, others = clients[0], clients[1:]
                group = await alice.create_group("bench", [c.state.account_id for c in others])
                await alice.send_group(group, "warm-up: shares the group key")
                start = time.perf_counter()
                await alice.send_group(group, "one message to everyone")
                megolm = time.perf_counter() - start
                start = time.perf_counter()
                for member in others:  # sessions exist already: pure per-device encryption
                    await alice.send_text(member.state.account_id, "one message to everyone")
                olm = time.perf_counter() - start
            finally:
                for client in clients:
                    await client.close()
    return {"members": members, "megolm_s": round(megolm, 3), "olm_each_s": round(olm, 3)}


def _reason(output: str) -> str:
    """The line of a failed npm or node run that says what went wrong."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = [
        line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        for line in lines
        if line.startswith(("npm error", "npm ERR!"))
    ]
    # npm opens with machine-readable fields and closes with a pointer to its log.
    fields = ("code ", "errno ", "syscall ", "A complete log")
    said = [line for line in said if line and not line.startswith(fields)]
    if said:
        return said[0][:300]
    for line in lines:
        if "Error" in line:
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AnchorUnavailable(f"`{name}` is not on PATH (libsignal's bench needs Node 20+)")
    return found


def ensure_libsignal(work: Path = LIBSIGNAL_WORK) -> Path:
    """The anchor's working directory with @signalapp/libsignal-client installed at the
    version pinned in bench/anchors/libsignal/package-lock.json (`npm ci` when the installed
    tree is missing or came from another lock file). Raises AnchorUnavailable."""
    node, npm = _tool("node"), _tool("npm")
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise AnchorUnavailable(f"`node --version` failed: {exc}") from None
    major = version.lstrip("v").split(".", 1)[0]
    if not major.isdigit() or int(major) < 20:
        raise AnchorUnavailable(f"Node {version} is too old: libsignal's bench needs Node 20+")
    work.mkdir(parents=True, exist_ok=True)
    for name in LIBSIGNAL_FILES:
        shutil.copyfile(LIBSIGNAL_SOURCE / name, work / name)
    lock = hashlib.sha256((work / "package-lock.json").read_bytes()).hexdigest()
    # Written only after a successful `npm ci`, so an interrupted install is redone.
    stamp = work / "node_modules" / ".haven-lock-sha256"
    if stamp.is_file() and stamp.read_text().strip() == lock:
        return work
    if not may_install("heavy"):
        raise AnchorUnavailable(not_installing("libsignal's npm tree"))
    print("installing the libsignal anchor (npm ci) ...", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=work, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise AnchorUnavailable(f"npm ci failed: {exc}") from None
    if done.returncode != 0:
        raise AnchorUnavailable(f"npm ci failed: {_reason(done.stderr + done.stdout)}")
    stamp.write_text(lock + "\n")
    return work


def libsignal(
    work: Path, messages: int, setups: int, members: int, group_messages: int
) -> dict[str, Any]:
    """libsignal's figures for the same counts, repeats and payload size as Haven's."""
    argv = [_tool("node"), "bench.mjs"]
    argv += [str(v) for v in (messages, setups, members, group_messages, REPEATS, len(PLAINTEXT))]
    try:
        done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        raise AnchorUnavailable(f"bench.mjs did not finish: {exc}") from None
    if done.returncode != 0:
        raise AnchorUnavailable(
            f"bench.mjs exited with status {done.returncode}: {_reason(done.stderr)}"
        )
    try:
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise AnchorUnavailable(f"bench.mjs printed no JSON: {done.stdout[-300:]!r}") from None
    if not isinstance(figures, dict):
        raise AnchorUnavailable("bench.mjs printed JSON that is not an object")
    return figures


# (1:1 messages, session set-ups, group members, group messages) per run size.
SIZES: dict[Scale, tuple[int, int, int, int]] = {
    "full": (20_000, 1_000, 100, 200),
    "quick": (1_000, 100, 20, 100),
    "smoke": (50, 10, 3, 5),
}


def run(scale: Scale = "full") -> dict[str, Any]:
    n, setups, members, group_messages = SIZES[scale]
    # Installed first so that npm's work never overlaps a measurement.
    work: Path | None = None
    anchor: dict[str, Any]
    try:
        work = ensure_libsignal()
    except AnchorUnavailable as exc:
        anchor = {"skipped": exc.reason}
    figures: dict[str, Any] = {
        "payload_bytes": len(PLAINTEXT),
        "repeats": REPEATS,
        "messages": {"count": n, "haven": haven_messages(n), "raw": raw_messages(n)},
        "setups": {"count": setups, "haven": haven_setups(setups), "raw": raw_setups(setups)},
        "group_crypto": {
            "members": members,
            "count": group_messages,
            "haven": haven_group(members, group_messages),
        },
    }
    if work is not None:
        try:
            anchor = libsignal(work, n, setups, members, group_messages)
        except AnchorUnavailable as exc:
            anchor = {"skipped": exc.reason}
    figures["libsignal"] = anchor
    figures["group"] = asyncio.run(group_fan_out(members))
    return figures


if __name__ == "__main__":
    print(json.dumps(run("quick"), indent=2))
