"""Operator paths: the foreground sync command, reconnecting, scheduled refresh and its logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from connections.models import OAuthToken, OdooConnection
from connections.tasks import refresh_expiring_tokens, refresh_token
from connections.tokens import disconnect
from crm.models import Lead, SyncCursor, SyncRun
from crm.sync import run_sync
from tests.odoo_sandbox import assert_matches_truth, link_through_browser

pytestmark = pytest.mark.django_db


def test_sync_leads_command_prints_summary(linked, control):
    out, err = StringIO(), StringIO()

    call_command("sync_leads", "--connection", str(linked.pk), stdout=out, stderr=err)

    assert f"{len(control.leads())} fetched" in out.getvalue()
    assert "succeeded" in out.getvalue()
    assert_matches_truth(linked, control.leads())
    assert SyncRun.objects.get(connection=linked).status == SyncRun.Status.SUCCEEDED


def test_sync_leads_command_full_rereads(linked, control):
    run_sync(linked.pk)
    out = StringIO()

    call_command("sync_leads", "--connection", str(linked.pk), "--full", stdout=out, stderr=StringIO())

    run = SyncRun.objects.filter(connection=linked).order_by("-pk").first()
    assert run.full is True
    assert run.fetched == len(control.leads())
    assert run.created == 0


def test_sync_leads_command_unknown_connection():
    with pytest.raises(CommandError) as error:
        call_command("sync_leads", "--connection", "999999", stdout=StringIO(), stderr=StringIO())

    assert "999999" in str(error.value)


def test_sync_leads_command_reports_unlinked(linked):
    disconnect(linked)

    with pytest.raises(CommandError):
        call_command("sync_leads", "--connection", str(linked.pk), stdout=StringIO(), stderr=StringIO())


def test_reconnect_keeps_leads_and_cursor(linked, control, admin_client):
    run_sync(linked.pk)
    cursor = SyncCursor.objects.get(connection=linked)
    leads = Lead.objects.filter(connection=linked).count()

    disconnect(linked)
    linked.refresh_from_db()
    assert linked.status == OdooConnection.Status.DISCONNECTED
    assert not OAuthToken.objects.filter(connection=linked).exists()
    assert Lead.objects.filter(connection=linked).count() == leads
    assert run_sync(linked.pk) is None, "a disconnected connection does not sync"

    link_through_browser(admin_client, linked)
    linked.refresh_from_db()
    after = SyncCursor.objects.get(connection=linked)

    assert linked.status == OdooConnection.Status.CONNECTED
    assert Lead.objects.filter(connection=linked).count() == leads
    assert (after.write_date, after.last_id) == (cursor.write_date, cursor.last_id)
    assert run_sync(linked.pk).run.created == 0


def test_scheduled_refresh_renews_expiring_token(linked, control, caplog, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        OAuthToken.objects.filter(connection=linked).update(expires_at=timezone.now() + timedelta(seconds=60))
        before = OAuthToken.objects.get(connection=linked)
        caplog.set_level(logging.DEBUG)

        queued = refresh_expiring_tokens()
    finally:
        app.conf.task_always_eager = False

    after = OAuthToken.objects.get(connection=linked)
    assert queued == 1
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert after.expires_at > before.expires_at
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("oauth.refresh_")]
    assert any(f"connection_id={linked.pk}" in line and "old_expires_at=" in line for line in lines)
    assert any(f"connection_id={linked.pk}" in line and "new_expires_at=" in line for line in lines)
    secrets = [before.access_token, before.refresh_token, after.access_token, after.refresh_token]
    for record in caplog.records:
        for secret in secrets:
            assert secret not in record.getMessage()


def test_scheduled_refresh_skips_fresh_token(linked, control):
    before = OAuthToken.objects.get(connection=linked)
    requests_before = control.stats()

    refresh_token(linked.pk)

    assert OAuthToken.objects.get(connection=linked).access_token == before.access_token
    assert control.stats() == requests_before


def test_disconnect_api_key_connection_forgets_key():
    from connections.models import ApiKeyCredential

    connection = OdooConnection.objects.create(
        name="Keyed", base_url="https://odoo.example.test", auth_method=OdooConnection.AuthMethod.API_KEY
    )
    ApiKeyCredential.objects.create(connection=connection, login="admin@example.test", api_key="0123456789abcdef" * 2 + "01234567")
    connection.set_status(OdooConnection.Status.CONNECTED)

    revoked = disconnect(connection)

    credential = ApiKeyCredential.objects.get(connection=connection)
    connection.refresh_from_db()
    assert revoked is False
    assert credential.api_key is None
    assert credential.login == "admin@example.test"
    assert connection.status == OdooConnection.Status.DISCONNECTED
