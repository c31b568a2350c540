"""The v1 wire models (`haven.core.wire`), as the server reads request bodies and stream
frames and as clients read answers: `model_validate_json` on bytes from the network.

The only exception allowed out is pydantic's `ValidationError` (the server turns it into a
422). What validates must survive a dump and a second validation unchanged, and base64
fields the server decodes after validation ("the wire model already proved it is base64")
must decode, to the sizes their validators promise.

Input: the name of a model, a newline, then the JSON (`SendRequest\\n{...}`; the seeds look
like that). Anything else is read whole by the model its first byte picks, so no input is
wasted on a mangled name.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from haven.core import b64, wire

# Every model in the module, and the union the server reads /v1/stream frames with.
MODELS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(cls)
    for name, cls in sorted(vars(wire).items())
    if inspect.isclass(cls) and issubclass(cls, wire.Model) and cls is not wire.Model
}
MODELS["StreamFrame"] = TypeAdapter(wire.StreamAck | wire.StreamSend)
_ORDER = sorted(MODELS)


def _pick(data: bytes) -> tuple[TypeAdapter[Any], bytes]:
    name, newline, body = data.partition(b"\n")
    adapter = MODELS.get(name.decode("ascii", "replace")) if newline else None
    if adapter is not None:
        return adapter, body
    return MODELS[_ORDER[data[0] % len(_ORDER)]], data


def _decodes(text: str, size: int | None = None) -> None:
    raw = b64.decode(text)  # a Base64Error here escapes: the validator let bad base64 in
    assert size is None or len(raw) == size, (text, size)


def _check_binary_fields(value: BaseModel) -> None:
    if isinstance(value, wire.IdentityKeys):
        _decodes(value.curve25519, 32)
        _decodes(value.ed25519, 32)
    elif isinstance(value, wire.SignedKey):
        _decodes(value.key, 32)
        _decodes(value.signature, 64)
    elif isinstance(value, wire.SendRequest):
        _decodes(value.ciphertext)
        if value.franking_tag is not None:
            _decodes(value.franking_tag, 32)
    for field in type(value).model_fields:
        child = getattr(value, field)
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, BaseModel):
                _check_binary_fields(item)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    adapter, body = _pick(data)
    try:
        value = adapter.validate_json(body)
    except ValidationError:
        return
    dumped = adapter.dump_json(value)
    again = adapter.validate_json(dumped)
    assert adapter.dump_json(again) == dumped, "a valid message changed on a round trip"
    if isinstance(value, BaseModel):
        _check_binary_fields(value)
