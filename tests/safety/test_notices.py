"""Notices end to end: real server, real clients. Only a notice signed with the key the
client pinned is ever shown as one; a user's message imitating a notice stays a message."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.core import ids
from haven.core import notices as signed
from haven.safety import notices
from haven.safety.records import audit_entry
from haven.store.stores import stores_at
from haven.store.tables import notices as notice_rows
from tests.client.conftest import MakeClient, make_client  # noqa: F401
from tests.server.conftest import Server, server  # noqa: F401

pytestmark = pytest.mark.anyio


def test_every_bundled_template_follows_the_rules() -> None:
    found = notices.available()
    assert ("state_sponsored", "en") in found
    assert ("state_sponsored", "fr") in found  # translated by adding a file
    for name, language in found:
        template = notices.load_template(name, language)
        assert template.title
        # Each says it will never ask for the passphrase (in its own language).
        assert ("passphrase" if language == "en" else "phrase de passe") in template.body


@pytest.mark.parametrize(
    "body",
    [
        "Check your account at https://haven-security.example/verify now.",
        "Visit www.example.org for help.",
        "Reply with your passphrase so we can protect you.",
        "Please enter the code we sent you.",
    ],
)
def test_templates_with_links_or_requests_for_secrets_are_refused(body: str) -> None:
    with pytest.raises(notices.TemplateError):
        notices.check(notices.Template("x", "en", "Security alert", body))


def test_unknown_templates_are_clear_errors() -> None:
    with pytest.raises(notices.TemplateError, match="no template"):
        notices.load_template("state_sponsored", "xx")
    with pytest.raises(notices.TemplateError, match="lower-case"):
        notices.load_template("../secrets", "en")


async def operator_headers(db_url: str) -> dict[str, str]:
    operator_id = ids.new_id()
    token = ids.operator_token(operator_id)
    async with stores_at(db_url) as stores:
        await stores.operators.create(operator_id, "ops", "admin", ids.token_digest(token), 1)
    return {"Authorization": f"Bearer {token}"}


async def test_a_signed_notice_is_shown_and_a_lookalike_message_is_not(
    make_client: MakeClient,  # noqa: F811
    server: Server,  # noqa: F811
    db_url: str,
) -> None:
    staff = await operator_headers(db_url)
    journalist, stranger = await make_client("journalist"), await make_client("stranger")
    sent = await server.http.post(
        "/v1/admin/notices",
        json={"accounts": [journalist.state.account_id], "template": "state_sponsored"},
        headers=staff,
    )
    assert sent.status_code == 201, sent.text
    # A user crafts a message that looks exactly like a notice.
    await stranger.send_text(
        journalist.state.account_id,
        "SECURITY NOTICE from your Haven operator: Government-backed attackers may be "
        "targeting your account. Reply with your passphrase to secure it.",
    )
    [message] = await journalist.receive()
    assert message["from"] == stranger.state.account_id  # shown as a stranger's message
    [notice] = await journalist.notices()
    assert notice["verified"]
    assert notice["title"] == "Government-backed attackers may be targeting your account"
    assert await stranger.notices() == []
    async with stores_at(db_url) as stores:
        [entry] = [e for e in await stores.audit.entries() if e.kind == "notice_sent"]
    assert "Government-backed" not in entry.data  # metadata only


async def test_a_tampered_or_foreign_notice_is_refused(
    make_client: MakeClient,  # noqa: F811
    server: Server,  # noqa: F811
    db_url: str,
) -> None:
    staff = await operator_headers(db_url)
    person = await make_client("person")
    await server.http.post(
        "/v1/admin/notices",
        json={"accounts": [person.state.account_id], "template": "mercenary_spyware"},
        headers=staff,
    )
    async with stores_at(db_url) as stores:
        await stores.db.run(
            lambda c: c.execute(
                sa.update(notice_rows).values(body="Install our security app from the store.")
            )
        )
    [refused] = await person.notices()
    assert refused == {
        "notice_id": refused["notice_id"],
        "verified": False,
        "error": "a notice with a bad signature was refused",
    }
    # A notice properly signed, but with another key (a seized or impersonated server):
    # the key pinned when the person joined still decides.
    other = Ed25519PrivateKey.generate()
    async with stores_at(db_url) as stores:
        await stores.notices.send(
            [person.state.account_id], "state_sponsored", "en", "Urgent", "Call this number.",
            2, lambda draft: signed.sign(other, notices.as_signed(draft)),
            lambda account: audit_entry("notice_sent", 2, account=account),
        )  # fmt: skip
    assert [n["verified"] for n in await person.notices()] == [False, False]
    bad = await server.http.post(
        "/v1/admin/notices",
        json={"accounts": [ids.new_id()], "template": "mercenary_spyware"},
        headers=staff,
    )
    assert bad.status_code == 404
