"""Protected accounts: protection state and its registration-lock verifier, the backoff of
wrong lock attempts, requests from new devices to join, when devices were last seen, and
possible coordinated reporting campaigns. Every change a person or an operator makes is
written with its audit entry in the same transaction."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database
from haven.store.interfaces import (
    CampaignFigures,
    CampaignFlagRecord,
    DeviceActivityRecord,
    Identity,
    LinkRequestRecord,
    NewAuditEntry,
    ProtectionRecord,
    ReportSignal,
)
from haven.store.moderation import append_audit
from haven.store.sql import insert_ignoring_conflicts
from haven.store.tables import (
    accounts,
    campaign_flags,
    device_seen,
    devices,
    link_requests,
    lock_attempts,
    protection,
    reports,
)

_NO_VERIFIER = bytes(32)


def _protection(row: Any) -> ProtectionRecord:
    return ProtectionRecord(
        row.account_id, row.status,
        None if row.lock_verifier is None else bytes(row.lock_verifier), row.language,
        row.enabled_at, row.disable_requested_at, row.invited_by, row.invited_at,
    )  # fmt: skip


def _current(conn: sa.Connection, account_id: str) -> ProtectionRecord | None:
    row = conn.execute(sa.select(protection).where(protection.c.account_id == account_id)).first()
    return None if row is None else _protection(row)


def _must_be_on(conn: sa.Connection, account_id: str) -> ProtectionRecord:
    found = _current(conn, account_id)
    if found is None or found.status != "on":
        raise HavenError(ErrorCode.CONFLICT, "this account is not protected")
    return found


class SqlProtectionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, account_id: str) -> ProtectionRecord | None:
        return await self._db.read(lambda conn: _current(conn, account_id))

    async def invite(
        self, account_id: str, by: str, language: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        def work(conn: sa.Connection) -> ProtectionRecord:
            exists = conn.scalar(
                sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
            )
            if exists is None:
                raise HavenError(ErrorCode.NOT_FOUND, "no such account")
            found = _current(conn, account_id)
            if found is not None and found.status == "on":
                raise HavenError(ErrorCode.CONFLICT, "this account is protected already")
            if found is None:
                conn.execute(
                    sa.insert(protection).values(
                        account_id=account_id, status="invited", language=language,
                        invited_by=by[:100], invited_at=now, updated_at=now,
                    )
                )  # fmt: skip
            else:
                conn.execute(
                    sa.update(protection)
                    .where(protection.c.account_id == account_id)
                    .values(invited_by=by[:100], invited_at=now, language=language,
                            updated_at=now)
                )  # fmt: skip
            append_audit(conn, audit)
            result = _current(conn, account_id)
            assert result is not None
            return result

        return await self._db.run(work)

    async def enable(
        self, account_id: str, verifier: bytes, language: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        def work(conn: sa.Connection) -> ProtectionRecord:
            found = _current(conn, account_id)
            if found is not None and found.status == "on":
                raise HavenError(
                    ErrorCode.CONFLICT,
                    "protection is on already; change the lock with action change_lock",
                )
            values = {
                "status": "on", "lock_verifier": verifier, "language": language,
                "enabled_at": now, "disable_requested_at": None, "updated_at": now,
            }  # fmt: skip
            if found is None:
                conn.execute(sa.insert(protection).values(account_id=account_id, **values))
            else:
                conn.execute(
                    sa.update(protection)
                    .where(protection.c.account_id == account_id)
                    .values(**values)
                )
            append_audit(conn, audit)
            result = _current(conn, account_id)
            assert result is not None
            return result

        return await self._db.run(work)

    async def _change(
        self, account_id: str, values: dict[str, Any], audit: NewAuditEntry
    ) -> ProtectionRecord:
        def work(conn: sa.Connection) -> ProtectionRecord:
            _must_be_on(conn, account_id)
            conn.execute(
                sa.update(protection).where(protection.c.account_id == account_id).values(**values)
            )
            append_audit(conn, audit)
            return _must_be_on(conn, account_id)

        return await self._db.run(work)

    async def set_verifier(
        self, account_id: str, verifier: bytes, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        return await self._change(account_id, {"lock_verifier": verifier, "updated_at": now}, audit)

    async def request_disable(
        self, account_id: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        # A repeated request does not restart (or shorten) the period: COALESCE keeps the
        # first one's start.
        start = sa.func.coalesce(protection.c.disable_requested_at, now)
        return await self._change(
            account_id, {"disable_requested_at": start, "updated_at": now}, audit
        )

    async def cancel_disable(
        self, account_id: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        return await self._change(
            account_id, {"disable_requested_at": None, "updated_at": now}, audit
        )

    async def turn_off(self, account_id: str, audit: NewAuditEntry) -> bool:
        def work(conn: sa.Connection) -> bool:
            gone = conn.execute(
                sa.delete(protection).where(
                    protection.c.account_id == account_id,
                    protection.c.disable_requested_at.is_not(None),
                )
            )
            if gone.rowcount != 1:
                return False
            append_audit(conn, audit)
            return True

        return await self._db.run(work)

    async def check_lock(
        self, account_id: str, proof_digest: bytes, now: int, backoff: Callable[[int], int]
    ) -> bool:
        locked_row = (
            sa.select(lock_attempts)
            .where(lock_attempts.c.account_id == account_id)
            .with_for_update()
        )

        def work(conn: sa.Connection) -> bool:
            attempts = conn.execute(locked_row).first()
            if attempts is None:
                # Create the row before counting, so simultaneous first guesses queue on its
                # lock and each is counted (rather than all but one failing to insert it).
                conn.execute(
                    insert_ignoring_conflicts(self._db.dialect, lock_attempts).values(
                        account_id=account_id, failures=0, locked_until=0, updated_at=now
                    )
                )
                attempts = conn.execute(locked_row).one()
            verifier = conn.scalar(
                sa.select(protection.c.lock_verifier).where(
                    protection.c.account_id == account_id, protection.c.status == "on"
                )
            )
            # Compared whatever happens, so an unknown account, an unprotected one and a
            # locked-out one cost the same as a wrong lock.
            matches = hmac.compare_digest(
                proof_digest, _NO_VERIFIER if verifier is None else bytes(verifier)
            )
            if attempts.locked_until > now:
                return False  # backing off: not even a right lock is tried, nor counted
            if verifier is not None and matches:
                conn.execute(
                    sa.update(lock_attempts)
                    .where(lock_attempts.c.account_id == account_id)
                    .values(failures=0, locked_until=0, updated_at=now)
                )
                return True
            failures = int(attempts.failures) + 1
            conn.execute(
                sa.update(lock_attempts)
                .where(lock_attempts.c.account_id == account_id)
                .values(failures=failures, locked_until=now + backoff(failures), updated_at=now)
            )
            return False

        return await self._db.run(work)


def _link_request(row: Any) -> LinkRequestRecord:
    return LinkRequestRecord(
        row.request_id, row.account_id, row.device_id, Identity(row.curve25519, row.ed25519),
        bytes(row.token_digest), row.status, row.created_at, row.expires_at,
    )  # fmt: skip


def _live(account_id: str, now: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        link_requests.c.account_id == account_id,
        link_requests.c.status == "pending",
        link_requests.c.expires_at > now,
    )


class SqlLinkRequestStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, request: LinkRequestRecord, max_pending: int, now: int) -> None:
        def work(conn: sa.Connection) -> None:
            # Lock the account row so simultaneous requests cannot overshoot the cap.
            conn.scalar(
                sa.select(accounts.c.account_id)
                .where(accounts.c.account_id == request.account_id)
                .with_for_update()
            )
            waiting = conn.scalar(sa.select(sa.func.count()).where(_live(request.account_id, now)))
            if (waiting or 0) >= max_pending:
                raise HavenError(
                    ErrorCode.CONFLICT,
                    f"{max_pending} requests to join this account are waiting already; "
                    "approve or deny them on a device of the account, or wait for them to expire",
                )
            in_use = conn.scalar(
                sa.select(devices.c.device_id).where(devices.c.ed25519 == request.identity.ed25519)
            )
            if in_use is not None:
                raise HavenError(
                    ErrorCode.IDENTITY_KEY_IN_USE,
                    "this identity key is already registered to a device",
                )
            conn.execute(
                sa.insert(link_requests).values(
                    request_id=request.request_id, account_id=request.account_id,
                    device_id=request.device_id, curve25519=request.identity.curve25519,
                    ed25519=request.identity.ed25519, token_digest=request.token_digest,
                    status="pending", created_at=request.created_at,
                    expires_at=request.expires_at,
                )
            )  # fmt: skip

        try:
            await self._db.run(work)
        except IntegrityError:
            raise HavenError(ErrorCode.CONFLICT, "this request exists already") from None

    async def pending(self, account_id: str, now: int) -> list[LinkRequestRecord]:
        query = sa.select(link_requests).where(_live(account_id, now))
        query = query.order_by(link_requests.c.created_at, link_requests.c.request_id)
        return await self._db.read(lambda conn: [_link_request(r) for r in conn.execute(query)])

    async def take(self, account_id: str, request_id: str, now: int) -> LinkRequestRecord | None:
        def work(conn: sa.Connection) -> LinkRequestRecord | None:
            row = conn.execute(
                sa.update(link_requests)
                .where(_live(account_id, now), link_requests.c.request_id == request_id)
                .values(status="approved", decided_at=now)
                .returning(*link_requests.c)
            ).first()
            return None if row is None else _link_request(row)

        return await self._db.run(work)

    async def release(self, request_id: str) -> None:
        update = (
            sa.update(link_requests)
            .where(link_requests.c.request_id == request_id)
            .values(status="pending", decided_at=None)
        )
        await self._db.run(lambda conn: conn.execute(update))

    async def deny(self, account_id: str, request_id: str, now: int) -> bool:
        update = (
            sa.update(link_requests)
            .where(_live(account_id, now), link_requests.c.request_id == request_id)
            .values(status="denied", decided_at=now)
        )
        result = await self._db.run(lambda conn: conn.execute(update))
        return bool(result.rowcount == 1)


class SqlDeviceActivityStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def touch(self, device_id: str, account_id: str, at: int) -> None:
        def work(conn: sa.Connection) -> None:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            statement = insert(device_seen).values(
                device_id=device_id, account_id=account_id, last_seen_at=at
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[device_seen.c.device_id],
                    set_={"last_seen_at": statement.excluded.last_seen_at},
                    where=device_seen.c.last_seen_at < statement.excluded.last_seen_at,
                )
            )

        await self._db.run(work)

    async def activity(self, account_id: str) -> list[DeviceActivityRecord]:
        query = (
            sa.select(devices.c.device_id, devices.c.created_at, device_seen.c.last_seen_at)
            .outerjoin(device_seen, device_seen.c.device_id == devices.c.device_id)
            .where(devices.c.account_id == account_id)
            .order_by(devices.c.created_at, devices.c.device_id)
        )

        def work(conn: sa.Connection) -> list[DeviceActivityRecord]:
            return [
                DeviceActivityRecord(r.device_id, r.created_at, r.last_seen_at)
                for r in conn.execute(query)
            ]

        return await self._db.read(work)


def _flag(row: Any) -> CampaignFlagRecord:
    figures = CampaignFigures(
        row.window_start, row.window_end, row.reports, row.reporters, row.fresh_reporters,
        row.median_reporter_age_ms, row.burst, row.overlap_permille,
        tuple(json.loads(row.signals)), tuple(json.loads(row.reporter_accounts)),
    )  # fmt: skip
    return CampaignFlagRecord(
        row.flag_id, row.account_id, row.status, bool(row.protected), figures, row.created_at,
        row.updated_at, row.decided_at, row.decided_by, row.decision_note,
    )  # fmt: skip


def _figure_values(figures: CampaignFigures) -> dict[str, Any]:
    return {
        "window_start": figures.window_start, "window_end": figures.window_end,
        "reports": figures.reports, "reporters": figures.reporters,
        "fresh_reporters": figures.fresh_reporters,
        "median_reporter_age_ms": figures.median_reporter_age_ms, "burst": figures.burst,
        "overlap_permille": figures.overlap_permille,
        "signals": json.dumps(list(figures.signals)),
        "reporter_accounts": json.dumps(list(figures.reporter_accounts)),
    }  # fmt: skip


class SqlCampaignStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def signals(self, account_id: str, since: int) -> list[ReportSignal]:
        query = (
            sa.select(
                reports.c.report_id, reports.c.reporter_account,
                accounts.c.created_at.label("reporter_created_at"), reports.c.created_at,
            )
            .join(accounts, accounts.c.account_id == reports.c.reporter_account)
            .where(reports.c.sender_account == account_id, reports.c.created_at >= since)
            .order_by(reports.c.created_at, reports.c.report_id)
        )  # fmt: skip

        def work(conn: sa.Connection) -> list[ReportSignal]:
            return [
                ReportSignal(r.report_id, r.reporter_account, r.reporter_created_at, r.created_at)
                for r in conn.execute(query)
            ]

        return await self._db.read(work)

    async def other_targets(
        self, reporters: Sequence[str], besides: str, since: int
    ) -> dict[str, frozenset[str]]:
        wanted = list(dict.fromkeys(reporters))

        def work(conn: sa.Connection) -> dict[str, frozenset[str]]:
            found: dict[str, set[str]] = {r: set() for r in wanted}
            # In slices: a long IN list is refused by SQLite past its variable limit.
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    sa.select(reports.c.reporter_account, reports.c.sender_account)
                    .where(
                        reports.c.reporter_account.in_(wanted[start : start + 500]),
                        reports.c.sender_account != besides,
                        reports.c.created_at >= since,
                    )
                    .distinct()
                )
                for row in rows:
                    found[row.reporter_account].add(row.sender_account)
            return {r: frozenset(t) for r, t in found.items()}

        return await self._db.read(work)

    async def raise_flag(
        self,
        account_id: str,
        protected: bool,
        figures: CampaignFigures,
        now: int,
        audit: Callable[[int, bool], NewAuditEntry],
    ) -> tuple[CampaignFlagRecord, bool]:
        def work(conn: sa.Connection) -> tuple[CampaignFlagRecord, bool]:
            values = _figure_values(figures)
            row = conn.execute(
                sa.update(campaign_flags)
                .where(campaign_flags.c.account_id == account_id,
                       campaign_flags.c.status == "open")
                .values(protected=protected, updated_at=now, **values)
                .returning(*campaign_flags.c)
            ).first()  # fmt: skip
            created = row is None
            if row is None:
                row = conn.execute(
                    sa.insert(campaign_flags)
                    .values(account_id=account_id, status="open", protected=protected,
                            created_at=now, updated_at=now, **values)
                    .returning(*campaign_flags.c)
                ).one()  # fmt: skip
            flag = _flag(row)
            append_audit(conn, audit(flag.flag_id, created))
            return flag, created

        try:
            return await self._db.run(work)
        except IntegrityError:
            # Another report's guard opened the flag between our update and insert: this
            # report updates that one instead.
            return await self._db.run(work)

    async def open_flag(self, account_id: str) -> CampaignFlagRecord | None:
        query = sa.select(campaign_flags).where(
            campaign_flags.c.account_id == account_id, campaign_flags.c.status == "open"
        )

        def work(conn: sa.Connection) -> CampaignFlagRecord | None:
            row = conn.execute(query).first()
            return None if row is None else _flag(row)

        return await self._db.read(work)

    async def flags(self, status: str | None = None) -> list[CampaignFlagRecord]:
        query = sa.select(campaign_flags).order_by(campaign_flags.c.flag_id)
        if status is not None:
            query = query.where(campaign_flags.c.status == status)
        return await self._db.read(lambda conn: [_flag(r) for r in conn.execute(query)])

    async def decide(
        self, flag_id: int, status: str, by: str, note: str, now: int, audit: NewAuditEntry
    ) -> CampaignFlagRecord:
        def work(conn: sa.Connection) -> CampaignFlagRecord:
            current = conn.scalar(
                sa.select(campaign_flags.c.status).where(campaign_flags.c.flag_id == flag_id)
            )
            if current is None:
                raise HavenError(ErrorCode.NOT_FOUND, "no such campaign flag")
            if current != "open":
                raise HavenError(ErrorCode.CONFLICT, f"this flag was already {current}")
            row = conn.execute(
                sa.update(campaign_flags)
                .where(campaign_flags.c.flag_id == flag_id, campaign_flags.c.status == "open")
                .values(status=status, decided_at=now, decided_by=by[:100],
                        decision_note=note[:1000], updated_at=now)
                .returning(*campaign_flags.c)
            ).one()  # fmt: skip
            append_audit(conn, audit)
            return _flag(row)

        return await self._db.run(work)
