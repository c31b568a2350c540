from __future__ import annotations

from pathlib import Path

import pytest

from haven.client.messenger import IdentityChanged
from tests.client.conftest import MakeClient, second_device

pytestmark = pytest.mark.anyio


async def test_both_people_see_the_same_safety_number(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    _, from_alice, _ = await alice.safety_number(bob.state.account_id)
    _, from_bob, _ = await bob.safety_number(alice.state.account_id)
    assert from_alice == from_bob


async def test_new_device_of_a_verified_contact_holds_sending_until_accepted(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    await alice.mark_verified("bob")
    await alice.send_text("bob", "while verified")
    intruder = await second_device(bob, tmp_path / "unknown-device")
    try:
        with pytest.raises(IdentityChanged, match="changed since you verified"):
            await alice.send_text("bob", "held")
        assert [m["body"] for m in await bob.receive()] == ["while verified"]
        await alice.mark_verified("bob")  # the person compared numbers again and accepted
        await alice.send_text("bob", "after accepting")
        assert [m["body"] for m in await bob.receive()] == ["after accepting"]
    finally:
        await intruder.close()


async def test_unverified_contacts_are_not_held(make_client: MakeClient, tmp_path: Path) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "one")
    laptop = await second_device(bob, tmp_path / "laptop")
    try:
        await alice.send_text(bob.state.account_id, "two")
        assert [m["body"] for m in await laptop.receive()] == ["two"]
    finally:
        await laptop.close()
