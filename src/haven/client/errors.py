"""What talking to the server can go wrong with (shared by the API client and the relay
tunnel)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """The server refused a request; `code` is its error code."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None):
        super().__init__(f"{message} ({code})")
        self.status = status
        self.code = code
        self.details = details or {}


class Unreachable(Exception):
    """The server could not be reached (network down, blocked, or not running)."""
