"""Sending envelopes, fetching what is queued for a device, and acknowledging it."""

from __future__ import annotations

from collections.abc import Sequence

from haven.core import b64, clock, franking, ids, limits
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import DeviceAddress, Envelope, SendRequest, SendResponse
from haven.server.state import ServerState
from haven.store.interfaces import Address, DeviceRecord, NewEnvelope, QueuedEnvelope


async def send(state: ServerState, sender: DeviceRecord, request: SendRequest) -> SendResponse:
    ciphertext = b64.decode(request.ciphertext)  # the wire model already proved it is base64
    cap = state.config.max_ciphertext_bytes
    if len(ciphertext) > cap:
        raise HavenError(
            ErrorCode.BODY_TOO_LARGE, f"the ciphertext is {len(ciphertext)} bytes; the cap is {cap}"
        )
    now = clock.now_ms()
    envelope = NewEnvelope(
        envelope_id=ids.new_id(),
        sender=Address(sender.account_id, sender.device_id),
        kind=request.kind,
        ciphertext=ciphertext,
        server_time=now,
        expires_at=now + state.config.message_ttl_seconds * 1000,
        franking_tag=None if request.franking_tag is None else b64.decode(request.franking_tag),
    )
    recipients = [Address(r.account_id, r.device_id) for r in request.recipients]
    await state.stores.queues.enqueue(envelope, recipients)
    state.metrics.messages_sent.inc()
    state.metrics.envelopes_queued.inc(len(recipients))
    # This process's listeners were handed the envelope when it was committed (the queue
    # store's on_queued hook); other processes' listeners still need waking.
    await state.bus.wake({r.device_id for r in recipients}, handed=True)
    return SendResponse(envelope_id=envelope.envelope_id, server_time=now)


def to_wire(queued: QueuedEnvelope, recipient: DeviceRecord, stamp_key: bytes) -> Envelope:
    """The envelope as delivered to `recipient`. A franked message also gets the server's
    delivery stamp: its MAC over commitment, sender, this recipient and time, which is what
    makes a later report of it verifiable."""
    tag = queued.franking_tag
    stamp = None
    if tag is not None:
        stamp = b64.encode(
            franking.stamp(
                stamp_key, tag, queued.envelope_id,
                (queued.sender.account_id, queued.sender.device_id),
                (recipient.account_id, recipient.device_id), queued.server_time,
            )
        )  # fmt: skip
    return Envelope(
        envelope_id=queued.envelope_id,
        sender=DeviceAddress(
            account_id=queued.sender.account_id, device_id=queued.sender.device_id
        ),
        kind=queued.kind,
        ciphertext=b64.encode(queued.ciphertext),
        server_time=queued.server_time,
        franking_tag=None if tag is None else b64.encode(tag),
        delivery_stamp=stamp,
    )


async def pending(
    state: ServerState,
    device: DeviceRecord,
    limit: int = limits.MAX_FETCH_BATCH,
    exclude: frozenset[str] = frozenset(),
    after_seq: int = 0,
) -> list[QueuedEnvelope]:
    return await state.stores.queues.pending(
        device.device_id, limit, clock.expiry_cutoff_ms(), exclude, after_seq
    )


async def long_poll(
    state: ServerState, device: DeviceRecord, wait_seconds: float, limit: int
) -> list[Envelope]:
    """Whatever is queued now; if nothing, wait up to `wait_seconds` for something to arrive."""
    deadline = clock.monotonic() + wait_seconds
    with state.bus.listen(device.device_id) as listener:
        if wait_seconds > 0:
            await state.bus.ready(device.device_id)
        while True:
            listener.clear()
            found = await pending(state, device, limit)
            remaining = deadline - clock.monotonic()
            if found or remaining <= 0 or listener.revoked:
                break
            await listener.wait(min(remaining, state.config.poll_seconds))
    state.metrics.envelopes_pushed.labels("poll").inc(len(found))
    return [to_wire(q, device, state.stamp_key) for q in found]


async def ack(state: ServerState, device: DeviceRecord, envelope_ids: Sequence[str]) -> int:
    acked = await state.stores.queues.ack(device.device_id, envelope_ids)
    state.metrics.envelopes_acked.inc(acked)
    return acked
