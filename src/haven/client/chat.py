"""`haven chat`: a terminal client (Textual). Conversations on the left, messages on the
right, a composer at the bottom. `/attach PATH text` sends a file, `/checkup` runs the
security checkup, `/guide [TOPIC]` shows the security guidance; the header says whether
the selected contact is verified. Signed notices and alerts appear as their own pop-ups."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, ClassVar

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, ListItem, ListView, RichLog

from haven.client import awareness, checkup
from haven.client import protection as protect
from haven.client.api import ApiError, Unreachable
from haven.client.messenger import Messenger, MessengerError
from haven.client.rendering import body_markup
from haven.client.stream import EnvelopeStream
from haven.crypto.errors import CryptoError

POLL_SECONDS = 5.0
ALERT_POLL_SECONDS = 30.0  # new security alerts (a device linked) are looked for


def parse_composer(text: str) -> tuple[str, list[Path]]:
    """`/attach PATH text` -> (text, [PATH]); anything else is the message itself."""
    if not text.startswith("/attach "):
        return text, []
    _, path, *rest = shlex.split(text)  # ValueError on unbalanced quotes or a missing path
    return " ".join(rest), [Path(os.path.expanduser(path))]


class ConversationItem(ListItem):
    def __init__(self, conversation: str, title: str) -> None:
        super().__init__(Label(escape(title)))
        self.conversation = conversation
        self.title = title


class ChatApp(App[None]):
    CSS = """
    #conversations { width: 28; border: round $accent; }
    #right { border: round $accent; }
    #badge { height: 1; padding: 0 1; }
    #log { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit"),
        Binding("ctrl+r", "refresh", "Fetch now"),
    ]

    def __init__(
        self,
        messenger: Messenger,
        poll_seconds: float = POLL_SECONDS,
        passphrase_check: checkup.PassphraseCheck | None = None,
        alert_seconds: float = ALERT_POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.messenger = messenger
        self.poll_seconds = poll_seconds
        self.passphrase_check = passphrase_check  # for /checkup; never the passphrase
        self.alert_seconds = alert_seconds
        self.selected: str | None = None
        self._poller: asyncio.Task[None] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ListView(id="conversations")
            with Vertical(id="right"):
                yield Label("select a conversation", id="badge")
                yield RichLog(id="log", wrap=True, markup=True)
                yield Input(
                    placeholder="message, /attach PATH text, /checkup or /guide", id="composer"
                )
        yield Footer()

    async def on_mount(self) -> None:
        self.title = f"Haven — {self.messenger.state.account_id[:8]}"
        await self.reload_conversations()
        self._poller = asyncio.create_task(self._poll())
        self.run_worker(self.show_notices(), exclusive=False)

    async def show_notices(self) -> None:
        """Signed notices from the operator, and the server's own signed alerts (a device
        linked to the account, ...), appear as their own kind of alert, outside the
        conversation log: nothing a person sends can ever be displayed this way. Notices
        are shown at every start; alerts once, and as they arrive."""
        with contextlib.suppress(Unreachable, ApiError):
            seen = self.messenger.state.alerts_seen
            for notice in await self.messenger.notices():
                if notice.get("template") not in protect.ALERT_TEMPLATES or (
                    notice["notice_id"] > seen
                ):
                    self.show_alert(notice)
            await protect.new_alerts(self.messenger)  # all shown: none is new any more
        while True:
            await asyncio.sleep(self.alert_seconds)
            with contextlib.suppress(Unreachable, ApiError):
                for notice in await protect.new_alerts(self.messenger):
                    self.show_alert(notice)

    def show_alert(self, notice: dict[str, Any]) -> None:
        if not notice["verified"]:
            self.notify(notice["error"], title="Refused notice", severity="error")
            return
        signer = (
            "SECURITY ALERT (signed by your server)"
            if notice.get("template") in protect.ALERT_TEMPLATES
            else "SECURITY NOTICE (signed by your operator)"
        )
        this = (
            "\n\n(about this device)" if protect.about_this_device(self.messenger, notice) else ""
        )
        self.notify(
            escape(notice["body"]) + this + "\n\nType /guide for security guidance.",
            title=f"{signer}: {notice['title']}",
            severity="warning",
            timeout=24 * 3600,
            markup=True,
        )

    async def on_unmount(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    def conversations(self) -> list[tuple[str, str]]:
        state = self.messenger.state
        found = [(account, name) for name, account in sorted(state.contacts.items())]
        found += [(gid, f"# {g.name}") for gid, g in state.groups.items()]
        known = {c for c, _ in found}
        for message in state.messages:
            other = message.get("conversation") or message.get("from")
            if other and other not in known and other != state.account_id:
                found.append((other, other[:12]))
                known.add(other)
        return found

    async def reload_conversations(self) -> None:
        view = self.query_one("#conversations", ListView)
        await view.clear()
        for conversation, title in self.conversations():
            await view.append(ConversationItem(conversation, title))

    async def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, ConversationItem):
            await self.open_conversation(event.item.conversation)

    async def open_conversation(self, conversation: str) -> None:
        self.selected = conversation
        state = self.messenger.state
        if conversation in state.groups:
            badge = f"group {escape(state.groups[conversation].name)}"
        elif self.messenger.is_verified(conversation):
            badge = "[green]✔ verified[/]"
        else:
            badge = "[yellow]not verified[/] — compare safety numbers with `haven verify`"
        self.query_one("#badge", Label).update(badge)
        log = self.query_one("#log", RichLog)
        log.clear()
        for message in state.messages:
            if self._belongs(message, conversation):
                log.write(self.render_message(message))

    def _belongs(self, message: dict[str, Any], conversation: str) -> bool:
        if message.get("status") != "ok":
            return message.get("from") == conversation
        return message.get("conversation") == conversation

    def render_message(self, message: dict[str, Any]) -> str:
        if message.get("status") != "ok":
            return f"[red]⚠ could not decrypt a message[/] ({escape(str(message.get('error')))})"
        who = "me" if message["from"] == self.messenger.state.account_id else message["from"][:8]
        files = "".join(
            f"\n   📎 {escape(str(a.get('path') or a.get('name')))}" for a in message["attachments"]
        )
        return f"[b]{escape(who)}[/]: {body_markup(message)}{files}"

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if text == "/checkup" or text.startswith(("/guide ", "/checkup ")) or text == "/guide":
            await self.security_page(text)
            return
        if not text or self.selected is None:
            if self.selected is None:
                self.notify("select a conversation first", severity="warning")
            return
        try:
            text, attach = parse_composer(text)
        except ValueError:
            self.notify("usage: /attach PATH text", severity="error")
            return
        await self.send(text, attach)

    async def security_page(self, command: str) -> None:
        """/checkup or /guide [TOPIC] [LANG]: shown in place of a conversation, styled as the
        app's own page (a conversation's messages always start with their sender)."""
        self.selected = None
        log = self.query_one("#log", RichLog)
        log.clear()
        words = command.split()
        if words[0] == "/checkup":
            self.query_one("#badge", Label).update("[reverse] security checkup [/]")
            log.write("[dim]checking...[/]")
            report = await checkup.run(self.messenger, self.passphrase_check)
            log.clear()
            styles = {"ok": "green", "attention": "bold red", "advice": "yellow"}
            for finding in report.findings:
                for line in checkup.lines(checkup.Report([finding]))[:-1]:
                    style = "dim" if line.startswith(" ") else styles[finding.status]
                    log.write(f"[{style}]{escape(line)}[/]")
            log.write("Type /guide for security guidance, or select a conversation.")
            return
        self.query_one("#badge", Label).update("[reverse] security guidance [/]")
        language = words[2] if len(words) > 2 else awareness.DEFAULT_LANGUAGE
        try:
            guides = [awareness.load(words[1], language)] if len(words) > 1 else []
        except awareness.GuideError as exc:
            log.write(f"[red]{escape(str(exc))}[/]")
            return
        if not guides:
            for item in awareness.index(language):
                log.write(f"[b]/guide {item.topic}[/]  {escape(item.title)}")
            return
        log.write(f"[b]{escape(guides[0].title)}[/]")
        log.write(escape(guides[0].body))

    async def send(self, text: str, attach: list[Path]) -> None:
        assert self.selected is not None
        try:
            if self.selected in self.messenger.state.groups:
                await self.messenger.send_group(self.selected, text, attach)
            else:
                await self.messenger.send_text(self.selected, text, attach)
        except (MessengerError, CryptoError, ApiError, Unreachable) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        await self.open_conversation(self.selected)

    async def action_refresh(self) -> None:
        await self.show(await self._safely(self.messenger.receive(wait=0)))

    async def _safely(self, fetching: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        try:
            return await fetching
        except (ApiError, Unreachable) as exc:
            self.notify(f"cannot fetch: {exc}", severity="warning")
            return []

    async def show(self, fresh: list[dict[str, Any]]) -> None:
        if not fresh:
            return
        await self.reload_conversations()
        if self.selected is not None:
            await self.open_conversation(self.selected)
        for message in fresh:
            if message.get("conversation") != self.selected:
                self.notify("new message", timeout=3)

    async def _poll(self) -> None:
        """Messages arrive by push on the WebSocket stream; if it cannot be opened (or
        drops), by HTTP long-poll until the next attempt."""
        state = self.messenger.state
        while True:
            try:
                api = self.messenger.api
                async with EnvelopeStream(api.base_url, state.token, api.ssl_context) as stream:
                    while True:
                        await self.show(
                            await self.messenger.receive_from(stream, self.poll_seconds)
                        )
            except Unreachable:
                await self.show(await self._safely(self.messenger.receive(wait=self.poll_seconds)))
            except ApiError as exc:
                self.notify(f"cannot fetch: {exc}", severity="warning")
                await asyncio.sleep(self.poll_seconds)
