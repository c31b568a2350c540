"""Entry point of the `haven` command."""

from __future__ import annotations

import os
from typing import Annotated

import typer

import haven
from haven.cli import (
    admin,
    audit,
    bench,
    campaigns,
    client,
    intel,
    moderation,
    protection,
    relay,
    serve,
    transparency,
)

app = typer.Typer(
    name="haven",
    help="Haven: end-to-end encrypted messaging for people under surveillance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # a traceback could show secrets from local variables
)
app.command("up")(serve.up)
app.command("server")(serve.server)
admin.app.command("create-admin")(moderation.create_admin)
admin.app.command("legal-request")(moderation.legal_request)
admin.app.add_typer(moderation.account_app, name="account")
admin.app.add_typer(moderation.notice_app, name="notice")
moderation.account_app.command("protect-invite")(campaigns.protect_invite)
admin.app.add_typer(campaigns.campaigns_app, name="campaigns")
app.add_typer(admin.app, name="admin")
app.add_typer(audit.app, name="audit")
app.add_typer(transparency.app, name="transparency")
app.add_typer(intel.app, name="intel")
relay.app.command("add")(client.relay_add)
app.add_typer(relay.app, name="relay")
client.account_app.add_typer(protection.protect_app, name="protect")
client.account_app.add_typer(protection.requests_app, name="requests")
client.account_app.command("join")(protection.join)
client.account_app.command("devices")(protection.devices)
client.account_app.command("remove-device")(protection.remove_device)
client.account_app.command("passphrase")(protection.change_passphrase)
client.account_app.command("update-blocklist")(protection.update_blocklist)
app.add_typer(client.account_app, name="account")
app.add_typer(client.contacts_app, name="contacts")
app.add_typer(client.group_app, name="group")
app.command("send")(client.send)
app.command("receive")(client.receive)
app.command("verify")(client.verify)
app.command("chat")(client.chat)
app.command("check-link")(client.check_link)
app.command("notices")(client.notices)
app.command("checkup")(protection.run_checkup)
app.command("guide")(protection.guide)
app.command("bench")(bench.bench)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"haven {haven.__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Haven command line."""
    # Databases, keys, profiles and received files are for their owner only: every file
    # any haven command creates starts private, whatever the caller's umask.
    os.umask(0o077)
