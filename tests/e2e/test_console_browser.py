"""The operator console in a real browser (Debian's headless Chromium, driven by
Playwright) against a real `haven server` process: what an operator does, click by click.
Each test saves a screenshot of the page it exercised under tests/artifacts/.

Needs /usr/bin/chromium (`make test` installs it); without it these tests are skipped, or
fail when CI=true."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from haven.client.messenger import Messenger
from haven.core import clock, ids
from haven.server.console import credentials
from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import stores_at
from tests.conftest import service_missing
from tests.processes import ServerProcess

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "a long console password"
PASSPHRASE = "correct horse battery staple"
HOSTILE = "<script>alert(1)</script>"
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Async set-up (stores, clients) on its own thread: Playwright's sync API owns this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        service_missing("Chromium", FileNotFoundError(str(CHROMIUM)))
    with sync_playwright() as playwright:
        # Root in a container has no user namespaces for Chromium's sandbox.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield launched
        launched.close()


class Site:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.url = server.url
        self.db = server.db

    def operator(self, name: str = "Ana", role: str = "admin") -> str:
        """An operator with a console password; returns their API token."""

        async def make() -> str:
            operator_id = ids.new_id()
            token = ids.operator_token(operator_id)
            async with stores_at(self.db) as stores:
                await stores.operators.create(
                    operator_id, name, role, ids.token_digest(token), clock.now_ms()
                )
                hashed = credentials.hash_password(PASSWORD)
                await stores.console.set_password(operator_id, hashed, None, clock.now_ms())
            return token

        return run_async(make())

    def register(self) -> dict[str, str]:
        from tests.server.conftest import DeviceKeys

        body = {"identity_keys": DeviceKeys().identity()}
        response = httpx.post(self.url + "/v1/accounts", json=body, timeout=10)
        assert response.status_code == 201, response.text
        created: dict[str, str] = response.json()
        return created


@pytest.fixture
def site(launch: type[ServerProcess], tmp_path: Path) -> Site:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'haven.sqlite3'}").start()
    return Site(server)


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:  # a script that ran would show itself here
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", refuse)
    yield opened
    context.close()
    assert dialogs == [], f"a page opened a dialog: {dialogs}"


def open_page(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def sign_in(page: Page, site: Site, name: str = "Ana") -> None:
    page.goto(site.url + "/admin")
    expect(page).to_have_url(site.url + "/admin/login?next=%2Fadmin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_sign_in_act_on_an_account_and_see_it_in_the_audit_log(page: Page, site: Site) -> None:
    site.operator()
    account = site.register()["account_id"]
    page.goto(site.url + "/admin/login")
    page.get_by_label("Name").fill("Ana")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong name, password or code.")
    screenshot(page, "login")
    sign_in(page, site)
    expect(page.locator("#accounts-count")).to_have_text("1")
    screenshot(page, "dashboard")

    open_page(page, "Accounts")
    page.get_by_label("Account id").fill(account[:8])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=account).click()
    screenshot(page, "accounts")
    page.get_by_label("Action").select_option("suspend")
    page.get_by_label("Reason").select_option("spam")
    page.get_by_label("Note").fill("bulk invites from a new account")
    page.get_by_role("button", name="Record the action").click()
    expect(page.locator("#standing")).to_have_text("suspended")

    open_page(page, "Audit log")
    row = page.locator("#audit-entries tbody tr").first
    expect(row).to_contain_text("account action")
    expect(row).to_contain_text(account)
    expect(row).to_contain_text("suspend")
    page.get_by_role("link", name="Verify the whole log").click()
    expect(page.locator("#verify-result")).to_contain_text("Verified: 1 entries")
    screenshot(page, "audit")

    page.get_by_role("button", name="Sign out").click()
    page.goto(site.url + "/admin/audit")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_verify_a_franked_report(page: Page, site: Site, tmp_path: Path) -> None:
    site.operator()

    async def report() -> None:
        alice = await Messenger.create_account(tmp_path / "alice", site.url, PASSPHRASE)
        bob = await Messenger.create_account(tmp_path / "bob", site.url, PASSPHRASE)
        try:
            message_id = await alice.send_text(
                bob.state.account_id, f"I know where you are {HOSTILE}"
            )
            await bob.receive()
            await bob.report(message_id, "threats")
        finally:
            await alice.close()
            await bob.close()

    run_async(report())
    sign_in(page, site)
    open_page(page, "Reports")
    report_card = page.locator("article.report").first
    expect(report_card.locator(".mark")).to_contain_text("Verified")
    expect(report_card.locator("blockquote")).to_have_text(f"I know where you are {HOSTILE}")
    screenshot(page, "reports")
    report_card.get_by_role("button", name="Close: actioned").click()
    expect(page.get_by_role("status")).to_contain_text("Report closed: actioned")


def test_send_a_notice(page: Page, site: Site) -> None:
    site.operator()
    account = site.register()
    sign_in(page, site)
    open_page(page, "Notices")
    page.get_by_label("Template").select_option("state_sponsored.en")
    page.get_by_label("Accounts to notify").fill(account["account_id"])
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("1 account(s) will receive this")).to_be_visible()
    screenshot(page, "notices")
    page.get_by_role("button", name="Send to 1 account(s)").click()
    expect(page.get_by_role("status")).to_contain_text("1 notice(s) sent")
    mine = httpx.get(
        site.url + "/v1/accounts/me/notices",
        headers={"Authorization": f"Bearer {account['token']}"},
        timeout=10,
    )
    assert [n["notice"]["template"] for n in mine.json()] == ["state_sponsored"]


def test_upload_an_intel_file_and_see_its_rejected_lines(
    page: Page, site: Site, tmp_path: Path
) -> None:
    site.operator()
    upload = tmp_path / "campaign.txt"
    upload.write_text(f"spy-gadget.net\nnot a domain!!\n{HOSTILE}\nhttps://spy-gadget.net/x.apk\n")
    sign_in(page, site)
    open_page(page, "Intel")
    page.get_by_label("Indicator file").set_input_files(str(upload))
    page.get_by_label("Publisher").fill("Citizen Lab")
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-summary")).to_contain_text("2 new indicators")
    rejected = page.locator("#rejected tbody tr")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(1)).to_contain_text(HOSTILE)  # shown as text, never run
    screenshot(page, "intel")
    page.goto(site.url + "/admin/intel/search?q=spy-gadget")
    expect(page.locator("article.indicator").first).to_contain_text("Citizen Lab")


def test_a_hostile_indicator_renders_as_text_and_runs_nothing(page: Page, site: Site) -> None:
    site.operator()

    async def plant() -> None:
        source = IntelSource(HOSTILE, HOSTILE, "f.txt", 1, None, "clear")
        async with stores_at(site.db) as stores:
            await stores.intel.import_records([IntelRecord("domain", HOSTILE, (source,))], "p", 1)

    run_async(plant())
    sign_in(page, site)
    page.goto(site.url + "/admin/intel/search?q=alert")
    expect(page.locator("code.value")).to_have_text(HOSTILE)
    assert page.locator("main script").count() == 0
    screenshot(page, "intel-search")


def test_test_a_url_against_the_block_list(page: Page, site: Site) -> None:
    site.operator()

    async def listed() -> None:
        source = IntelSource("Amnesty International", "Pegasus", "domains.txt", 1, None, "clear")
        async with stores_at(site.db) as stores:
            record = IntelRecord("domain", "weather4free.com", (source,))
            await stores.intel.import_records([record], "t", 1)

    run_async(listed())
    sign_in(page, site)
    open_page(page, "Link blocking")
    page.get_by_label("URL", exact=True).fill("https://www.weather4free.com/today")
    page.get_by_role("button", name="Test").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("BLOCKED")
    expect(verdict).to_contain_text("Amnesty International: Pegasus")
    screenshot(page, "links")
    page.get_by_label("URL", exact=True).fill("https://example.org/")
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#verdict")).to_contain_text("CLEAN")


def test_create_an_invite_with_its_qr_code(page: Page, site: Site) -> None:
    site.operator()
    sign_in(page, site)
    open_page(page, "Relays & invites")
    expect(page.locator("#relay-not-configured")).to_be_visible()
    page.get_by_label("Who it is for").fill("Rui")
    page.get_by_role("button", name="Create an invite").click()
    expect(page.locator("#invite-qr")).to_be_visible()
    assert page.locator("#invite-qr").evaluate("img => img.naturalWidth") > 0
    screenshot(page, "relays")


def test_publish_a_transparency_report(page: Page, site: Site) -> None:
    token = site.operator()
    account = site.register()["account_id"]
    acted = httpx.post(
        f"{site.url}/v1/admin/accounts/{account}/actions",
        json={"action": "warn", "reason": "spam"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert acted.status_code == 201, acted.text
    year = str(dt.datetime.now(tz=dt.UTC).year)
    sign_in(page, site)
    open_page(page, "Transparency")
    page.get_by_label("Period").fill(year)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#chart-over-time")).to_be_visible()
    screenshot(page, "transparency")
    page.get_by_role("button", name=f"Publish {year}").click()
    expect(page.locator("#published-period")).to_have_text(year)
    page.goto(site.url + "/transparency")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Transparency report: {year}")
