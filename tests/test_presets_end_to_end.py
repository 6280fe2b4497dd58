"""Each OAuth preset end to end against the sandbox: link, sync across a token expiry, disconnect."""

from __future__ import annotations

import time

import pytest
import requests
from django.contrib.messages import get_messages

from connections.models import OAuthToken, OdooConnection
from connections.tokens import disconnect
from crm.models import Lead, SyncRun
from crm.sync import run_sync
from tests.odoo_sandbox import TIMEOUT, assert_matches_truth
from tests.odoo_sandbox_web import link_preset

pytestmark = pytest.mark.django_db

# Seconds: the sandbox's access tokens live LIFETIME, and the client refreshes one that
# expires within MARGIN, so each token is refreshed while it still has MARGIN to live.
LIFETIME = 4
MARGIN = 2
PAGE_SIZE = 5

# The company OCA's snapshot covers: the admin's current company, because otherinfo
# takes no context.
OCA_COMPANY = "YourCompany"


def link(preset, sandbox, control, admin_client):
    response, connection = link_preset(preset, sandbox.url, control, admin_client)
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(message.startswith("Connected") for message in messages), messages
    return connection


def wait_until_refresh_due(connection) -> None:
    """Sleep until the stored access token expires within the refresh margin."""
    deadline = time.monotonic() + LIFETIME + 1
    while not OAuthToken.objects.get(connection=connection).expires_within(MARGIN):
        assert time.monotonic() < deadline, "the access token never came within the refresh margin"
        time.sleep(0.05)


def rejected_at_sandbox(preset, sandbox_url, access_token) -> bool:
    """Return whether the sandbox's data route rejects `access_token`."""
    headers = {"Authorization": f"Bearer {access_token}"}
    if preset == "oca":
        response = requests.get(f"{sandbox_url}/oauth2/otherinfo", params={"model": "crm.lead"}, headers=headers, timeout=TIMEOUT)
    else:
        response = requests.get(f"{sandbox_url}/api/v2/search/crm.lead", params={"count": "true"}, headers=headers, timeout=TIMEOUT)
    return response.status_code == 401


def name_of(record):
    return record.name if record else None


def name_in(value):
    return value[1] if value else None


def assert_matches_oca_scope(connection, truth):
    """Compare with the fields OCA's crm_leads scope gives; many2one values carry names only."""
    visible = [row for row in truth if not row["company_id"] or row["company_id"][1] == OCA_COMPANY]
    local = {lead.odoo_id: lead for lead in Lead.objects.filter(connection=connection, deleted_in_odoo_at__isnull=True).select_related("stage", "salesperson", "team").prefetch_related("tags")}
    assert sorted(local) == sorted(row["id"] for row in visible)
    for row in visible:
        lead = local[row["id"]]
        assert lead.name == row["name"], row["id"]
        assert lead.active == row["active"], row["id"]
        assert lead.type == row["type"], row["id"]
        assert lead.email == (row["email_from"] or ""), row["id"]
        assert name_of(lead.stage) == name_in(row["stage_id"]), row["id"]
        assert name_of(lead.salesperson) == name_in(row["user_id"]), row["id"]
        assert name_of(lead.team) == name_in(row["team_id"]), row["id"]
        assert sorted(tag.odoo_id for tag in lead.tags.all()) == sorted(row["tag_ids"]), row["id"]
        assert lead.odoo_company == (row["company_id"][1] if row["company_id"] else ""), row["id"]
    assert Lead.objects.filter(connection=connection, status="won").exists(), "won leads need the stages' is_won"


@pytest.mark.parametrize("preset", ["muk", "oca", "synconics", "custom"])
def test_preset_syncs_across_expiry_and_disconnects(preset, sandbox, control, admin_client, settings):
    settings.ODOO_TOKEN_REFRESH_MARGIN = MARGIN
    settings.ODOO_SYNC_PAGE_SIZE = PAGE_SIZE
    control.configure(access_token_lifetime=LIFETIME, refresh_token_reuse_detection=True)
    connection = link(preset, sandbox, control, admin_client)
    first_token = OAuthToken.objects.get(connection=connection).access_token
    paused = []

    def pause_once(run):
        # Wait inside the sync, after its first page, so the next request needs a refresh.
        if not paused:
            paused.append(run.pk)
            wait_until_refresh_due(connection)

    first = run_sync(connection.pk, progress=pause_once).run
    after_first = OAuthToken.objects.get(connection=connection).access_token
    wait_until_refresh_due(connection)
    second = run_sync(connection.pk).run

    stats = control.stats()
    assert first.status == SyncRun.Status.SUCCEEDED, first.error_message
    assert second.status == SyncRun.Status.SUCCEEDED, second.error_message
    assert paused, "the sync must have reported a page"
    if preset != "oca":
        # OCA's snapshot is one request, read before the pause; paged dialects read on.
        assert after_first != first_token, "the first sync must refresh after its pause"
    assert stats["refresh_requests"] >= 1
    assert stats["token_errors"] == {}
    assert stats["data_401"] == 0
    token = OAuthToken.objects.get(connection=connection)
    assert token.access_token != first_token
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CONNECTED
    if preset == "oca":
        assert_matches_oca_scope(connection, control.leads())
    else:
        assert_matches_truth(connection, control.leads())

    revoked = disconnect(connection)

    assert not OAuthToken.objects.filter(connection=connection).exists()
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.DISCONNECTED
    if preset == "synconics":
        assert revoked is False
        assert control.stats()["revocations"] == 0
    else:
        assert revoked is True
        assert rejected_at_sandbox(preset, sandbox.url, token.access_token)
