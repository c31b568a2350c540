"""Prometheus metrics. Counts only: nothing that names an account, a device or an address."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages_sent = Counter(
            "haven_messages_sent", "Messages accepted for delivery", registry=self.registry
        )
        self.envelopes_queued = Counter(
            "haven_envelopes_queued", "Per-device queue entries created", registry=self.registry
        )
        self.envelopes_pushed = Counter(
            "haven_envelopes_pushed", "Envelopes handed to devices", ["via"], registry=self.registry
        )
        self.envelopes_acked = Counter(
            "haven_envelopes_acked", "Envelopes acknowledged by devices", registry=self.registry
        )
        self.streams = Gauge(
            "haven_streams_open", "WebSocket delivery streams open", registry=self.registry
        )
        self.accounts_created = Counter(
            "haven_accounts_created", "Accounts registered", registry=self.registry
        )
        self.attachments_stored = Counter(
            "haven_attachments_stored", "Attachments uploaded", registry=self.registry
        )
        self.rejected = Counter(
            "haven_requests_rejected",
            "Requests refused, by error code",
            ["code"],
            registry=self.registry,
        )
