from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from haven.core import b64, ids, limits
from haven.core.wire import (
    ONE_TIME_KEY_CONTEXT,
    AckRequest,
    IdentityKeys,
    RegisterRequest,
    SendRequest,
    SignedKey,
    StreamAck,
    key_signing_message,
)

KEY = b64.encode(bytes(range(32)))
SIGNATURE = b64.encode(bytes(64))


def address() -> dict[str, str]:
    return {"account_id": ids.new_id(), "device_id": ids.new_id()}


def send(recipients: int, **extra: Any) -> dict[str, Any]:
    return {
        "recipients": [address() for _ in range(recipients)],
        "ciphertext": b64.encode(b"sealed"),
        "kind": "olm",
        **extra,
    }


def error_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in problem["loc"]) for problem in error.errors()}


def test_identity_keys_accept_32_byte_keys_padded_or_not() -> None:
    padded = KEY + "="
    keys = IdentityKeys(curve25519=KEY, ed25519=padded)
    assert b64.decode(keys.curve25519) == bytes(range(32))
    assert b64.decode(keys.ed25519) == bytes(range(32))


@pytest.mark.parametrize("size", [0, 31, 33, 47])
def test_identity_keys_reject_wrong_length(size: int) -> None:
    with pytest.raises(ValidationError, match="must decode to 32 bytes") as raised:
        IdentityKeys(curve25519=b64.encode(bytes(size)), ed25519=KEY)
    assert error_fields(raised.value) == {"curve25519"}


@pytest.mark.parametrize("text", ["not base64!", "Q", "A" * 43 + "-"])
def test_identity_keys_reject_non_base64(text: str) -> None:
    with pytest.raises(ValidationError, match="must be base64") as raised:
        IdentityKeys(curve25519=KEY, ed25519=text)
    assert error_fields(raised.value) == {"ed25519"}


def test_identity_keys_reject_oversized_text_before_decoding() -> None:
    with pytest.raises(ValidationError) as raised:
        IdentityKeys(curve25519=KEY, ed25519="A" * 65)
    assert error_fields(raised.value) == {"ed25519"}


def test_signed_key_requires_a_64_byte_signature() -> None:
    SignedKey(key_id="k1", key=KEY, signature=SIGNATURE)
    with pytest.raises(ValidationError, match="must decode to 64 bytes"):
        SignedKey(key_id="k1", key=KEY, signature=b64.encode(bytes(63)))


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (IdentityKeys, {"curve25519": KEY, "ed25519": KEY, "x25519": KEY}),
        (RegisterRequest, {"identity_keys": {"curve25519": KEY, "ed25519": KEY}, "invte": "x"}),
        (SendRequest, send(1, ttl=60)),
        (AckRequest, {"envelope_ids": [ids.new_id()], "all": True}),
    ],
)
def test_unknown_fields_are_rejected(model: type[Any], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    assert [problem["type"] for problem in raised.value.errors()] == ["extra_forbidden"]


def test_unknown_field_in_nested_model_is_rejected() -> None:
    data = send(1)
    data["recipients"][0]["server"] = "elsewhere"
    with pytest.raises(ValidationError) as raised:
        SendRequest.model_validate(data)
    assert error_fields(raised.value) == {"recipients.0.server"}


def test_send_request_needs_at_least_one_recipient() -> None:
    with pytest.raises(ValidationError) as raised:
        SendRequest.model_validate(send(0))
    assert error_fields(raised.value) == {"recipients"}


def test_send_request_recipient_count_upper_bound() -> None:
    assert len(SendRequest.model_validate(send(limits.MAX_RECIPIENTS)).recipients) == (
        limits.MAX_RECIPIENTS
    )
    with pytest.raises(ValidationError) as raised:
        SendRequest.model_validate(send(limits.MAX_RECIPIENTS + 1))
    assert error_fields(raised.value) == {"recipients"}


def test_send_request_rejects_bad_recipient_id() -> None:
    data = send(1)
    data["recipients"][0]["device_id"] = ids.new_id().upper()
    with pytest.raises(ValidationError) as raised:
        SendRequest.model_validate(data)
    assert error_fields(raised.value) == {"recipients.0.device_id"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ciphertext", ""),
        ("ciphertext", "not base64!"),
        ("kind", ""),
        ("kind", "k" * (limits.MAX_KIND_LENGTH + 1)),
    ],
)
def test_send_request_rejects_bad_body(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SendRequest.model_validate(send(1, **{field: value}))
    assert error_fields(raised.value) == {field}


def test_send_request_accepts_maximum_ciphertext() -> None:
    body = b64.encode(bytes(limits.MAX_CIPHERTEXT_BYTES))
    assert SendRequest.model_validate(send(1, ciphertext=body)).ciphertext == body


def test_ack_request_bounds() -> None:
    with pytest.raises(ValidationError):
        AckRequest(envelope_ids=[])
    most = [ids.new_id() for _ in range(limits.MAX_ACK_BATCH)]
    assert AckRequest(envelope_ids=most).envelope_ids == most
    with pytest.raises(ValidationError):
        AckRequest(envelope_ids=[*most, ids.new_id()])


def test_ack_request_rejects_malformed_ids() -> None:
    with pytest.raises(ValidationError) as raised:
        AckRequest(envelope_ids=[ids.new_id(), "1234", ids.new_id() + "\n"])
    assert error_fields(raised.value) == {"envelope_ids.1", "envelope_ids.2"}


def test_stream_ack_has_the_same_bounds_as_http_ack() -> None:
    with pytest.raises(ValidationError):
        StreamAck(type="ack", envelope_ids=[])
    too_many = [ids.new_id() for _ in range(limits.MAX_ACK_BATCH + 1)]
    with pytest.raises(ValidationError):
        StreamAck(type="ack", envelope_ids=too_many)


def test_key_signing_message_has_context_prefix() -> None:
    key = bytes(range(32))
    message = key_signing_message(key)
    assert ONE_TIME_KEY_CONTEXT == b"haven/one-time-key/v1\x00"
    assert message == b"haven/one-time-key/v1\x00" + key
    assert message != key  # domain separated from a signature over the bare key
