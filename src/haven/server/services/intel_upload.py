"""Importing one uploaded indicator file (the console's intel page): parsed and normalised
in a worker thread from a private temporary directory, stored as one transaction
(everything or nothing), then the link block list is rebuilt. Rejected lines come back
for the operator to read, naming the uploaded file, never the temporary path."""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from haven.core import clock
from haven.core.errors import ErrorCode, HavenError
from haven.intel import parsers
from haven.intel.importing import store_collection
from haven.intel.merge import Collection
from haven.intel.model import Rejection
from haven.linkguard.building import rebuild
from haven.store.interfaces import ImportSummary
from haven.store.stores import Stores

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadOutcome:
    file_name: str
    summary: ImportSummary
    indicators: int  # distinct indicators in the file
    rejected: list[Rejection]
    link_version: int


def safe_name(name: str) -> str:
    """A file name to store the upload under (and to name it by): no directories, no
    surprises; the suffix is kept because some formats are recognised by it."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._")
    return base[:100] or "upload.txt"


def _collect(path: Path, fmt: str | None, publisher: str, label: str) -> Collection:
    temporary = str(path)
    collection = Collection()
    for item in parsers.parse(path, fmt, publisher):
        if isinstance(item, Rejection):
            collection.add(item._replace(file=item.file.replace(temporary, label)))
        else:
            origin = item.origin._replace(file=item.origin.file.replace(temporary, label))
            collection.add(item._replace(origin=origin))
    return collection


def _parse(data: bytes, file_name: str, fmt: str | None, publisher: str) -> Collection:
    with tempfile.TemporaryDirectory(prefix="haven-upload-") as directory:
        path = Path(directory) / file_name
        path.write_bytes(data)
        try:
            return _collect(path, fmt, publisher, file_name)
        except parsers.ParseError as exc:
            message = str(exc).replace(str(path), file_name).replace(directory, "")
            raise HavenError(ErrorCode.BAD_REQUEST, message) from None


async def import_upload(
    stores: Stores, data: bytes, file_name: str, fmt: str | None, publisher: str
) -> UploadOutcome:
    if not data:
        raise HavenError(ErrorCode.BAD_REQUEST, "the file is empty")
    if fmt is not None and fmt not in parsers.FORMATS:
        raise HavenError(ErrorCode.BAD_REQUEST, f"unknown format {fmt!r}")
    name = safe_name(file_name)
    collection = await asyncio.to_thread(_parse, data, name, fmt, publisher)
    note = f"console upload of {name}"
    summary = await store_collection(stores.intel, collection, note, clock.now_ms())
    links = await rebuild(stores)
    return UploadOutcome(name, summary, len(collection.indicators), collection.rejected,
                         links.version)  # fmt: skip
