"""Link checks on the device. The block list lives here as 4-byte hash prefixes; a link is
looked up locally, and only on a prefix hit is the server asked for the full hashes behind
that prefix. The server never sees the link, nor a full hash of it.

The list is kept in its own file in the profile directory (it is the same public list for
every user of the server, so it is not sealed with the profile), replaced atomically.
"""

from __future__ import annotations

import json
import struct
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from haven.client.api import HavenApi, Unreachable
from haven.core import b64, limits, wire
from haven.crypto.keystore import atomic_write
from haven.linkguard import (
    PrefixSet,
    RiceDeltas,
    RiceError,
    apply,
    canonicalize,
)
from haven.linkguard.lookalike import COMMON_NAMES, LookalikeGuard

LIST_FILE = "linkguard.list"
REFRESH_SECONDS = 30 * 60
_HEADER = struct.Struct(">4sI")  # magic, header length; then a JSON header; then prefixes
_MAGIC = b"HLG1"
_CHECKED_SCHEMES = ("http", "https")

Status = Literal["clean", "blocked", "invalid"]


@dataclass(frozen=True)
class Verdict:
    url: str
    status: Status
    reason: str = ""
    sources: tuple[str, ...] = ()  # "publisher: report" for each source behind a block
    lookalike: str | None = None  # the protected name the host imitates (a warning)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "verdict": self.status,
            "reason": self.reason,
            "sources": list(self.sources),
            "lookalike": self.lookalike,
        }


@dataclass
class _LocalList:
    version: int = 0
    fetched_at: float = 0.0
    prefixes: PrefixSet = field(default_factory=PrefixSet)


class LinkChecker:
    def __init__(self, directory: Path, server: str) -> None:
        self._path = directory / LIST_FILE
        self._list = _load(self._path)
        own = urlsplit(server).hostname or ""
        names = [*COMMON_NAMES, own] if own and "." in own else list(COMMON_NAMES)
        self._lookalikes = LookalikeGuard(names)
        self._hashes: dict[bytes, tuple[float, wire.LinkHashes]] = {}

    @property
    def version(self) -> int:
        return self._list.version

    @property
    def updated_at(self) -> float | None:
        """When the list was last brought up to date (seconds since the epoch), if ever."""
        return self._list.fetched_at or None

    async def refresh(self, api: HavenApi, force: bool = False) -> None:
        """Bring the local list up to date (a diff, or a full reset when needed)."""
        if not force and time.time() - self._list.fetched_at < REFRESH_SECONDS:
            return
        update = await api.link_list(self._list.version)
        try:
            values = _follow(self._list.prefixes, update)
        except RiceError:
            # The local list and the server disagree (corrupt file, server restored from
            # a backup): start again from the whole list.
            update = await api.link_list(0)
            values = _follow(PrefixSet(), update)
        self._list = _LocalList(update.version, time.time(), PrefixSet.from_values(values))
        self._hashes.clear()
        _save(self._path, self._list)

    async def check(self, url: str, api: HavenApi) -> Verdict:
        """The verdict for one link; never raises for bad input (a defined verdict)."""
        shown = url[:200]
        if len(url) > limits.MAX_LINK_CHARS:
            return Verdict(shown, "invalid", "longer than a link can be")
        canonical = canonicalize(url)
        scheme = canonical.split("://", 1)[0] if "://" in canonical else ""
        if not canonical or scheme not in _CHECKED_SCHEMES:
            return Verdict(shown, "invalid", "not a web link (only http and https are opened)")
        host = urlsplit(canonical).hostname or ""
        imitated = self._lookalikes.check(host)
        lookalike = None if imitated is None else imitated.imitates
        hits = self._list.prefixes.matches(url)
        if not hits:
            return Verdict(shown, "clean", lookalike=lookalike)
        try:
            listed = await self._listed(hits, api)
        except Unreachable:
            # A prefix hit that cannot be confirmed is treated as a block: the cost of a
            # rare false alarm is small, the cost of letting spyware through is not.
            return Verdict(shown, "blocked", "on the block list (not confirmed: offline)")
        if not listed:
            return Verdict(shown, "clean", lookalike=lookalike)
        sources = tuple(
            dict.fromkeys(
                f"{s.publisher}: {s.report}"
                for match in listed
                for indicator in match.indicators
                for s in indicator.sources
            )
        )
        named = sorted({f"{i.type} {i.value}" for m in listed for i in m.indicators})
        reason = "known surveillance or attack infrastructure" + (
            f" ({', '.join(named[:3])})" if named else ""
        )
        return Verdict(shown, "blocked", reason, sources, lookalike)

    async def _listed(self, hits: list[bytes], api: HavenApi) -> list[wire.LinkHash]:
        found: list[wire.LinkHash] = []
        for full in hits:
            prefix = full[: limits.LINK_PREFIX_MIN_BYTES]
            cached = self._hashes.get(prefix)
            if cached is None or cached[0] < time.monotonic():
                answer = await api.link_hashes(prefix)
                expires = time.monotonic() + min(answer.cache_seconds, 3600)
                self._hashes[prefix] = cached = (expires, answer)
            wanted = b64.encode(full)
            found.extend(m for m in cached[1].matches if m.hash == wanted)
        return found


def _deltas(data: wire.RiceList) -> RiceDeltas:
    try:
        encoded = b64.decode(data.encoded_data)
    except b64.Base64Error:
        raise RiceError("the list update is not valid base64") from None
    return RiceDeltas(data.first_value, data.rice_parameter, data.entry_count, encoded)


def _follow(held: PrefixSet, update: wire.LinkListUpdate) -> list[int]:
    base = [] if update.reset else list(held.values())
    try:
        checksum = b64.decode(update.checksum)
    except b64.Base64Error:
        raise RiceError("the list checksum is not valid base64") from None
    return apply(base, _deltas(update.additions), _deltas(update.removals), checksum)


def _load(path: Path) -> _LocalList:
    """The saved list, or an empty one (a damaged file only costs a full download)."""
    try:
        data = path.read_bytes()
        magic, length = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            return _LocalList()
        header = json.loads(data[_HEADER.size : _HEADER.size + length])
        body = data[_HEADER.size + length :]
        values = array("I")
        values.frombytes(body[: len(body) // values.itemsize * values.itemsize])
        if sys.byteorder == "little":
            values.byteswap()  # stored big-endian, as the checksum covers them
        prefixes = PrefixSet.from_values(values)
        if prefixes.sha256() != b64.decode(header["checksum"]):
            return _LocalList()
        return _LocalList(int(header["version"]), float(header["fetched_at"]), prefixes)
    except (OSError, ValueError, KeyError, TypeError, struct.error, b64.Base64Error):
        return _LocalList()


def _save(path: Path, local: _LocalList) -> None:
    header = json.dumps(
        {
            "version": local.version,
            "fetched_at": local.fetched_at,
            "checksum": b64.encode(local.prefixes.sha256()),
        }
    ).encode()
    values = local.prefixes.values()
    if sys.byteorder == "little":
        values.byteswap()
    body = values.tobytes()
    atomic_write(path, _HEADER.pack(_MAGIC, len(header)) + header + body)
