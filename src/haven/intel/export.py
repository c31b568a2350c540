"""Sharing: indicators as a STIX 2.1 bundle or a MISP feed. Ids are derived from
(type, value), so exporting twice gives the same objects; every source travels along (STIX
external references, MISP comments); anything only TLP:RED sources vouch for never leaves."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from haven.intel.normalise import Kind
from haven.store.interfaces import IntelRecord

# A fixed namespace for Haven's deterministic STIX ids.
NAMESPACE = uuid.UUID("5f0e4b52-6b3c-4a3e-9a51-6c6176656e21")

PATTERN_PATHS = {
    Kind.DOMAIN: "domain-name:value",
    Kind.URL: "url:value",
    Kind.IPV4: "ipv4-addr:value",
    Kind.IPV6: "ipv6-addr:value",
    Kind.EMAIL: "email-addr:value",
    Kind.SHA256: "file:hashes.'SHA-256'",
    Kind.SHA1: "file:hashes.'SHA-1'",
    Kind.MD5: "file:hashes.MD5",
    Kind.FILENAME: "file:name",
    Kind.PROCESS: "process:name",
    Kind.APP_ID: "app:id",  # not a STIX 2.1 core object; MVT publishes it this way
}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def shareable(record: IntelRecord) -> IntelRecord | None:
    """The record with its TLP:RED sources removed; None when nothing is left."""
    sources = tuple(s for s in record.sources if s.tlp != "red")
    return IntelRecord(record.kind, record.value, sources) if sources else None


HAVEN_IDENTITY = f"identity--{uuid.uuid5(NAMESPACE, 'haven')}"


def stix_indicator(
    record: IntelRecord, moment: str, created_by: str = HAVEN_IDENTITY
) -> dict[str, Any] | None:
    """One STIX 2.1 indicator, or None when only TLP:RED sources vouch for it."""
    kept = shareable(record)
    if kept is None:
        return None
    kind = Kind(kept.kind)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{kind.value}:{kept.value}')}",
        "created": moment,
        "modified": moment,
        "created_by_ref": created_by,
        "name": kept.value,
        "indicator_types": ["malicious-activity"],
        "pattern": f"[{PATTERN_PATHS[kind]} = '{_quote(kept.value)}']",
        "pattern_type": "stix",
        "valid_from": moment,
        "external_references": [
            {"source_name": s.publisher, "description": s.report} for s in kept.sources
        ],
    }


def timestamp(moment: dt.datetime) -> str:
    return _timestamp(moment)


def stix_bundle(records: Iterable[IntelRecord], now: dt.datetime | None = None) -> dict[str, Any]:
    moment = _timestamp(now or dt.datetime.now(dt.UTC))
    identity_id = HAVEN_IDENTITY
    objects: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": "Haven",
            "identity_class": "system",
        }
    ]
    for record in records:
        indicator = stix_indicator(record, moment, identity_id)
        if indicator is not None:
            objects.append(indicator)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


MISP_TYPES = {
    Kind.DOMAIN: "domain",
    Kind.URL: "url",
    Kind.IPV4: "ip-dst",
    Kind.IPV6: "ip-dst",
    Kind.EMAIL: "email",
    Kind.SHA256: "sha256",
    Kind.SHA1: "sha1",
    Kind.MD5: "md5",
    Kind.FILENAME: "filename",
    Kind.PROCESS: "filename",
    Kind.APP_ID: "mobile-application-id",
}
_MISP_CATEGORY = {
    "domain": "Network activity",
    "url": "Network activity",
    "ip-dst": "Network activity",
    "email": "Payload delivery",
    "mobile-application-id": "Payload delivery",
}


def misp_feed(records: Iterable[IntelRecord], now: dt.datetime | None = None) -> dict[str, Any]:
    """A MISP feed as {file name: JSON document}: `manifest.json` and one event holding
    every shareable indicator (sources named in each attribute's comment)."""
    moment = now or dt.datetime.now(dt.UTC)
    event_uuid = str(uuid.uuid5(NAMESPACE, f"misp-feed:{moment.date().isoformat()}"))
    attributes = []
    for record in records:
        kept = shareable(record)
        if kept is None:
            continue
        misp_type = MISP_TYPES[Kind(kept.kind)]
        attributes.append(
            {
                "uuid": str(uuid.uuid5(NAMESPACE, f"{kept.kind}:{kept.value}")),
                "type": misp_type,
                "category": _MISP_CATEGORY.get(misp_type, "Payload installation"),
                "value": kept.value,
                "to_ids": True,
                "timestamp": str(int(moment.timestamp())),
                "comment": "; ".join(f"{s.publisher}: {s.report}" for s in kept.sources)[:1000],
            }
        )
    info = "Haven: surveillance-for-hire indicators"
    event = {
        "Event": {
            "uuid": event_uuid,
            "info": info,
            "date": moment.date().isoformat(),
            "timestamp": str(int(moment.timestamp())),
            "published": True,
            "analysis": "2",
            "threat_level_id": "2",
            "distribution": "3",
            "Orgc": {"name": "Haven", "uuid": str(uuid.uuid5(NAMESPACE, "haven-org"))},
            "Tag": [{"name": "tlp:clear"}],
            "Attribute": attributes,
        }
    }
    manifest = {
        event_uuid: {
            "info": info,
            "date": moment.date().isoformat(),
            "timestamp": str(int(moment.timestamp())),
            "analysis": 2,
            "threat_level_id": 2,
            "Orgc": event["Event"]["Orgc"],
            "Tag": [{"name": "tlp:clear"}],
        }
    }
    return {"manifest.json": manifest, f"{event_uuid}.json": event}
