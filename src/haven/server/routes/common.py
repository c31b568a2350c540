"""Pieces every route module uses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path

from haven.core.ids import ID_PATTERN
from haven.core.wire import ErrorBody
from haven.server.state import ServerState, get_state

State = Annotated[ServerState, Depends(get_state)]
PathId = Annotated[str, Path(pattern=ID_PATTERN)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error bodies a route can return."""
    return {status: {"model": ErrorBody} for status in (401, 422, 429, *statuses)}
