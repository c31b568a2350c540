"""The threat-intelligence importers (`haven.intel.parsers.parse`) and the normaliser behind
them, on files an operator downloads from other people: STIX bundles, MISP events and
feeds, Meta's lists, CSV/TSV, Markdown tables, plain lists, zip and gzip archives.

Contract (haven/intel/parsers.py): a file that is unusable as a whole is a `ParseError`
naming it; a bad line is a `Rejection` in the results; a value that is not an indicator is
`Rejected` by the normaliser. Nothing else may escape, whatever the bytes.

Input: a header line `<format> <file name>` (format one of `parsers.FORMATS`, or `detect`
to let the content decide), then the file's bytes. For `misp-feed` the rest is the feed's
`manifest.json`, a NUL byte, and the file `event.json` (so a manifest naming `event` points
at it). Input without a valid header is read whole as a file, its first two bytes picking
the format and the name.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path

from haven.intel import parsers
from haven.intel.model import Sighting
from haven.intel.normalise import Rejected, normalise

CHOICES: tuple[str | None, ...] = (None, *parsers.FORMATS)
_FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")  # what a downloaded feed file is called
# The name matters: the suffix and stem steer format detection and type hints.
NAMES = (
    "domains.txt", "ip-addresses.txt", "sha256.txt", "indicators.txt", "iocs.csv",
    "iocs.tsv", "README.md", "bundle.stix2", "event.json", "feed.json", "indicators.zip",
    "domains.txt.gz",
)  # fmt: skip


def _header(data: bytes) -> tuple[str | None, str, bytes] | None:
    line, newline, body = data.partition(b"\n")
    words = line.decode("ascii", "replace").split(" ")
    if not newline or len(words) != 2:
        return None
    fmt, name = words
    if fmt != "detect" and fmt not in parsers.FORMATS:
        return None
    if not _FILE_NAME.fullmatch(name) or name in {".", ".."}:
        return None
    return (None if fmt == "detect" else fmt), name, body


def _place(directory: Path, fmt: str | None, name: str, body: bytes) -> Path:
    if fmt == "misp-feed":
        manifest, _, event = body.partition(b"\0")
        feed = directory / "feed"
        feed.mkdir()
        (feed / "manifest.json").write_bytes(manifest)
        (feed / "event.json").write_bytes(event)
        return feed
    path = directory / name
    path.write_bytes(body)
    return path


def TestOneInput(data: bytes) -> None:
    header = _header(data)
    if header is None:
        if len(data) < 2:
            return
        fmt, name = CHOICES[data[0] % len(CHOICES)], NAMES[data[1] % len(NAMES)]
        header = (fmt, name, data[2:])
    fmt, name, body = header
    with tempfile.TemporaryDirectory(prefix="haven-fuzz-") as tmp:
        refused = _read(_place(Path(tmp), fmt, name, body), fmt)
    assert refused is None or refused, "a refused file must say why"


def _read(path: Path, fmt: str | None) -> str | None:
    """Everything in the file, normalised as an import would; the sentence of the
    ParseError if the file is refused."""
    try:
        for item in parsers.parse(path, fmt, publisher="fuzz"):
            if isinstance(item, Sighting):
                with contextlib.suppress(Rejected):
                    normalise(item.raw, item.hint)
    except parsers.ParseError as error:
        return str(error)
    return None
