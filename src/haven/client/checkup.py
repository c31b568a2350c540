"""The security checkup: a guided review of what keeps this account safe, each finding with
the one command that fixes it.

It looks at: account protection (and invitations into it), devices asking to join, the
account's devices and when each was last seen, the contacts' safety numbers (unverified,
or changed since they were verified), the strength of this profile's passphrase, whether a
relay is configured for when the server is blocked, how old the local block list is, and
security notices received. Findings marked "attention" make `haven checkup` exit non-zero;
"advice" ones do not.
"""

from __future__ import annotations

import shlex
import string
from dataclasses import asdict, dataclass
from typing import Any, Literal

from haven.client import awareness
from haven.client import protection as protect
from haven.client.api import ApiError, Unreachable
from haven.client.messenger import IdentityChanged, Messenger
from haven.core import clock

Status = Literal["ok", "attention", "advice"]
DAY_MS = 24 * 3600 * 1000
STALE_DEVICE_DAYS = 30  # a device unseen this long is probably lost, sold or forgotten
RECENT_DEVICE_DAYS = 7  # a device linked this recently: does the person recognise it?
BLOCKLIST_STALE_DAYS = 2
MIN_PASSPHRASE_CHARS = 12
_COMMON = frozenset(
    {
        "password", "passphrase", "123456789012", "qwertyuiop", "letmein", "iloveyou",
        "administrator", "correcthorse", "haven", "havenhaven",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    check: str  # protection | join_requests | device | contact | passphrase | relay | ...
    status: Status
    title: str
    detail: str = ""
    fix: str | None = None  # the one command that fixes it
    guide: str | None = None  # the guidance topic that explains it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    findings: list[Finding]

    @property
    def needs_attention(self) -> bool:
        return any(f.status == "attention" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "needs_attention": self.needs_attention,
            "findings": [f.to_json() for f in self.findings],
            "guide": awareness.pointer(),
        }


def passphrase_problem(passphrase: str) -> str | None:
    """What makes this passphrase weak, if anything (a rough rule: long, or varied)."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        return f"it is shorter than {MIN_PASSPHRASE_CHARS} characters"
    squashed = "".join(passphrase.lower().split())
    if squashed in _COMMON or len(set(squashed)) < 6:
        return "it is a common or repetitive passphrase"
    kinds = sum(
        any(c in group for c in passphrase)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not c.isalnum() for c in passphrase)
    if len(passphrase) < 16 and kinds < 3:
        return "it is short and uses few kinds of characters: use several words"
    return None


@dataclass(frozen=True)
class PassphraseCheck:
    """What the checkup needs of the passphrase: the verdict, not the passphrase."""

    problem: str | None

    @classmethod
    def of(cls, passphrase: str) -> PassphraseCheck:
        return cls(passphrase_problem(passphrase))


def _days(ms: int) -> int:
    return max(0, ms // DAY_MS)


def _ago(ms: int) -> str:
    days = _days(ms)
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


class _Command:
    def __init__(self, messenger: Messenger) -> None:
        self._profile = shlex.quote(str(messenger.profile.directory))

    def __call__(self, *words: str) -> str:
        return " ".join(["haven", *words, "--profile", self._profile])


async def _protection(messenger: Messenger, command: _Command) -> list[Finding]:
    found = await protect.status(messenger)
    if found.status == "on":
        detail = "New devices need your registration lock and a device's approval."
        return [Finding("protection", "ok", "Account protection is on", detail)]
    if found.status == "disabling":
        return [Finding(
            "protection", "attention", "Account protection is being turned off",
            "A device asked to turn it off with your registration lock; it stays on until "
            "the cooling-off period ends. If this was not you, keep it on.",
            command("account", "protect", "cancel"), "compromised",
        )]  # fmt: skip
    invited = found.status == "invited"
    return [Finding(
        "protection", "attention" if invited else "advice",
        "Your operator invited you to turn on account protection" if invited
        else "Account protection is off",
        "With protection, a new device needs your registration lock and a device's approval, "
        "and reports against you never lead to an automatic action. Recommended for people "
        "at high risk of targeted attacks.",
        command("account", "protect", "on"), "spyware",
    )]  # fmt: skip


async def _join_requests(messenger: Messenger, command: _Command) -> list[Finding]:
    waiting = await protect.link_requests(messenger)
    if not waiting:
        return []
    return [Finding(
        "join_requests", "attention", f"{len(waiting)} new device(s) ask to join your account",
        "Approve only a device that is yours (compare the digits on both screens); deny any "
        "other, then change your registration lock.",
        command("account", "requests", "list"), "compromised",
    )]  # fmt: skip


async def _devices(messenger: Messenger, command: _Command, now: int) -> list[Finding]:
    found = []
    for device in await protect.devices(messenger):
        this = device.device_id == messenger.state.device_id
        seen = device.last_seen_at if device.last_seen_at is not None else device.created_at
        name = f"Device {device.device_id}" + (" (this device)" if this else "")
        linked = f"linked {_ago(now - device.created_at)}"
        if not this and _days(now - seen) >= STALE_DEVICE_DAYS:
            found.append(Finding(
                "device", "attention", f"{name} was last seen {_ago(now - seen)}",
                f"It is {linked}. A device you no longer use can still read new messages if "
                "someone else has it: remove it.",
                command("account", "remove-device", device.device_id), "compromised",
            ))  # fmt: skip
        elif not this and _days(now - device.created_at) < RECENT_DEVICE_DAYS:
            found.append(Finding(
                "device", "advice", f"{name} was {linked}",
                "Make sure you recognise it; if you do not, remove it.",
                command("account", "remove-device", device.device_id), "compromised",
            ))  # fmt: skip
        else:
            found.append(Finding("device", "ok", f"{name}: last seen {_ago(now - seen)}",
                                 linked.capitalize()))  # fmt: skip
    return found


async def _contacts(messenger: Messenger, command: _Command) -> list[Finding]:
    state = messenger.state
    names = {account: name for name, account in state.contacts.items()}
    for account in state.verified:
        names.setdefault(account, account)
    found = []
    for account, name in sorted(names.items(), key=lambda item: item[1]):
        verified = state.verified.get(account)
        if verified is None:
            found.append(Finding(
                "contact", "attention", f"{name} is not verified",
                "Compare your safety number with them in person or on a call, then accept it.",
                command("verify", name), "compromised",
            ))  # fmt: skip
            continue
        try:
            keys = sorted(k["ed25519"] for k in (await messenger.devices_of(account)).values())
        except IdentityChanged:
            keys = []
        except ApiError as exc:
            if exc.status != 404:
                raise
            found.append(Finding("contact", "attention", f"{name}'s account no longer exists",
                                 "Messages to it cannot be delivered."))  # fmt: skip
            continue
        if keys != verified:
            found.append(Finding(
                "contact", "attention", f"Your safety number with {name} changed",
                "They linked or removed a device, or someone is impersonating them. Compare "
                "the new number with them in person or on a call, then accept it "
                "(run the command again with --accept).",
                command("verify", name), "compromised",
            ))  # fmt: skip
        else:
            found.append(Finding("contact", "ok", f"{name} is verified"))
    return found


def _passphrase(check: PassphraseCheck | None, command: _Command) -> list[Finding]:
    if check is None:
        return []
    problem = check.problem
    if problem is None:
        return [Finding("passphrase", "ok", "This profile's passphrase is strong")]
    return [Finding(
        "passphrase", "attention", "This profile's passphrase is weak",
        f"Anyone who copies this device's files can try passphrases offline: {problem}.",
        command("account", "passphrase"),
    )]  # fmt: skip


def _relays(messenger: Messenger, command: _Command) -> list[Finding]:
    count = len(messenger.state.relays)
    if count:
        return [Finding("relay", "ok", f"{count} relay(s) configured for when the server is "
                        "blocked")]  # fmt: skip
    return [Finding(
        "relay", "attention", "No relay is configured",
        "If the server is blocked where you are, you cannot reach it. Ask your operator or "
        "someone you trust for a relay link (haven://relay?...) and add it.",
        command("relay", "add", "LINK"),
    )]  # fmt: skip


def _blocklist(messenger: Messenger, command: _Command, now: int) -> list[Finding]:
    updated = messenger.links.updated_at
    fix = command("account", "update-blocklist")
    if updated is None:
        return [Finding(
            "blocklist", "attention", "The block list of spyware links was never downloaded",
            "Links to known spyware and phishing infrastructure are only caught with it.", fix,
            "spyware",
        )]  # fmt: skip
    age = now - int(updated * 1000)
    if _days(age) >= BLOCKLIST_STALE_DAYS:
        return [Finding(
            "blocklist", "attention", f"The block list was last updated {_ago(age)}",
            "New spyware and phishing links are added to it all the time.", fix, "spyware",
        )]  # fmt: skip
    return [Finding("blocklist", "ok", f"The block list was updated {_ago(age)} (version "
                    f"{messenger.links.version})")]  # fmt: skip


async def _notices(messenger: Messenger, command: _Command) -> list[Finding]:
    received = [n for n in await messenger.notices()
                if n["verified"] and n.get("template") not in protect.ALERT_TEMPLATES]  # fmt: skip
    if not received:
        return []
    return [Finding(
        "notices", "advice", f"You received {len(received)} security notice(s) from your operator",
        f"The latest: {received[-1]['title']}. Read them, then what to do if a device may be "
        "compromised.",
        command("notices"), "compromised",
    )]  # fmt: skip


async def run(messenger: Messenger, passphrase: PassphraseCheck | None = None) -> Report:
    """Every check; the server's ones are skipped (and reported) when it cannot be
    reached."""
    command = _Command(messenger)
    now = clock.now_ms()
    findings: list[Finding] = []
    try:
        findings += await _protection(messenger, command)
        findings += await _join_requests(messenger, command)
        findings += await _devices(messenger, command, now)
        findings += await _contacts(messenger, command)
        findings += await _notices(messenger, command)
    except (Unreachable, ApiError) as exc:
        findings.append(Finding(
            "server", "attention", "The server's checks could not run",
            f"{exc}. Run the checkup again when you can reach the server.",
        ))  # fmt: skip
    findings += _passphrase(passphrase, command)
    findings += _relays(messenger, command)
    findings += _blocklist(messenger, command, now)
    return Report(findings)


def lines(report: Report) -> list[str]:
    """The report as plain lines (markup-free: the chat and the CLI style them)."""
    shown = []
    marks = {"ok": "ok ", "attention": "!! ", "advice": "-> "}
    for finding in report.findings:
        shown.append(f"{marks[finding.status]}{finding.title}")
        if finding.detail and finding.status != "ok":
            shown.append(f"     {finding.detail}")
        if finding.fix and finding.status != "ok":
            shown.append(f"     fix: {finding.fix}")
        if finding.guide and finding.status != "ok":
            shown.append(f"     read: haven guide {finding.guide}")
    shown.append(awareness.pointer())
    return shown
