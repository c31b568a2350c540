"""Notices to people believed targeted: pick a checked template, list the accounts, see
exactly what they will read, then send (signed, recorded in the audit log). History shows
what was sent to whom and when."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.safety import notices
from haven.server.console.rendering import page
from haven.server.console.sessions import Session
from haven.server.routes.common import State
from haven.server.services import operators

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_ACCOUNTS_TEXT = notices.MAX_RECIPIENTS * 40
HISTORY_ROWS = 200
Choice = Annotated[str, Form(pattern=r"^[a-z0-9_]{1,64}\.[a-z]{2,8}$")]
AccountsText = Annotated[str, Form(max_length=MAX_ACCOUNTS_TEXT)]


def parse_accounts(text: str) -> list[str]:
    """Account ids separated by spaces, commas or new lines; any other word is an error."""
    found = [word for word in re.split(r"[\s,;]+", text.strip().lower()) if word]
    bad = [word for word in found if not ids.is_id(word)]
    if bad:
        raise HavenError(
            ErrorCode.BAD_REQUEST,
            f"not an account id: {bad[0][:40]!r} (ids are 32 hexadecimal characters)",
        )
    if not 1 <= len(found) <= notices.MAX_RECIPIENTS:
        raise HavenError(ErrorCode.BAD_REQUEST, f"give 1 to {notices.MAX_RECIPIENTS} account ids")
    return list(dict.fromkeys(found))


def _template(choice: str) -> notices.Template:
    name, _, language = choice.partition(".")
    try:
        return notices.load_template(name, language)
    except notices.TemplateError as exc:
        raise HavenError(ErrorCode.BAD_REQUEST, str(exc)) from None


@router.get("/notices")
async def compose(
    request: Request,
    _: Session,
    state: State,
    sent: Annotated[int, Query(ge=0, le=notices.MAX_RECIPIENTS)] = 0,
) -> Response:
    history = (await state.stores.notices.all())[-HISTORY_ROWS:][::-1]
    choices = [f"{name}.{language}" for name, language in notices.available()]
    return page(request, "notices.html", choices=choices, history=history, sent=sent)


@router.post("/notices/preview")
async def preview(
    request: Request, _: Session, template: Choice, accounts: AccountsText
) -> Response:
    chosen = _template(template)
    recipients = parse_accounts(accounts)
    return page(request, "notice_preview.html", notice=chosen, choice=template,
                recipients=recipients)  # fmt: skip


@router.post("/notices/send")
async def send(
    session: Session, state: State, template: Choice, accounts: AccountsText
) -> Response:
    chosen = _template(template)
    sent = await operators.send_notices(
        state, parse_accounts(accounts), chosen.name, chosen.language, session.operator.name
    )
    return RedirectResponse(f"/admin/notices?sent={len(sent)}", status_code=303)
