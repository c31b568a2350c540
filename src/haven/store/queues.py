"""Per-device envelope queues: one stored ciphertext, one queue row per recipient device."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.batching import Batcher
from haven.store.database import Database
from haven.store.interfaces import Address, NewEnvelope, QueuedEnvelope
from haven.store.tables import devices, envelopes, queue

_IN_CHUNK = 500  # ids per IN (...) list, well under every backend's parameter limit


def _unknown_recipients(unknown: Sequence[Address]) -> HavenError:
    return HavenError(
        ErrorCode.UNKNOWN_RECIPIENT,
        "no such device: nothing was sent",
        {"unknown": [{"account_id": a.account_id, "device_id": a.device_id} for a in unknown]},
    )


def delete_orphaned_envelopes(conn: sa.Connection, ids: Sequence[str]) -> None:
    """Drop envelopes no device is waiting for any more (the ciphertext is stored once)."""
    if not ids:
        return
    still_queued = sa.exists().where(queue.c.envelope_id == envelopes.c.envelope_id)
    conn.execute(sa.delete(envelopes).where(envelopes.c.envelope_id.in_(list(ids)), ~still_queued))


# Built once: the push loop runs this for every wake-up, and building and hashing a fresh
# statement each time cost more than running it.
_PENDING = (
    sa.select(
        queue.c.seq,
        envelopes.c.envelope_id,
        envelopes.c.sender_account,
        envelopes.c.sender_device,
        envelopes.c.kind,
        envelopes.c.ciphertext,
        envelopes.c.server_time,
        envelopes.c.franking_tag,
    )
    .join(envelopes, envelopes.c.envelope_id == queue.c.envelope_id)
    .where(
        queue.c.device_id == sa.bindparam("device_id"),
        envelopes.c.expires_at > sa.bindparam("now"),
        queue.c.seq > sa.bindparam("after_seq"),
    )
    .order_by(queue.c.seq)
    .limit(sa.bindparam("limit"))
)
_PENDING_EXCLUDING = _PENDING.where(
    queue.c.envelope_id.not_in(sa.bindparam("exclude", expanding=True))
)

_Send = tuple[NewEnvelope, list[Address]]
_Ack = tuple[str, list[str]]


def _insert_sends(conn: sa.Connection, sends: Sequence[_Send]) -> list[BaseException | None]:
    wanted = sorted({r.device_id for _, recipients in sends for r in recipients})
    owner: dict[str, str] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        rows = conn.execute(
            sa.select(devices.c.device_id, devices.c.account_id).where(
                devices.c.device_id.in_(wanted[start : start + _IN_CHUNK])
            )
        )
        owner.update({row.device_id: row.account_id for row in rows})
    outcomes: list[BaseException | None] = []
    good: list[_Send] = []
    for envelope, recipients in sends:
        unknown = [r for r in recipients if owner.get(r.device_id) != r.account_id]
        if unknown:
            outcomes.append(_unknown_recipients(unknown))
        else:
            outcomes.append(None)
            good.append((envelope, recipients))
    if good:
        conn.execute(
            sa.insert(envelopes),
            [
                {
                    "envelope_id": e.envelope_id,
                    "sender_account": e.sender.account_id,
                    "sender_device": e.sender.device_id,
                    "kind": e.kind,
                    "ciphertext": e.ciphertext,
                    "server_time": e.server_time,
                    "expires_at": e.expires_at,
                    "franking_tag": e.franking_tag,
                }
                for e, _ in good
            ],
        )
        conn.execute(
            sa.insert(queue),
            [
                {"device_id": r.device_id, "envelope_id": e.envelope_id}
                for e, recipients in good
                for r in recipients
            ],
        )
    return outcomes


class SqlQueueStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sends: Batcher[_Send, None] = Batcher(self._write_sends)
        self._acks: Batcher[_Ack, int] = Batcher(self._write_acks)

    async def enqueue(self, envelope: NewEnvelope, recipients: Sequence[Address]) -> None:
        await self._sends.submit((envelope, list(dict.fromkeys(recipients))))

    async def _write_sends(self, sends: Sequence[_Send]) -> list[BaseException | None]:
        """Write a batch of sends in one transaction; a send with an unknown recipient fails
        alone and writes nothing. If the batch hits a race (a recipient device removed
        meanwhile), every send is retried in a transaction of its own."""
        try:
            return await self._db.run(lambda conn: _insert_sends(conn, sends))
        except IntegrityError:
            if len(sends) == 1:
                return [_unknown_recipients(sends[0][1])]
        outcomes: list[BaseException | None] = []
        for send in sends:
            outcomes.extend(await self._write_sends([send]))
        return outcomes

    async def pending(
        self,
        device_id: str,
        limit: int,
        now: int,
        exclude: frozenset[str] = frozenset(),
        after_seq: int = 0,
    ) -> list[QueuedEnvelope]:
        query = _PENDING_EXCLUDING if exclude else _PENDING
        params = {"device_id": device_id, "now": now, "after_seq": after_seq, "limit": limit}
        if exclude:
            params["exclude"] = sorted(exclude)

        def work(conn: sa.Connection) -> list[QueuedEnvelope]:
            return [
                QueuedEnvelope(
                    seq=row.seq,
                    envelope_id=row.envelope_id,
                    sender=Address(row.sender_account, row.sender_device),
                    kind=row.kind,
                    ciphertext=row.ciphertext,
                    server_time=row.server_time,
                    franking_tag=None if row.franking_tag is None else bytes(row.franking_tag),
                )
                for row in conn.execute(query, params)
            ]

        return await self._db.read(work)

    async def ack(self, device_id: str, envelope_ids: Sequence[str]) -> int:
        return await self._acks.submit((device_id, list(dict.fromkeys(envelope_ids))))

    async def _write_acks(self, acks: Sequence[_Ack]) -> list[int | BaseException]:
        """Apply a batch of acks in one transaction; an ack naming an envelope that is not
        waiting for its device is refused alone and changes nothing."""

        def work(conn: sa.Connection) -> list[int | BaseException]:
            wanted = sorted({i for _, ids in acks for i in ids})
            seq_of: dict[tuple[str, str], int] = {}
            for start in range(0, len(wanted), _IN_CHUNK):
                rows = conn.execute(
                    sa.select(queue.c.seq, queue.c.device_id, queue.c.envelope_id).where(
                        queue.c.envelope_id.in_(wanted[start : start + _IN_CHUNK])
                    )
                )
                seq_of.update({(r.device_id, r.envelope_id): r.seq for r in rows})
            outcomes: list[int | BaseException] = []
            doomed: set[int] = set()
            touched: set[str] = set()
            for device_id, ids in acks:
                unknown = [i for i in ids if (device_id, i) not in seq_of]
                if unknown:
                    outcomes.append(
                        HavenError(
                            ErrorCode.UNKNOWN_ENVELOPE,
                            "these envelopes are not waiting for this device: "
                            "nothing was acknowledged",
                            {"unknown": unknown},
                        )
                    )
                    continue
                # Two acks in one batch may name the same envelope: the first one takes it.
                seqs = {seq_of.pop((device_id, i)) for i in ids}
                doomed |= seqs
                touched.update(ids)
                outcomes.append(len(ids))
            ordered = sorted(doomed)
            for start in range(0, len(ordered), _IN_CHUNK):
                conn.execute(
                    sa.delete(queue).where(queue.c.seq.in_(ordered[start : start + _IN_CHUNK]))
                )
            touched_ids = sorted(touched)
            for start in range(0, len(touched_ids), _IN_CHUNK):
                delete_orphaned_envelopes(conn, touched_ids[start : start + _IN_CHUNK])
            return outcomes

        return await self._db.run(work)

    async def purge_expired(self, now: int) -> int:
        def work(conn: sa.Connection) -> int:
            expired = sa.select(envelopes.c.envelope_id).where(envelopes.c.expires_at <= now)
            conn.execute(sa.delete(queue).where(queue.c.envelope_id.in_(expired)))
            return conn.execute(sa.delete(envelopes).where(envelopes.c.expires_at <= now)).rowcount

        return await self._db.run(work)
