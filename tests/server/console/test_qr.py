"""QR codes shown on console pages decode back to the text they carry."""

from __future__ import annotations

import base64

from haven.server.console import qr


def test_a_qr_code_is_a_png_data_uri() -> None:
    uri = qr.data_uri("haven://relay?host=h&port=1")
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")
    assert qr.data_uri("a") != qr.data_uri("b")
