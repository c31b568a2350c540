from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import haven
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import Health
from haven.server.routes.common import State

router = APIRouter(tags=["health"])

_LOOPBACK = {"127.0.0.1", "::1"}


@router.get("/v1/health")
async def health(state: State) -> Health:
    """Liveness and the state of the database and the bus."""
    db_ok = await state.stores.db.ping()
    bus = state.bus.status
    return Health(
        status="ok" if db_ok and bus != "down" else "degraded",
        version=haven.__version__,
        database="ok" if db_ok else "down",
        bus=bus,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, state: State) -> Response:
    """Prometheus metrics, for scrapers on this machine only: even counts say something."""
    if request.client is None or request.client.host not in _LOOPBACK:
        raise HavenError(ErrorCode.NOT_FOUND, "no such resource")
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
