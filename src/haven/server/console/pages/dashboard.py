"""The dashboard: what the service holds and how delivery is going, at a glance. Counts
only; each figure links to the page where it can be acted on."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haven.safety import transparency
from haven.server.console import relayfile
from haven.server.console.rendering import page
from haven.server.console.sessions import Session
from haven.server.metrics import Metrics
from haven.server.routes.common import State

router = APIRouter(prefix="/admin", include_in_schema=False)


@dataclass(frozen=True)
class Delivery:
    queued: int  # queue entries created since this process started
    pushed: int
    acked: int

    @property
    def rate(self) -> str:
        if not self.queued:
            return "nothing sent yet"
        return f"{min(self.acked / self.queued, 1.0):.0%} acknowledged"


def delivery(metrics: Metrics) -> Delivery:
    def total(name: str) -> int:
        found = 0.0
        for family in metrics.registry.collect():
            for sample in family.samples:
                if sample.name == name:
                    found += sample.value
        return int(found)

    return Delivery(
        total("haven_envelopes_queued_total"),
        total("haven_envelopes_pushed_total"),
        total("haven_envelopes_acked_total"),
    )


@router.get("")
async def dashboard(request: Request, _: Session, state: State) -> Response:
    counts = await state.stores.overview.counts()
    published = transparency.read_published(state.config.data_dir, "json") is not None
    return page(
        request, "dashboard.html", counts=counts, delivery=delivery(state.metrics),
        relay=relayfile.read(state.config.data_dir), audit_entries=await state.stores.audit.count(),
        published=published,
    )  # fmt: skip
