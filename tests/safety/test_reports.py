"""Verifiable reports under E2EE, end to end: real clients, a real server, real franking.
A faithful report is verified; altered text, a claimed other sender, or a report by
someone the message was not delivered to is marked unverified, with the reason."""

from __future__ import annotations

import pytest

from haven.client.api import ApiError
from haven.client.messenger import Messenger, MessengerError
from haven.core import b64
from haven.store.stores import stores_at
from tests.client.conftest import MakeClient, make_client  # noqa: F401
from tests.server.conftest import Server, server  # noqa: F401

pytestmark = pytest.mark.anyio


async def delivered(make_client: MakeClient, text: str) -> tuple[Messenger, Messenger, str]:  # noqa: F811
    alice, bob = await make_client("alice"), await make_client("bob")
    message_id = await alice.send_text(bob.state.account_id, text)
    [received] = await bob.receive()
    assert received["delivery_stamp"]
    return alice, bob, message_id


async def test_a_faithful_report_is_verified(make_client: MakeClient, db_url: str) -> None:  # noqa: F811
    alice, bob, message_id = await delivered(make_client, "I know where your office is.")
    report_id, verified = await bob.report(message_id, "threats")
    assert verified
    async with stores_at(db_url) as stores:
        [filed] = await stores.reports.reports("open")
        assert filed.report_id == report_id
        assert filed.report.sender_account == alice.state.account_id
        assert "I know where your office is." in filed.report.content
        # The log records that a report came in: metadata only, never the text.
        [entry] = [e for e in await stores.audit.entries() if e.kind == "report_received"]
        assert "office" not in entry.data
    with pytest.raises(ApiError, match="already reported"):
        await bob.report(message_id, "threats")


async def forge(bob: Messenger, message_id: str, **changes: object) -> tuple[int, bool]:
    [message] = [m for m in bob.state.messages if m.get("message_id") == message_id]
    message.update(changes)
    return await bob.report(message_id, "harassment")


async def test_altered_text_is_unverified(make_client: MakeClient, db_url: str) -> None:  # noqa: F811
    _, bob, message_id = await delivered(make_client, "see you at the meeting")
    [message] = [m for m in bob.state.messages if m.get("message_id") == message_id]
    content = b64.decode(message["franking_content"]).replace(b"see you", b"I will hurt you")
    _, verified = await forge(bob, message_id, franking_content=b64.encode(content))
    assert not verified
    async with stores_at(db_url) as stores:
        [filed] = await stores.reports.reports("open")
    assert "altered" in filed.report.problem


async def test_a_claimed_other_sender_is_unverified(make_client: MakeClient, db_url: str) -> None:  # noqa: F811
    _, bob, message_id = await delivered(make_client, "hello")
    carol = await make_client("carol")
    _, verified = await forge(
        bob, message_id, **{"from": carol.state.account_id, "from_device": carol.state.device_id}
    )
    assert not verified
    async with stores_at(db_url) as stores:
        [filed] = await stores.reports.reports("open")
    assert "not what was delivered" in filed.report.problem


async def test_someone_else_cannot_report_a_message_delivered_to_bob(
    make_client: MakeClient,  # noqa: F811
    db_url: str,
) -> None:
    _, bob, message_id = await delivered(make_client, "for bob only")
    mallory = await make_client("mallory")
    [message] = [m for m in bob.state.messages if m.get("message_id") == message_id]
    mallory.state.messages.append(dict(message))  # bob's copy, replayed by another account
    _, verified = await mallory.report(message_id, "spam")
    assert not verified


async def test_a_message_without_a_stamp_cannot_be_reported(make_client: MakeClient) -> None:  # noqa: F811
    _, bob, message_id = await delivered(make_client, "hi")
    [message] = [m for m in bob.state.messages if m.get("message_id") == message_id]
    message["delivery_stamp"] = None
    with pytest.raises(MessengerError, match="no delivery stamp"):
        await bob.report(message_id, "spam")
    with pytest.raises(MessengerError, match="no received message"):
        await bob.report("0" * 32, "spam")
