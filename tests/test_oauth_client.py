"""The model-free OAuth client against token endpoints answering like Odoo's add-ons."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses

from connections.odoo import oauth
from connections.odoo.errors import (
    InvalidClient,
    InvalidGrant,
    OdooBadResponse,
    OdooRateLimited,
    OdooServerError,
    OdooTimeout,
    TokenEndpointError,
)
from tests.factories import AUTHORIZE_URL, TOKEN_URL

CONFIG = oauth.ClientConfig(
    client_id="client-1",
    client_secret="client-secret-1",
    authorize_url=AUTHORIZE_URL,
    token_url=TOKEN_URL,
    revoke_url="",
    redirect_uri="https://crm.example.test/odoo/oauth/callback/",
    scope="crm.read",
)


def refresh_with(body=None, status=200, **kwargs):
    with responses.RequestsMock() as mock:
        if isinstance(body, dict | list):
            kwargs["json"] = body
        elif body is not None:
            kwargs["body"] = body
        mock.post(TOKEN_URL, status=status, **kwargs)
        return oauth.refresh(CONFIG, refresh_token="RT-1", timeout=5)


def test_authorization_url_carries_state_and_pkce():
    url = oauth.build_authorization_url(CONFIG, state="state-1", code_challenge="challenge-1")

    query = parse_qs(url.split("?", 1)[1])
    assert url.startswith(AUTHORIZE_URL + "?")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["client-1"]
    assert query["redirect_uri"] == [CONFIG.redirect_uri]
    assert query["scope"] == ["crm.read"]
    assert query["state"] == ["state-1"]
    assert query["code_challenge"] == ["challenge-1"]
    assert query["code_challenge_method"] == ["S256"]


@responses.activate
def test_code_exchange_sends_verifier_and_basic_auth():
    responses.post(TOKEN_URL, json={"access_token": "AT-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT-1"})

    token_set = oauth.exchange_code(CONFIG, code="code-1", code_verifier="verifier-1", timeout=5)

    sent = responses.calls[0].request
    form = parse_qs(sent.body)
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"] == ["code-1"]
    assert form["code_verifier"] == ["verifier-1"]
    assert form["redirect_uri"] == [CONFIG.redirect_uri]
    assert "client_secret" not in form
    assert sent.headers["Authorization"].startswith("Basic ")
    assert "Cookie" not in sent.headers
    assert token_set.access_token == "AT-1"
    assert token_set.refresh_token == "RT-1"


@responses.activate
def test_body_client_auth_puts_credentials_in_form():
    responses.post(TOKEN_URL, json={"access_token": "AT-2", "token_type": "Bearer", "expires_in": 3600})
    config = oauth.ClientConfig(**{**CONFIG.__dict__, "client_auth": "body"})

    oauth.refresh(config, refresh_token="RT-1", timeout=5)

    sent = responses.calls[0].request
    form = parse_qs(sent.body)
    assert form["client_id"] == ["client-1"]
    assert form["client_secret"] == ["client-secret-1"]
    assert "Authorization" not in sent.headers


def test_rotated_refresh_token_returned():
    token_set = refresh_with(
        {"access_token": "AT-2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT-2", "scope": "crm.read"}
    )

    assert token_set.access_token == "AT-2"
    assert token_set.refresh_token == "RT-2"
    assert token_set.scope == "crm.read"


def test_missing_refresh_token_reported_as_none():
    token_set = refresh_with({"access_token": "AT-3", "token_type": "Bearer", "expires_in": 3600})

    assert token_set.access_token == "AT-3"
    assert token_set.refresh_token is None


def test_invalid_request_raises_without_token():
    with pytest.raises(TokenEndpointError) as error:
        refresh_with({"error": "invalid_request"}, status=400)

    assert error.value.error_code == "invalid_request"
    assert not isinstance(error.value, InvalidGrant | InvalidClient)


def test_string_expires_in_counts_from_receipt():
    token_set = refresh_with({"access_token": "AT-1", "token_type": "Bearer", "expires_in": "3600", "refresh_token": "RT-1"})

    assert token_set.expires_in == 3600
    assert token_set.expires_at == token_set.received_at + timedelta(seconds=3600)


def test_missing_expiry_is_unknown():
    token_set = refresh_with({"access_token": "AT-1", "token_type": "Bearer", "refresh_token": "RT-1"})

    assert token_set.expires_in is None
    assert token_set.expires_at is None


def test_zero_expires_in_is_stale_at_once():
    token_set = refresh_with({"access_token": "AT-1", "token_type": "bearer", "expires_in": 0, "refresh_token": "RT-1"})

    assert token_set.expires_in == 0
    assert token_set.expires_at == token_set.received_at


def test_access_token_validity_read_as_lifetime():
    token_set = refresh_with(
        {"access_token": "AT-1", "access_token_validity": 1800, "token_type": "Bearer", "refresh_token": "RT-1"}
    )

    assert token_set.expires_at == token_set.received_at + timedelta(seconds=1800)


def test_null_scope_accepted():
    token_set = refresh_with({"access_token": "AT-1", "token_type": "Bearer", "expires_in": 3600, "scope": None, "odoo_user_id": 2})

    assert token_set.scope == ""


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": "invalid_grant"}, InvalidGrant),
        (401, {"error": "invalid_client"}, InvalidClient),
        (401, {"error": "invalid_client_id"}, InvalidClient),
        (401, {"code": 401, "message": "Invalid Credentials."}, InvalidClient),
        (400, {"code": 400, "message": "Invalid Refresh Token."}, InvalidGrant),
    ],
)
def test_terminal_token_errors_classified(status, body, expected):
    with pytest.raises(expected) as error:
        refresh_with(body, status=status)

    assert not error.value.transient


@pytest.mark.parametrize(
    ("kwargs", "expected", "retry_after"),
    [
        ({"status": 503, "body": "<html>down</html>", "content_type": "text/html"}, OdooServerError, None),
        ({"status": 429, "body": "", "headers": {"Retry-After": "60"}}, OdooRateLimited, 60.0),
        ({"status": 200, "body": "<html><form>login</form></html>", "content_type": "text/html"}, OdooBadResponse, None),
        ({"body": requests.ConnectTimeout("connect timeout")}, OdooTimeout, None),
    ],
)
def test_transient_token_errors_classified(kwargs, expected, retry_after):
    with pytest.raises(expected) as error:
        refresh_with(**kwargs)

    assert error.value.transient
    assert error.value.retry_after == retry_after


def test_error_messages_never_contain_the_body():
    secret_echo = {"error": "invalid_grant", "error_description": "refresh_token RT-1 unknown", "refresh_token": "RT-1"}
    with pytest.raises(InvalidGrant) as error:
        refresh_with(secret_echo, status=400)

    assert "RT-1" not in str(error.value)
    assert "RT-1" not in repr(error.value.args)


def test_token_set_repr_hides_tokens():
    token_set = refresh_with({"access_token": "AT-9", "token_type": "Bearer", "expires_in": 60, "refresh_token": "RT-9"})

    assert "AT-9" not in repr(token_set)
    assert "RT-9" not in repr(token_set)


def test_normalise_ignores_extra_keys():
    body = oauth.normalise_token_body({"access_token": "AT-1", "expires_in": "10", "odoo_user_id": 3, "scope": ["a", "b"]})

    assert body == {"access_token": "AT-1", "token_type": "Bearer", "expires_in": 10, "scope": "a b"}
    assert json.dumps(body)
