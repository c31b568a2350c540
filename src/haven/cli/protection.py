"""Protection for people at high risk, on the command line: `haven account protect`,
`haven account join` and `haven account requests` (new devices joining a protected
account), `haven account devices | remove-device | passphrase | update-blocklist`,
`haven checkup` and `haven guide`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markdown import Markdown
from rich.markup import escape

from haven.cli.client import (
    Json,
    PassphraseFile,
    ProfileDir,
    _passphrase,
    _run_client,
    _tell_route,
    _with_messenger,
)
from haven.cli.common import err, fail, out
from haven.cli.security import LockFile, read_lock
from haven.client import awareness, checkup
from haven.client import protection as protect
from haven.client.messenger import Messenger
from haven.client.profile import ProfileError
from haven.core.wire import ProtectionStatus

protect_app = typer.Typer(
    help="Account protection for people at high risk of targeted attacks: a registration "
    "lock, approval of new devices, alerts on every device change.",
    no_args_is_help=True,
)
requests_app = typer.Typer(
    help="New devices asking to join your protected account.", no_args_is_help=True
)
Language = Annotated[str, typer.Option("--lang", help="Language of the alerts and texts (en, fr).")]


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _print_status(found: ProtectionStatus, as_json: bool) -> None:
    if as_json:
        typer.echo(found.model_dump_json())
        return
    words = {
        "on": "[green]on[/]: new devices need your registration lock and a device's approval",
        "off": "[yellow]off[/]",
        "invited": "[yellow]off[/] (your operator invited you to turn it on)",
        "disabling": f"[yellow]on, turning off at {_when(found.disable_after)}[/] unless "
        "cancelled (haven account protect cancel)",
    }
    out.print(f"account protection: {words[found.status]}", highlight=False)


@protect_app.command("on")
def protect_on(
    profile: ProfileDir,
    lock_file: LockFile = None,
    language: Language = "en",
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Turn protection on with a registration lock (a PIN or passphrase of at least 6
    characters that only you know; Haven cannot recover it)."""
    if language not in awareness.languages():
        raise typer.BadParameter(f"one of {', '.join(awareness.languages())}", param_hint="--lang")
    lock = read_lock(lock_file, "Choose a registration lock", confirm=True)
    found = _with_messenger(profile, passphrase_file, lambda m: protect.turn_on(m, lock, language))
    _print_status(found, as_json)


@protect_app.command("off")
def protect_off(
    profile: ProfileDir,
    lock_file: LockFile = None,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Ask for protection to be turned off: it needs the lock and stays on through a
    cooling-off period, during which any of your devices can cancel."""
    lock = read_lock(lock_file)
    found = _with_messenger(profile, passphrase_file, lambda m: protect.turn_off(m, lock))
    _print_status(found, as_json)


@protect_app.command("cancel")
def protect_cancel(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Keep protection on: cancel a request to turn it off."""
    found = _with_messenger(profile, passphrase_file, protect.cancel_turn_off)
    _print_status(found, as_json)


@protect_app.command("change-lock")
def protect_change_lock(
    profile: ProfileDir,
    lock_file: LockFile = None,
    new_lock_file: Annotated[
        Path | None, typer.Option("--new-lock-file", help="The new lock (else prompt).")
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Change the registration lock (giving the current one first)."""
    current = read_lock(lock_file, "Current registration lock")
    new = read_lock(new_lock_file, "New registration lock", confirm=True)
    _with_messenger(profile, passphrase_file, lambda m: protect.change_lock(m, current, new))
    err.print("registration lock changed; all your devices were told")


@protect_app.command("status")
def protect_status(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Whether your account is protected."""
    _print_status(_with_messenger(profile, passphrase_file, protect.status), as_json)


def join(
    profile: ProfileDir,
    server: Annotated[
        str | None, typer.Option("--server", help="The server (to start asking).")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="The protected account to join.")
    ] = None,
    server_pin: Annotated[
        str | None, typer.Option("--server-pin", help="The pin of a self-signed server.")
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0, max=3600, help="Seconds to wait for approval.")
    ] = 300,
    lock_file: LockFile = None,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Make this a new device of your protected account with its registration lock, when
    none of your devices can show a link code. A device of the account must still approve
    it (`haven account requests`); unapproved, the request expires and nothing changes.
    Run it again with only --profile to keep waiting."""
    if (server is None) != (account is None):
        fail("give both --server and --account to start, or neither to keep waiting")
    if server is not None and account is not None:
        passphrase = _passphrase(passphrase_file, confirm=True)
        lock = read_lock(lock_file)
        try:
            asked = _run_client(
                protect.begin_join(profile, server, account, lock, passphrase, server_pin)
            )
        except ProfileError as exc:
            fail(str(exc))
        if as_json:
            typer.echo(json.dumps(asked, sort_keys=True))
        else:
            out.print(
                f"Asked to join as device {asked['device_id']} (digits [bold]{asked['check']}"
                f"[/]). On one of your devices run:\n\n  haven account requests approve "
                f"{asked['request_id']} --profile ...\n\nafter checking it shows the same "
                f"digits. The request expires at {_when(asked['expires_at'])}.",
                highlight=False,
            )
    else:
        passphrase = _passphrase(passphrase_file)

    async def finish() -> dict[str, str] | None:
        joined = await protect.finish_join(profile, passphrase, wait)
        if joined is None:
            return None
        try:
            state = joined.state
            return {"account_id": state.account_id, "device_id": state.device_id,
                    "server": state.server}  # fmt: skip
        finally:
            await joined.close()

    err.print(f"waiting up to {wait:.0f} s for approval...")
    try:
        result = _run_client(finish())
    except ProfileError as exc:
        fail(str(exc))
    if result is None:
        fail("not approved yet: run `haven account join --profile DIR` again to keep waiting", 2)
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
    else:
        err.print(f"approved: this is now device {result['device_id']} of your account")


@requests_app.command("list")
def requests_list(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Devices waiting for your approval, with the digits their screens show."""
    found = _with_messenger(profile, passphrase_file, protect.link_requests)
    for item in found:
        digits = protect.key_digits(item.identity_keys.model_dump())
        if as_json:
            typer.echo(json.dumps({**item.model_dump(), "check": digits}, sort_keys=True))
        else:
            out.print(
                f"{item.request_id}  device {item.device_id}  digits [bold]{digits}[/]  "
                f"expires {_when(item.expires_at)}",
                highlight=False,
            )
    if not found and not as_json:
        out.print("no device is waiting to join")


@requests_app.command("approve")
def requests_approve(
    request_id: Annotated[str, typer.Argument(help="The request (see `list`).")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Let the device that asked join your account (check its digits first)."""
    done = _with_messenger(
        profile, passphrase_file, lambda m: protect.approve_request(m, request_id)
    )
    err.print(f"device {done.device_id} joined your account; all your devices were told")


@requests_app.command("deny")
def requests_deny(
    request_id: Annotated[str, typer.Argument(help="The request (see `list`).")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Refuse a device that asked to join. If it is not yours, someone knows your
    registration lock: change it (`haven account protect change-lock`)."""
    _with_messenger(profile, passphrase_file, lambda m: protect.deny_request(m, request_id))
    err.print("refused: that device cannot join")


def devices(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Your account's devices: when each was linked and last seen."""

    async def listing(messenger: Messenger) -> tuple[str, list[dict[str, Any]]]:
        found = await protect.devices(messenger)
        return messenger.state.device_id, [d.model_dump() for d in found]

    this, found = _with_messenger(profile, passphrase_file, listing)
    for item in found:
        if as_json:
            typer.echo(json.dumps({**item, "this_device": item["device_id"] == this}))
            continue
        marker = " (this device)" if item["device_id"] == this else ""
        out.print(
            f"{item['device_id']}{marker}  linked {_when(item['created_at'])}  last seen "
            f"{_when(item['last_seen_at'])}",
            highlight=False,
        )


def remove_device(
    device_id: Annotated[str, typer.Argument(help="The device (see `haven account devices`).")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Remove a device from your account: its token stops working and it receives no new
    messages (your other devices are told)."""
    _with_messenger(profile, passphrase_file, lambda m: protect.remove_device(m, device_id))
    err.print(f"device {device_id} removed")


def change_passphrase(
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option("--new-passphrase-file", help="Read the new passphrase here (else prompt)."),
    ] = None,
) -> None:
    """Seal this device's profile under a new passphrase."""

    async def change(messenger: Messenger) -> None:
        new = _passphrase(new_passphrase_file, confirm=True)
        problem = checkup.passphrase_problem(new)
        if problem is not None:
            fail(f"that passphrase is weak: {problem}")
        messenger.profile.change_passphrase(messenger.state, new)

    _with_messenger(profile, passphrase_file, change)
    err.print("passphrase changed")


def update_blocklist(profile: ProfileDir, passphrase_file: PassphraseFile = None) -> None:
    """Bring this device's block list of spyware and phishing links up to date now."""

    async def update(messenger: Messenger) -> int:
        await messenger.links.refresh(messenger.api, force=True)
        return messenger.links.version

    version = _with_messenger(profile, passphrase_file, update)
    err.print(f"block list up to date (version {version})")


def run_checkup(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """A guided security review, each finding with the command that fixes it. Exit status:
    0 when all is well, 1 when something needs attention."""
    passphrase = _passphrase(passphrase_file)

    async def review() -> checkup.Report:
        try:
            messenger = Messenger.open(profile, passphrase)
        except ProfileError as exc:
            fail(str(exc))
        try:
            return await checkup.run(messenger, checkup.PassphraseCheck.of(passphrase))
        finally:
            _tell_route(messenger)
            await messenger.close()

    report = _run_client(review())
    if as_json:
        typer.echo(json.dumps(report.to_json(), sort_keys=True))
    else:
        styles = {"ok": "green", "attention": "bold red", "advice": "yellow"}
        for line, finding in _styled(report):
            style = styles[finding.status] if not line.startswith(" ") else "dim"
            out.print(f"[{style}]{escape(line)}[/]", highlight=False)
        out.print(escape(awareness.pointer()), highlight=False)
    raise typer.Exit(1 if report.needs_attention else 0)


def _styled(report: checkup.Report) -> list[tuple[str, checkup.Finding]]:
    shown = []
    for finding in report.findings:
        for line in checkup.lines(checkup.Report([finding]))[:-1]:  # without the pointer
            shown.append((line, finding))
    return shown


def guide(
    topic: Annotated[
        str | None,
        typer.Argument(help=f"One of: {', '.join(awareness.TOPICS)} (none: list them)."),
    ] = None,
    language: Language = "en",
) -> None:
    """Security guidance: how spyware gets in, what a real Haven notice looks like, what to
    do if a device may be compromised, where to find help."""
    if topic is None:
        for item in awareness.index(language):
            out.print(f"[bold]{item.topic:<12}[/] {escape(item.title)}", highlight=False)
        out.print("\nRead one with: haven guide TOPIC", highlight=False)
        return
    try:
        found = awareness.load(topic, language)
    except awareness.GuideError as exc:
        fail(str(exc))
    # Haven's own texts (not anyone's input): rendered as the Markdown they are written in.
    out.print(Markdown(f"# {found.title}\n\n{found.body}"))
