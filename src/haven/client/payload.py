"""What travels inside the encryption: message payloads, and the envelope framing around
Olm and Megolm ciphertext. Everything parsed here came from the network: validated strictly.

Payload types:
- `text`: a message in a conversation (a 1:1 peer's account id, or a group id);
- `room_key`: a Megolm session key for a group, sent over Olm to each member device;
- `group`: a group's name and member list (groups live only on the clients);
- `verify`: a step of an interactive emoji (SAS) verification between two devices.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from haven.crypto.errors import DecryptionFailed

ENVELOPE_KIND_OLM = "olm"
ENVELOPE_KIND_MEGOLM = "megolm"
_FRAME_VERSION = 1

Hex32 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttachmentRef(Model):
    attachment_id: Hex32
    name: Annotated[str, Field(max_length=255)]
    size: Annotated[int, Field(ge=0)]
    key: str  # base64 AES-256 key
    nonce: str  # base64 GCM nonce
    sha256: str  # base64 digest of the ciphertext


class Text(Model):
    """One message, as the sender's device wrote it."""

    v: Literal[1] = 1
    type: Literal["text"] = "text"
    message_id: Hex32  # the same on every device: receivers drop repeats by it
    conversation: Annotated[str, Field(max_length=64)]  # peer account id (1:1) or group id
    body: Annotated[str, Field(max_length=64 * 1024)]
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=10)
    franking_key: str  # base64; reveals the plaintext's commitment if reported
    sent_at: int


class RoomKey(Model):
    v: Literal[1] = 1
    type: Literal["room_key"] = "room_key"
    group_id: Hex32
    session_id: Annotated[str, Field(max_length=128)]
    session_key: Annotated[str, Field(max_length=4096)]


class GroupUpdate(Model):
    v: Literal[1] = 1
    type: Literal["group"] = "group"
    group_id: Hex32
    name: Annotated[str, Field(min_length=1, max_length=100)]
    members: list[Hex32] = Field(min_length=1, max_length=1000)
    version: Annotated[int, Field(ge=1)]  # a member applies only newer versions


class Verify(Model):
    """One step of an interactive SAS verification between two devices."""

    v: Literal[1] = 1
    type: Literal["verify"] = "verify"
    txn: Hex32
    step: Literal["start", "accept", "key", "mac", "cancel"]
    public_key: Annotated[str, Field(max_length=64)] | None = None
    commitment: Annotated[str, Field(max_length=64)] | None = None
    mac: Annotated[str, Field(max_length=128)] | None = None


AnyPayload = Text | RoomKey | GroupUpdate | Verify
Payload = Annotated[AnyPayload, Field(discriminator="type")]
_payload: TypeAdapter[AnyPayload] = TypeAdapter(Payload)


def franking_content(text: Text) -> bytes:
    """What the franking commitment covers: the whole message except the key itself."""
    return text.model_dump_json(exclude={"franking_key"}).encode()


def encode_payload(payload: AnyPayload) -> bytes:
    return payload.model_dump_json().encode()


def decode_payload(plaintext: bytes) -> AnyPayload:
    try:
        return _payload.validate_json(plaintext)
    except ValidationError:
        raise DecryptionFailed("the decrypted message is not a valid Haven message") from None


def frame_olm(message_type: int, ciphertext: bytes) -> bytes:
    """Envelope bytes for an Olm message: version, message type, ciphertext."""
    return bytes([_FRAME_VERSION, message_type]) + ciphertext


def unframe_olm(envelope: bytes) -> tuple[int, bytes]:
    if len(envelope) < 3 or envelope[0] != _FRAME_VERSION or envelope[1] not in (0, 1):
        raise DecryptionFailed("not a Haven Olm envelope")
    return envelope[1], envelope[2:]


def frame_megolm(session_id: str, ciphertext: bytes) -> bytes:
    """Envelope bytes for a group message: version, session id (length-prefixed), ciphertext."""
    sid = session_id.encode("ascii")
    return bytes([_FRAME_VERSION, len(sid)]) + sid + ciphertext


def unframe_megolm(envelope: bytes) -> tuple[str, bytes]:
    if len(envelope) < 3 or envelope[0] != _FRAME_VERSION:
        raise DecryptionFailed("not a Haven group envelope")
    length = envelope[1]
    sid, ciphertext = envelope[2 : 2 + length], envelope[2 + length :]
    if len(sid) != length or not ciphertext:
        raise DecryptionFailed("truncated group envelope")
    try:
        return sid.decode("ascii"), ciphertext
    except UnicodeDecodeError:
        raise DecryptionFailed("malformed group envelope") from None
