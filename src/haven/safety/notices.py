"""Notices to people the operator believes are targeted by government-backed or mercenary
attackers. Templates are TOML files in `notices/` named `<template>.<language>.toml` (add a
file to translate one); each is checked before it can be sent: it must contain no links
and must never ask for a passphrase, code or password, because real notices never do and
phishing imitations always do."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.core import notices as signed
from haven.core.errors import ErrorCode, HavenError
from haven.safety import keyfiles
from haven.safety.records import audit_entry
from haven.store.interfaces import NoticeRecord
from haven.store.stores import Stores

TEMPLATES = Path(__file__).with_name("notices")
KEY_FILE = "notice-signing.key"
MAX_RECIPIENTS = 1000
_LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|org|net|io|me|app|ly)\b", re.I)
_ASKS_FOR_SECRETS = re.compile(
    r"(send|enter|give|tell|share|reply with)\b[^.\n]{0,40}\b(password|passphrase|code|pin)\b",
    re.I,
)


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    title: str
    body: str


class TemplateError(Exception):
    """A template is missing, malformed, or breaks the rules every notice follows."""


def check_names(name: str, language: str) -> None:
    """Both are file-name parts: nothing that could leave the templates directory."""
    if not re.fullmatch(r"[a-z0-9_]{1,64}", name) or not re.fullmatch(r"[a-z]{2,8}", language):
        raise TemplateError("template and language are lower-case names")


def read_template(directory: Path, name: str, language: str) -> Template:
    """`<name>.<language>.toml` in `directory`, unchecked; FileNotFoundError when it is
    missing, tomllib.TOMLDecodeError or KeyError when it is malformed."""
    data = tomllib.loads((directory / f"{name}.{language}.toml").read_text(encoding="utf-8"))
    return Template(name, language, str(data["title"]).strip(), str(data["body"]).strip())


def templates_in(directory: Path) -> list[tuple[str, str]]:
    """(template, language) pairs of the TOML files in `directory`."""
    found = []
    for path in sorted(directory.glob("*.toml")):
        name, _, language = path.stem.partition(".")
        found.append((name, language))
    return found


def load_template(name: str, language: str) -> Template:
    check_names(name, language)
    path = TEMPLATES / f"{name}.{language}.toml"
    try:
        template = read_template(TEMPLATES, name, language)
    except FileNotFoundError:
        raise TemplateError(f"no template {name!r} in language {language!r}") from None
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise TemplateError(f"{path.name} is not a valid notice template: {exc}") from None
    check(template)
    return template


def check(template: Template) -> None:
    text = f"{template.title}\n{template.body}"
    if _LINK.search(text):
        raise TemplateError(f"{template.name}.{template.language}: notices contain no links")
    if _ASKS_FOR_SECRETS.search(text):
        raise TemplateError(
            f"{template.name}.{template.language}: notices never ask for a password or code"
        )


def available() -> list[tuple[str, str]]:
    """(template, language) pairs that exist."""
    return templates_in(TEMPLATES)


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    return keyfiles.signing_key(data_dir / KEY_FILE)[0]


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def as_signed(record: NoticeRecord) -> signed.Notice:
    return signed.Notice(
        record.notice_id, record.account_id, record.template, record.language,
        record.title, record.body, record.created_at,
    )  # fmt: skip


async def send(
    stores: Stores,
    key: Ed25519PrivateKey,
    accounts: list[str],
    template_name: str,
    language: str,
    actor: str,
    now: int,
) -> list[NoticeRecord]:
    if not 1 <= len(accounts) <= MAX_RECIPIENTS:
        raise HavenError(ErrorCode.BAD_REQUEST, f"1 to {MAX_RECIPIENTS} accounts per sending")
    try:
        template = load_template(template_name, language)
    except TemplateError as exc:
        raise HavenError(ErrorCode.BAD_REQUEST, str(exc)) from None
    return await stores.notices.send(
        list(dict.fromkeys(accounts)), template.name, template.language, template.title,
        template.body, now,
        lambda draft: signed.sign(key, as_signed(draft)),
        # Metadata only: who was notified with which template, by whom.
        lambda account: audit_entry(
            "notice_sent", now, account=account, template=template.name, actor=actor
        ),
    )  # fmt: skip
