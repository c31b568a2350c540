"""The site everyone without the secret sees: a static directory served the way a plain
nginx serves one (same status pages, `Server: nginx`, keep-alive, HEAD, ETag, 304), loaded
into memory at start so serving it never touches the disk, and never reaches upstream."""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from haven.relay.httphead import RequestHead

SERVER = "nginx"
MAX_FILES = 1_000
MAX_TOTAL_BYTES = 32 * 1024 * 1024

BUILTIN_INDEX = b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Welcome</title>
<style>body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome</h1>
<p>This site is being set up. Please check back later.</p>
</body>
</html>
"""


def _status_page(code: int, reason: str) -> bytes:
    title = f"{code} {reason}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>{SERVER}</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


_REASONS = {400: "Bad Request", 404: "Not Found", 405: "Not Allowed"}
_PAGES = {code: _status_page(code, reason) for code, reason in _REASONS.items()}


class DecoyError(Exception):
    """The decoy directory cannot be served (too large, unreadable)."""


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    content_type: str
    etag: str
    last_modified: str


def _page(body: bytes, name: str, mtime: float) -> Page:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    return Page(body, kind, etag, email.utils.formatdate(mtime, usegmt=True))


def _http_date() -> str:
    return email.utils.formatdate(time.time(), usegmt=True)


class DecoySite:
    def __init__(self, pages: dict[str, Page]) -> None:
        self._pages = pages

    @classmethod
    def builtin(cls) -> DecoySite:
        return cls({"index.html": _page(BUILTIN_INDEX, "index.html", 1_700_000_000)})

    @classmethod
    def from_directory(cls, root: Path) -> DecoySite:
        pages: dict[str, Page] = {}
        total = 0
        base = root.resolve()
        for path in sorted(base.rglob("*")):
            # A symlink out of the directory must not publish the file it points to.
            if not path.is_file() or not path.resolve().is_relative_to(base):
                continue
            relative = path.relative_to(base).as_posix()
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            body = path.read_bytes()
            total += len(body)
            if len(pages) >= MAX_FILES or total > MAX_TOTAL_BYTES:
                raise DecoyError(
                    f"the decoy site in {root} is larger than {MAX_FILES} files "
                    f"or {MAX_TOTAL_BYTES // 2**20} MiB"
                )
            pages[relative] = _page(body, path.name, path.stat().st_mtime)
        if not pages:
            raise DecoyError(f"the decoy directory {root} has no files")
        return cls(pages)

    def _lookup(self, target: str) -> Page | None:
        # Absolute-form targets name another host: served as a local path, like nginx does;
        # the decoy never fetches anything from anywhere.
        path = unquote(urlsplit(target).path) if "://" in target else target.split("?", 1)[0]
        path = unquote(path)
        if not path.startswith("/") or "\x00" in path:
            return None
        normal = posixpath.normpath(path)
        if normal.startswith("//"):
            normal = normal[1:]
        name = normal.lstrip("/")
        if path.endswith("/") or not name:
            name = posixpath.join(name, "index.html") if name else "index.html"
        return self._pages.get(name)

    def respond(self, head: RequestHead) -> tuple[bytes, bool]:
        """The response to one request, and whether the connection stays open after it."""
        keep = head.keep_alive and not head.has_body
        if head.method not in ("GET", "HEAD"):
            code = 400 if head.method == "CONNECT" else 405
            return self._status(code, head.method == "HEAD", False), False
        page = self._lookup(head.target)
        if page is None:
            return self._status(404, head.method == "HEAD", keep), keep
        not_modified = head.header("if-none-match") == page.etag
        lines = [
            "HTTP/1.1 304 Not Modified" if not_modified else "HTTP/1.1 200 OK",
            f"Server: {SERVER}",
            f"Date: {_http_date()}",
            f"Content-Type: {page.content_type}",
            f"Content-Length: {len(page.body)}",
            f"Last-Modified: {page.last_modified}",
            f"Connection: {'keep-alive' if keep else 'close'}",
            f"ETag: {page.etag}",
            "Accept-Ranges: bytes",
        ]
        if not_modified:
            del lines[3:5]
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if head.method == "HEAD" or not_modified:
            return head_bytes, keep
        return head_bytes + page.body, keep

    def bad_request(self) -> bytes:
        return self._status(400, False, False)

    def _status(self, code: int, head_only: bool, keep: bool) -> bytes:
        body = _PAGES[code]
        lines = [
            f"HTTP/1.1 {code} {_REASONS[code]}",
            f"Server: {SERVER}",
            f"Date: {_http_date()}",
            "Content-Type: text/html",
            f"Content-Length: {len(body)}",
            f"Connection: {'keep-alive' if keep else 'close'}",
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + body
