"""The authorization matrix, generated from the app's route table: every route against every
kind of caller that must not get in.

- no token, forged or malformed tokens, another account's secret, a removed (revoked)
  device: refused on every route that is not PUBLIC;
- every route that is not PUBLIC names its guard (a device, an operator, a TAXII peer) among
  its dependencies, so a new route without a check fails the build;
- a suspended or banned account: refused (403) on every device route except the ones it
  needs to see why and appeal;
- a device token (even a valid one) on operator routes, an operator or TAXII peer token on
  device routes: refused; a moderator where an admin is needed: refused (403);
- another account's device: a route naming a resource by id in its path either refuses
  another account's resource or says in CROSS_ACCOUNT why it is shared by design.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import Route

from haven.core import ids
from haven.core.config import Config
from haven.server.app import create_app
from haven.server.auth import current_device, current_operator, standing_device
from haven.server.console.headers import is_console_path
from haven.server.routes.taxii import current_peer
from haven.store.stores import stores_at
from tests.server.conftest import Device, Server

pytestmark = pytest.mark.anyio

PUBLIC = {
    ("POST", "/v1/accounts"): "registration is how a device gets its token",
    ("GET", "/v1/health"): "liveness for load balancers; reveals no data",
    ("GET", "/metrics"): "loopback-only; counts without identities",
    ("GET", "/v1/openapi.json"): "the public API description",
    ("GET", "/v1/transparency/latest"): "the published transparency report: counts only",
    ("GET", "/transparency"): "the published transparency report as a page: counts only",
    ("GET", "/v1/notices/key"): "the notice public key; clients pin it when they join",
    ("GET", "/v1/keylog/key"): "the key log's public key; clients pin it when they join",
    ("POST", "/v1/link-requests"): (
        "a new device proves a protected account's registration lock; refused alike for a "
        "wrong lock, an unknown account and a locked-out one"
    ),
}


def route_table() -> list[tuple[str, str, object]]:
    """(method, full path, route) for every route, through included routers."""
    found: list[tuple[str, str, object]] = []
    for context in iter_route_contexts(create_app(Config()).routes):
        route, path = context.route, str(context.path)
        if isinstance(route, APIWebSocketRoute):
            found.append(("WEBSOCKET", path, route))
        elif isinstance(route, APIRoute | Route):
            found.extend((m, path, route) for m in sorted(route.methods or {"GET"}))
    return found


def http_routes() -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in route_table() if m not in {"WEBSOCKET", "HEAD"}]


def api_routes() -> list[tuple[str, str]]:
    """Everything but the operator console, whose pages take a session cookie and never a
    token: tests/server/console/test_security.py walks those."""
    return [(m, p) for m, p in http_routes() if not is_console_path(p)]


def test_stream_route_is_the_only_websocket() -> None:
    sockets = [path for method, path, _ in route_table() if method == "WEBSOCKET"]
    assert sockets == ["/v1/stream"]  # tests/server/routes/test_stream.py covers its refusals


def fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", ids.new_id(), path)


async def forged_callers(server: Server) -> dict[str, dict[str, str]]:
    alice = await server.register()
    removed = await server.add_device(alice)
    await server.http.delete(f"/v1/accounts/me/devices/{removed.device_id}", headers=alice.auth)
    victim = await server.register()
    return {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {alice.token}"},
        "malformed token": {"Authorization": "Bearer nonsense"},
        "right device, wrong secret": {
            "Authorization": f"Bearer {victim.device_id}.{ids.new_token()}"
        },
        "another account's secret on this device id": {
            "Authorization": f"Bearer {victim.device_id}.{alice.token.split('.', 1)[1]}"
        },
        "removed device": removed.auth,
    }


@pytest.mark.parametrize(("method", "path"), api_routes())
async def test_route_refuses_callers_without_a_valid_token(
    server: Server, method: str, path: str
) -> None:
    if (method, path) in PUBLIC:
        return
    for label, headers in (await forged_callers(server)).items():
        response = await server.http.request(method, fill(path), headers=headers, json={})
        assert response.status_code == 401, (label, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


def test_every_public_route_still_exists() -> None:
    assert set(PUBLIC) <= set(http_routes())


async def test_valid_token_passes(server: Server) -> None:
    device: Device = await server.register()
    response = await server.http.get("/v1/keys/count", headers=device.auth)
    assert response.status_code == 200


# -- guards ---------------------------------------------------------------------------------

DEVICE, ANY_STANDING, OPERATOR, PEER = "device", "device of any standing", "operator", "peer"
GUARDS: dict[Callable[..., Any], str] = {
    current_device: DEVICE,
    standing_device: ANY_STANDING,
    current_operator: OPERATOR,
    current_peer: PEER,
}

# Routes that need an admin, not any operator: a moderator is refused with 403. None of the
# /v1/admin routes does today (moderators act, review and decide; creating operators is the
# `haven admin` command's job), so this stays empty until one does.
ADMIN_ONLY: dict[tuple[str, str], str] = {}


def _guards(dependant: Dependant) -> set[str]:
    found = {GUARDS[d.call] for d in dependant.dependencies if d.call in GUARDS}
    for sub in dependant.dependencies:
        found |= _guards(sub)
    return found


@functools.cache
def _guard_table() -> dict[tuple[str, str], frozenset[str]]:
    """(method, path) -> the guards its routes depend on (building the app takes a while)."""
    table: dict[tuple[str, str], frozenset[str]] = {}
    for method, path, route in route_table():
        found = _guards(route.dependant) if isinstance(route, APIRoute) else set()
        table[method, path] = table.get((method, path), frozenset()) | found
    return table


def guard_of(method: str, path: str) -> str | None:
    found = set(_guard_table().get((method, path), frozenset()))
    assert len(found) <= 1, f"{method} {path} has several guards: {found}"
    return found.pop() if found else None


def guarded(*kinds: str) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api_routes() if (m, p) not in PUBLIC and guard_of(m, p) in kinds]


def test_every_route_that_is_not_public_names_its_guard() -> None:
    unguarded = [(m, p) for m, p in api_routes() if (m, p) not in PUBLIC and not guard_of(m, p)]
    assert unguarded == []


def test_the_matrix_reaches_every_kind_of_route() -> None:
    # Guards against the parametrized tests below silently running over nothing.
    assert len(guarded(DEVICE)) >= 10
    assert guarded(ANY_STANDING)
    assert len(guarded(OPERATOR)) >= 5
    assert guarded(PEER)
    assert set(ADMIN_ONLY) <= set(guarded(OPERATOR))


@dataclass
class Cast:
    """Everyone the matrix tries, on one server."""

    alice: Device  # in good standing
    suspended: Device
    banned: Device
    moderator: dict[str, str]
    admin: dict[str, str]
    peer: dict[str, str]


async def _operator(db_url: str, role: str) -> dict[str, str]:
    operator_id = ids.new_id()
    token = ids.operator_token(operator_id)
    async with stores_at(db_url) as stores:
        await stores.operators.create(operator_id, f"{role}-{operator_id[:6]}", role,
                                      ids.token_digest(token), 1)  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


async def _peer(db_url: str) -> dict[str, str]:
    token = ids.new_token()
    async with stores_at(db_url) as stores:
        await stores.peers.create("matrix-peer", ids.token_digest(token), 1)
    return {"Authorization": httpx.BasicAuth("matrix-peer", token)._auth_header}


@pytest.fixture
async def cast(server: Server, db_url: str) -> Cast:
    moderator = await _operator(db_url, "moderator")
    suspended, banned = await server.register(), await server.register()
    for device, action in ((suspended, "suspend"), (banned, "ban")):
        acted = await server.http.post(
            f"/v1/admin/accounts/{device.account_id}/actions",
            json={"action": action, "reason": "spam"},
            headers=moderator,
        )
        assert acted.status_code == 201, acted.text
    return Cast(
        alice=await server.register(),
        suspended=suspended,
        banned=banned,
        moderator=moderator,
        admin=await _operator(db_url, "admin"),
        peer=await _peer(db_url),
    )


async def call(server: Server, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    return await server.http.request(method, fill(path), headers=headers, json={})


def refused(response: httpx.Response, status: int, code: str) -> bool:
    return response.status_code == status and response.json()["error"]["code"] == code


# One test per dimension, each over every route of its kind: a server per route would cost a
# minute per backend, and one failure list names every route that lets the caller in.


async def test_a_suspended_or_banned_account_is_refused_on_every_device_route(
    server: Server, cast: Cast
) -> None:
    let_in = []
    for method, path in guarded(DEVICE):
        for device in (cast.suspended, cast.banned):
            response = await call(server, method, path, device.auth)
            if not refused(response, 403, "account_suspended"):
                let_in.append((method, path, response.status_code))
    assert let_in == []


async def test_a_suspended_or_banned_account_can_still_see_why_and_appeal(
    server: Server, cast: Cast
) -> None:
    shut_out = []
    for method, path in guarded(ANY_STANDING):
        for device in (cast.suspended, cast.banned):
            response = await call(server, method, path, device.auth)
            if response.status_code in {401, 403}:
                shut_out.append((method, path, response.status_code))
    assert shut_out == []


async def test_operator_routes_refuse_device_tokens_and_the_wrong_role(
    server: Server, cast: Cast
) -> None:
    wrong = []
    for method, path in guarded(OPERATOR):
        for label, headers in (("device", cast.alice.auth), ("peer", cast.peer)):
            response = await call(server, method, path, headers)
            if not refused(response, 401, "unauthorized"):
                wrong.append((method, path, label, response.status_code))
        moderator = await call(server, method, path, cast.moderator)
        if (method, path) in ADMIN_ONLY:
            if not refused(moderator, 403, "forbidden"):
                wrong.append((method, path, "moderator", moderator.status_code))
        elif moderator.status_code in {401, 403}:
            wrong.append((method, path, "moderator shut out", moderator.status_code))
        admin = await call(server, method, path, cast.admin)
        if admin.status_code in {401, 403}:
            wrong.append((method, path, "admin shut out", admin.status_code))
    assert wrong == []


async def test_operator_and_peer_credentials_open_no_other_kind_of_route(
    server: Server, cast: Cast
) -> None:
    let_in = []
    for method, path in guarded(DEVICE, ANY_STANDING, PEER):
        others = {"moderator": cast.moderator, "admin": cast.admin}
        if guard_of(method, path) == PEER:
            others["device"] = cast.alice.auth
        else:
            others["peer"] = cast.peer
        for label, headers in others.items():
            response = await call(server, method, path, headers)
            if not refused(response, 401, "unauthorized"):
                let_in.append((method, path, label, response.status_code))
    assert let_in == []


# -- another account's device ---------------------------------------------------------------

# Device routes that name a resource by id in their path: REFUSED (another account's
# resource is refused and left alone), or why it is shared by design.
REFUSED = "refused"
CROSS_ACCOUNT = {
    ("DELETE", "/v1/accounts/me/devices/{device_id}"): REFUSED,
    ("GET", "/v1/accounts/{account_id}/devices"): (
        "the device directory: a sender needs every device of a contact to encrypt to it"
    ),
    ("GET", "/v1/attachments/{attachment_id}"): (
        "an attachment id is a capability handed over inside an encrypted message, and the "
        "bytes are ciphertext under a key that travels the same way"
    ),
    # Refused too (404 for another account's request), but their path names a join request,
    # which the generic test cannot make: tests/server/routes/test_protection.py covers them.
    ("POST", "/v1/accounts/me/link-requests/{request_id}/approve"): "refused: see test_protection",
    ("DELETE", "/v1/accounts/me/link-requests/{request_id}"): "refused: see test_protection",
}


def with_path_ids() -> list[tuple[str, str]]:
    return [(m, p) for m, p in guarded(DEVICE, ANY_STANDING) if "{" in p]


def test_every_device_route_with_an_id_in_its_path_is_in_the_cross_account_table() -> None:
    assert set(with_path_ids()) == set(CROSS_ACCOUNT)


@pytest.mark.parametrize(
    ("method", "path"), [route for route, rule in CROSS_ACCOUNT.items() if rule == REFUSED]
)
async def test_another_accounts_resource_is_refused_and_left_alone(
    server: Server, cast: Cast, method: str, path: str
) -> None:
    victim = await server.register()
    second = await server.add_device(victim)
    owned = {"device_id": second.device_id, "account_id": victim.account_id}
    target = re.sub(r"\{([^}]+)\}", lambda m: owned[m.group(1)], path)
    response = await server.http.request(method, target, headers=cast.alice.auth)
    assert refused(response, 404, "not_found") or response.status_code == 403, response.text
    # Nothing happened to the victim: the device still works and is still listed.
    assert (await server.http.get("/v1/keys/count", headers=second.auth)).status_code == 200
    listed = await server.http.get(f"/v1/accounts/{victim.account_id}/devices", headers=victim.auth)
    assert second.device_id in {d["device_id"] for d in listed.json()["devices"]}


async def test_an_ack_naming_another_devices_envelope_changes_nothing(
    server: Server, cast: Cast
) -> None:
    bob = await server.register()
    envelope_id = await server.send(cast.alice, [bob])
    response = await server.http.post(
        "/v1/messages/ack", json={"envelope_ids": [envelope_id]}, headers=cast.alice.auth
    )
    assert refused(response, 404, "unknown_envelope"), response.text
    assert [e["envelope_id"] for e in await server.fetch(bob)] == [envelope_id]


async def test_an_appeal_against_another_accounts_action_is_refused(
    server: Server, cast: Cast
) -> None:
    standing = await server.http.get("/v1/accounts/me/standing", headers=cast.suspended.auth)
    [action] = standing.json()["actions"]
    response = await server.http.post(
        "/v1/accounts/me/appeals",
        json={"action_id": action["action_id"], "text": "not mine to appeal"},
        headers=cast.alice.auth,
    )
    assert refused(response, 404, "not_found"), response.text
    own = await server.http.post(
        "/v1/accounts/me/appeals",
        json={"action_id": action["action_id"], "text": "mine"},
        headers=cast.suspended.auth,
    )
    assert own.status_code == 201, own.text  # the stranger's attempt did not use it up
