from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from haven.core import ids
from tests.server.conftest import Server, make_config, serve

pytestmark = pytest.mark.anyio


async def test_upload_and_download_opaque_bytes(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    blob = os.urandom(200_000)
    created = await server.http.post(
        "/v1/attachments", content=blob,
        headers={**alice.auth, "content-type": "application/octet-stream"},
    )  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["size"] == len(blob)
    fetched = await server.http.get(f"/v1/attachments/{body['attachment_id']}", headers=bob.auth)
    assert fetched.status_code == 200
    assert fetched.content == blob


async def test_unknown_attachment_is_404(server: Server) -> None:
    alice = await server.register()
    response = await server.http.get(f"/v1/attachments/{ids.new_id()}", headers=alice.auth)
    assert response.status_code == 404


async def test_empty_attachment_is_refused(server: Server) -> None:
    alice = await server.register()
    response = await server.http.post("/v1/attachments", content=b"", headers=alice.auth)
    assert response.status_code == 400


async def test_attachment_over_the_cap_is_refused(db_url: str, tmp_path: Path) -> None:
    async with serve(make_config(db_url, tmp_path, max_attachment_bytes=1000)) as server:
        alice = await server.register()
        declared = await server.http.post(
            "/v1/attachments", content=b"z" * 1001, headers=alice.auth
        )
        assert declared.status_code == 413

        async def chunked() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"z" * 600

        streamed = await server.http.post("/v1/attachments", content=chunked(), headers=alice.auth)
        assert streamed.status_code == 413
        assert streamed.json()["error"]["code"] == "body_too_large"
