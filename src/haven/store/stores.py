"""Opening a database and handing out its per-type stores."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from haven.store.accounts import SqlAccountStore
from haven.store.blobs import SqlBlobStore
from haven.store.console import SqlConsoleStore
from haven.store.database import Database
from haven.store.intel import SqlIntelStore
from haven.store.interfaces import (
    AccountStore,
    AuditStore,
    BlobStore,
    CampaignStore,
    ConsoleStore,
    DeviceActivityStore,
    IntelStore,
    InviteStore,
    KeyLogStore,
    KeyStore,
    LinkguardStore,
    LinkRequestStore,
    ModerationStore,
    NoticeStore,
    OperatorStore,
    OverviewStore,
    PeerStore,
    ProtectionStore,
    QueueStore,
    ReportStore,
)
from haven.store.invites import SqlInviteStore
from haven.store.keylog import SqlKeyLogStore
from haven.store.keys import SqlKeyStore
from haven.store.linkguard import SqlLinkguardStore
from haven.store.moderation import (
    SqlAuditStore,
    SqlModerationStore,
    SqlNoticeStore,
    SqlOperatorStore,
    SqlReportStore,
)
from haven.store.overview import SqlOverviewStore
from haven.store.peers import SqlPeerStore
from haven.store.protection import (
    SqlCampaignStore,
    SqlDeviceActivityStore,
    SqlLinkRequestStore,
    SqlProtectionStore,
)
from haven.store.queues import SqlQueueStore


@dataclass(frozen=True)
class Stores:
    """The per-type stores over one database (a bundle, not a god object: no methods)."""

    db: Database
    accounts: AccountStore
    keys: KeyStore
    queues: QueueStore
    blobs: BlobStore
    invites: InviteStore
    intel: IntelStore
    peers: PeerStore
    linkguard: LinkguardStore
    operators: OperatorStore
    moderation: ModerationStore
    audit: AuditStore
    reports: ReportStore
    notices: NoticeStore
    keylog: KeyLogStore
    console: ConsoleStore
    overview: OverviewStore
    protection: ProtectionStore
    link_requests: LinkRequestStore
    device_activity: DeviceActivityStore
    campaigns: CampaignStore


@contextlib.asynccontextmanager
async def stores_at(url: str) -> AsyncIterator[Stores]:
    """Stores open for the length of a block (a CLI command), closed whatever happens."""
    stores = await open_stores(url)
    try:
        yield stores
    finally:
        await stores.db.close()


async def open_stores(url: str) -> Stores:
    """Connect, migrate to the current schema, and return the stores."""
    db = Database(url)
    try:
        await db.migrate()
    except BaseException:
        await db.close()
        raise
    return Stores(
        db=db,
        accounts=SqlAccountStore(db),
        keys=SqlKeyStore(db),
        queues=SqlQueueStore(db),
        blobs=SqlBlobStore(db),
        invites=SqlInviteStore(db),
        intel=SqlIntelStore(db),
        peers=SqlPeerStore(db),
        linkguard=SqlLinkguardStore(db),
        operators=SqlOperatorStore(db),
        moderation=SqlModerationStore(db),
        audit=SqlAuditStore(db),
        reports=SqlReportStore(db),
        notices=SqlNoticeStore(db),
        keylog=SqlKeyLogStore(db),
        console=SqlConsoleStore(db),
        overview=SqlOverviewStore(db),
        protection=SqlProtectionStore(db),
        link_requests=SqlLinkRequestStore(db),
        device_activity=SqlDeviceActivityStore(db),
        campaigns=SqlCampaignStore(db),
    )
