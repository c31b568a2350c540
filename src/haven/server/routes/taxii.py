"""TAXII 2.1 (read-only) for peer organisations: discovery, one API root, one collection of
Haven's shared indicators, objects with `added_after` and `limit`/`next` paging. Peers
authenticate with HTTP Basic (peer name + token from `haven admin peer create`); the token's
digest is compared in constant time. TLP:RED never leaves."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.intel.export import NAMESPACE, stix_indicator, timestamp
from haven.server.routes.common import State, errors
from haven.server.state import ServerState, get_state

MEDIA = "application/taxii+json;version=2.1"


class TaxiiResponse(JSONResponse):
    """TAXII 2.1 resources have their own media type (and the document says so)."""

    media_type = MEDIA


router = APIRouter(prefix="/taxii2", tags=["taxii"], default_response_class=TaxiiResponse)
COLLECTION_ID = str(uuid.uuid5(NAMESPACE, "haven-indicators"))
MAX_PAGE = 1000
_basic = HTTPBasic(auto_error=False, description="TAXII peer name and token")


async def current_peer(
    request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> str:
    state: ServerState = get_state(request)
    if credentials is not None:
        stored = await state.stores.peers.digest(credentials.username)
        offered = ids.token_digest(credentials.password)
        if stored is not None and ids.digests_match(stored, offered):
            return credentials.username
    raise HavenError(ErrorCode.UNAUTHORIZED, "a TAXII peer name and token are required")


Peer = Annotated[str, Depends(current_peer)]


def _taxii(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return TaxiiResponse(body, headers=headers)


def _collection() -> dict[str, Any]:
    return {
        "id": COLLECTION_ID,
        "title": "Haven: surveillance-for-hire indicators",
        "description": "Indicators about spyware vendors and mercenary hackers, with sources.",
        "can_read": True,
        "can_write": False,
        "media_types": ["application/stix+json;version=2.1"],
    }


@router.get("/")
async def discovery(request: Request, _: Peer) -> JSONResponse:
    root = str(request.url_for("api_root"))
    return _taxii({"title": "Haven", "default": root, "api_roots": [root]})


@router.get("/api/", name="api_root")
async def api_root(_: Peer) -> JSONResponse:
    return _taxii(
        {
            "title": "Haven shared intelligence",
            "versions": [MEDIA],
            "max_content_length": 10_485_760,
        }
    )


@router.get("/api/collections/")
async def collections(_: Peer) -> JSONResponse:
    return _taxii({"collections": [_collection()]})


def _known(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise HavenError(ErrorCode.NOT_FOUND, "no such collection")


@router.get("/api/collections/{collection_id}/", responses=errors(404))
async def collection(collection_id: str, _: Peer) -> JSONResponse:
    _known(collection_id)
    return _taxii(_collection())


def _parse_time(value: str | None) -> int:
    if not value:
        return -1
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HavenError(ErrorCode.BAD_REQUEST, "added_after must be an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


@router.get("/api/collections/{collection_id}/objects/", responses=errors(400, 404))
async def objects(
    collection_id: str,
    _: Peer,
    state: State,
    added_after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> JSONResponse:
    _known(collection_id)
    try:
        offset = int(next_) if next_ else 0
    except ValueError:
        raise HavenError(
            ErrorCode.BAD_REQUEST, "next must be a token from a previous page"
        ) from None
    after = _parse_time(added_after)
    page = await state.stores.intel.added_after(after, limit + 1, offset)
    more = len(page) > limit
    page = page[:limit]
    stix = []
    for item in page:
        moment = timestamp(dt.datetime.fromtimestamp(item.added_at / 1000, tz=dt.UTC))
        indicator = stix_indicator(item.record, moment)
        if indicator is not None:
            stix.append(indicator)
    body: dict[str, Any] = {"more": more, "objects": stix}
    if more:
        body["next"] = str(offset + limit)
    headers = {}
    if page:
        first = dt.datetime.fromtimestamp(page[0].added_at / 1000, tz=dt.UTC)
        last = dt.datetime.fromtimestamp(page[-1].added_at / 1000, tz=dt.UTC)
        headers = {
            "X-TAXII-Date-Added-First": timestamp(first),
            "X-TAXII-Date-Added-Last": timestamp(last),
        }
    return _taxii(body, headers)
