from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from haven.client.api import Unreachable
from haven.client.messenger import IdentityChanged, Messenger, MessengerError
from haven.client.profile import ProfileError
from haven.core import b64
from haven.core.relaylink import RelayLink
from haven.crypto import franking
from haven.crypto.errors import IntegrityError
from tests.client.conftest import PASSPHRASE, MakeClient, second_device
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio


async def test_two_clients_exchange_messages_each_shown_once(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    message_id = await alice.send_text("bob", "hello bob")
    [got] = await bob.receive()
    assert (got["status"], got["body"], got["message_id"]) == ("ok", "hello bob", message_id)
    assert got["from"] == alice.state.account_id
    assert got["conversation"] == alice.state.account_id
    await bob.send_text(alice.state.account_id, "hi alice")
    await bob.send_text(alice.state.account_id, "second")
    assert [m["body"] for m in await alice.receive()] == ["hi alice", "second"]
    assert await bob.receive() == []
    assert await alice.receive() == []


async def test_three_clients_and_linked_devices_all_get_their_copy(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice, bob, carol = [await make_client(n) for n in ("alice", "bob", "carol")]
    bob_laptop = await second_device(bob, tmp_path / "bob-laptop")
    alice_tablet = await second_device(alice, tmp_path / "alice-tablet")
    try:
        await alice.send_text(bob.state.account_id, "to both of bob's devices")
        for device in (bob, bob_laptop):
            [got] = await device.receive()
            assert got["body"] == "to both of bob's devices"
        [copy] = await alice_tablet.receive()
        assert (copy["body"], copy["conversation"]) == (
            "to both of bob's devices",
            bob.state.account_id,
        )
        await carol.send_text(alice.state.account_id, "from carol")
        assert [m["body"] for m in await alice.receive()] == ["from carol"]
        assert [m["body"] for m in await alice_tablet.receive()] == ["from carol"]
    finally:
        await bob_laptop.close()
        await alice_tablet.close()


async def test_attachments_arrive_intact(make_client: MakeClient, tmp_path: Path) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(os.urandom(150_000))
    await alice.send_text(bob.state.account_id, "see attached", attach=[photo])
    [got] = await bob.receive()
    [attachment] = got["attachments"]
    assert attachment["name"] == "photo.jpg"
    assert Path(attachment["path"]).read_bytes() == photo.read_bytes()
    assert Path(attachment["path"]).is_relative_to(bob.profile.attachments_dir)


async def test_hostile_attachment_name_cannot_escape_the_profile(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    evil = tmp_path / "..evil"
    evil.write_bytes(b"x")
    await alice.send_text(bob.state.account_id, "x", attach=[evil])
    [got] = await bob.receive()
    assert (
        Path(got["attachments"][0]["path"])
        .resolve()
        .is_relative_to(bob.profile.attachments_dir.resolve())
    )


async def test_server_holds_no_plaintext(
    make_client: MakeClient, server: Server, db_url: str, tmp_path: Path
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    secret_body = "meet at the old library at nine"
    secret_file = b"LEAKED-DOCUMENT-" * 500
    doc = tmp_path / "doc.txt"
    doc.write_bytes(secret_file)
    await alice.send_text(bob.state.account_id, secret_body, attach=[doc])
    await bob.send_text(alice.state.account_id, "understood, nine o'clock")
    # Everything the server stores right now, before anything is acknowledged.
    dump = await dump_database(db_url)
    for plaintext in (secret_body.encode(), b"nine o'clock", secret_file[:64], b"doc.txt"):
        assert plaintext not in dump
    assert [m["body"] for m in await bob.receive()] == [secret_body]


async def dump_database(db_url: str) -> bytes:
    from sqlalchemy import select

    from haven.store.stores import open_stores
    from haven.store.tables import metadata

    stores = await open_stores(db_url)
    try:

        def everything(conn: object) -> bytes:
            out = bytearray()
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):  # type: ignore[attr-defined]
                    for value in row:
                        out += value if isinstance(value, bytes) else str(value).encode()
            return bytes(out)

        return await stores.db.run(everything)
    finally:
        await stores.db.close()


async def test_stolen_profile_without_passphrase_reveals_nothing(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "the source's name is Dana")
    await bob.receive()
    stolen = b"".join(p.read_bytes() for p in (tmp_path / "bob").rglob("*") if p.is_file())
    for secret in (b"Dana", bob.state.token.encode(), bob.state.pickle_key.hex().encode()):
        assert secret not in stolen
    before = (tmp_path / "bob" / "state.haven").read_bytes()
    with pytest.raises(ProfileError, match="wrong passphrase"):
        Messenger.open(tmp_path / "bob", "not the passphrase")
    assert (tmp_path / "bob" / "state.haven").read_bytes() == before
    reopened = Messenger.open(tmp_path / "bob", PASSPHRASE)
    try:
        assert [m["body"] for m in reopened.state.messages if m.get("direction") == "in"] == [
            "the source's name is Dana"
        ]
    finally:
        await reopened.close()


async def test_tampered_envelope_shows_a_marker_once(
    make_client: MakeClient, server: Server
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "real message")
    # A forged envelope from alice's device address is impossible (the server stamps the
    # sender), so a garbage ciphertext from a real device stands in for tampering.
    await alice.api.send(
        [{"account_id": bob.state.account_id, "device_id": bob.state.device_id}],
        b"\x01\x01" + os.urandom(100),
        "olm",
    )
    received = await bob.receive()
    assert [m["status"] for m in received] == ["ok", "undecryptable"]
    assert "error" in received[1]
    assert await bob.receive() == []


async def test_a_changed_identity_key_stops_the_send(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "first")
    pinned = alice.state.devices[bob.state.account_id][bob.state.device_id]
    pinned["ed25519"] = pinned["curve25519"]  # what alice remembers no longer matches
    with pytest.raises(IdentityChanged):
        await alice.send_text(bob.state.account_id, "second")


async def test_unknown_contact_name_is_a_clear_error(make_client: MakeClient) -> None:
    alice = await make_client("alice")
    with pytest.raises(MessengerError, match="no contact called"):
        await alice.send_text("nobody", "hi")
    with pytest.raises(MessengerError, match="not an account id"):
        alice.add_contact("xyz", "bob")


async def test_one_time_keys_are_refilled(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    before = (await bob.api.key_count()).one_time_key_count
    await alice.send_text(bob.state.account_id, "uses one key")
    await bob.receive()
    assert (await bob.api.key_count()).one_time_key_count == before - 1


async def test_a_waiting_device_cannot_be_used_until_linked(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    relay = RelayLink("127.0.0.1", 8443, bytes(32), bytes(range(32)), None, False).to_url()
    alice.add_relay(relay)
    code = Messenger.begin_link(tmp_path / "new", alice.state.server, PASSPHRASE)
    with pytest.raises(MessengerError, match="waiting to be linked"):
        Messenger.open(tmp_path / "new", PASSPHRASE)
    approval, _ = await alice.approve_link(code)
    tablet = await Messenger.complete_link(tmp_path / "new", PASSPHRASE, approval)
    try:
        assert tablet.state.account_id == alice.state.account_id
        assert tablet.state.device_id != alice.state.device_id
        assert tablet.state.relays == [relay]  # a blocked server is reachable from it too
        with pytest.raises(MessengerError, match="already linked"):
            await Messenger.complete_link(tmp_path / "new", PASSPHRASE, approval)
    finally:
        await tablet.close()


async def test_every_message_carries_a_franking_commitment_the_server_sees(
    make_client: MakeClient,
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "reportable")
    [envelope] = (await bob.api.fetch()).envelopes
    assert envelope.franking_tag is not None
    [got] = await bob.receive()
    # What a report reveals (content and key) checks against what the server saw in clear.
    content = b64.decode(got["franking_content"])
    assert b"reportable" in content
    franking.verify(b64.decode(got["franking_key"]), content, b64.decode(envelope.franking_tag))
    with pytest.raises(IntegrityError):
        franking.verify(
            b64.decode(got["franking_key"]),
            content.replace(b"reportable", b"edited!!!!"),
            b64.decode(envelope.franking_tag),
        )


async def test_a_message_whose_commitment_does_not_match_is_refused(
    make_client: MakeClient,
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    original_send = alice.api.send

    async def lying_send(recipients, ciphertext, kind, franking_tag=None):  # type: ignore[no-untyped-def]
        return await original_send(recipients, ciphertext, kind, os.urandom(32))

    alice.api.send = lying_send  # type: ignore[method-assign]
    await alice.send_text(bob.state.account_id, "unreportable lie")
    [marker] = await bob.receive()
    assert marker["status"] == "undecryptable"
    assert "franking" in marker["error"]


async def test_a_send_retried_after_a_lost_response_is_shown_once(
    make_client: MakeClient,
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "warm-up")
    await bob.receive()
    original_send = alice.api.send
    calls = 0

    async def flaky_send(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        result = await original_send(*args, **kwargs)
        if calls == 1:  # the server stored it, but the answer never reached us
            raise Unreachable("connection reset")
        return result

    alice.api.send = flaky_send  # type: ignore[method-assign]
    await alice.send_text(bob.state.account_id, "sent once, delivered twice")
    assert calls == 2
    envelopes = (await bob.api.fetch()).envelopes
    assert len(envelopes) == 2  # the server did get both copies
    assert [m["body"] for m in await bob.receive()] == ["sent once, delivered twice"]


async def test_a_send_cut_off_by_the_network_goes_out_later_and_once(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "warm-up")
    await bob.receive()

    async def offline(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Unreachable("network down")

    alice.api.send = offline  # type: ignore[method-assign]
    with pytest.raises(Unreachable):
        await alice.send_text(bob.state.account_id, "written while offline")
    assert len(alice.state.outbox) == 1
    assert await bob.receive() == []
    # The app is closed and opened again: the sealed envelope is still waiting on disk.
    await alice.close()
    again = Messenger.open(tmp_path / "alice", PASSPHRASE)
    try:
        assert len(again.state.outbox) == 1
        await again.receive()  # back online: leftovers go out first
        assert again.state.outbox == []
    finally:
        await again.close()
    assert [m["body"] for m in await bob.receive()] == ["written while offline"]


async def test_concurrent_flushes_send_each_envelope_once(make_client: MakeClient) -> None:
    # The chat UI's poller flushes the outbox while a send action flushes it too.
    alice, bob = await make_client("alice"), await make_client("bob")
    real_send = alice.api.send

    async def offline(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Unreachable("network down")

    alice.api.send = offline  # type: ignore[method-assign]
    for text in ("first", "second", "third"):
        with pytest.raises(Unreachable):
            await alice.send_text(bob.state.account_id, text)
    assert len(alice.state.outbox) == 3
    sent: list[bytes] = []

    async def slow_send(recipients, ciphertext, kind, franking_tag=None):  # type: ignore[no-untyped-def]
        sent.append(ciphertext)
        await asyncio.sleep(0)  # yield, so the other flush gets to run in between
        return await real_send(recipients, ciphertext, kind, franking_tag)

    alice.api.send = slow_send  # type: ignore[method-assign]
    await asyncio.gather(alice.flush_outbox(), alice.flush_outbox())
    assert alice.state.outbox == []
    assert len(sent) == 3 == len(set(sent))
    assert [m["body"] for m in await bob.receive()] == ["first", "second", "third"]


async def test_a_bad_server_pin_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    with pytest.raises(MessengerError, match="43-character"):
        await Messenger.create_account(
            tmp_path / "p", "https://127.0.0.1:9", PASSPHRASE, server_pin="not-a-pin"
        )
    with pytest.raises(MessengerError, match="43-character"):
        Messenger.begin_link(tmp_path / "p", "https://127.0.0.1:9", PASSPHRASE, "nope")
    assert not (tmp_path / "p").exists()


async def test_relays_are_refused_for_a_plain_http_server_elsewhere(tmp_path: Path) -> None:
    relay = RelayLink("127.0.0.1", 8443, bytes(32), bytes(range(32)), None, False).to_url()
    with pytest.raises(MessengerError, match="could read this device's token"):
        await Messenger.create_account(
            tmp_path / "p", "http://haven.example.org", PASSPHRASE, relays=[relay]
        )
    assert not (tmp_path / "p").exists()
