"""The transport: Haven's v1 HTTP API as typed calls (httpx), directly or through a relay."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from haven.client.errors import ApiError, Unreachable
from haven.client.relayed import RelayTunnel
from haven.client.servertls import ServerPinMismatch, check_relay_allowed, pinned_context
from haven.core import b64
from haven.core.relaylink import RelayLinkError
from haven.core.wire import (
    AppealInfo,
    AttachmentCreated,
    ClaimResponse,
    ConsistencyProof,
    DeviceActivity,
    DeviceCredentials,
    DeviceList,
    EnvelopeBatch,
    JoinPending,
    KeyCount,
    KeyLogKey,
    LinkHashes,
    LinkListUpdate,
    LinkRequestInfo,
    NoticeKey,
    ProtectionStatus,
    ReportFiled,
    ReportRequest,
    SendResponse,
    SignedNotice,
    Standing,
)

__all__ = ["ApiError", "HavenApi", "Unreachable"]  # the errors live in errors.py

log = logging.getLogger("haven.client")
T = TypeVar("T", bound=BaseModel)


class HavenApi:
    """The server's HTTP API. With relay invite links, a server that cannot be reached
    directly is reached through the first relay that works, for the rest of this session;
    `via` then names it (the caller tells the user). With a `server_pin` (a server with a
    self-signed certificate) the server's certificate must match it, directly and through
    relays; without one an https:// server is checked against the certificate authorities."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        timeout: float = 30.0,
        relays: Sequence[str] = (),
        server_pin: bytes | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout
        self._relays = list(relays)
        self._pin = server_pin
        self._tunnel: RelayTunnel | None = None
        self.via: str | None = None
        # Pinned: the certificate is fetched and checked before the first request.
        self.ssl_context: ssl.SSLContext | None = None
        self._ready = server_pin is None or not self.server.startswith("https://")
        self._http = self._client(self.server)

    def _client(self, base_url: str) -> httpx.AsyncClient:
        verify: ssl.SSLContext | bool = self.ssl_context or True
        return httpx.AsyncClient(
            base_url=base_url, headers=self._headers, timeout=self._timeout, verify=verify
        )

    async def _pin_server(self) -> None:
        assert self._pin is not None
        self.ssl_context = await pinned_context(self.server, self._pin, self._timeout)
        await self._http.aclose()
        self._http = self._client(self.server)
        self._ready = True

    @property
    def base_url(self) -> str:
        """Where requests go now: the server, or the local end of a relay tunnel (for the
        WebSocket stream to follow the same route)."""
        return self._tunnel.url if self._tunnel is not None else self.server

    async def __aenter__(self) -> HavenApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()
        if self._tunnel is not None:
            await self._tunnel.__aexit__(None, None, None)
            self._tunnel = None

    async def _call(
        self, method: str, path: str, *, json: Any = None, content: bytes | None = None,
        params: dict[str, Any] | None = None, read_timeout: float | None = None,
    ) -> httpx.Response:  # fmt: skip
        try:
            if not self._ready:
                await self._pin_server()
            return await self._request(method, path, json, content, params, read_timeout)
        except Unreachable as exc:
            if not self._relays or self._tunnel is not None:
                raise
            if isinstance(exc, ServerPinMismatch):
                log.warning("%s; trying relays", exc)
            await self._use_relay()
        return await self._request(method, path, json, content, params, read_timeout)

    async def _request(
        self, method: str, path: str, json: Any, content: bytes | None,
        params: dict[str, Any] | None, read_timeout: float | None,
    ) -> httpx.Response:  # fmt: skip
        try:
            response = await self._http.request(
                method, path, json=json, content=content, params=params,
                timeout=read_timeout if read_timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )  # fmt: skip
        except httpx.TransportError as exc:
            where = self.server if self.via is None else f"{self.server} (via relay {self.via})"
            raise Unreachable(f"cannot reach {where}: {exc}") from None
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

    async def _use_relay(self) -> None:
        """Switch to the first relay that lets us through; Unreachable if none does."""
        check_relay_allowed(self.server)
        failures = []
        for link in self._relays:
            try:
                tunnel = RelayTunnel(link, server=self.server, server_pin=self._pin)
            except RelayLinkError as exc:
                failures.append(f"a saved relay link is unusable: {exc}")
                continue
            await tunnel.__aenter__()
            try:
                await tunnel.check()
            except Unreachable as exc:
                await tunnel.__aexit__(None, None, None)
                failures.append(str(exc))
                continue
            self._tunnel = tunnel
            self.via = tunnel.name
            self.ssl_context = None  # the tunnel speaks TLS to the server; locally, plain
            self._ready = True
            await self._http.aclose()
            self._http = self._client(tunnel.url)
            log.info("server unreachable directly; using relay %s", tunnel.name)
            return
        raise Unreachable(
            f"cannot reach {self.server}, directly or through {len(self._relays)} relay(s): "
            + "; ".join(failures)
        )

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

    async def add_device(
        self, identity_keys: dict[str, str], registration_lock: str | None = None
    ) -> DeviceCredentials:
        body: dict[str, Any] = {"identity_keys": identity_keys}
        if registration_lock is not None:  # a protected account's lock proof
            body["registration_lock"] = registration_lock
        result: DeviceCredentials = await self._model(
            DeviceCredentials, "POST", "/v1/accounts/me/devices", json=body
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

    async def health(self) -> None:
        """Returns once the server answers; Unreachable (or ApiError) says why not."""
        await self._call("GET", "/v1/health")

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

    async def link_list(self, version: int) -> LinkListUpdate:
        """How to update the link-check list from `version` (0: the whole list)."""
        result: LinkListUpdate = await self._model(
            LinkListUpdate, "GET", "/v1/linkguard/list", params={"version": version}
        )
        return result

    async def link_hashes(self, prefix: bytes) -> LinkHashes:
        """Listed full hashes starting with `prefix`: only the prefix leaves the device."""
        result: LinkHashes = await self._model(
            LinkHashes, "GET", "/v1/linkguard/hashes", params={"prefix": prefix.hex()}
        )
        return result

    async def standing(self) -> Standing:
        """This account's standing, the actions taken on it and its appeals."""
        result: Standing = await self._model(Standing, "GET", "/v1/accounts/me/standing")
        return result

    async def appeal(self, action_id: int, text: str) -> AppealInfo:
        result: AppealInfo = await self._model(
            AppealInfo, "POST", "/v1/accounts/me/appeals",
            json={"action_id": action_id, "text": text},
        )  # fmt: skip
        return result

    async def report(self, **request: Any) -> ReportFiled:
        """File a report (see ReportRequest for the fields)."""
        body = ReportRequest.model_validate(request).model_dump(mode="json")
        result: ReportFiled = await self._model(ReportFiled, "POST", "/v1/reports", json=body)
        return result

    async def notice_key(self) -> NoticeKey:
        result: NoticeKey = await self._model(NoticeKey, "GET", "/v1/notices/key")
        return result

    async def key_log_key(self) -> KeyLogKey:
        result: KeyLogKey = await self._model(KeyLogKey, "GET", "/v1/keylog/key")
        return result

    async def key_log_consistency(self, old: int, new: int) -> ConsistencyProof:
        result: ConsistencyProof = await self._model(
            ConsistencyProof, "GET", "/v1/keylog/consistency", params={"from": old, "to": new}
        )
        return result

    async def notices(self) -> list[SignedNotice]:
        response = await self._call("GET", "/v1/accounts/me/notices")
        try:
            return [SignedNotice.model_validate(item) for item in response.json()]
        except (ValueError, TypeError) as exc:
            message = f"the server sent malformed notices: {exc}"
            raise ApiError(502, "bad_response", message, None) from None

    async def ack(self, envelope_ids: list[str]) -> None:
        await self._call("POST", "/v1/messages/ack", json={"envelope_ids": envelope_ids})

    async def upload_attachment(self, blob: bytes) -> AttachmentCreated:
        result: AttachmentCreated = await self._model(
            AttachmentCreated, "POST", "/v1/attachments", content=blob,
        )  # fmt: skip
        return result

    async def download_attachment(self, attachment_id: str) -> bytes:
        return (await self._call("GET", f"/v1/attachments/{attachment_id}")).content

    # -- protected accounts ---------------------------------------------------------------

    async def _list(self, model: type[T], path: str) -> list[T]:
        response = await self._call("GET", path)
        try:
            items = response.json()
            if not isinstance(items, list):
                raise TypeError("not a list")
            return [model.model_validate(item) for item in items]
        except (ValueError, TypeError) as exc:
            raise ApiError(502, "bad_response", f"the server sent a malformed list: {exc}",
                           None) from None  # fmt: skip

    async def protection(self) -> ProtectionStatus:
        result: ProtectionStatus = await self._model(
            ProtectionStatus, "GET", "/v1/accounts/me/protection"
        )
        return result

    async def change_protection(self, **change: Any) -> ProtectionStatus:
        """POST a ProtectionChange (action, registration_lock, new_lock, language)."""
        result: ProtectionStatus = await self._model(
            ProtectionStatus, "POST", "/v1/accounts/me/protection",
            json={k: v for k, v in change.items() if v is not None},
        )  # fmt: skip
        return result

    async def device_activity(self) -> list[DeviceActivity]:
        return await self._list(DeviceActivity, "/v1/accounts/me/device-activity")

    async def remove_device(self, device_id: str) -> None:
        await self._call("DELETE", f"/v1/accounts/me/devices/{device_id}")

    async def request_join(
        self, account_id: str, identity_keys: dict[str, str], registration_lock: str
    ) -> JoinPending:
        """Without a token: a new device asks to join a protected account."""
        body = {"account_id": account_id, "identity_keys": identity_keys,
                "registration_lock": registration_lock}  # fmt: skip
        result: JoinPending = await self._model(JoinPending, "POST", "/v1/link-requests",
                                                json=body)  # fmt: skip
        return result

    async def link_requests(self) -> list[LinkRequestInfo]:
        return await self._list(LinkRequestInfo, "/v1/accounts/me/link-requests")

    async def approve_link_request(self, request_id: str) -> LinkRequestInfo:
        result: LinkRequestInfo = await self._model(
            LinkRequestInfo, "POST", f"/v1/accounts/me/link-requests/{request_id}/approve"
        )
        return result

    async def deny_link_request(self, request_id: str) -> None:
        await self._call("DELETE", f"/v1/accounts/me/link-requests/{request_id}")
