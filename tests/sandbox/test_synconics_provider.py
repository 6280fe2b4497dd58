"""The Synconics restapi emulation: owner-only authorize, body credentials, static refresh token, data quirks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.sandbox.conftest import REDIRECT_URI, REQUEST_TIMEOUT

CLIENT_ID = "syn-client"
CLIENT_SECRET = "syn-secret"
TOKEN_PATH = "/restapi/1.0/common/oauth2/access_token"
AUTHORIZE_PATH = "/restapi/1.0/common/oauth2/authorize"
LEADS_PATH = "/restapi/1.0/object/crm.lead"


def register(http):
    response = http.post(
        "/__sandbox__/oauth-clients",
        json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [REDIRECT_URI], "preset": "synconics"},
    )
    assert response.status_code == 201, response.text


def authorize(server, login="admin", password="admin", **overrides):
    browser = requests.Session()
    browser.post(f"{server.url}/web/login", data={"login": login, "password": password}, timeout=REQUEST_TIMEOUT)
    parameters = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "s-1", **overrides}
    return browser.get(f"{server.url}{AUTHORIZE_PATH}", params=parameters, allow_redirects=False, timeout=REQUEST_TIMEOUT)


def code_from(response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def exchange(http, code, **extra):
    data = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **extra}
    return http.post(TOKEN_PATH, data=data)


def tokens(server, http):
    register(http)
    response = exchange(http, code_from(authorize(server)))
    assert response.status_code == 200, response.text
    return response.json()


def leads(http, access_token, accept="application/json", **params):
    headers = {"Authorization": f"Bearer {access_token}", "Accept": accept}
    return http.get(LEADS_PATH, params=params, headers=headers, allow_redirects=False)


def test_authorize_needs_web_login(server, http):
    register(http)

    response = http.get(AUTHORIZE_PATH, params={"client_id": CLIENT_ID, "response_type": "code"}, allow_redirects=False)

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/web/login"


def test_owner_gets_code_without_consent_page(server, http):
    register(http)

    response = authorize(server)

    assert parse_qs(urlsplit(response.headers["Location"]).query)["state"] == ["s-1"]
    assert code_from(response)


def test_other_user_is_invalid_user(server, http):
    register(http)
    http.post("/__sandbox__/synconics/consumer-owner", json={"client_id": CLIENT_ID, "login": "demo"})

    response = authorize(server, login="admin", password="admin")

    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Invalid User"}
    assert code_from(authorize(server, login="demo", password="demo"))


def test_token_response_shape(server, http):
    body = tokens(server, http)

    assert body["token_type"] == "Bearer"
    assert body["access_token_validity"] == 1800
    assert "expires_in" not in body
    assert "scope" not in body
    assert body["refresh_token"]


def test_short_lifetime_switch_wins(server, http):
    http.post("/__sandbox__/config", json={"access_token_lifetime": 5})

    assert tokens(server, http)["access_token_validity"] == 5


def test_basic_auth_is_ignored(server, http):
    register(http)
    code = code_from(authorize(server))

    response = http.post(TOKEN_PATH, data={"grant_type": "authorization_code", "code": code}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Invalid Credentials."}


def test_credentials_in_query_string_accepted(server, http):
    register(http)
    code = code_from(authorize(server))

    response = http.post(
        TOKEN_PATH, params={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, data={"grant_type": "authorization_code", "code": code}
    )

    assert response.status_code == 200, response.text


def test_redirect_uri_not_compared(server, http):
    register(http)

    response = exchange(http, code_from(authorize(server)), redirect_uri="https://elsewhere.example/")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown", 401, "Invalid Authentication Code."),
        ("reused", 400, "Authentication code expired"),
        ("expired", 400, "Authentication code expired"),
    ],
)
def test_code_errors(server, http, case, status, message):
    register(http)
    code = code_from(authorize(server))
    if case == "unknown":
        code = "nope"
    elif case == "reused":
        assert exchange(http, code).status_code == 200
    else:
        http.post("/__sandbox__/config", json={"clock_offset_seconds": 601})

    response = exchange(http, code)

    assert response.status_code == status
    assert response.json() == {"code": status, "message": message}


def test_refresh_token_is_static(server, http):
    body = tokens(server, http)
    data = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}

    first = http.post(TOKEN_PATH, data={**data, "refresh_token": body["refresh_token"]}).json()
    second = http.post(TOKEN_PATH, data={**data, "refresh_token": body["refresh_token"]}).json()
    wrong = http.post(TOKEN_PATH, data={**data, "refresh_token": "nope"})

    assert first["refresh_token"] == second["refresh_token"] == body["refresh_token"]
    assert first["access_token"] != second["access_token"]
    assert leads(http, body["access_token"], domain="[('id','=',1)]").status_code == 200
    assert wrong.status_code == 400
    assert wrong.json() == {"code": 400, "message": "Invalid Refresh Token."}


def test_data_takes_python_literals(server, http):
    body = tokens(server, http)

    response = leads(
        http,
        body["access_token"],
        domain="[('active','in',[True,False]),('id','<=',3)]",
        fields="['name','stage_id']",
        order="'id asc'",
        limit="2",
        offset="1",
        context="{'active_test': False}",
    )

    assert response.status_code == 200, response.text
    (key,) = response.json()
    rows = response.json()[key]
    assert key == "Lead/Opportunity"
    assert [row["id"] for row in rows] == [2, 3]
    assert set(rows[0]) == {"id", "name", "stage_id"}
    assert rows[0]["stage_id"][1]


def test_json_domain_rejected(server, http):
    body = tokens(server, http)

    response = leads(http, body["access_token"], domain='[["active", "in", [true, false]]]')

    assert response.status_code == 400
    assert "literal" in response.json()["message"]


def test_single_and_empty_results(server, http):
    body = tokens(server, http)

    one = leads(http, body["access_token"], domain="[('id','=',1)]", fields="['name']")
    none = leads(http, body["access_token"], domain="[('id','=',-1)]")

    assert one.json() == {"Lead/Opportunity": {"id": 1, "name": one.json()["Lead/Opportunity"]["name"]}}
    assert none.status_code == 404
    assert none.json() == {"code": 404, "message": "Record not found"}


def test_ids_parameter_and_search(server, http):
    body = tokens(server, http)
    headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"}

    by_ids = leads(http, body["access_token"], ids="1,2", fields="['name']")
    ids = http.get(f"{LEADS_PATH}/search", params={"domain": "[('id','in',[1,2,3])]", "order": "'id asc'"}, headers=headers)

    assert sorted(row["id"] for row in by_ids.json()["Lead/Opportunity"]) == [1, 2]
    assert ids.json() == {"Lead/Opportunity": [1, 2, 3]}


def test_without_json_accept_answers_xml(server, http):
    body = tokens(server, http)

    response = leads(http, body["access_token"], accept="*/*", domain="[('id','=',1)]", fields="['name']")

    assert response.headers["Content-Type"].startswith("application/xml")
    assert "<id type=\"int\">1</id>" in response.text


def test_missing_token_redirects_to_login(server, http):
    tokens(server, http)

    response = http.get(LEADS_PATH, headers={"Accept": "application/json"}, allow_redirects=False)

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/web/login"


def test_bad_or_expired_token_is_401(server, http):
    body = tokens(server, http)
    http.post("/__sandbox__/tokens/expire")

    response = leads(http, body["access_token"])

    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Access Token Invalid"}


def test_context_get_and_version(server, http):
    body = tokens(server, http)
    headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"}

    context = http.get("/restapi/1.0/object/res.users/context_get", headers=headers).json()
    version = http.get("/restapi/1.0/common/version").json()

    assert context == {"User": {"lang": "en_US", "tz": "Europe/Brussels", "uid": 2, "company_id": 1}}
    assert version["server_version"] == "17.0"
    assert version["server_version_info"][0] == 17
