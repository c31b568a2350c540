"""QR codes on console pages, as PNG data URIs in an <img> (allowed by the console's
Content-Security-Policy): a phone scans an invite straight off the screen."""

from __future__ import annotations

import segno


def data_uri(text: str) -> str:
    uri: str = segno.make(text, error="m").png_data_uri(scale=5, border=4)
    return uri
