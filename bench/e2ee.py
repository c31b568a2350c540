"""End-to-end encryption cost: Haven's crypto layer beside raw vodozemac calls, in one run.

- 1:1 messages: encrypt + decrypt, alternating directions (both ratchets turn), through
  `haven.crypto.olm.OlmSessions` and through bare vodozemac Sessions.
- Session set-ups: one-time key generation and signature, signature check, outbound
  session, pre-key message, inbound session (both sides do all of it).
- A 100-member group message through a real server: Megolm (encrypt once, the server fans
  out) against encrypting to each member device with Olm (what 1:1 fan-out costs).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import vodozemac

from bench.common import haven_server
from haven.core.wire import key_signing_message
from haven.crypto.identity import DeviceIdentity, verify_key_signature
from haven.crypto.olm import OlmSessions

PLAINTEXT = b"x" * 200


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def raw_messages(n: int) -> float:
    alice, bob = vodozemac.Account(), vodozemac.Account()
    bob.generate_one_time_keys(1)
    otk = next(iter(bob.one_time_keys.values()))
    a = alice.create_outbound_session(bob.curve25519_key, otk)
    pre = a.encrypt(PLAINTEXT).to_pre_key()
    assert pre is not None
    b, _ = bob.create_inbound_session(alice.curve25519_key, pre)
    start = time.perf_counter()
    for i in range(n):
        sender, receiver = (a, b) if i % 2 == 0 else (b, a)
        receiver.decrypt(sender.encrypt(PLAINTEXT))
    return _rate(n, time.perf_counter() - start)


def haven_messages(n: int) -> float:
    alice, bob = DeviceIdentity.create(), DeviceIdentity.create()
    a, b = OlmSessions(), OlmSessions()
    [otk] = bob.new_one_time_keys(1)
    a.add(bob.curve25519, alice.outbound_session(bob.curve25519, otk.key))
    kind, ct = a.encrypt(bob.curve25519, PLAINTEXT)
    b.decrypt(bob, alice.curve25519, kind, ct)
    pairs = ((a, alice, b, bob), (b, bob, a, alice))
    start = time.perf_counter()
    for i in range(n):
        out, me, inbox, them = pairs[i % 2]
        kind, ct = out.encrypt(them.curve25519, PLAINTEXT)
        inbox.decrypt(them, me.curve25519, kind, ct)
    return _rate(n, time.perf_counter() - start)


def raw_setups(n: int) -> float:
    bob = vodozemac.Account()
    alice = vodozemac.Account()
    start = time.perf_counter()
    for _ in range(n):
        bob.generate_one_time_keys(1)
        otk = next(iter(bob.one_time_keys.values()))
        bob.mark_keys_as_published()
        # Like for like: every client must sign its one-time keys and check the signature.
        signature = bob.sign(key_signing_message(otk.to_bytes()))
        bob.ed25519_key.verify_signature(key_signing_message(otk.to_bytes()), signature)
        session = alice.create_outbound_session(bob.curve25519_key, otk)
        pre = session.encrypt(PLAINTEXT).to_pre_key()
        assert pre is not None
        bob.create_inbound_session(alice.curve25519_key, pre)
    return _rate(n, time.perf_counter() - start)


def haven_setups(n: int) -> float:
    bob, alice = DeviceIdentity.create(), DeviceIdentity.create()
    start = time.perf_counter()
    for _ in range(n):
        [otk] = bob.new_one_time_keys(1)
        verify_key_signature(bob.ed25519, otk.key, otk.signature)
        sessions = OlmSessions()
        sessions.add(bob.curve25519, alice.outbound_session(bob.curve25519, otk.key))
        kind, ct = sessions.encrypt(bob.curve25519, PLAINTEXT)
        OlmSessions().decrypt(bob, alice.curve25519, kind, ct)
    return _rate(n, time.perf_counter() - start)


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


def run(quick: bool = False) -> dict[str, Any]:
    n = 5_000 if quick else 20_000
    setups = 300 if quick else 1_000
    return {
        "messages": {"haven": haven_messages(n), "raw": raw_messages(n)},
        "setups": {"haven": haven_setups(setups), "raw": raw_setups(setups)},
        "group": asyncio.run(group_fan_out(20 if quick else 100)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
