"""API-key connections end to end: link through the admin, sync over real HTTP, refused keys."""

from __future__ import annotations

import pytest
import requests
from django.contrib.messages import get_messages
from django.urls import reverse

from connections.apikey_admin import ApiKeyCredentialForm
from connections.linking import check_connection
from connections.models import ApiKeyCredential, OdooConnection
from connections.odoo.errors import OdooCredentialsRejected
from crm.models import Lead, SyncRun
from crm.sync import run_sync
from crm.tasks import sync_all
from tests.test_end_to_end import assert_matches_truth

pytestmark = pytest.mark.django_db

TIMEOUT = 10


def create_api_key(sandbox_url: str, login: str = "admin", **attributes) -> str:  # noqa: ANN003
    """Create a key in the sandbox as a user would under Preferences > Account Security."""
    response = requests.post(
        f"{sandbox_url}/__sandbox__/api-keys", json={"login": login, **attributes}, timeout=TIMEOUT
    )
    assert response.status_code == 201, response.text
    return response.json()["key"]


def api_key_connection(sandbox_url: str, api_key: str, login: str = "admin", dialect_override: str = "") -> OdooConnection:
    connection = OdooConnection.objects.create(
        name="Sandbox by API key",
        base_url=sandbox_url,
        database="sandbox",
        auth_method=OdooConnection.AuthMethod.API_KEY,
    )
    ApiKeyCredential.objects.create(connection=connection, login=login, api_key=api_key, dialect_override=dialect_override)
    return connection


def run_test_connection(admin_client, connection):  # noqa: ANN001, ANN201
    """Run the admin's Test connection action on one connection; return the messages shown."""
    response = admin_client.post(
        reverse("admin:connections_odooconnection_changelist"),
        {"action": "test_connection", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in get_messages(response.wsgi_request)]



def assert_synced(connection: OdooConnection, control) -> None:  # noqa: ANN001
    result = run_sync(connection.pk)
    assert result is not None
    assert result.run.status == SyncRun.Status.SUCCEEDED, result.run.error_message
    truth = control.leads()
    assert any(not row["active"] for row in truth), "the truth must include archived leads"
    assert len({row["company_id"][0] for row in truth if row["company_id"]}) == 2
    assert_matches_truth(connection, truth)


@pytest.mark.parametrize(("version", "dialect", "label"), [(17, "jsonrpc", "JSON-RPC"), (19, "json2", "JSON-2")])
def test_link_in_admin_and_sync(version, dialect, label, sandbox, control, admin_client, django_capture_on_commit_callbacks):
    control.configure(odoo_version=version)
    connection = api_key_connection(sandbox.url, create_api_key(sandbox.url))

    with django_capture_on_commit_callbacks() as callbacks:
        messages = run_test_connection(admin_client, connection)

    connection.refresh_from_db()
    credential = connection.api_key_credential
    assert connection.status == OdooConnection.Status.CONNECTED, messages
    assert connection.odoo_version == f"{version}.0"
    assert credential.dialect == dialect
    assert credential.uid == 2
    assert len(callbacks) == 1, "the first sync must be queued on commit"
    report = " ".join(messages)
    assert f"Odoo {version}.0" in report
    assert f"through {label} as" in report
    assert "Mitchell Admin" in report
    assert "YourCompany" in report
    assert "My Company (Chicago)" in report
    assert f"{len(control.leads())} leads visible" in report
    assert "won_status" in report if version == 19 else "won_status" not in report
    assert_synced(connection, control)


@pytest.mark.parametrize("version", [16, 17, 18, 19])
def test_every_version_syncs_without_errors(version, sandbox, control):
    control.configure(odoo_version=version)
    connection = api_key_connection(sandbox.url, create_api_key(sandbox.url))

    report = check_connection(connection)

    assert report.dialect == ("json2" if version == 19 else "jsonrpc")
    assert_synced(connection, control)
    stats = control.stats()
    assert stats["native_errors"] == {}
    assert stats["login_failures"] == 0


def test_first_sync_links_untested_connection(sandbox, control):
    control.configure(odoo_version=19)
    connection = api_key_connection(sandbox.url, create_api_key(sandbox.url))
    # Linked some other way than the Test connection action, with no dialect chosen yet.
    connection.set_status(OdooConnection.Status.CONNECTED)

    assert_synced(connection, control)

    connection.refresh_from_db()
    assert connection.odoo_version == "19.0"
    assert connection.api_key_credential.dialect == "json2"


def test_dialect_override_reads_19_over_jsonrpc(sandbox, control):
    control.configure(odoo_version=19)
    connection = api_key_connection(sandbox.url, create_api_key(sandbox.url), dialect_override="jsonrpc")

    report = check_connection(connection)

    assert report.dialect == "jsonrpc"
    assert_synced(connection, control)
    assert control.stats()["json2_calls"] == {}


@pytest.mark.parametrize("version", [17, 19])
def test_wrong_key_rejected_once(version, sandbox, control, admin_client):
    control.configure(odoo_version=version)
    create_api_key(sandbox.url)
    connection = api_key_connection(sandbox.url, "0" * 40)

    messages = run_test_connection(admin_client, connection)
    for _ in range(3):
        assert run_sync(connection.pk) is None
        sync_all()
    # Even a connection put back to Connected by hand sends nothing with a rejected key.
    connection.set_status(OdooConnection.Status.CONNECTED)
    failed = run_sync(connection.pk).run

    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CREDENTIALS_REJECTED
    assert connection.api_key_credential.status == ApiKeyCredential.Status.REJECTED
    assert failed.status == SyncRun.Status.FAILED
    assert failed.error_kind == "credentials_rejected"
    assert any("refused" in message for message in messages), messages
    assert not any("0" * 40 in message for message in messages)
    stats = control.stats()
    if version == 17:
        assert stats["jsonrpc_calls"] == {"common.authenticate": 1}
        assert stats["login_failures"] == 1
    else:
        assert stats["json2_calls"] == {"res.users/context_get": 1}
        assert stats["jsonrpc_calls"] == {}


def test_admin_key_write_only_and_reset(sandbox, admin_client):
    connection = api_key_connection(sandbox.url, "f" * 40)
    with pytest.raises(OdooCredentialsRejected):
        check_connection(connection)
    credential = ApiKeyCredential.objects.get(connection=connection)

    page = admin_client.get(reverse("admin:connections_odooconnection_change", args=[connection.pk]))
    assert page.status_code == 200
    assert "f" * 40 not in page.content.decode()

    blank = ApiKeyCredentialForm(data={"login": "admin", "api_key": "", "dialect_override": ""}, instance=credential)
    assert blank.is_valid(), blank.errors
    assert not blank.has_changed()
    assert blank.save().api_key == "f" * 40
    credential.refresh_from_db()
    assert credential.status == ApiKeyCredential.Status.REJECTED

    good_key = create_api_key(sandbox.url)
    typed = ApiKeyCredentialForm(data={"login": "admin", "api_key": good_key, "dialect_override": ""}, instance=credential)
    assert typed.is_valid(), typed.errors
    typed.save()
    credential.refresh_from_db()
    connection.refresh_from_db()
    assert credential.status == ApiKeyCredential.Status.UNVERIFIED
    assert connection.status == OdooConnection.Status.NOT_LINKED
    assert check_connection(connection).uid == 2


def test_new_connection_needs_a_key():
    form = ApiKeyCredentialForm(data={"login": "admin", "api_key": "", "dialect_override": ""})
    assert not form.is_valid()
    assert "api_key" in form.errors


def test_cooldown_blocks_good_key_in_16(sandbox, control):
    control.configure(odoo_version=16, login_cooldown_after=3)
    good = api_key_connection(sandbox.url, create_api_key(sandbox.url))
    check_connection(good)
    for attempt in range(3):
        bad = api_key_connection(sandbox.url, f"{attempt}" * 40)
        with pytest.raises(OdooCredentialsRejected):
            check_connection(bad)

    result = run_sync(good.pk).run

    assert result.status == SyncRun.Status.FAILED
    assert result.error_kind == "credentials_rejected"
    assert control.stats()["login_cooldown_refusals"] >= 1
    assert Lead.objects.filter(connection=good).count() == 0


def test_cooldown_spares_execute_kw_in_17(sandbox, control):
    control.configure(odoo_version=17, login_cooldown_after=3)
    good = api_key_connection(sandbox.url, create_api_key(sandbox.url))
    check_connection(good)
    for attempt in range(4):
        bad = api_key_connection(sandbox.url, f"{attempt}" * 40)
        with pytest.raises(OdooCredentialsRejected):
            check_connection(bad)

    assert_synced(good, control)
    assert control.stats()["login_cooldown_refusals"] == 1
