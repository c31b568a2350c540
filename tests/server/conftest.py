"""A real server on a loopback port, and a tiny client that speaks to it over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.core import b64, config
from haven.core.wire import key_signing_message
from haven.server.app import create_app
from tests.conftest import fresh_stores


def _raw(public: Any) -> bytes:
    raw: bytes = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw


@dataclass
class DeviceKeys:
    signing: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    exchange: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)

    def identity(self) -> dict[str, str]:
        return {
            "curve25519": b64.encode(_raw(self.exchange.public_key())),
            "ed25519": b64.encode(_raw(self.signing.public_key())),
        }

    def signed_key(self, key_id: str) -> dict[str, str]:
        key = _raw(X25519PrivateKey.generate().public_key())
        signature = self.signing.sign(key_signing_message(key))
        return {"key_id": key_id, "key": b64.encode(key), "signature": b64.encode(signature)}


@dataclass
class Device:
    account_id: str
    device_id: str
    token: str
    keys: DeviceKeys

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def address(self) -> dict[str, str]:
        return {"account_id": self.account_id, "device_id": self.device_id}


@dataclass
class Server:
    url: str
    http: httpx.AsyncClient
    app: Any
    data_dir: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/v1/stream"

    async def register(self, invite: str | None = None) -> Device:
        keys = DeviceKeys()
        body: dict[str, Any] = {"identity_keys": keys.identity()}
        if invite is not None:
            body["invite"] = invite
        response = await self.http.post("/v1/accounts", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        return Device(data["account_id"], data["device_id"], data["token"], keys)

    async def add_device(self, existing: Device) -> Device:
        keys = DeviceKeys()
        response = await self.http.post(
            "/v1/accounts/me/devices",
            json={"identity_keys": keys.identity()},
            headers=existing.auth,
        )
        assert response.status_code == 201, response.text
        data = response.json()
        return Device(data["account_id"], data["device_id"], data["token"], keys)

    async def send(self, sender: Device, to: list[Device], ciphertext: bytes = b"ct") -> str:
        response = await self.http.post(
            "/v1/messages",
            json={
                "recipients": [d.address for d in to],
                "ciphertext": b64.encode(ciphertext),
                "kind": "olm",
            },
            headers=sender.auth,
        )
        assert response.status_code == 201, response.text
        envelope_id: str = response.json()["envelope_id"]
        return envelope_id

    async def fetch(self, device: Device, wait: float = 0) -> list[dict[str, Any]]:
        response = await self.http.get(
            "/v1/messages", params={"wait": wait}, headers=device.auth, timeout=wait + 10
        )
        assert response.status_code == 200, response.text
        envelopes: list[dict[str, Any]] = response.json()["envelopes"]
        return envelopes


@contextlib.asynccontextmanager
async def serve(cfg: config.Config) -> AsyncIterator[Server]:
    app = create_app(cfg)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            lifespan="on",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield Server(url=url, http=http, app=app, data_dir=cfg.data_dir)
    finally:
        server.should_exit = True
        await task


def make_config(db_url: str, tmp_path: Path, **overrides: Any) -> config.Config:
    return config.Config(data_dir=tmp_path, db=db_url, **overrides)


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    # Start from empty tables (PostgreSQL is shared by the session).
    emptied = await fresh_stores(db_url)
    await emptied.db.close()
    async with serve(make_config(db_url, tmp_path)) as running:
        yield running
