"""The terminal client, driven with Textual's pilot against a real server and a second,
real client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Input, Label, ListView, RichLog

from haven.client.chat import ChatApp, ConversationItem
from tests.client.conftest import MakeClient
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio


def log_text(app: ChatApp) -> str:
    return "\n".join(line.text for line in app.query_one("#log", RichLog).lines)


async def wait_for(condition: object, pilot: object, within: float = 20) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await pilot.pause(0.05)  # type: ignore[attr-defined]

    await asyncio.wait_for(poll(), within)


async def test_chat_sends_and_shows_messages(make_client: MakeClient, tmp_path: Path) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    app = ChatApp(alice, poll_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        items = app.query_one("#conversations", ListView).query(ConversationItem)
        assert [i.title for i in items] == ["bob"]
        await pilot.click(ConversationItem)
        await pilot.pause()
        assert "not verified" in str(app.query_one("#badge", Label).render())
        await pilot.click(Input)
        await pilot.press(*"hello from the terminal")
        await pilot.press("enter")
        await wait_for(lambda: "hello from the terminal" in log_text(app), pilot)
        assert [m["body"] for m in await bob.receive()] == ["hello from the terminal"]
        await bob.send_text(alice.state.account_id, "reply <b>not markup</b> [red]x[/red]")
        await wait_for(lambda: "reply <b>not markup</b>" in log_text(app), pilot)
        assert "[red]x[/red]" in log_text(app)  # hostile text is shown, not interpreted


async def test_chat_attach_command_and_errors(make_client: MakeClient, tmp_path: Path) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF-1.4 evidence")
    app = ChatApp(alice, poll_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click(ConversationItem)
        composer = app.query_one(Input)
        composer.value = f"/attach {doc} the file"
        await pilot.click(Input)
        await pilot.press("enter")
        await wait_for(lambda: "the file" in log_text(app), pilot)
        composer.value = "/attach /does/not/exist hi"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "cannot read" in " ".join(str(n.message) for n in app._notifications)
    [got] = await bob.receive()
    assert Path(got["attachments"][0]["path"]).read_bytes() == b"%PDF-1.4 evidence"


async def test_chat_shows_groups(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    group = await alice.create_group("desk", [bob.state.account_id])
    await alice.send_group(group, "morning, desk")
    app = ChatApp(bob, poll_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: any(i.title == "# desk" for i in app.query(ConversationItem)), pilot)
        item = next(i for i in app.query(ConversationItem) if i.title == "# desk")
        app.query_one("#conversations", ListView).index = list(app.query(ConversationItem)).index(
            item
        )
        await app.open_conversation(item.conversation)
        await pilot.pause()
        assert "morning, desk" in log_text(app)


def test_composer_commands() -> None:
    from haven.client.chat import parse_composer

    assert parse_composer("plain words") == ("plain words", [])
    assert parse_composer('/attach "my file.pdf" see this') == ("see this", [Path("my file.pdf")])
    for bad in ("/attach ", '/attach "unclosed'):
        with pytest.raises(ValueError):  # noqa: PT011 - shlex/unpacking errors are both ValueError
            parse_composer(bad)


async def test_chat_shows_signed_notices_apart_from_messages(
    make_client: MakeClient, server: Server, db_url: str
) -> None:
    from haven.core import ids
    from haven.store.stores import stores_at

    alice, stranger = await make_client("alice"), await make_client("stranger")
    operator_id = ids.new_id()
    token = ids.operator_token(operator_id)
    async with stores_at(db_url) as stores:
        await stores.operators.create(operator_id, "ops", "admin", ids.token_digest(token), 1)
    sent = await server.http.post(
        "/v1/admin/notices",
        json={"accounts": [alice.state.account_id], "template": "state_sponsored"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code == 201
    await stranger.send_text(alice.state.account_id, "SECURITY NOTICE (signed by your operator)")
    app = ChatApp(alice, poll_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:

        def alerts() -> list[object]:
            return [n for n in app._notifications if n.title.startswith("SECURITY NOTICE")]

        await wait_for(lambda: len(alerts()) > 0, pilot)
        await pilot.pause(0.5)
        # The stranger's imitation is never an alert, whatever it says.
        [notice] = [n for n in app._notifications if n.title.startswith("SECURITY NOTICE")]
        assert "Government-backed" in notice.title
        assert notice.severity == "warning"


async def test_chat_checkup_and_guide_commands(make_client: MakeClient) -> None:
    from haven.client.checkup import PassphraseCheck

    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    app = ChatApp(alice, poll_seconds=0.2, passphrase_check=PassphraseCheck.of("hunter2"))
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.query_one(Input)
        composer.value = "/checkup"
        await pilot.click(Input)
        await pilot.press("enter")
        await wait_for(lambda: "No relay is configured" in log_text(app), pilot)
        shown = log_text(app)
        assert "bob is not verified" in shown
        assert "passphrase is weak" in shown
        assert "fix: haven relay add LINK" in shown
        assert "security checkup" in str(app.query_one("#badge", Label).render())
        composer.value = "/guide notices"
        await pilot.press("enter")
        await wait_for(lambda: "What a real Haven notice looks like" in log_text(app), pilot)
        composer.value = "/guide"
        await pilot.press("enter")
        await wait_for(lambda: "/guide helplines" in log_text(app), pilot)
        composer.value = "/guide spyware fr"
        await pilot.press("enter")
        await wait_for(lambda: "logiciels espions" in log_text(app), pilot)


async def test_a_device_linked_while_chatting_pops_up_as_a_signed_alert(
    make_client: MakeClient, tmp_path: Path
) -> None:
    from textual.notifications import Notification

    from tests.client.conftest import second_device

    alice = await make_client("alice")
    app = ChatApp(alice, poll_seconds=0.2, alert_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        # Someone links a device to Alice's account while her chat is open.
        intruder = await second_device(alice, tmp_path / "intruder")
        await intruder.close()

        def alerts() -> list[Notification]:
            return [n for n in app._notifications if n.title.startswith("SECURITY ALERT")]

        await wait_for(lambda: len(alerts()) > 0, pilot)
        [alert] = alerts()
        assert "A new device was linked" in alert.title
        assert intruder.state.device_id in str(alert.message)
        assert intruder.state.device_id not in log_text(app)  # never in a conversation
    # Shown once: a restart does not show it again.
    again = ChatApp(alice, poll_seconds=0.2, alert_seconds=0.2)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        assert not [n for n in again._notifications if n.title.startswith("SECURITY ALERT")]
