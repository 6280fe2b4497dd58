"""The connections admin: health columns, setup help, token panel and the actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin import helpers, site
from django.contrib.messages import get_messages
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from connections.admin import HEALTH_STYLES, OdooConnectionAdmin
from connections.models import OAuthToken, OdooConnection
from connections.presets import PRESETS
from crm.locks import acquire_lock
from crm.models import Lead, Stage, SyncCursor, SyncRun, Tag
from tests.factories import make_connection, make_token

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:connections_odooconnection_changelist"


def change_url(connection: OdooConnection) -> str:
    return reverse("admin:connections_odooconnection_change", args=[connection.pk])


def messages_of(response) -> list[str]:  # noqa: ANN001
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client, action: str, connections: list[OdooConnection], **extra):  # noqa: ANN001, ANN003, ANN201
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [row.pk for row in connections], **extra}
    return client.post(reverse(CHANGELIST), data)


def row_of(html: str, name: str) -> str:
    """Return the changelist table row whose link text is ``name``."""
    return next(row for row in html.split("<tr") if f">{name}</a>" in row)


def add_leads(connection: OdooConnection, count: int, **values) -> list[Lead]:  # noqa: ANN003
    start = Lead.objects.filter(connection=connection).count()
    return Lead.objects.bulk_create(
        Lead(connection=connection, odoo_id=start + index + 1, name=f"Lead {start + index + 1}", **values)
        for index in range(count)
    )


def test_badge_for_every_status(admin_client):
    for status in OdooConnection.Status:
        make_connection(name=f"Conn {status.value}", status=status)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    for status in OdooConnection.Status:
        colour, _ = HEALTH_STYLES[status]
        assert f">{status.label}</span>" in html, status
        assert colour in html, status


def test_badge_expiring_soon(admin_client, settings):
    settings.ODOO_TOKEN_REFRESH_MARGIN = 900
    soon = make_connection(name="Soon")
    make_token(soon, expires_in=600)
    later = make_connection(name="Later")
    make_token(later, expires_in=3600)
    unknown = make_connection(name="Unknown expiry")
    make_token(unknown, expires_in=None)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert html.count(">Expiring soon</span>") == 1
    assert html.count(">Connected</span>") == 2
    assert ">Expiring soon</span>" in row_of(html, "Soon")


def test_changelist_queries_stay_flat(admin_client):
    def build(index: int) -> None:
        connection = make_connection(name=f"Tenant {index}")
        make_token(connection)
        SyncRun.objects.create(connection=connection, status=SyncRun.Status.SUCCEEDED)
        add_leads(connection, 3)

    build(0)
    with CaptureQueriesContext(db) as one_row:
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    for index in range(1, 6):
        build(index)
    with CaptureQueriesContext(db) as six_rows:
        response = admin_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert len(six_rows) == len(one_row), [query["sql"][:120] for query in six_rows.captured_queries]


def test_last_sync_ignores_deletion_checks(admin_client):
    connection = make_connection(status=OdooConnection.Status.CONNECTED)
    make_token(connection)
    failed = SyncRun.objects.create(connection=connection, status=SyncRun.Status.FAILED, error_kind="odoo_unavailable")
    SyncRun.objects.filter(pk=failed.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    SyncRun.objects.create(connection=connection, kind=SyncRun.Kind.RECONCILE, status=SyncRun.Status.SUCCEEDED)
    add_leads(connection, 4)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert "Failed</span> (odoo_unavailable)" in html
    assert "2\xa0minutes ago</span>" in html
    assert "Succeeded" not in html
    assert f'?connection__id__exact={connection.pk}">4</a>' in html


def test_next_sync_column(rf, settings):
    settings.ODOO_SYNC_INTERVAL = 3600
    recent = make_connection(name="Recent")
    make_token(recent)
    SyncRun.objects.create(connection=recent, status=SyncRun.Status.SUCCEEDED)
    overdue = make_connection(name="Overdue")
    make_token(overdue)
    old = SyncRun.objects.create(connection=overdue, status=SyncRun.Status.SUCCEEDED)
    SyncRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(hours=2))
    paused = make_connection(name="Paused")
    make_token(paused)
    OdooConnection.objects.filter(pk=paused.pk).update(sync_enabled=False)
    make_connection(name="Unlinked")
    admin = OdooConnectionAdmin(OdooConnection, site)
    rows = {row.name: row for row in admin.get_queryset(rf.get("/"))}

    assert str(admin.next_sync(rows["Recent"])).startswith('<span title="About ')
    assert "in 59\xa0minutes" in str(admin.next_sync(rows["Recent"]))
    assert admin.next_sync(rows["Overdue"]) == "Due now"
    assert admin.next_sync(rows["Paused"]) == "Paused"
    assert admin.next_sync(rows["Unlinked"]) == "Not scheduled until connected"


def test_connect_button_per_row(admin_client):
    fresh = make_connection(name="Fresh")
    linked = make_connection(name="Linked")
    make_token(linked)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    fresh_url = reverse("connections:oauth-authorize", args=[fresh.pk])
    linked_url = reverse("connections:oauth-authorize", args=[linked.pk])
    assert f'<a class="button connect-button" href="{fresh_url}">Connect</a>' in html
    assert f'<a class="button connect-button" href="{linked_url}">Reconnect</a>' in html


def test_token_panel_shows_state_not_values(admin_client):
    connection = make_connection()
    token = make_token(connection, access_token="AT-panel-value", refresh_token="RT-panel-value", expires_in=5400)
    retry_at = timezone.now() + timedelta(minutes=10)
    OAuthToken.objects.filter(pk=token.pk).update(
        scope="crm.lead read", refresh_failures=3, retry_not_before=retry_at, refreshed_at=timezone.now()
    )
    connection.set_status(
        OdooConnection.Status.DEGRADED, error_kind="odoo_unavailable", error_message="Odoo answered 503."
    )

    html = admin_client.get(change_url(connection)).content.decode()

    assert "AT-panel-value" not in html
    assert "RT-panel-value" not in html
    assert "client-secret-1" not in html
    assert "(in 1\xa0hour, 29\xa0minutes)" in html or "(in 1\xa0hour, 30\xa0minutes)" in html
    assert "crm.lead read" in html
    assert "3 in a row; next attempt after" in html
    assert "odoo_unavailable" in html
    assert "Odoo answered 503." in html
    assert ">Degraded</span>" in html


def test_token_panel_expiry_unknown(admin_client):
    connection = make_connection()
    make_token(connection, expires_in=None)

    html = admin_client.get(change_url(connection)).content.decode()

    assert "Expiry unknown" in html
    assert "Not refreshed yet" in html


def test_setup_help_per_preset(admin_client, settings):
    settings.ODOO_OAUTH_REDIRECT_URI = ""
    connection = make_connection()

    for url in (reverse("admin:connections_odooconnection_add"), change_url(connection)):
        html = admin_client.get(url).content.decode()

        assert '<code id="redirect-uri">http://testserver/odoo/oauth/callback/</code>' in html
        assert 'id="copy-redirect-uri"' in html
        assert "navigator.clipboard" in html
        assert "<script src=" not in html.split('id="odoo-setup-help"')[1].split("</script>")[0]
        for preset in PRESETS.values():
            assert f'data-preset="{preset.key}"' in html
            assert escape(preset.setup_hint) in html


def test_setup_help_uses_configured_redirect(admin_client, settings):
    settings.ODOO_OAUTH_REDIRECT_URI = "https://crm.example.test/odoo/oauth/callback/"

    html = admin_client.get(reverse("admin:connections_odooconnection_add")).content.decode()

    assert '<code id="redirect-uri">https://crm.example.test/odoo/oauth/callback/</code>' in html


def add_form_data(**client_fields) -> dict:  # noqa: ANN003
    return {
        "name": "Custom server",
        "base_url": "https://odoo.example.test",
        "database": "",
        "auth_method": "oauth",
        "sync_enabled": "on",
        "oauth_client-TOTAL_FORMS": "1",
        "oauth_client-INITIAL_FORMS": "0",
        "oauth_client-MIN_NUM_FORMS": "1",
        "oauth_client-MAX_NUM_FORMS": "1",
        "oauth_client-0-preset": "custom",
        "oauth_client-0-client_id": "custom-client",
        "oauth_client-0-client_secret": "custom-secret",
        "oauth_client-0-scopes": "",
        **{f"oauth_client-0-{name}": value for name, value in client_fields.items()},
    }


def test_custom_preset_needs_urls(admin_client):
    response = admin_client.post(reverse("admin:connections_odooconnection_add"), add_form_data())

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "authorize_url" in errors
    assert "token_url" in errors
    assert "dialect" in errors
    assert not OdooConnection.objects.exists()
    assert "custom-secret" not in response.content.decode()


def test_custom_preset_saves(admin_client):
    data = add_form_data(
        authorize_url="https://auth.example.test/authorize",
        token_url="https://auth.example.test/token",
        client_auth="body",
        dialect="jsonrpc",
    )

    response = admin_client.post(reverse("admin:connections_odooconnection_add"), data)

    assert response.status_code == 302, [inline.formset.errors for inline in response.context["inline_admin_formsets"]]
    client = OdooConnection.objects.get().oauth_client
    assert client.effective_token_url == "https://auth.example.test/token"
    assert client.effective_client_auth == "body"
    assert client.effective_dialect == "jsonrpc"
    assert client.client_secret == "custom-secret"


def test_sync_runs_inline_shows_latest_twenty(admin_client):
    connection = make_connection()
    runs = [SyncRun(connection=connection, status=SyncRun.Status.SUCCEEDED, fetched=index) for index in range(25)]
    SyncRun.objects.bulk_create(runs)
    base = timezone.now() - timedelta(days=1)
    for index, run in enumerate(SyncRun.objects.filter(connection=connection).order_by("fetched")):
        SyncRun.objects.filter(pk=run.pk).update(started_at=base + timedelta(minutes=index))

    response = admin_client.get(change_url(connection))

    inlines = response.context["inline_admin_formsets"]
    formset = next(inline.formset for inline in inlines if inline.formset.model is SyncRun)
    shown = [form.instance.fetched for form in formset.forms]
    assert shown == list(range(24, 4, -1))
    assert f"?connection__id__exact={connection.pk}" in response.content.decode()


# --- actions -------------------------------------------------------------------


def test_sync_now_queues_each_linked(admin_client, django_capture_on_commit_callbacks):
    linked = make_connection(name="Linked")
    make_token(linked)
    unlinked = make_connection(name="Unlinked")

    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(admin_client, "sync_now", [linked, unlinked])

    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    messages = messages_of(response)
    assert "Queued a sync of Linked." in messages
    assert (
        "Not linked, so not synced: Unlinked (Not linked). Click Connect (OAuth) or run Test connection (API key) first."
        in messages
    )
    assert len(callbacks) == 1
    assert callbacks[0].args == (linked.pk,)
    assert callbacks[0].keywords == {}


def test_full_resync_queues_full_sync(admin_client, django_capture_on_commit_callbacks):
    from crm.tasks import sync

    connection = make_connection()
    make_token(connection)

    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(admin_client, "full_resync", [connection])

    assert messages_of(response) == [f"Queued a full resync of {connection.name}."]
    assert len(callbacks) == 1
    # delay_on_commit registers functools.partial(task.delay, *args, **kwargs).
    assert callbacks[0].func == sync.delay
    assert callbacks[0].args == (connection.pk,)
    assert callbacks[0].keywords == {"full": True}


def test_connect_action_redirects_to_authorize(admin_client):
    connection = make_connection()

    response = run_action(admin_client, "connect", [connection])

    assert response.status_code == 302
    assert response["Location"] == reverse("connections:oauth-authorize", args=[connection.pk])
    assert messages_of(response) == [f"Opening Odoo to authorize {connection.name}. Approve the request there."]


def test_connect_action_needs_one(admin_client):
    first, second = make_connection(name="First"), make_connection(name="Second")

    response = run_action(admin_client, "connect", [first, second])

    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    assert "Select exactly one connection" in messages_of(response)[0]


def test_disconnect_asks_for_confirmation(admin_client):
    connection = make_connection(name="To disconnect")
    make_token(connection)

    page = admin_client.post(
        reverse(CHANGELIST), {"action": "disconnect_tokens", helpers.ACTION_CHECKBOX_NAME: [connection.pk]}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "Disconnect from Odoo" in html
    assert 'name="post" value="yes"' in html
    assert 'value="disconnect_tokens"' in html
    assert "To disconnect" in html
    assert OAuthToken.objects.filter(connection=connection).exists()


def test_disconnect_without_tokens(admin_client):
    connection = make_connection(name="Never linked")

    response = run_action(admin_client, "disconnect_tokens", [connection], post="yes")

    assert messages_of(response) == ["Never linked had no tokens; it is now marked disconnected."]
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.DISCONNECTED


def test_purge_asks_then_deletes(admin_client):
    connection = make_connection(name="Purged")
    other = make_connection(name="Kept")
    stage = Stage.objects.create(connection=connection, odoo_id=1, name="New")
    tag = Tag.objects.create(connection=connection, odoo_id=1, name="VIP")
    for lead in add_leads(connection, 5, stage=stage):
        lead.tags.add(tag)
    add_leads(other, 2)
    SyncCursor.objects.create(connection=connection, write_date=timezone.now(), last_id=42, company_ids=[1, 2])
    SyncRun.objects.create(connection=connection, status=SyncRun.Status.SUCCEEDED)

    page = run_action(admin_client, "purge", [connection])
    assert page.status_code == 200
    assert "Purge synced leads" in page.content.decode()
    assert "5 leads" in page.content.decode()
    assert Lead.objects.filter(connection=connection).count() == 5

    response = run_action(admin_client, "purge", [connection], post="yes")

    assert messages_of(response) == ["Deleted 5 leads of Purged. The next sync reads every lead again."]
    assert Lead.objects.filter(connection=connection).count() == 0
    assert Lead.objects.filter(connection=other).count() == 2
    assert Lead.tags.through.objects.count() == 0
    cursor = SyncCursor.objects.get(connection=connection)
    assert cursor.write_date is None
    assert cursor.last_id == 0
    assert cursor.company_ids == [1, 2]
    assert Stage.objects.filter(connection=connection).count() == 1
    assert SyncRun.objects.filter(connection=connection).count() == 1


def test_purge_waits_for_running_sync(admin_client):
    connection = make_connection(name="Busy")
    add_leads(connection, 3)
    assert acquire_lock(connection, "running-sync")

    response = run_action(admin_client, "purge", [connection], post="yes")

    assert messages_of(response) == ["A sync of Busy is running, so its leads were kept. Purge again when it ends."]
    assert Lead.objects.filter(connection=connection).count() == 3
    assert SyncCursor.objects.get(connection=connection).lock_owner == "running-sync"


def test_purge_needs_lead_delete_permission(client, django_user_model):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("staff", password="staff-pass", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_odooconnection", "change_odooconnection"])
    )
    client.force_login(staff)
    connection = make_connection()

    page = client.get(change_url(connection))
    choices = client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices
    refused = run_action(client, "purge", [connection], post="yes")

    assert "purge" not in [name for name, _ in choices]
    assert "sync_now" in [name for name, _ in choices]
    assert "Purge leads" not in page.content.decode()
    assert "Sync now" in page.content.decode()
    assert refused.status_code == 302
    assert not any("Deleted" in message for message in messages_of(refused))


def test_change_page_buttons_return_there(admin_client, django_capture_on_commit_callbacks):
    connection = make_connection()
    make_token(connection)
    page = admin_client.get(change_url(connection)).content.decode()
    assert 'value="test_connection"' in page
    assert 'value="sync_now"' in page
    assert 'value="full_resync"' in page
    assert 'value="disconnect_tokens"' in page
    assert 'value="purge"' in page

    with django_capture_on_commit_callbacks():
        response = run_action(admin_client, "sync_now", [connection], next=change_url(connection))
    confirmation = run_action(admin_client, "purge", [connection], next=change_url(connection))
    outside = run_action(admin_client, "sync_now", [connection], next="https://elsewhere.example.test/")

    assert response["Location"] == change_url(connection)
    assert f'name="next" value="{change_url(connection)}"' in confirmation.content.decode()
    assert outside["Location"] == reverse(CHANGELIST)


def test_delete_page_counts_related_rows(admin_client):
    connection = make_connection(name="Gone")
    make_token(connection)
    add_leads(connection, 7)
    SyncRun.objects.create(connection=connection, status=SyncRun.Status.SUCCEEDED)
    delete_url = reverse("admin:connections_odooconnection_delete", args=[connection.pk])

    page = admin_client.get(delete_url)

    html = page.content.decode()
    assert page.status_code == 200
    assert "7 leads" in html
    assert "1 sync runs" in html
    assert "Lead 1" not in html
    assert "Cannot delete" not in html

    response = admin_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 302
    assert not OdooConnection.objects.filter(pk=connection.pk).exists()
    assert not Lead.objects.exists()


def test_every_action_reports_back(linked, admin_client, django_capture_on_commit_callbacks):
    """Run each action of the connections list on a connection linked to the sandbox."""
    from crm.sync import run_sync

    assert run_sync(linked.pk).run.status == SyncRun.Status.SUCCEEDED
    request = admin_client.get(reverse(CHANGELIST)).wsgi_request
    actions = list(site._registry[OdooConnection].get_actions(request))
    # Destructive ones last, so the others still find a linked connection.
    order = [
        "test_connection",
        "connect",
        "sync_now",
        "full_resync",
        "check_deletions",
        "purge",
        "disconnect_tokens",
        "delete_selected",
    ]
    assert sorted(actions) == sorted(order)

    for action in order:
        with django_capture_on_commit_callbacks():
            response = run_action(admin_client, action, [linked], post="yes")

        assert response.status_code == 302, (action, response.content.decode()[:500])
        assert messages_of(response), f"{action} showed no message"
    assert not OdooConnection.objects.filter(pk=linked.pk).exists()


def test_disconnect_revokes_in_sandbox(linked, control, admin_client):
    from crm.sync import run_sync

    run_sync(linked.pk)
    lead_count = Lead.objects.filter(connection=linked).count()
    assert lead_count > 0

    response = run_action(admin_client, "disconnect_tokens", [linked], post="yes")

    assert "Disconnected Sandbox. Odoo confirmed the revocation; the leads stay." in messages_of(response)
    linked.refresh_from_db()
    assert linked.status == OdooConnection.Status.DISCONNECTED
    assert not OAuthToken.objects.filter(connection=linked).exists()
    assert Lead.objects.filter(connection=linked).count() == lead_count
    assert control.stats()["revocations"] >= 1
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert ">Disconnected</span>" in row_of(page, "Sandbox")
    assert ">Connect</a>" in row_of(page, "Sandbox")
