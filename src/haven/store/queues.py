"""Per-device envelope queues: one stored ciphertext, one queue row per recipient device."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.batching import Batcher
from haven.store.database import Database
from haven.store.interfaces import Address, NewEnvelope, QueuedEnvelope
from haven.store.tables import devices, envelopes, queue

log = logging.getLogger(__name__)

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
# (recipient device id, the envelope as queued for it), in queue order.
Queued = list[tuple[str, QueuedEnvelope]]
QueuedHook = Callable[[Queued], None]

# The insert hands back each queue row's position, so what was just queued can be given to
# a connected recipient without reading it back.
_INSERT_QUEUE = sa.insert(queue).returning(queue.c.seq, sort_by_parameter_order=True)


_OWNERS = sa.select(devices.c.device_id, devices.c.account_id).where(
    devices.c.device_id.in_(sa.bindparam("ids", expanding=True))
)
# Device ids are never reused and a device never changes account, so which account owns a
# device can be remembered. A device removed since is still refused: its queue rows would
# break the foreign key, and the batch is then redone with a fresh look (`_write_sends`).
_MAX_KNOWN_OWNERS = 100_000


def _insert_sends(
    conn: sa.Connection, sends: Sequence[_Send], queued: Queued, owner: dict[str, str]
) -> list[BaseException | None]:
    """Write the sends whose recipients all exist; append what was queued to `queued`.
    `owner` (device id -> account id) is what is known already, and learns the rest."""
    wanted = sorted({r.device_id for _, recipients in sends for r in recipients} - owner.keys())
    if len(owner) + len(wanted) > _MAX_KNOWN_OWNERS:
        owner.clear()
    for start in range(0, len(wanted), _IN_CHUNK):
        rows = conn.execute(_OWNERS, {"ids": wanted[start : start + _IN_CHUNK]})
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
        targets = [(r.device_id, e) for e, recipients in good for r in recipients]
        seqs = conn.execute(
            _INSERT_QUEUE,
            [{"device_id": device_id, "envelope_id": e.envelope_id} for device_id, e in targets],
        ).scalars()
        queued.extend(
            (
                device_id,
                QueuedEnvelope(
                    seq=seq, envelope_id=e.envelope_id, sender=e.sender, kind=e.kind,
                    ciphertext=e.ciphertext, server_time=e.server_time,
                    franking_tag=e.franking_tag,
                ),
            )
            for (device_id, e), seq in zip(targets, seqs, strict=True)
        )  # fmt: skip
    return outcomes


class SqlQueueStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sends: Batcher[_Send, None] = Batcher(self._write_sends)
        self._acks: Batcher[_Ack, int] = Batcher(self._write_acks)
        self._queued_hooks: list[QueuedHook] = []
        self._owners: dict[str, str] = {}

    def on_queued(self, hook: QueuedHook) -> None:
        """Call `hook(queued)` after every commit that queued envelopes, with them in queue
        order, before any of their senders hears that the send succeeded. Commits from this
        store reach the hook one at a time, in the order they were made."""
        self._queued_hooks.append(hook)

    async def enqueue(self, envelope: NewEnvelope, recipients: Sequence[Address]) -> None:
        await self._sends.submit((envelope, list(dict.fromkeys(recipients))))

    async def _write_sends(
        self, sends: Sequence[_Send], known_owners: bool = True
    ) -> list[BaseException | None]:
        """Write a batch of sends in one transaction; a send with an unknown recipient fails
        alone and writes nothing. If the batch hits a race (a recipient device removed
        meanwhile, or since its owner was remembered), every send is retried in a
        transaction of its own, looking every recipient up afresh."""
        queued: Queued = []
        owners = self._owners if known_owners else {}
        try:
            outcomes = await self._db.run(lambda conn: _insert_sends(conn, sends, queued, owners))
        except IntegrityError:
            self._owners.clear()
            if len(sends) == 1 and not known_owners:
                return [_unknown_recipients(sends[0][1])]
        else:
            if queued:
                self._announce(queued)
            return outcomes
        outcomes = []
        for send in sends:
            outcomes.extend(await self._write_sends([send], known_owners=False))
        return outcomes

    def _announce(self, queued: Queued) -> None:
        for hook in self._queued_hooks:
            try:
                hook(queued)
            except Exception:  # the sends are committed: they must not be reported as failed
                log.exception("on_queued hook failed; recipients will find these by polling")

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
