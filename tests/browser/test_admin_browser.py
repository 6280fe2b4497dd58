"""Staff's path through the admin in Chromium: add, connect, sync, filter, open a lead, disconnect."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from sandbox.server import serve_in_thread
from tests.celery_worker import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "browser-client"
CLIENT_SECRET = "browser-client-secret-7f3a"
# Seconds a synced lead may take to appear: worker start-up plus the sync itself.
SYNC_TIMEOUT = 90
# Set ADMIN_SCREENSHOTS to a folder to keep a screenshot of every step.
SCREENSHOTS = os.environ.get("ADMIN_SCREENSHOTS", "")


def snapshot(page, name: str) -> None:  # noqa: ANN001
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def odoo(tmp_path, live_server, settings):
    settings.ODOO_ALLOW_HTTP_LOOPBACK = True
    settings.ODOO_OAUTH_REDIRECT_URI = ""
    callback = f"{live_server.url}/odoo/oauth/callback/"
    with serve_in_thread(tmp_path / "s.sqlite3", redirect_uris=[callback]) as server:
        response = requests.post(
            f"{server.url}/__sandbox__/oauth-clients",
            json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [callback], "preset": "muk"},
            timeout=10,
        )
        response.raise_for_status()
        yield server


def leads_in_sandbox(server) -> list[dict]:  # noqa: ANN001
    response = requests.get(f"{server.url}/__sandbox__/leads", timeout=10)
    response.raise_for_status()
    return response.json()


def message_texts(page) -> list[str]:  # noqa: ANN001
    return [text.strip() for text in page.locator("ul.messagelist li").all_inner_texts()]


def test_staff_link_sync_and_disconnect(live_server, odoo, admin_user, celery_worker, page):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    truth = leads_in_sandbox(odoo)

    # Log in.
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    expect(page.get_by_role("link", name="Connection health and pipeline")).to_be_visible()
    snapshot(page, "01-index")

    # Add the connection with the setup help beside the form.
    page.goto(f"{live_server.url}/admin/connections/odooconnection/add/")
    callback = f"{live_server.url}/odoo/oauth/callback/"
    assert page.inner_text("#redirect-uri") == callback
    page.fill("#id_name", "Sandbox")
    page.fill("#id_base_url", odoo.url)
    page.fill("#id_database", "sandbox")
    page.select_option("#id_auth_method", "oauth")
    page.select_option("#id_oauth_client-0-preset", "muk")
    assert page.locator(".preset-hint.selected dt").inner_text() == "MuK REST v2"
    page.fill("#id_oauth_client-0-client_id", CLIENT_ID)
    page.fill("#id_oauth_client-0-client_secret", CLIENT_SECRET)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.click("#copy-redirect-uri")
    # The status is set once the clipboard promise resolves.
    expect(page.locator("#copy-redirect-uri-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == callback
    snapshot(page, "02-add")
    page.click("input[name=_continue]")
    page.wait_for_url(f"{live_server.url}/admin/connections/odooconnection/*/change/")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".health-badge").first).to_have_text("Not linked")
    assert CLIENT_SECRET not in page.content()

    # Connect: approve at the sandbox and come back connected.
    page.click("a.connect-link")
    page.wait_for_url(f"{odoo.url}/**")
    snapshot(page, "03-sandbox-authorize")
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "admin")
    page.click("button[name=authorize]")
    page.wait_for_url(f"{live_server.url}/admin/connections/odooconnection/*/change/")
    assert "Connected to Sandbox. The first sync has been queued." in message_texts(page)
    assert page.locator(".health-badge").first.inner_text() == "Connected"
    snapshot(page, "04-connected")

    # Sync now from the list.
    page.goto(f"{live_server.url}/admin/connections/odooconnection/")
    page.check("input.action-select")
    page.select_option("select[name=action]", "sync_now")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Queued a sync of Sandbox.")

    def synced() -> bool:
        page.goto(f"{live_server.url}/admin/connections/odooconnection/")
        return page.locator("td.field-lead_count").inner_text() == f"{len(truth)}"

    wait_until(
        synced, SYNC_TIMEOUT, interval=1, message=lambda: f"{len(truth)} leads; worker log:\n{celery_worker.log_tail()}"
    )
    assert "Succeeded" in page.locator("td.field-last_sync").inner_text()
    snapshot(page, "05-connections")

    # The leads, then one stage.
    page.goto(f"{live_server.url}/admin/crm/lead/")
    assert page.locator("#result_list tbody tr").count() == min(len(truth), 100)
    snapshot(page, "06-leads")
    page.locator("#changelist-filter").get_by_role("link", name="Qualified", exact=True).click()
    page.wait_for_url(re.compile(r".*stage__id__exact=\d+.*"))
    stages = page.locator("#result_list td.field-stage").all_inner_texts()
    expected = [row for row in truth if row["stage_id"] and row["stage_id"][1] == "Qualified" and row["active"]]
    assert stages
    assert set(stages) == {"Qualified"}
    assert len(stages) >= len(expected)
    snapshot(page, "07-qualified")

    # One lead, read-only, with its Odoo link.
    page.locator("#result_list th.field-name a").first.click()
    page.wait_for_url(f"{live_server.url}/admin/crm/lead/*/change/**")
    link = page.get_by_role("link", name="Open in Odoo")
    odoo_id = int(link.get_attribute("href").split("#id=")[1].split("&")[0])
    assert link.get_attribute("href") == f"{odoo.url}/web#id={odoo_id}&model=crm.lead&view_type=form"
    assert page.locator("input[name=_save]").count() == 0
    assert f'"id": {odoo_id}' in page.locator("div.field-raw_record pre").inner_text()
    snapshot(page, "08-lead")

    # Disconnect from the change page, through the confirmation page.
    page.goto(f"{live_server.url}/admin/connections/odooconnection/")
    page.get_by_role("link", name="Sandbox", exact=True).click()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator("h1")).to_have_text("Disconnect from Odoo")
    snapshot(page, "09-disconnect-confirmation")
    page.click("input[type=submit][value='Yes, disconnect']")
    expect(page.locator("ul.messagelist")).to_contain_text(
        "Disconnected Sandbox. Odoo confirmed the revocation; the leads stay."
    )
    assert page.locator(".health-badge").first.inner_text() == "Disconnected"
    expect(page.locator("a.connect-link")).to_have_text("Connect")
    snapshot(page, "10-disconnected")

    # Overview, then check that nothing was fetched from another host.
    page.goto(f"{live_server.url}/admin/crm/overview/")
    assert page.locator("svg.overview-chart").count() == 2
    snapshot(page, "11-overview")
    assert hosts == {"127.0.0.1"}
