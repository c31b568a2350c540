"""Readers for the formats the field publishes in: STIX 2.1 bundles, MISP events and feeds,
Meta's threat-research files (CSV/TSV, JSON, Markdown tables), and plain lists or CSVs.
The format is detected from the content, and can be named instead.

Each reader yields Sightings (raw values with a type hint and their origin) and Rejections
(file, line, reason); nothing here touches the database. Hostile input fails fast with a
message naming the file: size, line length and JSON nesting are bounded.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from haven.intel.model import Origin, Rejection, Sighting
from haven.intel.normalise import Kind, Rejected, normalise

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 1024 * 1024

FORMATS = ("stix", "misp", "misp-feed", "meta-json", "ioc-json", "csv", "markdown", "text")

Item = Sighting | Rejection


class ParseError(Exception):
    """The whole file is unusable; the message names it (and the line when known)."""


PUBLISHERS = {
    "meta-threat-research": "Meta",
    "mvt-indicators": "MVT project",
    "amnesty-investigations": "Amnesty International",
    "echap-stalkerware-indicators": "Echap",
}

TYPE_NAMES: dict[str, Kind | None] = {
    "domain": Kind.DOMAIN,
    "domains": Kind.DOMAIN,
    "hostname": Kind.DOMAIN,
    "ipv4": Kind.IPV4,
    "ip4addr": Kind.IPV4,
    "ipv6": Kind.IPV6,
    "ip_address": None,
    "ip-address": None,
    "email": Kind.EMAIL,
    "email_address": Kind.EMAIL,
    "filename": Kind.FILENAME,
    "file_name": Kind.FILENAME,
    "process": Kind.PROCESS,
    "package": Kind.APP_ID,
    "package_name": Kind.APP_ID,
    "app_id": Kind.APP_ID,
    "domain_name": Kind.DOMAIN,
    "url": Kind.URL,
    "cib_url": Kind.URL,
    "telegram_url": Kind.URL,
    "phishing_url": Kind.URL,
    "android_package_name": Kind.APP_ID,
    "ios_app_id": Kind.APP_ID,
    "md5": Kind.MD5,
    "sha1": Kind.SHA1,
    "sha256": Kind.SHA256,
    "ip": None,
}

STIX_PATHS = {
    "domain-name:value": Kind.DOMAIN,
    "url:value": Kind.URL,
    "ipv4-addr:value": Kind.IPV4,
    "ipv6-addr:value": Kind.IPV6,
    "email-addr:value": Kind.EMAIL,
    "file:hashes.sha256": Kind.SHA256,
    "file:hashes.'sha-256'": Kind.SHA256,
    "file:hashes.sha1": Kind.SHA1,
    "file:hashes.'sha-1'": Kind.SHA1,
    "file:hashes.md5": Kind.MD5,
    "file:name": Kind.FILENAME,
    "file:path": Kind.FILENAME,
    "process:name": Kind.PROCESS,
    "app:id": Kind.APP_ID,
}
_STIX_COMPARISON = re.compile(r"([a-z0-9-]+:[A-Za-z0-9_.'\-]+)\s*=\s*'((?:[^'\\]|\\.)*)'")

MISP_TYPES = {
    "domain": Kind.DOMAIN,
    "hostname": Kind.DOMAIN,
    "url": Kind.URL,
    "link": Kind.URL,
    "uri": Kind.URL,
    "ip-dst": None,
    "ip-src": None,
    "email": Kind.EMAIL,
    "email-src": Kind.EMAIL,
    "email-dst": Kind.EMAIL,
    "md5": Kind.MD5,
    "sha1": Kind.SHA1,
    "sha256": Kind.SHA256,
    "filename": Kind.FILENAME,
    "mobile-application-id": Kind.APP_ID,
}

MISP_CONTEXT_TYPES = frozenset({"text", "comment", "other", "datetime", "attachment"})

TEXT_HINTS = {
    "domains": Kind.DOMAIN,
    "domain": Kind.DOMAIN,
    "urls": Kind.URL,
    "emails": Kind.EMAIL,
    "sha256": Kind.SHA256,
    "sha1": Kind.SHA1,
    "md5": Kind.MD5,
    "processes": Kind.PROCESS,
    "package_names": Kind.APP_ID,
    "file_names": Kind.FILENAME,
    "files": Kind.FILENAME,
    "file_paths": Kind.FILENAME,
}
INDICATOR_COLUMNS = ("indicator_value", "indicator", "value", "ioc", "indicators", "observable")
TYPE_COLUMNS = ("indicator_type", "type", "indicator type")
DATE_COLUMNS = ("ds", "date", "first_seen", "first seen")


def publisher_of(path: Path) -> str:
    for part in path.resolve().parts:
        if part in PUBLISHERS:
            return PUBLISHERS[part]
    return path.parent.name or "unknown"


def report_of(path: Path) -> str:
    return path.stem.strip() if path.is_file() else path.name


def detect(path: Path) -> str:
    """The format of `path`, from its content (and its name where content is ambiguous)."""
    if path.is_dir():
        if (path / "manifest.json").exists():
            return "misp-feed"
        raise ParseError(f"{path}: a directory without a MISP manifest.json")
    head = _read_head(path)
    stripped = head.lstrip()
    if stripped.startswith(("{", "[")):
        if '"type"' in head and '"bundle"' in head:
            return "stix"
        if '"Event"' in head or '"Attribute"' in head:
            return "misp"
        if '"iocs"' in head:
            return "ioc-json"
        if '"indicator_type"' in head or '"indicator_value"' in head:
            return "meta-json"
        raise ParseError(f"{path}: JSON that is neither STIX, MISP nor a Meta indicator list")
    if path.suffix.lower() == ".md" or re.search(r"^\s*\|.*\|\s*$", head, re.MULTILINE):
        return "markdown"
    if path.suffix.lower() in {".csv", ".tsv"}:
        return "csv"
    return "text"


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4)


def _read_head(path: Path, size: int = 4096) -> str:
    with path.open("rb") as handle:
        return handle.read(size).decode("utf-8", errors="replace")


def _read_text(path: Path, line_limit: bool = True) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ParseError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    if not line_limit:
        return text  # JSON: bounded by size and nesting instead (bundles are often one line)
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise ParseError(f"{path}:{number}: a line longer than {MAX_LINE_CHARS} characters")
    return text


def _load_json(path: Path) -> Any:
    text = _read_text(path, line_limit=False)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        # The C parser counts its nesting against the interpreter's recursion limit: a
        # hostile document fails here, fast, with memory bounded by the file size cap.
        raise ParseError(f"{path}: JSON nested deeper than Haven reads") from None
    return document


def parse(path: Path, fmt: str | None = None, publisher: str | None = None) -> Iterator[Item]:
    if path.is_file() and _magic(path).startswith(_ARCHIVE_MAGIC):
        yield from _archive(path, fmt, publisher or publisher_of(path))
        return
    chosen = fmt or detect(path)
    if chosen not in FORMATS:
        raise ParseError(f"unknown format {chosen!r}: use one of {', '.join(FORMATS)}")
    origin = _OriginFactory(path, publisher or publisher_of(path), report_of(path))
    readers = {
        "stix": _stix,
        "misp": _misp,
        "misp-feed": _misp_feed,
        "meta-json": _meta_json,
        "ioc-json": _ioc_json,
        "csv": _csv,
        "markdown": _markdown,
        "text": _text,
    }
    yield from readers[chosen](path, origin)


_ZIP, _GZIP = b"PK\x03\x04", b"\x1f\x8b"
_ARCHIVE_MAGIC = (_ZIP, _GZIP)
MAX_ARCHIVE_MEMBERS = 1000


def _archive(path: Path, fmt: str | None, publisher: str) -> Iterator[Item]:
    """Feeds are often shipped zipped or gzipped. Members are unpacked into a private
    temporary directory under one budget for the whole archive, counted while
    decompressing (the sizes an archive declares can lie): a zip bomb stops at the budget
    with an error, memory and disk stay bounded. Archives inside archives are not opened."""
    with tempfile.TemporaryDirectory(prefix="haven-intel-") as tmp:
        unpacked = _unpack(path, Path(tmp))
        for member, name in unpacked:
            label = f"{path}:{name}"
            if _magic(member).startswith(_ARCHIVE_MAGIC):
                yield Rejection(label, 0, "", "an archive inside an archive is not opened")
                continue
            for item in parse(member, fmt, publisher):
                yield _relabel(item, str(member), label)


def _unpack(path: Path, into: Path) -> list[tuple[Path, str]]:
    budget = MAX_FILE_BYTES
    members: list[tuple[Path, str]] = []

    def copy(source: IO[bytes] | io.BufferedIOBase, name: str) -> None:
        nonlocal budget
        # Numbered files: a member's own name could point outside the directory.
        target = into / f"{len(members):04d}{Path(name).suffix[:10]}"
        with target.open("wb") as sink:
            while chunk := source.read(1 << 20):
                budget -= len(chunk)
                if budget < 0:
                    raise ParseError(
                        f"{path}: expands beyond {MAX_FILE_BYTES} bytes (a zip bomb?); "
                        "nothing imported"
                    )
                sink.write(chunk)
        members.append((target, name))

    try:
        if _magic(path).startswith(_ZIP):
            with zipfile.ZipFile(path) as archive:
                infos = [i for i in archive.infolist() if not i.is_dir()]
                if len(infos) > MAX_ARCHIVE_MEMBERS:
                    raise ParseError(f"{path}: more than {MAX_ARCHIVE_MEMBERS} files inside")
                for info in infos:
                    with archive.open(info) as source:
                        copy(source, info.filename)
        else:
            with gzip.open(path, "rb") as stream:
                copy(stream, path.stem)
    except (
        zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error, NotImplementedError,
        UnicodeDecodeError, OSError,
    ) as e:  # fmt: skip
        raise ParseError(f"{path}: a damaged or unsupported archive ({e})") from None
    except RuntimeError as exc:  # zipfile: an encrypted member
        raise ParseError(f"{path}: {exc}") from None
    return members


def _relabel(item: Item, temporary: str, label: str) -> Item:
    """Name the archive and member in reports, never the temporary file."""
    if isinstance(item, Rejection):
        return item._replace(file=item.file.replace(temporary, label))
    return item._replace(
        origin=item.origin._replace(file=item.origin.file.replace(temporary, label))
    )


class _OriginFactory:
    def __init__(self, path: Path, publisher: str, report: str) -> None:
        self.file = str(path)
        self.publisher = publisher
        self.report = report

    def __call__(self, line: int, report: str | None = None) -> Origin:
        return Origin(self.publisher, report or self.report, self.file, line)


class _StixObject(msgspec.Struct):
    """The fields of a STIX object the importer reads; the decoder skips every other field
    without building it, which is most of the work of reading a bundle."""

    type: Any = None
    pattern: Any = None
    name: Any = None
    valid_from: Any = None
    external_references: Any = None


class _StixBundle(msgspec.Struct):
    type: Any = None
    objects: list[_StixObject] | None = None


_STIX_BUNDLE = msgspec.json.Decoder(_StixBundle)
_NOT_AN_OBJECT = _StixObject()


def _stix(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ParseError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit")
    try:
        bundle = _STIX_BUNDLE.decode(path.read_bytes())
    except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
        # Not a plain well-formed bundle (a BOM, bad UTF-8, a non-object among the objects,
        # broken JSON): the general reader tolerates what it can and names what it cannot.
        yield from _stix_document(_load_json(path), path, origin)
        return
    if bundle.type != "bundle":
        raise ParseError(f"{path}: not a STIX bundle")
    if bundle.objects is None:
        raise ParseError(f"{path}: the bundle has no objects list")
    yield from _stix_indicators(bundle.objects, str(path), origin)


def _stix_document(bundle: Any, path: Path, origin: _OriginFactory) -> Iterator[Item]:
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise ParseError(f"{path}: not a STIX bundle")
    objects = bundle.get("objects")
    if not isinstance(objects, list):
        raise ParseError(f"{path}: the bundle has no objects list")
    yield from stix_objects(objects, str(path), origin)


def stix_objects(
    objects: list[Any], label: str, origin: Callable[[int], Origin], by_reference: bool = False
) -> Iterator[Item]:
    """Indicators in STIX objects (decoded JSON). With `by_reference`, each external
    reference is a source of its own (how a Haven peer passes on who published what)."""
    typed = (
        _StixObject(
            o.get("type"), o.get("pattern"), o.get("name"), o.get("valid_from"),
            o.get("external_references"),
        ) if isinstance(o, dict) else _NOT_AN_OBJECT
        for o in objects
    )  # fmt: skip
    return _stix_indicators(typed, label, origin, by_reference)


def _stix_indicators(
    objects: Iterable[_StixObject],
    label: str,
    origin: Callable[[int], Origin],
    by_reference: bool = False,
) -> Iterator[Item]:
    # The hot loop of every STIX import: lookups are bound to locals and the common case
    # (one comparison, no escapes, no references) takes no detour.
    paths, find = STIX_PATHS, _STIX_COMPARISON.findall
    for number, obj in enumerate(objects, start=1):
        if obj.type != "indicator":
            continue  # malware, relationships, custom object types: tolerated, not indicators
        pattern = obj.pattern
        if type(pattern) is not str:
            yield Rejection(label, number, "", "indicator without a pattern")
            continue
        matches = find(pattern)
        if not matches:
            yield Rejection(label, number, pattern[:200], "no comparison this importer reads")
            continue
        origins = [origin(number)]
        if by_reference:
            origins = _reference_origins(obj.external_references, label, number) or origins
        name = obj.name
        note = name[:200] if type(name) is str else ("" if name is None else str(name)[:200])
        first_seen = obj.valid_from
        for object_path, value in matches:
            kind = paths.get(object_path.lower(), _UNSUPPORTED)
            if kind is _UNSUPPORTED:
                yield Rejection(label, number, value, f"unsupported observable {object_path}")
                continue
            if "\\" in value:
                value = value.replace("\\'", "'")
            for where in origins:
                yield Sighting(value, kind, where, first_seen, "clear", note)


_UNSUPPORTED: Any = object()


def _reference_origins(references: Any, label: str, number: int) -> list[Origin]:
    if not isinstance(references, list):
        return []
    return [
        Origin(str(r["source_name"])[:200], str(r.get("description", ""))[:300], label, number)
        for r in references
        if isinstance(r, dict) and r.get("source_name")
    ]


def _misp_events(document: Any, path: Path) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("Event"), dict):
        return [document["Event"]]
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        return [e["Event"] for e in document["response"] if isinstance(e, dict) and "Event" in e]
    if isinstance(document, dict) and isinstance(document.get("Attribute"), list):
        return [document]  # a bare event, as some exports write it
    raise ParseError(f"{path}: not a MISP event")


def _misp(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    for event in _misp_events(_load_json(path), path):
        yield from _misp_event(event, path, origin)


def _misp_event(event: dict[str, Any], path: Path, origin: _OriginFactory) -> Iterator[Item]:
    tlp = "clear"
    for tag in event.get("Tag", []) or []:
        name = str(tag.get("name", "")).lower() if isinstance(tag, dict) else ""
        if name.startswith("tlp:"):
            tlp = name.removeprefix("tlp:")
    report = str(event.get("info") or origin.report)[:200]
    attributes = list(event.get("Attribute", []) or [])
    for obj in event.get("Object", []) or []:
        if isinstance(obj, dict):
            attributes.extend(obj.get("Attribute", []) or [])
    for number, attribute in enumerate(attributes, start=1):
        if not isinstance(attribute, dict):
            continue
        kind_name = str(attribute.get("type", ""))
        value = str(attribute.get("value", ""))
        parts = list(zip(kind_name.split("|"), value.split("|"), strict=False))
        for part_type, part_value in parts:
            if part_type in MISP_CONTEXT_TYPES:
                continue  # descriptions and comments around the indicators, not indicators
            if part_type not in MISP_TYPES:
                yield Rejection(str(path), number, part_value, f"unsupported MISP type {part_type}")
                continue
            yield Sighting(
                raw=part_value,
                hint=MISP_TYPES[part_type],
                origin=origin(number, report),
                first_seen=attribute.get("first_seen") or event.get("date"),
                tlp=tlp,
            )


def _misp_feed(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    manifest = _load_json(path / "manifest.json")
    if not isinstance(manifest, dict):
        raise ParseError(f"{path}/manifest.json: not a MISP feed manifest")
    for uuid in manifest:
        event_file = path / f"{uuid}.json"
        if not event_file.exists():
            raise ParseError(f"{event_file}: listed in the manifest but missing")
        events = _misp_events(_load_json(event_file), event_file)
        for event in events:
            yield from _misp_event(
                event, event_file, _OriginFactory(event_file, origin.publisher, origin.report)
            )


def _meta_json(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    yield from _rejoin_split_values(_meta_json_rows(path, origin))


def _meta_json_rows(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    rows = _load_json(path)
    if not isinstance(rows, list):
        raise ParseError(f"{path}: expected a list of indicators")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield Rejection(str(path), number, "", "not an indicator object")
            continue
        yield from _typed(str(row.get("indicator_type", "")), str(row.get("indicator_value", "")),
                          str(path), number, origin, row.get("ds"))  # fmt: skip


def _ioc_json(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    document = _load_json(path)
    rows = document.get("iocs") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise ParseError(f'{path}: expected {{"iocs": [...]}}')
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield Rejection(str(path), number, "", "not an indicator object")
            continue
        for item in _typed(str(row.get("type", "")), str(row.get("value", "")), str(path),
                           number, origin, None):  # fmt: skip
            if isinstance(item, Sighting) and row.get("tlp"):
                tlp = str(row["tlp"]).lower()
                item = Sighting(item.raw, item.hint, item.origin, item.first_seen,
                                "clear" if tlp == "white" else tlp)  # fmt: skip
            yield item


def _typed(
    type_name: str, value: str, file: str, line: int, origin: _OriginFactory, seen: Any
) -> Iterator[Item]:
    key = type_name.strip().lower()
    if key and key not in TYPE_NAMES:
        yield Rejection(file, line, value, f"unknown indicator type {type_name!r}")
        return
    yield Sighting(value, TYPE_NAMES.get(key), origin(line), None if seen is None else str(seen))


def _csv(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    """CSV/TSV with or without a header. With one: a type column + a value column, or
    columns named after a type (`domain_name,ip_address`), or an indicator column."""
    yield from _rejoin_split_values(_csv_rows(path, origin))


def _csv_rows(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    text = _read_text(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" or text.count("\t") > text.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))  # the file line the row starts on, for the report
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ParseError(f"{path}:{reader.line_num}: not readable as CSV ({exc})") from None
    if not rows:
        return
    header = [cell.strip().lower() for cell in rows[0][1]]
    known = set(INDICATOR_COLUMNS) | set(TYPE_COLUMNS) | set(TYPE_NAMES)
    if not any(cell in known for cell in header):
        for number, row in rows:
            if row and row[0].strip():
                yield Sighting(row[0], None, origin(number))
        return
    value_column = _find(header, INDICATOR_COLUMNS)
    type_column = _find(header, TYPE_COLUMNS)
    date_column = _find(header, DATE_COLUMNS)
    typed_columns = {i: TYPE_NAMES[c] for i, c in enumerate(header) if c in TYPE_NAMES}
    for number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        seen = _cell(row, date_column)
        if type_column is not None and value_column is not None:
            yield from _typed(_cell(row, type_column) or "", _cell(row, value_column) or "",
                              str(path), number, origin, seen)  # fmt: skip
        elif typed_columns:
            for index, hint in typed_columns.items():
                value = _cell(row, index)
                if value:
                    yield Sighting(value, hint, origin(number), seen)
        elif value_column is not None:
            yield Sighting(_cell(row, value_column) or "", None, origin(number), seen)


def _rejoin_split_values(items: Iterator[Item]) -> Iterator[Item]:
    """Spreadsheet exports sometimes break one long value over two rows: Meta's Cytrox
    list has `fbc8213450838f7ae251d4` and `519c195138.xyz` on consecutive `domain_name` rows
    where Amnesty and MVT publish `fbc8213450838f7ae251d4519c195138.xyz`. A row declared a
    domain that has no dot cannot be one; if it and the next row of the same type and date
    make a valid domain together, they are that one domain. Only typed tables get this: in a
    plain list a dotless line is just a bad line (MVT's `despachosnegocios`)."""
    held: Sighting | None = None
    for item in items:
        if held is not None:
            joined = _joined(held, item)
            if joined is not None:
                yield joined
                held = None
                continue
            yield held
            held = None
        if isinstance(item, Sighting) and item.hint is Kind.DOMAIN and "." not in item.raw:
            held = item  # possibly the first half: wait for the next row
        else:
            yield item
    if held is not None:
        yield held


def _joined(first: Sighting, second: Item) -> Sighting | None:
    if not (
        isinstance(second, Sighting)
        and second.hint is first.hint
        and second.first_seen == first.first_seen
        and second.origin.line == first.origin.line + 1
    ):
        return None
    value = first.raw.strip() + second.raw.strip()
    try:
        normalise(value, first.hint)
    except Rejected:
        return None
    note = f"value split across lines {first.origin.line}-{second.origin.line}, joined"
    return Sighting(value, first.hint, first.origin, first.first_seen, first.tlp, note)


def _cell(row: list[str], index: int | None) -> str | None:
    return row[index] if index is not None and index < len(row) else None


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _markdown(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    header: list[str] | None = None
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        stripped = line.strip()
        if not (stripped.startswith("|") and stripped.endswith("|")):
            header = None  # a table ends at the first line that is not a row
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue
        if header is None:
            header = [c.lower() for c in cells]
            continue
        column = _find(header, INDICATOR_COLUMNS)
        index = len(cells) - 1 if column is None else column
        if index < len(cells):
            yield Sighting(cells[index], None, origin(number))


def _text(path: Path, origin: _OriginFactory) -> Iterator[Item]:
    hint = TEXT_HINTS.get(path.stem.lower())
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        yield Sighting(value, hint, origin(number))
