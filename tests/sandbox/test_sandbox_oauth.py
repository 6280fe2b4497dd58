"""MuK OAuth server emulation: authorize page, code exchange, refresh rotation, revocation."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

# The default client that every seeded sandbox has.
CLIENT_ID = "sandbox-muk"
REDIRECT_URI = "http://127.0.0.1:8000/odoo/oauth/callback/"
AUTHORIZE_PATH = "/api/v2/authentication/oauth2/authorize"
TOKEN_PATH = "/api/v2/authentication/oauth2/token"
REVOKE_PATH = "/api/v2/authentication/oauth2/revoke"
LEADS_PATH = "/api/v2/search_read/crm.lead"


def callback_query(response) -> dict:
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def test_authorize_page_has_login_form(http, oauth):
    parameters = oauth.authorize_parameters(state="s-1")
    page = http.get(AUTHORIZE_PATH, params=parameters)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for marker in ('name="login"', 'id="login"', 'name="password"', 'name="authorize"', 'name="deny"'):
        assert marker in page.text
    assert 'name="state" value="s-1"' in page.text
    assert 'name="code_challenge_method" value="S256"' in page.text


def test_code_flow_issues_tokens(http, oauth):
    state = "a b/c+d==&x=1"
    response = oauth.consent(state=state)
    assert response.status_code == 302
    query = callback_query(response)
    assert query["state"] == state
    assert query["code"]

    token = oauth.exchange(query["code"])
    assert token.status_code == 200
    assert token.headers["Cache-Control"] == "no-store"
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "crm"
    assert body["access_token"]
    assert body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]

    leads = oauth.data(LEADS_PATH, body["access_token"], params={"fields": '["name"]'})
    assert leads.status_code == 200


def test_client_auth_in_body(oauth):
    code, _query = oauth.code()
    assert oauth.exchange(code, body_auth=True).status_code == 200


def test_last_authorization_records_pkce(http, oauth):
    code, _query = oauth.code(state="xyz")
    oauth.exchange(code, code_verifier="verifier-value-1234567890-1234567890-abcdefgh")
    recorded = http.get("/__sandbox__/last-authorization").json()
    assert recorded["authorize"]["code_challenge"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert recorded["authorize"]["code_challenge_method"] == "S256"
    assert recorded["authorize"]["state"] == "xyz"
    assert recorded["token"]["code_verifier_sent"] is True
    assert recorded["token"]["client_auth"] == "basic"
    serialized = str(recorded)
    assert "sandbox-muk-secret" not in serialized
    assert code not in serialized
    assert "verifier-value" not in serialized


def test_pkce_verifier_is_not_checked(oauth):
    code, _query = oauth.code()
    # Like the real add-ons, the sandbox accepts any verifier, or none.
    assert oauth.exchange(code, code_verifier="does-not-match-the-challenge-at-all-0123456789").status_code == 200


def test_wrong_password_shows_form_again(oauth):
    response = oauth.consent(password="wrong")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Wrong login/password" in response.text
    assert 'name="login"' in response.text


def test_deny_redirects_access_denied(http, oauth):
    response = oauth.consent(button="deny", password="", state="st8")
    assert response.status_code == 302
    query = callback_query(response)
    assert query == {"error": "access_denied", "state": "st8"}
    assert http.get("/__sandbox__/stats").json()["authorizations_denied"] == 1


@pytest.mark.parametrize(
    "overrides",
    [{"client_id": "unknown"}, {"redirect_uri": "http://127.0.0.1:9999/evil"}, {"client_id": None}],
)
def test_bad_client_or_redirect_gets_error_page(http, oauth, overrides):
    response = http.get(AUTHORIZE_PATH, params=oauth.authorize_parameters(**overrides), allow_redirects=False)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("response_type", "error"),
    [("foo", "unsupported_response_type"), ("token", "unauthorized_client"), (None, "invalid_request")],
)
def test_bad_response_type_redirects_error(http, oauth, response_type, error):
    parameters = oauth.authorize_parameters(response_type=response_type, state="rt")
    response = http.get(AUTHORIZE_PATH, params=parameters, allow_redirects=False)
    assert response.status_code == 302
    query = callback_query(response)
    assert query["error"] == error
    assert query["state"] == "rt"


def test_code_is_single_use(oauth):
    code, _query = oauth.code()
    assert oauth.exchange(code).status_code == 200
    reused = oauth.exchange(code)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_code_bound_to_redirect_uri(oauth):
    code, _query = oauth.code()
    mismatched = oauth.exchange(code, redirect_uri=REDIRECT_URI + "other/")
    assert mismatched.status_code == 400
    assert mismatched.json() == {"error": "invalid_request", "error_description": "Mismatching redirect URI."}


def test_code_expires_after_ten_minutes(http, oauth):
    code, _query = oauth.code()
    http.post("/__sandbox__/config", json={"clock_offset_seconds": 601})
    expired = oauth.exchange(code)
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_unknown_code_is_invalid_grant(oauth):
    response = oauth.exchange("not-a-code")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_bad_client_secret_is_invalid_client(oauth):
    code, _query = oauth.code()
    for body_auth in (False, True):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        response = oauth.token_request(data, body_auth=body_auth, secret="wrong")
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_client"}
    # The failed attempts did not consume the code.
    assert oauth.exchange(code).status_code == 200


def test_grant_type_errors(oauth):
    unsupported = oauth.token_request({"grant_type": "urn:example:custom"})
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    password = oauth.token_request({"grant_type": "password", "username": "admin", "password": "admin"})
    assert password.status_code == 400
    assert password.json()["error"] == "unauthorized_client"


def test_refresh_rotates_tokens(http, oauth):
    first = oauth.tokens()
    second = oauth.refresh(first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert rotated["scope"] == "crm"
    assert oauth.data(LEADS_PATH, rotated["access_token"]).status_code == 200

    # Without reuse detection MuK keeps accepting the rotated refresh token.
    again = oauth.refresh(first["refresh_token"], body_auth=True)
    assert again.status_code == 200
    stats = http.get("/__sandbox__/stats").json()
    assert stats["refresh_requests"] == 2
    assert stats["token_requests"] == {"authorization_code": 1, "refresh_token": 2}


def test_refresh_reuse_detection_revokes_family(http, oauth):
    http.post("/__sandbox__/config", json={"refresh_token_reuse_detection": True})
    first = oauth.tokens()
    second = oauth.refresh(first["refresh_token"]).json()

    reused = oauth.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"

    # The whole family is gone: the newest refresh token and every access token.
    assert oauth.refresh(second["refresh_token"]).status_code == 400
    assert oauth.data(LEADS_PATH, second["access_token"]).status_code == 401
    assert oauth.data(LEADS_PATH, first["access_token"]).status_code == 401


def test_other_families_survive_reuse_detection(http, oauth):
    http.post("/__sandbox__/config", json={"refresh_token_reuse_detection": True})
    victim = oauth.tokens()
    bystander = oauth.tokens()
    oauth.refresh(victim["refresh_token"])
    oauth.refresh(victim["refresh_token"])
    assert oauth.data(LEADS_PATH, bystander["access_token"]).status_code == 200


def test_refresh_token_dies_after_grace_period(http, oauth):
    first = oauth.tokens()
    http.post("/__sandbox__/config", json={"clock_offset_seconds": 3600 + 7 * 86400 - 60})
    assert oauth.refresh(first["refresh_token"]).status_code == 200
    http.post("/__sandbox__/config", json={"clock_offset_seconds": 3600 + 7 * 86400 + 60})
    expired = oauth.refresh(first["refresh_token"])
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_access_token_expires(http, oauth):
    http.post("/__sandbox__/config", json={"access_token_lifetime": 1})
    tokens = oauth.tokens()
    assert tokens["expires_in"] == 1
    assert oauth.data(LEADS_PATH, tokens["access_token"]).status_code == 200
    time.sleep(1.1)
    expired = oauth.data(LEADS_PATH, tokens["access_token"])
    assert expired.status_code == 401
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200


def test_expire_tokens_control_endpoint(http, oauth):
    tokens = oauth.tokens()
    assert http.post("/__sandbox__/tokens/expire").json() == {"expired_access_tokens": 1}
    assert oauth.data(LEADS_PATH, tokens["access_token"]).status_code == 401
    overview = http.get("/__sandbox__/tokens").json()
    assert overview["access_tokens"][0]["expired"] is True
    assert tokens["access_token"] not in str(overview)


def test_revoke_deletes_access_token_only(http, oauth):
    tokens = oauth.tokens()
    revoked = http.post(REVOKE_PATH, data={"token": tokens["access_token"]}, auth=(CLIENT_ID, "sandbox-muk-secret"))
    assert revoked.status_code == 200
    assert oauth.data(LEADS_PATH, tokens["access_token"]).status_code == 401
    # MuK does not look refresh tokens up, so the refresh token keeps working.
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200
    revoke_refresh = http.post(REVOKE_PATH, data={"token": tokens["refresh_token"]}, auth=(CLIENT_ID, "sandbox-muk-secret"))
    assert revoke_refresh.status_code == 200
    assert http.get("/__sandbox__/stats").json()["revocations"] == 2


def test_revoke_requires_client_auth(http, oauth):
    tokens = oauth.tokens()
    response = http.post(REVOKE_PATH, data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert oauth.data(LEADS_PATH, tokens["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        ("invalid_grant", 400, "application/json"),
        ("invalid_client", 401, "application/json"),
        ("503_html", 503, "text/html"),
        ("429", 429, "text/html"),
        ("html_login_page", 200, "text/html"),
        ("timeout", 504, "text/html"),
    ],
)
def test_token_failure_injection(http, oauth, kind, status, content_type):
    http.post("/__sandbox__/config", json={"token_fail_next": [kind], "timeout_seconds": 0.2})
    code, _query = oauth.code()
    failed = oauth.exchange(code)
    assert failed.status_code == status
    assert failed.headers["Content-Type"].startswith(content_type)
    if kind == "429":
        assert failed.headers["Retry-After"] == "1"
    # The injected failure did not consume the code, and the queue is now empty.
    assert oauth.exchange(code).status_code == 200
    assert http.get("/__sandbox__/config").json()["token_fail_next"] == []
    assert http.get("/__sandbox__/stats").json()["failures_injected"] == {kind: 1}


def test_token_endpoint_rejects_get(http):
    assert http.get(TOKEN_PATH).status_code == 405


def test_concurrent_refresh_with_reuse_detection(http, oauth):
    http.post("/__sandbox__/config", json={"refresh_token_reuse_detection": True})
    tokens = oauth.tokens()
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: oauth.refresh(tokens["refresh_token"]), range(2)))
    statuses = sorted(response.status_code for response in responses)
    # Refreshes are serialized: the first rotates the token, the second is a reuse.
    assert statuses == [200, 400]
    winner = next(response.json() for response in responses if response.status_code == 200)
    assert oauth.data(LEADS_PATH, winner["access_token"]).status_code == 401


def test_concurrent_data_requests(oauth):
    token = oauth.tokens()["access_token"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: oauth.data(LEADS_PATH, token).status_code, range(32)))
    assert statuses == [200] * 32
