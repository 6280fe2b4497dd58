"""The OCA oauth_provider emulation: web login, consent, tokens, otherinfo snapshots, revocation."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.sandbox.conftest import REDIRECT_URI, REQUEST_TIMEOUT

CLIENT_ID = "oca-client"
CLIENT_SECRET = "oca-secret"


def register(http, client_id=CLIENT_ID, skip_authorization=False):
    response = http.post(
        "/__sandbox__/oauth-clients",
        json={
            "client_id": client_id,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
            "preset": "oca",
            "skip_authorization": skip_authorization,
        },
    )
    assert response.status_code == 201, response.text


def logged_in_browser(server, login="admin", password="admin") -> requests.Session:
    browser = requests.Session()
    response = browser.post(
        f"{server.url}/web/login", data={"login": login, "password": password}, allow_redirects=False, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 303, response.text
    return browser


def authorize_parameters(**overrides):
    parameters = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "st-1"}
    parameters.update(overrides)
    return {name: value for name, value in parameters.items() if value is not None}


def approve(server, browser, **overrides):
    """Open the consent page, press Authorize and return the redirect response."""
    page = browser.get(f"{server.url}/oauth2/authorize", params=authorize_parameters(**overrides), timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return browser.post(
        f"{server.url}/oauth2/authorize", data={"csrf_token": csrf, "authorize": "1"}, allow_redirects=False, timeout=REQUEST_TIMEOUT
    )


def code_from(response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def token_request(http, data, basic=True, client_id=CLIENT_ID, secret=CLIENT_SECRET):
    if basic:
        return http.post("/oauth2/token", data={**data, "client_id": client_id}, auth=(client_id, secret))
    return http.post("/oauth2/token", data={**data, "client_id": client_id, "client_secret": secret})


def tokens(server, http, **token_data):
    register(http)
    code = code_from(approve(server, logged_in_browser(server)))
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **token_data}
    response = token_request(http, data)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(http, refresh_token):
    return token_request(http, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def otherinfo(http, access_token, model="crm.lead"):
    return http.get("/oauth2/otherinfo", params={"model": model}, headers={"Authorization": f"Bearer {access_token}"})


def test_authorize_sends_anonymous_user_to_web_login(server, http):
    register(http)

    response = http.get("/oauth2/authorize", params=authorize_parameters(), allow_redirects=False)

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/web/login"
    back = parse_qs(location.query)["redirect"][0]
    assert back.startswith("/oauth2/authorize?")
    assert parse_qs(urlsplit(back).query)["state"] == ["st-1"]


def test_login_returns_to_authorize_then_consent(server, http):
    register(http)
    browser = requests.Session()
    first = browser.get(f"{server.url}/oauth2/authorize", params=authorize_parameters(), timeout=REQUEST_TIMEOUT)
    assert urlsplit(first.url).path == "/web/login"

    back = browser.post(
        f"{server.url}/web/login",
        data={"login": "admin", "password": "admin", "redirect": parse_qs(urlsplit(first.url).query)["redirect"][0]},
        timeout=REQUEST_TIMEOUT,
    )

    assert urlsplit(back.url).path == "/oauth2/authorize"
    assert 'name="authorize"' in back.text
    assert 'name="deny"' not in back.text
    assert "CRM leads" in back.text


def test_wrong_web_password_shows_login_again(server):
    response = requests.post(
        f"{server.url}/web/login", data={"login": "admin", "password": "nope"}, allow_redirects=False, timeout=REQUEST_TIMEOUT
    )

    assert response.status_code == 200
    assert "Wrong login/password" in response.text
    assert "session_id" not in response.cookies


def test_login_never_redirects_off_site(server):
    response = requests.post(
        f"{server.url}/web/login",
        data={"login": "admin", "password": "admin", "redirect": "https://evil.example/"},
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )

    assert response.headers["Location"] == "/web"


def test_approval_redirects_with_code_and_state(server, http):
    register(http)

    response = approve(server, logged_in_browser(server))

    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    assert query["code"][0]


def test_consent_post_needs_csrf_token(server, http):
    register(http)
    browser = logged_in_browser(server)
    browser.get(f"{server.url}/oauth2/authorize", params=authorize_parameters(), timeout=REQUEST_TIMEOUT)

    response = browser.post(f"{server.url}/oauth2/authorize", data={"authorize": "1"}, allow_redirects=False, timeout=REQUEST_TIMEOUT)

    assert response.status_code == 200
    assert "CSRF" in response.text


def test_skip_authorization_redirects_at_once(server, http):
    register(http, skip_authorization=True)

    response = logged_in_browser(server).get(
        f"{server.url}/oauth2/authorize", params=authorize_parameters(), allow_redirects=False, timeout=REQUEST_TIMEOUT
    )

    assert code_from(response)


@pytest.mark.parametrize(
    ("overrides", "title"),
    [
        ({"client_id": "unknown"}, "Unknown Client Identifier!"),
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "crm_leads everything"}, "invalid_scope"),
    ],
)
def test_bad_authorize_request_shows_error_page(server, http, overrides, title):
    register(http)

    response = logged_in_browser(server).get(
        f"{server.url}/oauth2/authorize", params=authorize_parameters(**overrides), allow_redirects=False, timeout=REQUEST_TIMEOUT
    )

    assert response.status_code == 200
    assert "Location" not in response.headers
    assert title in response.text


def test_token_response_shape(server, http):
    body = tokens(server, http)

    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] is None
    assert body["odoo_user_id"] == 2
    assert body["access_token"] and body["refresh_token"]


def test_token_echoes_requested_scope(server, http):
    body = tokens(server, http, scope="crm_leads")

    assert body["scope"] == "crm_leads"


def test_body_client_auth_accepted(server, http):
    register(http)
    code = code_from(approve(server, logged_in_browser(server)))

    response = token_request(http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, basic=False)

    assert response.status_code == 200, response.text


def test_basic_alone_is_unknown_client(server, http):
    register(http)
    code = code_from(approve(server, logged_in_browser(server)))

    response = http.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client_id"}


def test_wrong_secret_is_invalid_client(server, http):
    register(http)
    code = code_from(approve(server, logged_in_browser(server)))

    response = token_request(
        http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, secret="wrong"
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_code_is_invalid_grant(server, http):
    register(http)

    response = token_request(http, {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT_URI})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_rotates_refresh_token(server, http):
    body = tokens(server, http)

    response = refresh(http, body["refresh_token"])

    assert response.status_code == 200, response.text
    renewed = response.json()
    assert renewed["refresh_token"] != body["refresh_token"]
    assert renewed["access_token"] != body["access_token"]
    assert renewed["odoo_user_id"] == 2


def test_refresh_token_dies_with_its_access_token(server, http):
    body = tokens(server, http)
    http.post("/__sandbox__/config", json={"clock_offset_seconds": 3601})

    response = refresh(http, body["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_reuse_detection_revokes_the_grant(server, http):
    http.post("/__sandbox__/config", json={"refresh_token_reuse_detection": True})
    body = tokens(server, http)
    renewed = refresh(http, body["refresh_token"]).json()

    reused = refresh(http, body["refresh_token"])

    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert otherinfo(http, renewed["access_token"]).status_code == 401


def test_injected_token_failure(server, http):
    body = tokens(server, http)
    http.post("/__sandbox__/config", json={"token_fail_next": ["503_html"]})

    response = refresh(http, body["refresh_token"])

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert refresh(http, body["refresh_token"]).status_code == 200


def test_otherinfo_is_snapshot_by_id_with_names(server, http):
    body = tokens(server, http)

    response = otherinfo(http, body["access_token"])

    assert response.status_code == 200
    data = response.json()
    truth = {row["id"]: row for row in http.get("/__sandbox__/leads").json()}
    visible = {lead_id for lead_id, row in truth.items() if not row["company_id"] or row["company_id"][0] == 1}
    assert {int(key) for key in data} == visible
    assert any(not values["active"] for values in data.values()), "the scope's filter includes lost leads"
    first = data["1"]
    assert first["id"] == 1
    assert first["stage_id"] == truth[1]["stage_id"][1]
    assert first["tag_ids"] == truth[1]["tag_ids"]
    assert "description" not in first


def test_otherinfo_ignores_paging_parameters(server, http):
    body = tokens(server, http)

    full = otherinfo(http, body["access_token"]).json()
    limited = http.get(
        "/oauth2/otherinfo",
        params={"model": "crm.lead", "limit": 1, "offset": 5, "domain": "[]"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    ).json()

    assert limited == full


def test_otherinfo_accepts_token_parameter(server, http):
    body = tokens(server, http)

    response = http.get("/oauth2/otherinfo", params={"model": "crm.lead", "access_token": body["access_token"]})

    assert response.status_code == 200


def test_otherinfo_errors(server, http):
    body = tokens(server, http)

    assert otherinfo(http, "nope").status_code == 401
    assert otherinfo(http, "nope").json() == {"error": "invalid_or_expired_token"}
    unknown = otherinfo(http, body["access_token"], model="no.such.model")
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "invalid_model"}
    assert http.get("/__sandbox__/stats").json()["data_401"] == 2


def test_tokeninfo_and_userinfo(server, http):
    body = tokens(server, http)

    info = http.get("/oauth2/tokeninfo", params={"access_token": body["access_token"]}).json()
    user = http.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).json()

    assert info["audience"] == CLIENT_ID
    assert "crm_leads" in info["scopes"].split()
    assert 3590 <= info["expires_in"] <= 3600
    assert info["user_id"]
    assert user["id"] == 2
    assert user["login"] == "admin"
    assert user["company_id"] == "YourCompany"
    assert user["company_ids"] == [1, 2]


def test_revoke_unknown_token_is_401(server, http):
    register(http)

    response = http.post("/oauth2/revoke_token", data={"token": "nope"}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_or_expired_token"}


def test_revoke_access_token_kills_its_refresh_token(server, http):
    body = tokens(server, http)

    response = http.post("/oauth2/revoke_token", data={"token": body["access_token"]}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert response.status_code == 200
    assert otherinfo(http, body["access_token"]).status_code == 401
    assert refresh(http, body["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoke_needs_client_authentication(server, http):
    body = tokens(server, http)

    response = http.post("/oauth2/revoke_token", data={"token": body["access_token"]}, auth=(CLIENT_ID, "wrong"))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert otherinfo(http, body["access_token"]).status_code == 200
