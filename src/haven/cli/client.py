"""Client commands: `haven account`, `haven contacts`, `haven send`, `haven receive`.
Scriptable: every command that opens a profile takes --passphrase-file (else it prompts),
`--json` output is one JSON object per line, errors go to stderr with a non-zero status."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape

from haven.cli import qr, security
from haven.cli.common import err, fail, out, run
from haven.client import protection as protect
from haven.client.api import ApiError, Unreachable
from haven.client.messenger import Messenger, MessengerError
from haven.client.profile import ProfileError
from haven.client.rendering import body_markup
from haven.crypto.errors import CryptoError
from haven.crypto.linking import check_digits

T = TypeVar("T")

ProfileDir = Annotated[
    Path, typer.Option("--profile", help="The profile directory of this device.")
]
PassphraseFile = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="Read the passphrase from this file (else prompt)."),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
QrFile = Annotated[
    Path | None, typer.Option("--qr", help="Also write the code as a QR image (PNG) here.")
]
MessageArg = Annotated[str, typer.Argument(help="The message.")]
AttachOption = Annotated[
    list[Path] | None, typer.Option("--attach", help="A file to attach (repeatable).")
]
GroupArg = Annotated[str, typer.Argument(help="Group name or id.")]
MemberArg = Annotated[str, typer.Argument(help="Contact name or account id.")]

account_app = typer.Typer(help="Create and inspect this device's account.", no_args_is_help=True)
contacts_app = typer.Typer(help="Names for the accounts you talk to.", no_args_is_help=True)


def _passphrase(file: Path | None, confirm: bool = False) -> str:
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            fail(f"cannot read the passphrase file {file}: {exc.strerror}")
        if not text:
            fail(f"the passphrase file {file} is empty")
        return text
    value: str = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _with_messenger(
    profile: Path, passphrase_file: Path | None, work: Callable[[Messenger], Awaitable[T]]
) -> T:
    async def go() -> T:
        try:
            messenger = Messenger.open(profile, _passphrase(passphrase_file))
        except ProfileError as exc:
            fail(str(exc))
        try:
            return await work(messenger)
        finally:
            _tell_route(messenger)
            await messenger.close()

    return _run_client(go())


def _tell_route(messenger: Messenger) -> None:
    if messenger.api.via is not None:
        err.print(
            f"note: the server could not be reached directly; went through the relay "
            f"{escape(messenger.api.via)}",
            highlight=False,
        )


@account_app.command("standing")
def account_standing(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Whether the operator has acted on your account, why (the published reason), and
    your appeals with their outcomes."""
    found = _with_messenger(profile, passphrase_file, lambda m: m.api.standing())
    if as_json:
        typer.echo(found.model_dump_json())
        return
    out.print(f"standing: [bold]{escape(found.standing)}[/]", highlight=False)
    decided = {a.action_id: a for a in found.appeals}
    for action in found.actions:
        appeal = decided.get(action.action_id)
        state = f"appeal {appeal.status}" if appeal else "appeal with `haven account appeal`"
        out.print(
            f"  #{action.action_id} {escape(action.action)}: {escape(action.reason_title)} - "
            f"{escape(action.explanation)} ({escape(state)})",
            highlight=False,
        )


@account_app.command("appeal")
def account_appeal(
    action_id: Annotated[int, typer.Argument(help="The action's number (see `standing`).")],
    text: Annotated[str, typer.Argument(help="Why the action was wrong.")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Appeal an action taken on your account; a moderator upholds or reverses it and you
    see the outcome in `haven account standing`."""
    made = _with_messenger(profile, passphrase_file, lambda m: m.api.appeal(action_id, text))
    err.print(f"appeal {made.appeal_id} sent; it is {made.status}")


def notices(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Security notices from your server's operator. Each is shown only if it carries the
    operator's signature; messages from other people can never appear here."""
    found = _with_messenger(profile, passphrase_file, lambda m: m.notices())
    if as_json:
        for item in found:
            typer.echo(json.dumps(item, sort_keys=True))
        return
    if not found:
        out.print("no notices")
    for item in found:
        if not item["verified"]:
            err.print(f"[bold red]refused[/]: {escape(item['error'])}", highlight=False)
            continue
        out.print(security.panel(item), highlight=False)


def relay_add(
    link: Annotated[str, typer.Argument(help="The relay's invite link (haven://relay?...).")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Remember a relay: when the server cannot be reached directly, this device goes
    through it automatically (and says so)."""

    async def add(messenger: Messenger) -> str:
        return messenger.add_relay(link)

    name = _with_messenger(profile, passphrase_file, add)
    err.print(f"relay {escape(name)} added", highlight=False)


def _run_client(coro: Awaitable[T]) -> T:
    async def guarded() -> T:
        try:
            return await coro
        except (MessengerError, ProfileError, CryptoError, Unreachable) as exc:
            fail(str(exc))
        except ApiError as exc:
            fail(f"the server refused: {exc}")

    return run(guarded())


def _write_qr(text: str, path: Path | None) -> None:
    if path is not None:
        try:
            qr.save_png(text, path)
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror}")


def _emit(objects: list[dict[str, Any]], as_json: bool) -> None:
    for item in objects:
        if as_json:
            typer.echo(json.dumps(item, sort_keys=True))
        elif item.get("status") == "ok":
            files = "".join(
                f"\n    \\[file] {escape(str(a.get('path', a.get('error'))))}"
                for a in item["attachments"]
            )
            # Bodies are hostile input: escaped, so that no markup (or terminal hyperlink)
            # a sender writes is interpreted, and blocked links are shown defanged.
            out.print(f"[bold]{item['from'][:8]}[/] {body_markup(item)}{files}", highlight=False)
        else:
            out.print(
                f"[red]could not decrypt a message from {item['from'][:8]}[/]: "
                f"{escape(str(item['error']))}",
                highlight=False,
            )


ServerPin = Annotated[
    str | None,
    typer.Option(
        "--server-pin",
        help="The server certificate's pin, as `haven server --tls` prints it: needed for a "
        "server with a self-signed certificate; checked directly and through relays.",
    ),
]


@account_app.command("create")
def account_create(
    server: Annotated[str, typer.Option("--server", help="The Haven server's URL.")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
    invite: Annotated[
        str | None, typer.Option("--invite", help="Invite code, if required.")
    ] = None,
    relay: Annotated[
        list[str] | None,
        typer.Option(
            "--relay",
            help="A relay invite link (haven://relay?...), used when the server cannot be "
            "reached directly. Repeatable.",
        ),
    ] = None,
    server_pin: ServerPin = None,
    as_json: Json = False,
) -> None:
    """Register a new account with this device, keys sealed under a passphrase."""
    passphrase = _passphrase(passphrase_file, confirm=True)

    async def create() -> dict[str, str]:
        messenger = await Messenger.create_account(
            profile, server, passphrase, invite, relays=relay or [], server_pin=server_pin
        )
        try:
            return _identity(messenger)
        finally:
            _tell_route(messenger)
            await messenger.close()

    _emit_identity(_run_client(create()), as_json)


def _identity(messenger: Messenger) -> dict[str, str]:
    state = messenger.state
    return {
        "account_id": state.account_id,
        "device_id": state.device_id,
        "server": state.server,
        "curve25519": state.identity.curve25519,
        "ed25519": state.identity.ed25519,
    }


def _emit_identity(identity: dict[str, str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(identity, sort_keys=True))
    else:
        for key, value in identity.items():
            out.print(f"{key:<12} {value}", highlight=False)


@account_app.command("link")
def account_link(
    profile: ProfileDir,
    server: Annotated[str | None, typer.Option("--server", help="The server (first step).")] = None,
    approval: Annotated[
        str | None, typer.Option("--approval", help="The approval code from your other device.")
    ] = None,
    qr_file: QrFile = None,
    passphrase_file: PassphraseFile = None,
    server_pin: ServerPin = None,
    as_json: Json = False,
) -> None:
    """Make this a new device of an existing account. First run it with --server: it shows
    a link code to approve on your other device (`haven account approve`); then run it
    again with --approval and the code that device shows."""
    if approval is None:
        if server is None:
            fail("give --server to start linking, or --approval to finish")
        passphrase = _passphrase(passphrase_file, confirm=True)
        try:
            code = Messenger.begin_link(profile, server, passphrase, server_pin)
        except (ProfileError, MessengerError) as exc:
            fail(str(exc))
        _write_qr(code, qr_file)
        if as_json:
            typer.echo(json.dumps({"link_code": code, "check": check_digits(code)}))
            return
        out.print(qr.terminal(code), highlight=False)
        out.print("Scan this on your other device, or there run:\n", highlight=False)
        out.print(
            f"  haven account approve '{code}' --profile ...\n", highlight=False, soft_wrap=True
        )
        out.print(f"Both screens must show the check digits [bold]{check_digits(code)}[/].")
        return
    passphrase = _passphrase(passphrase_file)

    async def finish() -> dict[str, str]:
        messenger = await Messenger.complete_link(profile, passphrase, approval)
        try:
            return _identity(messenger)
        finally:
            await messenger.close()

    _emit_identity(_run_client(finish()), as_json)


@account_app.command("approve")
def account_approve(
    code: Annotated[str, typer.Argument(help="The link code the new device shows.")],
    profile: ProfileDir,
    qr_file: QrFile = None,
    passphrase_file: PassphraseFile = None,
    lock_file: security.LockFile = None,
    as_json: Json = False,
) -> None:
    """Add the device showing this link code to your account (check the digits match). A
    protected account also needs its registration lock."""

    async def approve(messenger: Messenger) -> tuple[str, str]:
        return await protect.approve_link(messenger, code, lambda: security.read_lock(lock_file))

    approval, digits = _with_messenger(profile, passphrase_file, approve)
    _write_qr(approval, qr_file)
    if as_json:
        typer.echo(json.dumps({"approval": approval, "check": digits}))
        return
    out.print(qr.terminal(approval), highlight=False)
    out.print(f"Check digits: [bold]{digits}[/] (the new device must show the same)")
    out.print("On the new device run:\n", highlight=False)
    out.print(
        f"  haven account link --approval '{approval}' --profile ...",
        highlight=False,
        soft_wrap=True,
    )


@account_app.command("show")
def account_show(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """This device's account id, device id, server and identity keys."""

    async def show(messenger: Messenger) -> dict[str, str]:
        return _identity(messenger)

    _emit_identity(_with_messenger(profile, passphrase_file, show), as_json)


@contacts_app.command("add")
def contacts_add(
    account_id: Annotated[str, typer.Argument(help="Their account id (32 hex characters).")],
    name: Annotated[str, typer.Option("--name", help="What you call them.")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Remember an account under a name."""

    async def add(messenger: Messenger) -> None:
        messenger.add_contact(account_id, name)

    _with_messenger(profile, passphrase_file, add)
    err.print(f"added {name}")


@contacts_app.command("list")
def contacts_list(
    profile: ProfileDir, passphrase_file: PassphraseFile = None, as_json: Json = False
) -> None:
    """Your contacts."""

    async def contacts(messenger: Messenger) -> dict[str, str]:
        return dict(messenger.state.contacts)

    found = _with_messenger(profile, passphrase_file, contacts)
    for name, account_id in found.items():
        if as_json:
            typer.echo(json.dumps({"name": name, "account_id": account_id}))
        else:
            out.print(f"{name:<20} {account_id}", highlight=False)


def send(
    text: MessageArg,
    to: Annotated[str, typer.Option("--to", help="A contact name or an account id.")],
    profile: ProfileDir,
    attach: AttachOption = None,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Send an end-to-end encrypted message to every device of a contact (and your own)."""
    sent = _with_messenger(profile, passphrase_file, lambda m: m.send_text(to, text, attach or []))
    _print_sent(sent, as_json)


def check_link(
    url: Annotated[str, typer.Argument(help="The link to check.")],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Check a link against the block list on this device. The server learns nothing
    about the link unless it is a hit, and then only a 4-byte hash prefix.

    Exit status: 0 clean, 3 blocked, 4 not a web link."""
    verdict = _with_messenger(profile, passphrase_file, lambda m: m.check_link(url))
    if as_json:
        typer.echo(json.dumps(verdict.to_json(), sort_keys=True))
    elif verdict.status == "blocked":
        out.print(f"[bold red]blocked[/]: {escape(verdict.reason)}", highlight=False)
        for source in verdict.sources:
            out.print(f"  reported by {escape(source)}", highlight=False)
    elif verdict.status == "invalid":
        out.print(f"[yellow]not checked[/]: {escape(verdict.reason)}", highlight=False)
    else:
        out.print("[green]clean[/]: not on the block list", highlight=False)
    if verdict.lookalike and not as_json:
        out.print(
            f"[yellow]careful[/]: the address imitates {escape(verdict.lookalike)}",
            highlight=False,
        )
    raise typer.Exit({"clean": 0, "blocked": 3, "invalid": 4}[verdict.status])


def _print_sent(message_id: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"message_id": message_id}))
    else:
        err.print(f"sent {message_id}")


def receive(
    profile: ProfileDir,
    wait: Annotated[
        float, typer.Option("--wait", min=0, max=60, help="Seconds to wait for a message.")
    ] = 0,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Fetch, decrypt and print new messages (each once); files go into the profile.
    Security alerts signed by the server (a device linked, ...) are shown apart, on
    stderr."""

    async def fetch(messenger: Messenger) -> list[dict[str, Any]]:
        messages = await messenger.receive(wait=wait)
        security.show(err, messenger, await security.fresh(messenger))
        return messages

    _emit(_with_messenger(profile, passphrase_file, fetch), as_json)


group_app = typer.Typer(
    help="Group conversations (membership lives only on the members' devices).",
    no_args_is_help=True,
)


@group_app.command("create")
def group_create(
    name: Annotated[str, typer.Argument(help="The group's name.")],
    members: Annotated[
        str, typer.Option("--members", help="Comma-separated contact names or account ids.")
    ],
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Create a group and tell its members."""

    async def create(messenger: Messenger) -> str:
        return await messenger.create_group(
            name, [m.strip() for m in members.split(",") if m.strip()]
        )

    group_id = _with_messenger(profile, passphrase_file, create)
    typer.echo(json.dumps({"group_id": group_id}) if as_json else group_id)


@group_app.command("add")
def group_add(
    group: GroupArg,
    member: MemberArg,
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Add a member; they read messages sent from now on."""
    _with_messenger(profile, passphrase_file, lambda m: m.add_member(group, member))


@group_app.command("remove")
def group_remove(
    group: GroupArg,
    member: MemberArg,
    profile: ProfileDir,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Remove a member; the group key is replaced before the next message."""
    _with_messenger(profile, passphrase_file, lambda m: m.remove_member(group, member))


@group_app.command("send")
def group_send(
    group: GroupArg,
    text: MessageArg,
    profile: ProfileDir,
    attach: AttachOption = None,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Send to every member device: encrypted once (Megolm), fanned out by the server."""
    sent = _with_messenger(
        profile, passphrase_file, lambda m: m.send_group(group, text, attach or [])
    )
    _print_sent(sent, as_json)


def verify(
    contact: Annotated[str, typer.Argument(help="Contact name or account id.")],
    profile: ProfileDir,
    accept: Annotated[
        bool, typer.Option("--accept", help="The numbers matched: trust these keys from now on.")
    ] = False,
    emoji: Annotated[
        bool,
        typer.Option("--emoji", help="Compare 7 emoji with one of their devices, live."),
    ] = False,
    respond: Annotated[
        bool, typer.Option("--respond", help="With --emoji: answer the contact's request.")
    ] = False,
    passphrase_file: PassphraseFile = None,
    as_json: Json = False,
) -> None:
    """Show the safety number to compare with your contact (in person or by a call). With
    --accept, trust their current keys; if they change later, sending is held until you
    verify again. With --emoji, both of you run this command (one with --respond) and
    compare the emoji on your screens."""
    if emoji:
        _verify_emoji(contact, profile, passphrase_file, respond)
        return

    async def check(messenger: Messenger) -> dict[str, Any]:
        if accept:
            number = await messenger.mark_verified(contact)
            peer = messenger.resolve(contact)
        else:
            peer, number, _ = await messenger.safety_number(contact)
        return {
            "account_id": peer,
            "safety_number": number,
            "verified": messenger.is_verified(peer),
        }

    result = _with_messenger(profile, passphrase_file, check)
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    out.print(f"Safety number with {contact}:\n\n  {result['safety_number']}\n", highlight=False)
    out.print("verified" if result["verified"] else "not verified: compare, then run with --accept")


def chat(profile: ProfileDir, passphrase_file: PassphraseFile = None) -> None:
    """The terminal client: conversations, messages, a composer (`/attach PATH text` sends
    a file, `/checkup` reviews your security, `/guide` shows guidance). Ctrl-Q quits."""
    from haven.client.chat import ChatApp
    from haven.client.checkup import PassphraseCheck

    passphrase = _passphrase(passphrase_file)
    try:
        messenger = Messenger.open(profile, passphrase)
    except (ProfileError, MessengerError) as exc:
        fail(str(exc))
    try:
        # /checkup judges the passphrase: it gets the verdict, never the passphrase itself.
        ChatApp(messenger, passphrase_check=PassphraseCheck.of(passphrase)).run()
    finally:
        run(messenger.close())


def _verify_emoji(contact: str, profile: Path, passphrase_file: Path | None, respond: bool) -> None:
    from haven.client import sas

    async def confirm(emoji: list[tuple[str, str]]) -> bool:
        out.print("  ".join(f"{symbol} {name}" for symbol, name in emoji))
        answer: bool = typer.confirm("Does the other screen show the same emoji, in order?")
        return answer

    async def exchange(messenger: Messenger) -> str:
        err.print("waiting for the other device (up to 2 minutes)...")
        run_side = sas.respond if respond else sas.start
        return await run_side(messenger, contact, confirm)

    device = _with_messenger(profile, passphrase_file, exchange)
    out.print(f"[green]✔ verified[/] {contact}'s device {device}")
