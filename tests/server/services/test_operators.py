"""What operators do, as both the JSON API and the console call it: each step is in the
audit log under a new signed head, and lifts or blocks at once."""

from __future__ import annotations

import pytest

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.safety.policy import Action
from haven.server.services import operators
from haven.server.state import ServerState
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio


def state_of(server: Server) -> ServerState:
    found: ServerState = server.app.state.haven
    return found


async def test_action_appeal_and_decision_each_seal_the_log(server: Server) -> None:
    state = state_of(server)
    alice = await server.register()
    record = await operators.take_action(state, alice.account_id, Action.SUSPEND, "spam", "", "Ana")
    assert len(await state.stores.audit.heads()) == 1
    assert (await server.http.get("/v1/keys/count", headers=alice.auth)).status_code == 403
    review = await operators.review(state, alice.account_id)
    assert (review.standing, [a.action_id for a in review.actions]) == (
        "suspended",
        [record.action_id],
    )
    appealed = await server.http.post(
        "/v1/accounts/me/appeals", json={"action_id": record.action_id, "text": "wrong"},
        headers=alice.auth,
    )  # fmt: skip
    [(appeal, action)] = await operators.appeals_with_actions(state, "open")
    assert (appeal.appeal_id, action.action_id) == (appealed.json()["appeal_id"], record.action_id)
    await operators.decide_appeal(state, appeal.appeal_id, True, "Bo", "checked")
    assert (await server.http.get("/v1/keys/count", headers=alice.auth)).status_code == 200
    assert len(await state.stores.audit.heads()) == 3
    assert await operators.appeals_with_actions(state, "open") == []


async def test_unknown_accounts_and_bad_input_change_nothing(server: Server) -> None:
    state = state_of(server)
    with pytest.raises(HavenError) as raised:
        await operators.review(state, ids.new_id())
    assert raised.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(HavenError):
        await operators.send_notices(state, [ids.new_id()], "state_sponsored", "en", "Ana")
    with pytest.raises(HavenError):
        await operators.close_report(state, 1, True, "Ana", "")
    assert await state.stores.audit.count() == 0
    assert await state.stores.audit.heads() == []
