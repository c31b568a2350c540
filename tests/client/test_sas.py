from __future__ import annotations

import asyncio

import pytest

from haven.client import sas
from tests.client.conftest import MakeClient

pytestmark = pytest.mark.anyio


async def test_both_screens_show_the_same_emoji_and_both_sides_verify(
    make_client: MakeClient,
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    bob.add_contact(alice.state.account_id, "alice")
    shown: dict[str, list[tuple[str, str]]] = {}

    def confirmer(who: str) -> sas.Confirm:
        async def confirm(emoji: list[tuple[str, str]]) -> bool:
            shown[who] = emoji
            return True

        return confirm

    verified_by_alice, verified_by_bob = await asyncio.gather(
        sas.start(alice, "bob", confirmer("alice"), within=30),
        sas.respond(bob, "alice", confirmer("bob"), within=30),
    )
    assert shown["alice"] == shown["bob"]
    assert len(shown["alice"]) == 7
    assert verified_by_alice == bob.state.device_id
    assert verified_by_bob == alice.state.device_id
    assert alice.is_verified(bob.state.account_id)
    assert bob.is_verified(alice.state.account_id)
    await alice.send_text("bob", "verified hello")
    assert [m["body"] for m in await bob.receive()] == ["verified hello"]


async def test_a_mismatch_cancels_and_verifies_nobody(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")

    async def yes(_: list[tuple[str, str]]) -> bool:
        return True

    async def no(_: list[tuple[str, str]]) -> bool:
        return False

    results = await asyncio.gather(
        sas.start(alice, bob.state.account_id, yes, within=15),
        sas.respond(bob, alice.state.account_id, no, within=15),
        return_exceptions=True,
    )
    assert all(isinstance(r, sas.VerificationFailed) for r in results)
    assert not alice.is_verified(bob.state.account_id)
    assert not bob.is_verified(alice.state.account_id)


async def test_nobody_answering_times_out_cleanly(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")

    async def yes(_: list[tuple[str, str]]) -> bool:
        return True

    with pytest.raises(sas.VerificationFailed, match="in time"):
        await sas.start(alice, bob.state.account_id, yes, within=1)
