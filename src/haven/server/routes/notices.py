"""Signed notices: the public key clients pin, a person's own notices, and sending them
(operators only)."""

from __future__ import annotations

from fastapi import APIRouter

from haven.core import b64
from haven.core.wire import (
    NoticeInfo,
    NoticeKey,
    NoticesSent,
    NoticeTemplate,
    SendNoticeRequest,
    SignedNotice,
)
from haven.safety import notices
from haven.server.auth import AnyStandingDevice, CurrentOperator
from haven.server.routes.common import State, errors
from haven.server.services import operators
from haven.store.interfaces import NoticeRecord

router = APIRouter(tags=["notices"])


def signed_notice(record: NoticeRecord) -> SignedNotice:
    return SignedNotice(
        notice=NoticeInfo(
            notice_id=record.notice_id, account_id=record.account_id, template=record.template,
            language=record.language, title=record.title, body=record.body,
            created_at=record.created_at,
        ),
        signature=b64.encode(record.signature),
    )  # fmt: skip


@router.get("/v1/notices/key")
async def notice_key(state: State) -> NoticeKey:
    """The key this server signs notices with; a client pins it when it joins."""
    return NoticeKey(key=b64.encode(notices.public_bytes(state.notice_key)))


@router.get("/v1/accounts/me/notices")
async def my_notices(device: AnyStandingDevice, state: State) -> list[SignedNotice]:
    """Notices sent to your account, each signed by the server's notice key."""
    return [signed_notice(r) for r in await state.stores.notices.for_account(device.account_id)]


@router.get("/v1/admin/notices/templates")
async def templates(_: CurrentOperator) -> list[NoticeTemplate]:
    """The notice templates (each checked: no links, never asks for a secret)."""
    found = []
    for name, language in notices.available():
        template = notices.load_template(name, language)
        found.append(
            NoticeTemplate(
                template=name, language=language, title=template.title, body=template.body
            )
        )
    return found


@router.post("/v1/admin/notices", status_code=201, responses=errors(400, 404))
async def send(body: SendNoticeRequest, operator: CurrentOperator, state: State) -> NoticesSent:
    """Send a notice from a template to each account (recorded in the audit log, metadata
    only)."""
    sent = await operators.send_notices(
        state, list(body.accounts), body.template, body.language, operator.name
    )
    return NoticesSent(notice_ids=[n.notice_id for n in sent])
