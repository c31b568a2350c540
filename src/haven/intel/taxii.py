"""Pulling shared intelligence from a TAXII 2.1 collection (another Haven, or any TAXII
server): every page of objects, read by the same STIX reader as files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from haven.intel.model import Origin
from haven.intel.parsers import Item, stix_objects

MEDIA = "application/taxii+json;version=2.1"
PAGE = 1000
MAX_PAGES = 10_000  # a peer that never stops paging is cut off


class TaxiiError(Exception):
    """The TAXII server could not be read; the message says why."""


async def pull(
    api_root: str,
    collection_id: str,
    user: str | None,
    password: str | None,
    added_after: str | None = None,
) -> list[Item]:
    base = api_root.rstrip("/") + "/"
    url = f"{base}collections/{collection_id}/objects/"
    auth = (user, password) if user is not None and password is not None else None
    items: list[Item] = []
    params: dict[str, Any] = {"limit": PAGE}
    if added_after:
        params["added_after"] = added_after
    async with httpx.AsyncClient(auth=auth, headers={"Accept": MEDIA}, timeout=60) as http:
        for _ in range(MAX_PAGES):
            try:
                response = await http.get(url, params=params)
            except httpx.HTTPError as exc:
                raise TaxiiError(f"cannot reach {url}: {exc}") from None
            if response.status_code != 200:
                raise TaxiiError(f"{url} answered {response.status_code}: {response.text[:200]}")
            try:
                envelope = response.json()
            except ValueError:
                raise TaxiiError(f"{url} did not answer with JSON") from None
            objects = envelope.get("objects", []) if isinstance(envelope, dict) else None
            if not isinstance(objects, list):
                raise TaxiiError(f"{url} answered something that is not a TAXII envelope")
            items.extend(_read(objects, url))
            if not envelope.get("more") or not envelope.get("next"):
                return items
            params = {**params, "next": envelope["next"]}
    raise TaxiiError(f"{url} kept paging past {MAX_PAGES} pages")


def _read(objects: list[Any], url: str) -> Iterator[Item]:
    def origin(number: int) -> Origin:
        return Origin(url, "TAXII", url, number)

    return stix_objects(objects, url, origin, by_reference=True)
