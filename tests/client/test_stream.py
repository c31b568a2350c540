from __future__ import annotations

import pytest

from haven.client.api import Unreachable
from haven.client.stream import EnvelopeStream
from tests.client.conftest import MakeClient

pytestmark = pytest.mark.anyio


async def test_messages_arrive_by_push_and_acks_clear_them(make_client: MakeClient) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    async with EnvelopeStream(bob.state.server, bob.state.token) as stream:
        assert await bob.receive_from(stream, 0.2) == []
        await alice.send_text(bob.state.account_id, "pushed")
        await alice.send_text(bob.state.account_id, "and another")
        got = await bob.receive_from(stream, 10)
        while len(got) < 2:
            got += await bob.receive_from(stream, 10)
        assert [m["body"] for m in got] == ["pushed", "and another"]
    # The acks went over the stream: nothing is left for a later fetch.
    assert await bob.receive() == []
    assert (await bob.api.fetch()).envelopes == []


async def test_a_stream_that_cannot_open_is_unreachable(make_client: MakeClient) -> None:
    bob = await make_client("bob")
    with pytest.raises(Unreachable, match="cannot open"):
        async with EnvelopeStream(bob.state.server, "0" * 32 + ".wrong-token"):
            pass
    with pytest.raises(Unreachable):
        async with EnvelopeStream("http://127.0.0.1:9", bob.state.token):
            pass
