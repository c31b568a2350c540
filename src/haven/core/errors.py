"""Error codes shared by server and client: `{"error": {"code", "message"}}` on the wire."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    INVALID_JSON = "invalid_json"
    VALIDATION_FAILED = "validation_failed"
    BODY_TOO_LARGE = "body_too_large"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_ENVELOPE = "unknown_envelope"
    INVITE_REQUIRED = "invite_required"
    INVITE_INVALID = "invite_invalid"
    IDENTITY_KEY_IN_USE = "identity_key_in_use"
    TOO_MANY_DEVICES = "too_many_devices"
    TOO_MANY_KEYS = "too_many_keys"
    BAD_SIGNATURE = "bad_signature"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMITED = "rate_limited"
    CONFLICT = "conflict"
    ACCOUNT_SUSPENDED = "account_suspended"
    ACCOUNT_RESTRICTED = "account_restricted"
    REGISTRATION_LOCK = "registration_lock"
    HEADERS_TOO_LARGE = "headers_too_large"
    STORAGE_FULL = "storage_full"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal_error"


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.VALIDATION_FAILED: 422,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNKNOWN_RECIPIENT: 404,
    ErrorCode.UNKNOWN_DEVICE: 404,
    ErrorCode.UNKNOWN_ENVELOPE: 404,
    ErrorCode.INVITE_REQUIRED: 403,
    ErrorCode.INVITE_INVALID: 403,
    ErrorCode.IDENTITY_KEY_IN_USE: 409,
    ErrorCode.TOO_MANY_DEVICES: 409,
    ErrorCode.TOO_MANY_KEYS: 409,
    ErrorCode.BAD_SIGNATURE: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.CONFLICT: 409,
    ErrorCode.ACCOUNT_SUSPENDED: 403,
    ErrorCode.ACCOUNT_RESTRICTED: 403,
    ErrorCode.REGISTRATION_LOCK: 403,
    ErrorCode.HEADERS_TOO_LARGE: 431,
    ErrorCode.STORAGE_FULL: 507,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}


def http_status(code: ErrorCode) -> int:
    return _STATUS[code]


class HavenError(Exception):
    """A failure a caller should see, with a stable code and a human sentence.

    Raised anywhere below the edge; the edge turns it into the wire error. `details` must hold
    only data safe to show the caller (never secrets, never another account's data).
    """

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    @property
    def status(self) -> int:
        return http_status(self.code)

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}
