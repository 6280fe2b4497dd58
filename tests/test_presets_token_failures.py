"""Token responses and refresh failures of each preset, served by the real sandbox token endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from connections.models import OAuthToken, OdooConnection
from connections.odoo.errors import InvalidClient, InvalidGrant, OdooError
from connections.tokens import OAuthCredentials, refresh_access_token
from tests.odoo_sandbox import TIMEOUT
from tests.odoo_sandbox_web import link_preset

pytestmark = pytest.mark.django_db

PRESETS = ["muk", "oca", "synconics", "custom"]
# Seconds the sandbox delays a "timeout" failure, and the shorter HTTP timeout of the client.
SANDBOX_DELAY = 2.0
CLIENT_TIMEOUT = 0.5


def link(preset, sandbox, control, admin_client):
    return link_preset(preset, sandbox.url, control, admin_client)[1]


def refresh(connection):
    token = OAuthToken.objects.get(connection=connection)
    return refresh_access_token(connection.pk, seen_access_token=token.access_token, reason="test")


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    ("kind", "minimum_wait"),
    [("503_html", 30), ("429", 30), ("html_login_page", 30), ("timeout", 30)],
)
def test_transient_failure_keeps_tokens(preset, kind, minimum_wait, sandbox, control, admin_client, settings):
    connection = link(preset, sandbox, control, admin_client)
    before = OAuthToken.objects.get(connection=connection)
    settings.ODOO_HTTP_TIMEOUT = CLIENT_TIMEOUT
    control.configure(token_fail_next=[kind], timeout_seconds=SANDBOX_DELAY)
    started = timezone.now()

    with pytest.raises(OdooError) as error:
        refresh(connection)

    assert error.value.transient
    assert error.value.retry_after >= minimum_wait
    after = OAuthToken.objects.get(connection=connection)
    assert after.access_token == before.access_token
    assert after.refresh_token == before.refresh_token
    assert after.expires_at == before.expires_at
    assert after.status == OAuthToken.Status.ACTIVE
    assert after.retry_not_before >= started + timedelta(seconds=minimum_wait)
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.DEGRADED
    assert control.stats()["failures_injected"] == {kind: 1}

    with pytest.raises(OdooError) as again:
        refresh(connection)
    assert again.value.kind == "refresh_cooldown"
    assert control.stats()["refresh_requests"] == 1


@pytest.mark.parametrize("preset", PRESETS)
def test_invalid_grant_needs_reauthorization(preset, sandbox, control, admin_client):
    connection = link(preset, sandbox, control, admin_client)
    before = OAuthToken.objects.get(connection=connection)
    control.configure(token_fail_next=["invalid_grant"])

    with pytest.raises(InvalidGrant):
        refresh(connection)

    after = OAuthToken.objects.get(connection=connection)
    assert after.access_token == before.access_token
    assert after.refresh_token == before.refresh_token
    assert after.status == OAuthToken.Status.INVALID
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.NEEDS_REAUTHORIZATION
    with pytest.raises(InvalidGrant):
        OAuthCredentials(connection).authorization_header()
    assert control.stats()["refresh_requests"] == 1


@pytest.mark.parametrize("preset", PRESETS)
def test_invalid_client_is_configuration_error(preset, sandbox, control, admin_client):
    connection = link(preset, sandbox, control, admin_client)
    before = OAuthToken.objects.get(connection=connection)
    control.configure(token_fail_next=["invalid_client"])

    with pytest.raises(InvalidClient):
        refresh(connection)

    after = OAuthToken.objects.get(connection=connection)
    assert after.access_token == before.access_token
    assert after.refresh_token == before.refresh_token
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CONFIGURATION_ERROR
    assert connection.last_error_kind == "invalid_client"


def test_oca_refresh_token_dead_after_expiry(sandbox, control, admin_client):
    connection = link("oca", sandbox, control, admin_client)
    control.configure(clock_offset_seconds=3601)

    with pytest.raises(InvalidGrant):
        refresh(connection)

    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.NEEDS_REAUTHORIZATION


def test_oca_null_scope_keeps_stored_scope(sandbox, control, admin_client):
    connection = link("oca", sandbox, control, admin_client)

    token = refresh(connection)

    assert token.scope == ""
    assert token.expires_at is not None
    assert control.stats()["token_errors"] == {}


def test_synconics_validity_and_static_refresh_token(sandbox, control, admin_client):
    control.configure(access_token_lifetime=3600)
    connection = link("synconics", sandbox, control, admin_client)
    before = OAuthToken.objects.get(connection=connection)
    received = timezone.now()

    token = refresh(connection)

    assert token.access_token != before.access_token
    assert token.refresh_token == before.refresh_token
    assert received + timedelta(seconds=1790) <= token.expires_at <= timezone.now() + timedelta(seconds=1800)
    sent = requests.get(f"{sandbox.url}/__sandbox__/last-authorization", timeout=TIMEOUT).json()["token"]
    assert sent["grant_type"] == "refresh_token"
    assert sent["client_auth"] == "body"


@pytest.mark.parametrize(
    ("message_kind", "error_class", "status"),
    [("secret", InvalidClient, "configuration_error"), ("refresh", InvalidGrant, "needs_reauthorization")],
)
def test_synconics_error_messages(message_kind, error_class, status, sandbox, control, admin_client):
    connection = link("synconics", sandbox, control, admin_client)
    if message_kind == "secret":
        # The consumer's secret changed in Odoo: "Invalid Credentials.".
        control.register_client("synconics-client", "another-secret", preset="synconics")
    else:
        OAuthToken.objects.filter(connection=connection).update(refresh_token="not-the-static-token")

    with pytest.raises(error_class):
        refresh(connection)

    connection.refresh_from_db()
    assert connection.status == status


@pytest.mark.parametrize("preset", ["muk", "oca", "custom"])
def test_rotated_refresh_token_replaces_old(preset, sandbox, control, admin_client):
    connection = link(preset, sandbox, control, admin_client)
    before = OAuthToken.objects.get(connection=connection)

    token = refresh(connection)

    assert token.refresh_token != before.refresh_token
    assert token.access_token != before.access_token
    assert OAuthToken.objects.get(connection=connection).refresh_token == token.refresh_token
