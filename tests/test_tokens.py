"""Token storage and refresh: normalised responses, failure classes, key mismatch."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import requests
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db_connection
from django.utils import timezone

from connections.models import OAuthToken, OdooConnection
from connections.odoo.errors import EncryptionKeyMismatch, InvalidClient, InvalidGrant, OdooError, TokenEndpointError
from connections.tokens import OAuthCredentials, refresh_access_token
from tests.factories import TOKEN_URL, make_connection, make_token

pytestmark = pytest.mark.django_db


def refresh(connection, **kwargs):
    return refresh_access_token(connection.pk, seen_access_token="AT-1", reason="test", **kwargs)


def stored(connection):
    return OAuthToken.objects.get(connection=connection)


@responses.activate
def test_rotated_refresh_token_replaces_old_one():
    responses.post(TOKEN_URL, json={"access_token": "AT-2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT-2", "scope": "crm.read"})
    connection = make_connection()
    make_token(connection)

    refresh(connection)

    token = stored(connection)
    assert token.access_token == "AT-2"
    assert token.refresh_token == "RT-2"
    assert token.scope == "crm.read"
    assert token.refreshed_at is not None


@responses.activate
def test_refresh_keeps_old_refresh_token_when_absent():
    responses.post(TOKEN_URL, json={"access_token": "AT-3", "token_type": "Bearer", "expires_in": 3600})
    connection = make_connection()
    make_token(connection)

    refresh(connection)

    token = stored(connection)
    assert token.access_token == "AT-3"
    assert token.refresh_token == "RT-1"


@responses.activate
def test_invalid_request_changes_nothing():
    responses.post(TOKEN_URL, json={"error": "invalid_request"}, status=400)
    connection = make_connection()
    before = make_token(connection)

    with pytest.raises(TokenEndpointError):
        refresh(connection)

    token = stored(connection)
    assert token.access_token == "AT-1"
    assert token.refresh_token == "RT-1"
    assert token.expires_at == before.expires_at


@responses.activate
@pytest.mark.parametrize(
    ("body", "expected_seconds"),
    [
        ({"access_token": "AT-2", "token_type": "Bearer", "expires_in": "3600", "refresh_token": "RT-2"}, 3600),
        ({"access_token": "AT-2", "access_token_validity": 1800, "token_type": "Bearer", "refresh_token": "RT-2"}, 1800),
    ],
)
def test_expiry_counted_from_receipt(body, expected_seconds):
    responses.post(TOKEN_URL, json=body)
    connection = make_connection()
    make_token(connection)
    before = timezone.now()

    refresh(connection)

    token = stored(connection)
    assert before + timedelta(seconds=expected_seconds) <= token.expires_at
    assert token.expires_at <= timezone.now() + timedelta(seconds=expected_seconds)


@responses.activate
def test_unknown_expiry_refreshed_on_first_401_only():
    responses.post(TOKEN_URL, json={"access_token": "AT-2", "token_type": "Bearer", "refresh_token": "RT-2"})
    connection = make_connection()
    make_token(connection, expires_in=None)
    credentials = OAuthCredentials(connection)

    assert credentials.authorization_header() == "Bearer AT-1"
    assert len(responses.calls) == 0
    assert credentials.renew_after_rejection("Bearer AT-1") is True
    assert credentials.authorization_header() == "Bearer AT-2"
    assert stored(connection).expires_at is None
    assert len(responses.calls) == 1


@responses.activate
def test_zero_lifetime_refreshed_once_per_call():
    responses.post(TOKEN_URL, json={"access_token": "AT-2", "token_type": "bearer", "expires_in": 0, "refresh_token": "RT-2"})
    connection = make_connection()
    make_token(connection, expires_in=0)
    credentials = OAuthCredentials(connection)

    header = credentials.authorization_header()

    assert header == "Bearer AT-2"
    assert len(responses.calls) == 1


@responses.activate
def test_invalid_grant_needs_reauthorization():
    responses.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    connection = make_connection()
    make_token(connection)

    with pytest.raises(InvalidGrant):
        refresh(connection)

    connection.refresh_from_db()
    token = stored(connection)
    assert connection.status == OdooConnection.Status.NEEDS_REAUTHORIZATION
    assert token.status == OAuthToken.Status.INVALID
    assert token.access_token == "AT-1"
    assert token.refresh_token == "RT-1"
    with pytest.raises(InvalidGrant):
        OAuthCredentials(connection).authorization_header()
    assert len(responses.calls) == 1


@responses.activate
def test_invalid_client_is_configuration_error():
    responses.post(TOKEN_URL, json={"error": "invalid_client"}, status=401)
    connection = make_connection()
    make_token(connection)

    with pytest.raises(InvalidClient):
        refresh(connection)

    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CONFIGURATION_ERROR
    assert connection.last_error_kind == "invalid_client"
    assert stored(connection).refresh_token == "RT-1"


@responses.activate
@pytest.mark.parametrize(
    ("answer", "minimum_wait"),
    [
        ({"status": 503, "body": "<html>maintenance</html>", "content_type": "text/html"}, 30),
        ({"body": requests.ConnectTimeout("timed out")}, 30),
        ({"status": 429, "body": "", "headers": {"Retry-After": "60"}}, 60),
        ({"status": 200, "body": "<html><form action='/web/login'></form></html>", "content_type": "text/html"}, 30),
    ],
)
def test_transient_failures_keep_tokens_and_back_off(answer, minimum_wait):
    responses.post(TOKEN_URL, **answer)
    connection = make_connection()
    make_token(connection)
    before = timezone.now()

    with pytest.raises(OdooError) as error:
        refresh(connection)

    assert error.value.transient
    assert error.value.retry_after >= minimum_wait
    token = stored(connection)
    connection.refresh_from_db()
    assert token.access_token == "AT-1"
    assert token.refresh_token == "RT-1"
    assert token.status == OAuthToken.Status.ACTIVE
    assert token.retry_not_before >= before + timedelta(seconds=minimum_wait)
    assert connection.status == OdooConnection.Status.DEGRADED

    with pytest.raises(OdooError) as again:
        refresh(connection)
    assert again.value.kind == "refresh_cooldown"
    assert len(responses.calls) == 1


@responses.activate
def test_success_after_cooldown_restores_connection():
    connection = make_connection()
    make_token(connection)
    OAuthToken.objects.update(refresh_failures=2, retry_not_before=timezone.now() - timedelta(seconds=1))
    connection.set_status(OdooConnection.Status.DEGRADED)
    responses.post(TOKEN_URL, json={"access_token": "AT-2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT-2"})

    refresh(connection)

    connection.refresh_from_db()
    token = stored(connection)
    assert connection.status == OdooConnection.Status.CONNECTED
    assert token.refresh_failures == 0
    assert token.retry_not_before is None


@responses.activate
def test_already_refreshed_token_not_sent_again():
    connection = make_connection()
    make_token(connection, access_token="AT-2", refresh_token="RT-2")

    token = refresh_access_token(connection.pk, seen_access_token="AT-1", reason="test")

    assert token.access_token == "AT-2"
    assert len(responses.calls) == 0


@responses.activate
def test_changed_key_reported_and_never_sent(switch_keys):
    connection = make_connection()
    make_token(connection)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_oauthtoken")
        ciphertext = cursor.fetchone()[0]

    switch_keys("another-secret-key-entirely-0123456789", ["another-salt"])

    with pytest.raises(EncryptionKeyMismatch):
        OAuthCredentials(connection).authorization_header()
    with pytest.raises(EncryptionKeyMismatch):
        refresh(connection)
    assert len(responses.calls) == 0
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.KEY_MISMATCH
    assert connection.status != OdooConnection.Status.NEEDS_REAUTHORIZATION
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_oauthtoken")
        assert cursor.fetchone()[0] == ciphertext, "the ciphertext must never be encrypted again"


def test_health_command_catches_changed_key(switch_keys):
    connection = make_connection()
    make_token(connection)
    switch_keys("another-secret-key-entirely-0123456789", ["another-salt"])

    with pytest.raises(CommandError) as error:
        call_command("check_connections", stdout=StringIO(), stderr=StringIO())

    assert "Encryption key mismatch" in str(error.value)
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.KEY_MISMATCH


def test_system_check_catches_changed_key(switch_keys):
    from django.core.management import call_command as run

    connection = make_connection()
    make_token(connection)
    switch_keys("another-secret-key-entirely-0123456789", ["another-salt"])

    with pytest.raises(Exception) as error:
        run("check", databases=["default"], stdout=StringIO(), stderr=StringIO())

    assert "connections.E003" in str(error.value)


def test_rotation_with_fallback_then_reencrypt(switch_keys, settings):
    connection = make_connection()
    make_token(connection)
    old_secret, old_salt = settings.SECRET_KEY, settings.SALT_KEY

    switch_keys("new-secret-key-0123456789-abcdefghij", old_salt, fallbacks=[old_secret])
    assert stored(connection).access_token == "AT-1"
    call_command("reencrypt_secrets", stdout=StringIO())

    switch_keys("new-secret-key-0123456789-abcdefghij", old_salt)
    token = stored(connection)
    assert token.access_token == "AT-1"
    assert token.refresh_token == "RT-1"
    assert connection.oauth_client.client_secret == "client-secret-1"
    call_command("check_connections", stdout=StringIO())
