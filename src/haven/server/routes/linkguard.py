"""Link checks: the hash-prefix list and full hashes for one prefix. Clients send only a
list version and, on a local hit, a hash prefix: never a URL or a full hash."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response

from haven.core import b64, limits
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import LinkHash, LinkHashes, LinkIndicator, LinkListUpdate, LinkSource
from haven.server.auth import CurrentDevice
from haven.server.routes.common import State, errors
from haven.store.interfaces import IntelRecord

router = APIRouter(prefix="/v1/linkguard", tags=["link checks"])

_PREFIX = re.compile(
    f"[0-9a-f]{{{2 * limits.LINK_PREFIX_MIN_BYTES},{2 * limits.LINK_PREFIX_MAX_BYTES}}}"
)


@router.get("/list", responses=errors(400))
async def hash_list(
    _: CurrentDevice,
    state: State,
    version: Annotated[int, Query(ge=0, le=2**62, description="The version held; 0 for none")] = 0,
) -> LinkListUpdate:
    """How to update from `version` to the current list (a full reset when needed)."""
    return await state.link_lists.update_for(version)


@router.get("/hashes", responses=errors(400))
async def full_hashes(
    response: Response,
    _: CurrentDevice,
    state: State,
    prefix: Annotated[str, Query(max_length=2 * limits.LINK_PREFIX_MAX_BYTES)],
) -> LinkHashes:
    """The listed full hashes that start with `prefix` (hex, 4 to 32 bytes), with the
    indicators and sources behind each, and how long the answer may be cached."""
    if len(prefix) % 2 or not _PREFIX.fullmatch(prefix):
        raise HavenError(
            ErrorCode.BAD_REQUEST,
            f"prefix must be {limits.LINK_PREFIX_MIN_BYTES} to {limits.LINK_PREFIX_MAX_BYTES} "
            "bytes of lower-case hex",
        )
    found = await state.stores.linkguard.matches(bytes.fromhex(prefix))
    response.headers["Cache-Control"] = f"private, max-age={limits.LINK_HASH_CACHE_SECONDS}"
    return LinkHashes(
        prefix=prefix,
        cache_seconds=limits.LINK_HASH_CACHE_SECONDS,
        matches=[
            LinkHash(hash=b64.encode(m.full_hash), indicators=[_indicator(r) for r in m.indicators])
            for m in found
        ],
    )


def _indicator(record: IntelRecord) -> LinkIndicator:
    shared = [s for s in record.sources if s.tlp != "red"]
    return LinkIndicator(
        type=record.kind,
        value=record.value,
        sources=[LinkSource(publisher=s.publisher, report=s.report) for s in shared],
    )
