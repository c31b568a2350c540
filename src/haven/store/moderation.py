"""Operators, account actions with the standing they leave, appeals, and the audit log.

Every action and every appeal decision is written in the same transaction as its audit
entry: an action cannot happen without the log knowing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database
from haven.store.interfaces import (
    ActionRecord,
    AppealRecord,
    AuditHeadRow,
    AuditRow,
    NewAuditEntry,
    NewReport,
    NoticeRecord,
    OperatorRecord,
    ReportRecord,
)
from haven.store.tables import (
    account_actions,
    account_standing,
    accounts,
    appeals,
    audit_entries,
    audit_heads,
    notices,
    operators,
    reports,
)


def append_audit(conn: sa.Connection, entry: NewAuditEntry) -> int:
    result = conn.execute(
        sa.insert(audit_entries)
        .values(
            created_at=entry.created_at,
            kind=entry.kind,
            data=entry.data,
            leaf_hash=entry.leaf_hash,
        )
        .returning(audit_entries.c.seq)
    )
    return int(result.scalar_one())


def _set_standing(
    conn: sa.Connection, account_id: str, standing: str, action: int, now: int
) -> None:
    conn.execute(sa.delete(account_standing).where(account_standing.c.account_id == account_id))
    if standing != "active":
        conn.execute(
            sa.insert(account_standing).values(
                account_id=account_id, status=standing, action_id=action, updated_at=now
            )
        )


def _action(row: Any) -> ActionRecord:
    return ActionRecord(
        row.action_id, row.account_id, row.action, row.reason, row.note, row.device_id,
        row.actor, row.created_at,
    )  # fmt: skip


def _appeal(row: Any) -> AppealRecord:
    return AppealRecord(
        row.appeal_id, row.action_id, row.account_id, row.text, row.status, row.created_at,
        row.decided_at, row.decided_by, row.decision_note,
    )  # fmt: skip


class SqlOperatorStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, operator_id: str, name: str, role: str, token_digest: bytes, now: int
    ) -> None:
        insert = sa.insert(operators).values(
            operator_id=operator_id, name=name, role=role, token_digest=token_digest,
            created_at=now,
        )  # fmt: skip
        try:
            await self._db.run(lambda conn: conn.execute(insert))
        except IntegrityError:
            raise HavenError(ErrorCode.CONFLICT, f"an operator called {name!r} exists") from None

    async def credentials(self, operator_id: str) -> tuple[OperatorRecord, bytes] | None:
        query = sa.select(operators).where(operators.c.operator_id == operator_id)

        def work(conn: sa.Connection) -> tuple[OperatorRecord, bytes] | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            record = OperatorRecord(row.operator_id, row.name, row.role, row.created_at)
            return record, bytes(row.token_digest)

        return await self._db.read(work)

    async def all(self) -> list[OperatorRecord]:
        query = sa.select(operators).order_by(operators.c.name)

        def work(conn: sa.Connection) -> list[OperatorRecord]:
            return [
                OperatorRecord(r.operator_id, r.name, r.role, r.created_at)
                for r in conn.execute(query)
            ]

        return await self._db.read(work)


class SqlModerationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def act(
        self,
        account_id: str,
        action: str,
        reason: str,
        note: str,
        device_id: str | None,
        actor: str,
        now: int,
        standing: str | None,
        audit: NewAuditEntry,
    ) -> ActionRecord:
        def work(conn: sa.Connection) -> ActionRecord:
            exists = conn.scalar(
                sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
            )
            if exists is None:
                raise HavenError(ErrorCode.NOT_FOUND, "no such account")
            row = conn.execute(
                sa.insert(account_actions)
                .values(
                    account_id=account_id, action=action, reason=reason, note=note[:1000],
                    device_id=device_id, actor=actor[:100], created_at=now,
                )
                .returning(*account_actions.c)
            ).one()  # fmt: skip
            if standing is not None:
                _set_standing(conn, account_id, standing, row.action_id, now)
            append_audit(conn, audit)
            return _action(row)

        return await self._db.run(work)

    async def standing(self, account_id: str) -> str:
        query = sa.select(account_standing.c.status).where(
            account_standing.c.account_id == account_id
        )
        found = await self._db.read(lambda conn: conn.scalar(query))
        return str(found) if found else "active"

    async def history(self, account_id: str) -> list[ActionRecord]:
        query = (
            sa.select(account_actions)
            .where(account_actions.c.account_id == account_id)
            .order_by(account_actions.c.action_id)
        )
        return await self._db.read(lambda conn: [_action(r) for r in conn.execute(query)])

    async def action(self, action_id: int) -> ActionRecord | None:
        query = sa.select(account_actions).where(account_actions.c.action_id == action_id)

        def work(conn: sa.Connection) -> ActionRecord | None:
            row = conn.execute(query).first()
            return None if row is None else _action(row)

        return await self._db.read(work)

    async def appeal(
        self, action_id: int, account_id: str, text: str, now: int, audit: NewAuditEntry
    ) -> AppealRecord:
        def work(conn: sa.Connection) -> AppealRecord:
            owner = conn.scalar(
                sa.select(account_actions.c.account_id).where(
                    account_actions.c.action_id == action_id
                )
            )
            if owner != account_id:
                raise HavenError(ErrorCode.NOT_FOUND, "no such action on your account")
            earlier = conn.scalar(
                sa.select(sa.func.count()).where(appeals.c.action_id == action_id)
            )
            if earlier:
                raise HavenError(ErrorCode.CONFLICT, "this action has already been appealed")
            row = conn.execute(
                sa.insert(appeals)
                .values(
                    action_id=action_id, account_id=account_id, text=text[:2000],
                    status="open", created_at=now,
                )
                .returning(*appeals.c)
            ).one()  # fmt: skip
            append_audit(conn, audit)
            return _appeal(row)

        return await self._db.run(work)

    async def appeals(
        self, status: str | None = None, account_id: str | None = None
    ) -> list[AppealRecord]:
        query = sa.select(appeals).order_by(appeals.c.appeal_id)
        if status is not None:
            query = query.where(appeals.c.status == status)
        if account_id is not None:
            query = query.where(appeals.c.account_id == account_id)
        return await self._db.read(lambda conn: [_appeal(r) for r in conn.execute(query)])

    async def decide(
        self,
        appeal_id: int,
        outcome: str,
        by: str,
        note: str,
        now: int,
        standing: str | None,
        audit: NewAuditEntry,
    ) -> AppealRecord:
        def work(conn: sa.Connection) -> AppealRecord:
            current = conn.execute(
                sa.select(appeals).where(appeals.c.appeal_id == appeal_id)
            ).first()
            if current is None:
                raise HavenError(ErrorCode.NOT_FOUND, "no such appeal")
            if current.status != "open":
                raise HavenError(ErrorCode.CONFLICT, f"this appeal was already {current.status}")
            row = conn.execute(
                sa.update(appeals)
                .where(appeals.c.appeal_id == appeal_id, appeals.c.status == "open")
                .values(status=outcome, decided_at=now, decided_by=by[:100],
                        decision_note=note[:1000])
                .returning(*appeals.c)
            ).one()  # fmt: skip
            if standing is not None:
                _set_standing(conn, row.account_id, standing, row.action_id, now)
            append_audit(conn, audit)
            return _appeal(row)

        return await self._db.run(work)


def _report(row: Any) -> ReportRecord:
    filed = NewReport(
        row.reporter_account, row.reporter_device, row.sender_account, row.sender_device,
        row.envelope_id, row.server_time, row.reason, row.content, bool(row.verified),
        row.problem,
    )  # fmt: skip
    return ReportRecord(
        row.report_id, filed, row.status, row.created_at, row.decided_at, row.decided_by,
        row.decision_note,
    )  # fmt: skip


class SqlReportStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def file(self, report: NewReport, now: int, audit: NewAuditEntry) -> ReportRecord:
        def work(conn: sa.Connection) -> ReportRecord:
            row = conn.execute(
                sa.insert(reports)
                .values(
                    reporter_account=report.reporter_account,
                    reporter_device=report.reporter_device,
                    sender_account=report.sender_account, sender_device=report.sender_device,
                    envelope_id=report.envelope_id, server_time=report.server_time,
                    reason=report.reason, content=report.content, verified=report.verified,
                    problem=report.problem[:300], status="open", created_at=now,
                )
                .returning(*reports.c)
            ).one()  # fmt: skip
            append_audit(conn, audit)
            return _report(row)

        try:
            return await self._db.run(work)
        except IntegrityError:
            raise HavenError(ErrorCode.CONFLICT, "you have already reported this message") from None

    async def reports(self, status: str | None = None) -> list[ReportRecord]:
        query = sa.select(reports).order_by(reports.c.report_id)
        if status is not None:
            query = query.where(reports.c.status == status)
        return await self._db.read(lambda conn: [_report(r) for r in conn.execute(query)])

    async def close(
        self, report_id: int, status: str, by: str, note: str, now: int, audit: NewAuditEntry
    ) -> ReportRecord:
        def work(conn: sa.Connection) -> ReportRecord:
            current = conn.execute(
                sa.select(reports.c.status).where(reports.c.report_id == report_id)
            ).first()
            if current is None:
                raise HavenError(ErrorCode.NOT_FOUND, "no such report")
            if current.status != "open":
                raise HavenError(ErrorCode.CONFLICT, f"this report was already {current.status}")
            row = conn.execute(
                sa.update(reports)
                .where(reports.c.report_id == report_id)
                .values(status=status, decided_at=now, decided_by=by[:100],
                        decision_note=note[:1000])
                .returning(*reports.c)
            ).one()  # fmt: skip
            append_audit(conn, audit)
            return _report(row)

        return await self._db.run(work)


class SqlAuditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, entry: NewAuditEntry) -> int:
        return await self._db.run(lambda conn: append_audit(conn, entry))

    async def entries(self, after: int = 0, limit: int | None = None) -> list[AuditRow]:
        query = sa.select(audit_entries).where(audit_entries.c.seq > after)
        query = query.order_by(audit_entries.c.seq)
        if limit is not None:
            query = query.limit(limit)

        def work(conn: sa.Connection) -> list[AuditRow]:
            return [
                AuditRow(r.seq, r.created_at, r.kind, r.data, bytes(r.leaf_hash))
                for r in conn.execute(query)
            ]

        return await self._db.read(work)

    async def count(self) -> int:
        query = sa.select(sa.func.count()).select_from(audit_entries)
        return await self._db.read(lambda conn: int(conn.scalar(query) or 0))

    async def put_head(self, head: AuditHeadRow) -> bool:
        """False when a head for this size exists: heads are never replaced."""
        insert = sa.insert(audit_heads).values(
            size=head.size, root=head.root, timestamp=head.timestamp, signature=head.signature
        )
        try:
            await self._db.run(lambda conn: conn.execute(insert))
        except IntegrityError:
            return False
        return True

    async def heads(self) -> list[AuditHeadRow]:
        query = sa.select(audit_heads).order_by(audit_heads.c.size)

        def work(conn: sa.Connection) -> list[AuditHeadRow]:
            return [
                AuditHeadRow(r.size, bytes(r.root), r.timestamp, bytes(r.signature))
                for r in conn.execute(query)
            ]

        return await self._db.read(work)


def _notice(row: Any) -> NoticeRecord:
    return NoticeRecord(
        row.notice_id, row.account_id, row.template, row.language, row.title, row.body,
        row.created_at, bytes(row.signature),
    )  # fmt: skip


class SqlNoticeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def send(
        self,
        account_ids: Sequence[str],
        template: str,
        language: str,
        title: str,
        body: str,
        now: int,
        sign: Callable[[NoticeRecord], bytes],
        audit: Callable[[str], NewAuditEntry],
    ) -> list[NoticeRecord]:
        def work(conn: sa.Connection) -> list[NoticeRecord]:
            known = set(
                conn.scalars(
                    sa.select(accounts.c.account_id).where(accounts.c.account_id.in_(account_ids))
                )
            )
            missing = [a for a in account_ids if a not in known]
            if missing:
                raise HavenError(ErrorCode.NOT_FOUND, f"no such account: {missing[0]}")
            sent = []
            for account_id in account_ids:
                notice_id = conn.execute(
                    sa.insert(notices)
                    .values(
                        account_id=account_id, template=template, language=language,
                        title=title, body=body, created_at=now,
                    )
                    .returning(notices.c.notice_id)
                ).scalar_one()  # fmt: skip
                draft = NoticeRecord(
                    notice_id, account_id, template, language, title, body, now, b""
                )
                signature = sign(draft)
                conn.execute(
                    sa.update(notices)
                    .where(notices.c.notice_id == notice_id)
                    .values(signature=signature)
                )
                append_audit(conn, audit(account_id))
                sent.append(dataclasses.replace(draft, signature=signature))
            return sent

        return await self._db.run(work)

    async def for_account(self, account_id: str) -> list[NoticeRecord]:
        query = (
            sa.select(notices)
            .where(notices.c.account_id == account_id, notices.c.signature.is_not(None))
            .order_by(notices.c.notice_id)
        )
        return await self._db.read(lambda conn: [_notice(r) for r in conn.execute(query)])

    async def all(self) -> list[NoticeRecord]:
        query = sa.select(notices).where(notices.c.signature.is_not(None))
        query = query.order_by(notices.c.notice_id)
        return await self._db.read(lambda conn: [_notice(r) for r in conn.execute(query)])
