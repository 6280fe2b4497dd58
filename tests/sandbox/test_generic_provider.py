"""The plain RFC 6749 server for the Custom preset: login, consent, tokens, RFC 7009 revocation."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.sandbox.conftest import REDIRECT_URI, REQUEST_TIMEOUT

CLIENT_ID = "generic-client"
CLIENT_SECRET = "generic-secret"


def register(http):
    response = http.post(
        "/__sandbox__/oauth-clients",
        json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [REDIRECT_URI], "preset": "generic"},
    )
    assert response.status_code == 201, response.text


def parameters(**overrides):
    values = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "g-1", "scope": "crm"}
    values.update(overrides)
    return values


def press(server, button="authorize", **overrides):
    """Log in, open the consent page and press a button; return the redirect response."""
    browser = requests.Session()
    browser.post(f"{server.url}/web/login", data={"login": "admin", "password": "admin"}, timeout=REQUEST_TIMEOUT)
    page = browser.get(f"{server.url}/oauth/authorize", params=parameters(**overrides), timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return browser.post(f"{server.url}/oauth/authorize", data={**hidden, button: "1"}, allow_redirects=False, timeout=REQUEST_TIMEOUT)


def query_of(response) -> dict:
    assert response.status_code == 302, response.text
    return {name: values[0] for name, values in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def tokens(server, http):
    register(http)
    code = query_of(press(server))["code"]
    response = http.post(
        "/oauth/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert response.status_code == 200, response.text
    return response.json()


def refresh(http, refresh_token):
    return http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=(CLIENT_ID, CLIENT_SECRET))


def count(http, access_token):
    return http.get("/api/v2/search/crm.lead", params={"count": "true"}, headers={"Authorization": f"Bearer {access_token}"})


def test_anonymous_authorize_goes_to_login(server, http):
    register(http)

    response = http.get("/oauth/authorize", params=parameters(), allow_redirects=False)

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/web/login"


def test_deny_redirects_with_access_denied(server, http):
    register(http)

    query = query_of(press(server, button="deny"))

    assert query == {"error": "access_denied", "state": "g-1"}


def test_unsupported_response_type_redirects_with_error(server, http):
    register(http)

    response = http.get("/oauth/authorize", params=parameters(response_type="token"), allow_redirects=False)

    assert query_of(response)["error"] == "unsupported_response_type"


def test_unregistered_redirect_uri_gets_error_page(server, http):
    register(http)

    response = http.get("/oauth/authorize", params=parameters(redirect_uri="https://evil.example/"), allow_redirects=False)

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_tokens_follow_rfc_6749(server, http):
    body = tokens(server, http)

    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "crm"
    assert count(http, body["access_token"]).status_code == 200


def test_body_client_authentication(server, http):
    register(http)
    code = query_of(press(server))["code"]

    response = http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )

    assert response.status_code == 200


def test_bad_client_is_invalid_client(server, http):
    register(http)

    response = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, auth=(CLIENT_ID, "wrong"))

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
    assert "WWW-Authenticate" in response.headers


def test_refresh_rotates_and_reuse_detection_revokes(server, http):
    http.post("/__sandbox__/config", json={"refresh_token_reuse_detection": True})
    body = tokens(server, http)
    renewed = refresh(http, body["refresh_token"])
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != body["refresh_token"]

    reused = refresh(http, body["refresh_token"])

    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert count(http, renewed.json()["access_token"]).status_code == 401


@pytest.mark.parametrize("kind", ["invalid_grant", "invalid_client", "503_html", "429", "html_login_page"])
def test_injected_token_failures(server, http, kind):
    body = tokens(server, http)
    http.post("/__sandbox__/config", json={"token_fail_next": [kind]})

    response = refresh(http, body["refresh_token"])

    expected = {"invalid_grant": 400, "invalid_client": 401, "503_html": 503, "429": 429, "html_login_page": 200}[kind]
    assert response.status_code == expected
    assert http.get("/__sandbox__/stats").json()["failures_injected"] == {kind: 1}


def test_revoke_unknown_token_is_200(server, http):
    register(http)

    response = http.post("/oauth/revoke", data={"token": "nope"}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert response.status_code == 200


def test_revoking_refresh_token_revokes_grant(server, http):
    body = tokens(server, http)

    response = http.post(
        "/oauth/revoke", data={"token": body["refresh_token"], "token_type_hint": "refresh_token"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )

    assert response.status_code == 200
    assert count(http, body["access_token"]).status_code == 401
    assert refresh(http, body["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_access_token_keeps_refresh_token(server, http):
    body = tokens(server, http)

    http.post("/oauth/revoke", data={"token": body["access_token"]}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert count(http, body["access_token"]).status_code == 401
    assert refresh(http, body["refresh_token"]).status_code == 200
