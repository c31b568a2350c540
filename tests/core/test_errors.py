from __future__ import annotations

import pytest

from haven.core.errors import ErrorCode, HavenError, http_status


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_an_http_error_status(code: ErrorCode) -> None:
    status = http_status(code)
    assert 400 <= status <= 599
    assert HavenError(code, "x").status == status


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.VALIDATION_FAILED, 422),
        (ErrorCode.UNAUTHORIZED, 401),
        (ErrorCode.FORBIDDEN, 403),
        (ErrorCode.NOT_FOUND, 404),
        (ErrorCode.BODY_TOO_LARGE, 413),
        (ErrorCode.RATE_LIMITED, 429),
        (ErrorCode.UNAVAILABLE, 503),
        (ErrorCode.INTERNAL, 500),
    ],
)
def test_well_known_statuses(code: ErrorCode, status: int) -> None:
    assert http_status(code) == status


def test_codes_are_distinct_stable_strings() -> None:
    values = [code.value for code in ErrorCode]
    assert len(set(values)) == len(values)
    assert ErrorCode.INTERNAL.value == "internal_error"
    assert ErrorCode.RATE_LIMITED.value == "rate_limited"


def test_to_wire_without_details_has_no_details_key() -> None:
    error = HavenError(ErrorCode.NOT_FOUND, "no such device")
    assert error.to_wire() == {"error": {"code": "not_found", "message": "no such device"}}
    assert str(error) == "no such device"


def test_to_wire_with_details() -> None:
    details = {"unknown": [{"account_id": "a", "device_id": "b"}]}
    error = HavenError(ErrorCode.UNKNOWN_RECIPIENT, "unknown recipient", details)
    assert error.to_wire() == {
        "error": {
            "code": "unknown_recipient",
            "message": "unknown recipient",
            "details": details,
        }
    }


def test_empty_details_are_omitted() -> None:
    error = HavenError(ErrorCode.BAD_REQUEST, "bad", {})
    assert "details" not in error.to_wire()["error"]
