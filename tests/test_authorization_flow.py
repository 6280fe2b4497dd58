"""The authorization-code flow through the admin: state, PKCE, callback errors, storage."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone

from connections.authorization import code_challenge_for
from connections.models import AuthorizationRequest, OAuthToken, OdooConnection, hash_state
from tests.factories import TOKEN_URL, make_connection

pytestmark = pytest.mark.django_db

TOKEN_BODY = {"access_token": "AT-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT-1"}
CALLBACK = "/odoo/oauth/callback/"


def start_flow(client, connection):
    response = client.get(reverse("connections:oauth-authorize", args=[connection.pk]))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    return response["Location"], {key: values[0] for key, values in query.items()}


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_authorize_redirects_with_state_and_pkce(admin_client):
    connection = make_connection()

    location, query = start_flow(admin_client, connection)

    assert location.startswith("https://odoo.example.test/api/v2/authentication/oauth2/authorize?")
    assert query["response_type"] == "code"
    assert query["client_id"] == "client-1"
    assert query["redirect_uri"] == "http://testserver/odoo/oauth/callback/"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 40
    pending = AuthorizationRequest.objects.get()
    assert pending.state_hash == hash_state(query["state"])
    assert query["code_challenge"] == code_challenge_for(pending.code_verifier)
    assert pending.expires_at - pending.created_at == timedelta(minutes=10)


def test_redirect_uri_setting_wins(admin_client, settings):
    settings.ODOO_OAUTH_REDIRECT_URI = "https://crm.example.test/odoo/oauth/callback/"
    connection = make_connection()

    _, query = start_flow(admin_client, connection)

    assert query["redirect_uri"] == "https://crm.example.test/odoo/oauth/callback/"
    assert AuthorizationRequest.objects.get().redirect_uri == "https://crm.example.test/odoo/oauth/callback/"


def test_several_pending_authorizations_allowed(admin_client):
    connection = make_connection()

    _, first = start_flow(admin_client, connection)
    _, second = start_flow(admin_client, connection)

    assert first["state"] != second["state"]
    assert AuthorizationRequest.objects.count() == 2


def test_authorize_requires_change_permission(client):
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    client.force_login(user)
    connection = make_connection()

    response = client.get(reverse("connections:oauth-authorize", args=[connection.pk]))

    assert response.status_code == 403
    assert AuthorizationRequest.objects.count() == 0


@responses.activate
def test_callback_exchanges_code_and_queues_sync(admin_client, django_capture_on_commit_callbacks):
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    connection = make_connection()
    _, query = start_flow(admin_client, connection)

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.get(CALLBACK, {"code": "code-1", "state": query["state"]})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:connections_odooconnection_change", args=[connection.pk])
    assert any(message.startswith("Connected") for message in messages_of(response))
    form = parse_qs(responses.calls[0].request.body)
    assert form["code"] == ["code-1"]
    assert form["code_verifier"] == [AuthorizationRequest.objects.get().code_verifier]
    assert form["redirect_uri"] == [query["redirect_uri"]]
    token = OAuthToken.objects.get(connection=connection)
    assert token.access_token == "AT-1"
    assert token.refresh_token == "RT-1"
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CONNECTED
    assert len(callbacks) == 1


@responses.activate
def test_code_sent_only_to_that_clients_token_url(admin_client):
    other_token_url = "https://evil.example.test/api/v2/authentication/oauth2/token"
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(other_token_url, json={**TOKEN_BODY, "access_token": "AT-EVIL"})
    target = make_connection("Target")
    make_connection("Other", "https://evil.example.test", client_id="client-2")
    _, query = start_flow(admin_client, target)

    admin_client.get(CALLBACK, {"code": "code-1", "state": query["state"]})

    assert [call.request.url for call in responses.calls] == [TOKEN_URL]
    assert OAuthToken.objects.get().connection == target


@responses.activate
@pytest.mark.parametrize("reason", ["missing", "unknown", "expired", "used", "foreign"])
def test_bad_state_never_exchanges_code(admin_client, reason):
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    connection = make_connection()
    _, query = start_flow(admin_client, connection)
    state = query["state"]
    if reason == "missing":
        state = ""
    elif reason == "unknown":
        state = "not-a-state-we-issued"
    elif reason == "expired":
        AuthorizationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif reason == "used":
        AuthorizationRequest.objects.update(used_at=timezone.now())
    elif reason == "foreign":
        other = get_user_model().objects.create_superuser("other", "other@example.test", "pw-other-123")
        AuthorizationRequest.objects.update(user=other)

    response = admin_client.get(CALLBACK, {"code": "code-1", "state": state})

    assert response.status_code == 302
    assert len(responses.calls) == 0
    assert not OAuthToken.objects.exists()
    assert messages_of(response), "the user must be told why nothing happened"


@responses.activate
def test_state_is_single_use(admin_client):
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    connection = make_connection()
    _, query = start_flow(admin_client, connection)

    admin_client.get(CALLBACK, {"code": "code-1", "state": query["state"]})
    response = admin_client.get(CALLBACK, {"code": "code-1", "state": query["state"]})

    assert len(responses.calls) == 1
    assert any("already used" in message for message in messages_of(response))


@responses.activate
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("access_denied", "denied"),
        ("invalid_scope", "scopes"),
        ("server_error", "internal error"),
        ("temporarily_unavailable", "temporarily"),
        ("something_new", "authorization error"),
    ],
)
def test_provider_errors_shown_without_exchange(admin_client, error, expected):
    connection = make_connection()
    _, query = start_flow(admin_client, connection)

    response = admin_client.get(CALLBACK, {"error": error, "state": query["state"]})

    assert len(responses.calls) == 0
    assert any(expected in message for message in messages_of(response))
    assert response["Location"] == reverse("admin:connections_odooconnection_change", args=[connection.pk])


@responses.activate
def test_failed_exchange_keeps_previous_tokens(admin_client):
    responses.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    connection = make_connection()
    OAuthToken.objects.create(connection=connection, access_token="AT-OLD", refresh_token="RT-OLD", obtained_at=timezone.now())
    _, query = start_flow(admin_client, connection)

    response = admin_client.get(CALLBACK, {"code": "code-1", "state": query["state"]})

    token = OAuthToken.objects.get(connection=connection)
    assert token.access_token == "AT-OLD"
    assert token.refresh_token == "RT-OLD"
    assert any("rejected the authorization code" in message for message in messages_of(response))


@responses.activate
def test_secrets_encrypted_at_rest(admin_client):
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    connection = make_connection()
    _, query = start_flow(admin_client, connection)
    admin_client.get(CALLBACK, {"code": "code-1", "state": query["state"]})

    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM connections_oauthtoken")
        stored_tokens = cursor.fetchone()
        cursor.execute("SELECT client_secret FROM connections_oauthclient")
        stored_secret = cursor.fetchone()[0]
        cursor.execute("SELECT code_verifier, state_hash FROM connections_authorizationrequest")
        stored_verifier, stored_state = cursor.fetchone()

    verifier = AuthorizationRequest.objects.get().code_verifier
    for value, plain in [(stored_tokens[0], "AT-1"), (stored_tokens[1], "RT-1"), (stored_secret, "client-secret-1"), (stored_verifier, verifier)]:
        assert plain not in value
        assert value.startswith("gAAAA")
    assert query["state"] not in stored_state


@responses.activate
def test_no_secret_in_logs_or_admin_pages(admin_client, caplog):
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    connection = make_connection()
    caplog.set_level(logging.DEBUG)

    _, query = start_flow(admin_client, connection)
    admin_client.get(CALLBACK, {"code": "code-SECRET-1", "state": query["state"]})
    pages = [
        admin_client.get(reverse("admin:connections_odooconnection_change", args=[connection.pk])),
        admin_client.get(reverse("admin:connections_odooconnection_changelist")),
    ]

    verifier = AuthorizationRequest.objects.get().code_verifier
    secrets = ["AT-1", "RT-1", "client-secret-1", "code-SECRET-1", verifier, query["state"]]
    log_text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in secrets:
        assert secret not in log_text
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        for secret in secrets:
            assert secret not in html


def test_blank_secret_keeps_stored_one(admin_client):
    connection = make_connection()
    url = reverse("admin:connections_odooconnection_change", args=[connection.pk])
    client_row = connection.oauth_client
    data = {
        "name": "Tenant renamed",
        "base_url": connection.base_url,
        "database": "tenant_db",
        "sync_enabled": "on",
        "oauth_client-TOTAL_FORMS": "1",
        "oauth_client-INITIAL_FORMS": "1",
        "oauth_client-MIN_NUM_FORMS": "1",
        "oauth_client-MAX_NUM_FORMS": "1",
        "oauth_client-0-id": str(client_row.pk),
        "oauth_client-0-connection": str(connection.pk),
        "oauth_client-0-preset": "muk",
        "oauth_client-0-client_id": "client-1",
        "oauth_client-0-client_secret": "",
        "oauth_client-0-scopes": "",
        "sync_runs-TOTAL_FORMS": "0",
        "sync_runs-INITIAL_FORMS": "0",
        "sync_runs-MIN_NUM_FORMS": "0",
        "sync_runs-MAX_NUM_FORMS": "0",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    client_row.refresh_from_db()
    assert client_row.client_secret == "client-secret-1"
    response = admin_client.post(url, {**data, "oauth_client-0-client_secret": "client-secret-2"})
    client_row.refresh_from_db()
    assert client_row.client_secret == "client-secret-2"


def test_http_odoo_url_rejected_unless_loopback_allowed(admin_client, settings):
    from django.core.exceptions import ValidationError

    from connections.urls_policy import validate_provider_url

    settings.ODOO_ALLOW_HTTP_LOOPBACK = False
    with pytest.raises(ValidationError):
        validate_provider_url("http://127.0.0.1:8069")
    settings.ODOO_ALLOW_HTTP_LOOPBACK = True
    validate_provider_url("http://127.0.0.1:8069")
    validate_provider_url("http://localhost:8069")
    with pytest.raises(ValidationError):
        validate_provider_url("http://odoo.example.test")
