"""Pieces every route module uses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path
from starlette.requests import HTTPConnection

from haven.core.ids import ID_PATTERN
from haven.core.wire import ErrorBody
from haven.server.state import ServerState, get_state


async def _state(connection: HTTPConnection) -> ServerState:
    # A coroutine on purpose: FastAPI runs a plain-function dependency on a worker thread,
    # a thread hop (and GIL hand-off) on every request.
    return get_state(connection)


State = Annotated[ServerState, Depends(_state)]
PathId = Annotated[str, Path(pattern=ID_PATTERN)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error bodies a route can return."""
    return {status: {"model": ErrorBody} for status in (401, 422, 429, *statuses)}
