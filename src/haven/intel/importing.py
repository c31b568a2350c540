"""Turning a parsed, normalised collection into stored, versioned indicators."""

from __future__ import annotations

from haven.intel.merge import Collection
from haven.store.interfaces import ImportSummary, IntelRecord, IntelSource, IntelStore


def records(collection: Collection) -> list[IntelRecord]:
    return [
        IntelRecord(
            kind=m.indicator.kind.value,
            value=m.indicator.value,
            sources=tuple(
                IntelSource(
                    publisher=s.origin.publisher,
                    report=s.origin.report,
                    file=s.origin.file,
                    line=s.origin.line,
                    first_seen=s.first_seen,
                    tlp=s.tlp,
                )
                for s in m.sources
            ),
        )
        for m in collection.merged()
    ]


async def store_collection(
    store: IntelStore, collection: Collection, note: str, now: int
) -> ImportSummary:
    return await store.import_records(records(collection), note, now)
