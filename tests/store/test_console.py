"""Console credentials, sessions and one-time links, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.store.interfaces import OperatorRecord
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio

HOUR = 3_600_000


async def operator(stores: Stores, name: str = "Ana", role: str = "admin") -> OperatorRecord:
    record = OperatorRecord(ids.new_id(), name, role, 1)
    await stores.operators.create(
        record.operator_id, name, role, ids.token_digest(ids.new_token()), 1
    )
    return record


async def test_a_password_belongs_to_a_named_operator(stores: Stores) -> None:
    assert not await stores.console.has_console_operator()
    ana = await operator(stores)
    await operator(stores, "Bo")  # an operator with only an API token
    assert await stores.console.credential("Bo") is None
    await stores.console.set_password(ana.operator_id, "$argon2id$one", b"secret", 5)
    found = await stores.console.credential("Ana")
    assert found is not None
    assert (found.operator, found.password_hash, found.totp_secret) == (
        ana,
        "$argon2id$one",
        b"secret",
    )
    assert await stores.console.credential("ana") is None  # names are exact
    assert await stores.console.has_console_operator()
    with pytest.raises(HavenError) as raised:
        await stores.console.set_password(ids.new_id(), "$argon2id$x", None, 5)
    assert raised.value.code is ErrorCode.NOT_FOUND


async def test_a_new_password_ends_every_session(stores: Stores) -> None:
    ana = await operator(stores)
    await stores.console.set_password(ana.operator_id, "$argon2id$one", None, 1)
    digest = ids.token_digest("session")
    await stores.console.create_session(digest, ana.operator_id, "csrf", 10, 10 + HOUR)
    assert await stores.console.session(digest, 20, HOUR) is not None
    await stores.console.set_password(ana.operator_id, "$argon2id$two", None, 30)
    assert await stores.console.session(digest, 40, HOUR) is None


async def test_sessions_end_when_idle_at_their_lifetime_or_on_sign_out(stores: Stores) -> None:
    ana = await operator(stores)
    first, second, third = (ids.token_digest(t) for t in ("one", "two", "three"))
    for digest in (first, second, third):
        await stores.console.create_session(digest, ana.operator_id, "tok", 0, 10 * HOUR)
    found = await stores.console.session(first, HOUR - 1, HOUR)
    assert found is not None
    assert (found.operator, found.csrf_token, found.expires_at) == (ana, "tok", 10 * HOUR)
    # Used just now, so still alive an hour later; the unused one idled out.
    assert await stores.console.session(first, 2 * HOUR - 2, HOUR) is not None
    assert await stores.console.session(second, 2 * HOUR - 2, HOUR) is None
    assert await stores.console.session(first, 10 * HOUR, 100 * HOUR) is None  # lifetime over
    await stores.console.end_session(third)
    assert await stores.console.session(third, 1, HOUR) is None
    assert await stores.console.session(ids.token_digest("never"), 1, HOUR) is None


async def test_purging_removes_only_dead_sessions(stores: Stores) -> None:
    ana = await operator(stores)
    live, idle = ids.token_digest("live"), ids.token_digest("idle")
    await stores.console.create_session(live, ana.operator_id, "t", 5 * HOUR, 10 * HOUR)
    await stores.console.create_session(idle, ana.operator_id, "t", 0, 10 * HOUR)
    assert await stores.console.purge_sessions(5 * HOUR + 1, HOUR) == 1
    assert await stores.console.session(live, 5 * HOUR + 2, HOUR) is not None


async def test_a_totp_code_is_accepted_once(stores: Stores) -> None:
    ana = await operator(stores)
    await stores.console.set_password(ana.operator_id, "$argon2id$one", b"s" * 20, 1)
    assert await stores.console.use_totp_step(ana.operator_id, 100)
    assert not await stores.console.use_totp_step(ana.operator_id, 100)  # replayed
    assert not await stores.console.use_totp_step(ana.operator_id, 99)  # older
    assert await stores.console.use_totp_step(ana.operator_id, 101)


async def test_a_first_run_link_creates_one_admin_once(stores: Stores) -> None:
    link = ids.token_digest("link")
    await stores.console.create_link(link, 0, HOUR)
    assert await stores.console.link_usable(link, 1)
    assert not await stores.console.link_usable(link, HOUR)  # expired
    first = OperatorRecord(ids.new_id(), "Ana", "admin", 5)
    await stores.console.create_first_operator(link, first, ids.token_digest("api"), "$h", 5)
    found = await stores.console.credential("Ana")
    assert found is not None
    assert (found.operator, found.password_hash) == (first, "$h")
    assert not await stores.console.link_usable(link, 6)
    again = OperatorRecord(ids.new_id(), "Mallory", "admin", 7)
    with pytest.raises(HavenError) as raised:
        await stores.console.create_first_operator(link, again, ids.token_digest("b"), "$h", 7)
    assert raised.value.code is ErrorCode.FORBIDDEN
    assert await stores.console.credential("Mallory") is None


async def test_a_refused_first_admin_leaves_the_link_usable(stores: Stores) -> None:
    await operator(stores, "Ana")
    link = ids.token_digest("link")
    await stores.console.create_link(link, 0, HOUR)
    taken = OperatorRecord(ids.new_id(), "Ana", "admin", 5)
    with pytest.raises(HavenError) as raised:
        await stores.console.create_first_operator(link, taken, ids.token_digest("x"), "$h", 5)
    assert raised.value.code is ErrorCode.CONFLICT
    assert await stores.console.link_usable(link, 6)  # nothing was written
    expired = ids.token_digest("old")
    await stores.console.create_link(expired, 0, 10)
    fresh = OperatorRecord(ids.new_id(), "Bo", "admin", 5)
    with pytest.raises(HavenError):
        await stores.console.create_first_operator(expired, fresh, ids.token_digest("y"), "$h", 11)
    assert await stores.console.credential("Bo") is None
