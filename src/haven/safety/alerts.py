"""Security alerts the server itself sends to an account: a device was linked or removed,
a new device asks to join, protection changed, an invitation into protection, a reporting
campaign against you was stopped.

They travel exactly as operator notices do (`haven.core.notices`): stored, signed with the
server's notice key, fetched from `/v1/accounts/me/notices` by every device of the account
and shown only if the signature verifies against the key the device pinned, so no chat
message can imitate one. Templates are TOML files in `alerts/` named
`<template>.<language>.toml`, with `{placeholders}` filled from hex ids and times only; they
follow the notice rules (no links, never a request for a secret) and are kept apart from
the operator's notice templates, so an operator cannot send a fake "device linked" alert.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.core import notices as signed
from haven.safety.notices import (
    Template,
    TemplateError,
    as_signed,
    check,
    check_names,
    read_template,
    templates_in,
)
from haven.safety.records import audit_entry
from haven.store.interfaces import NoticeRecord
from haven.store.stores import Stores

TEMPLATES = Path(__file__).with_name("alerts")
DEFAULT_LANGUAGE = "en"
# Only these are ever filled in, and only with values that cannot carry a link.
_VALUE = re.compile(r"[0-9a-f]{32}|\d{4}-\d\d-\d\d \d\d:\d\d UTC")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def when(ms: int) -> str:
    """A time as alerts show it."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def available() -> list[tuple[str, str]]:
    return templates_in(TEMPLATES)


def render(name: str, language: str, values: dict[str, str]) -> Template:
    """The alert in `language` (English when it is not translated), filled in and checked."""
    check_names(name, language)
    for key, value in values.items():
        if not _VALUE.fullmatch(value):
            raise TemplateError(f"alert value {key!r} is not an id or a time")
    try:
        template = read_template(TEMPLATES, name, language)
    except FileNotFoundError:
        try:
            template = read_template(TEMPLATES, name, DEFAULT_LANGUAGE)
        except FileNotFoundError:
            raise TemplateError(f"no alert template {name!r}") from None
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise TemplateError(f"{name}.{language} is not a valid alert template: {exc}") from None

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    filled = Template(template.name, template.language, fill(template.title), fill(template.body))
    check(filled)
    return filled


async def send(
    stores: Stores,
    key: Ed25519PrivateKey,
    account_id: str,
    name: str,
    language: str,
    values: dict[str, str],
    now: int,
) -> NoticeRecord:
    """Queue one signed alert for every device of the account (audit: which alert, to whom,
    never its text)."""
    alert = render(name, language, values)
    [sent] = await stores.notices.send(
        [account_id], alert.name, alert.language, alert.title, alert.body, now,
        lambda draft: signed.sign(key, as_signed(draft)),
        lambda account: audit_entry("security_alert", now, account=account, alert=alert.name),
    )  # fmt: skip
    return sent
