"""The transport: Haven's v1 HTTP API as typed calls (httpx). Swappable: anything with these
methods can carry the client (the relay transport arrives with the relay)."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from haven.core import b64
from haven.core.wire import (
    AttachmentCreated,
    ClaimResponse,
    DeviceCredentials,
    DeviceList,
    EnvelopeBatch,
    KeyCount,
    SendResponse,
)


class ApiError(Exception):
    """The server refused a request; `code` is its error code."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None):
        super().__init__(f"{message} ({code})")
        self.status = status
        self.code = code
        self.details = details or {}


class Unreachable(Exception):
    """The server could not be reached (network down, blocked, or not running)."""


class HavenApi:
    def __init__(self, server: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.server = server.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=self.server, headers=headers, timeout=timeout)

    async def __aenter__(self) -> HavenApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(
        self, method: str, path: str, *, json: Any = None, content: bytes | None = None,
        params: dict[str, Any] | None = None, read_timeout: float | None = None,
    ) -> httpx.Response:  # fmt: skip
        try:
            response = await self._http.request(
                method, path, json=json, content=content, params=params,
                timeout=read_timeout if read_timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )  # fmt: skip
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {self.server}: {exc}") from None
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ApiError(
                    response.status_code, error["code"], error["message"], error.get("details")
                )
            except (ValueError, KeyError, TypeError):
                raise ApiError(
                    response.status_code, "http_error", response.text[:200], None
                ) from None
        return response

    async def _model(self, model: type[BaseModel], method: str, path: str, **kw: Any) -> Any:
        return model.model_validate((await self._call(method, path, **kw)).json())

    async def register(
        self, identity_keys: dict[str, str], invite: str | None
    ) -> DeviceCredentials:
        body: dict[str, Any] = {"identity_keys": identity_keys}
        if invite:
            body["invite"] = invite
        result: DeviceCredentials = await self._model(
            DeviceCredentials, "POST", "/v1/accounts", json=body
        )
        return result

    async def add_device(self, identity_keys: dict[str, str]) -> DeviceCredentials:
        result: DeviceCredentials = await self._model(
            DeviceCredentials,
            "POST",
            "/v1/accounts/me/devices",
            json={"identity_keys": identity_keys},
        )
        return result

    async def devices(self, account_id: str) -> DeviceList:
        result: DeviceList = await self._model(
            DeviceList, "GET", f"/v1/accounts/{account_id}/devices"
        )
        return result

    async def upload_keys(
        self, one_time: list[dict[str, str]], fallback: dict[str, str] | None
    ) -> KeyCount:
        body: dict[str, Any] = {"one_time_keys": one_time}
        if fallback is not None:
            body["fallback_key"] = fallback
        result: KeyCount = await self._model(KeyCount, "PUT", "/v1/keys", json=body)
        return result

    async def key_count(self) -> KeyCount:
        result: KeyCount = await self._model(KeyCount, "GET", "/v1/keys/count")
        return result

    async def claim(self, devices: list[dict[str, str]]) -> ClaimResponse:
        result: ClaimResponse = await self._model(
            ClaimResponse, "POST", "/v1/keys/claim", json={"devices": devices}
        )
        return result

    async def send(
        self,
        recipients: list[dict[str, str]],
        ciphertext: bytes,
        kind: str,
        franking_tag: bytes | None = None,
    ) -> SendResponse:
        body: dict[str, Any] = {
            "recipients": recipients,
            "ciphertext": b64.encode(ciphertext),
            "kind": kind,
        }
        if franking_tag is not None:
            body["franking_tag"] = b64.encode(franking_tag)
        result: SendResponse = await self._model(SendResponse, "POST", "/v1/messages", json=body)
        return result

    async def fetch(self, wait: float = 0, limit: int = 100) -> EnvelopeBatch:
        result: EnvelopeBatch = await self._model(
            EnvelopeBatch, "GET", "/v1/messages", params={"wait": wait, "limit": limit},
            read_timeout=wait + 30,
        )  # fmt: skip
        return result

    async def ack(self, envelope_ids: list[str]) -> None:
        await self._call("POST", "/v1/messages/ack", json={"envelope_ids": envelope_ids})

    async def upload_attachment(self, blob: bytes) -> AttachmentCreated:
        result: AttachmentCreated = await self._model(
            AttachmentCreated, "POST", "/v1/attachments", content=blob,
        )  # fmt: skip
        return result

    async def download_attachment(self, attachment_id: str) -> bytes:
        return (await self._call("GET", f"/v1/attachments/{attachment_id}")).content
