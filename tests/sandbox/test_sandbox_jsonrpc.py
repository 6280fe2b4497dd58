"""JSON-RPC endpoint and API keys: envelopes, error codes by version, login cooldown, key storage."""

from __future__ import annotations

import sqlite3

import pytest

ADMIN_UID = 2
CONTEXT = {"active_test": False, "allowed_company_ids": [1, 2]}


def new_key(http, login: str = "admin", **attributes) -> str:
    response = http.post("/__sandbox__/api-keys", json={"login": login, **attributes})
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    assert len(key) == 40
    int(key, 16)
    return key


def rpc(http, service: str, method: str, *args, request_id: object = 7):
    response = http.post(
        "/jsonrpc",
        json={"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": list(args)}, "id": request_id},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert body["id"] == request_id
    return body


def execute(http, key: str, model: str, method: str, args: list, kwargs: dict | None = None, uid: int = ADMIN_UID):
    return rpc(http, "object", "execute_kw", "sandbox", uid, key, model, method, args, kwargs or {})


def configure(http, **switches) -> None:
    assert http.post("/__sandbox__/config", json=switches).status_code == 200


def test_version_reports_switch(http):
    configure(http, odoo_version=16)
    result = rpc(http, "common", "version")["result"]
    assert result["server_version"] == "16.0"
    assert result["server_version_info"] == [16, 0, 0, "final", 0, ""]


def test_authenticate_with_key_and_password(http):
    key = new_key(http)
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] == ADMIN_UID
    assert rpc(http, "common", "authenticate", "sandbox", "admin", "admin", {})["result"] == ADMIN_UID
    assert rpc(http, "common", "login", "sandbox", "admin", key)["result"] == ADMIN_UID


@pytest.mark.parametrize(("login", "secret"), [("admin", "0" * 40), ("nobody", "admin"), ("demo", None)])
def test_bad_login_returns_false(http, login, secret):
    secret = secret or new_key(http)  # the admin's key does not log in the demo user
    body = rpc(http, "common", "authenticate", "sandbox", login, secret, {})
    assert body["result"] is False
    assert "error" not in body


def test_search_read_context_inside_kwargs(http, server):
    key = new_key(http)
    rows = execute(http, key, "crm.lead", "search_read", [[]], {"fields": ["company_id", "active"], "order": "id asc", "context": CONTEXT})["result"]
    truth = http.get("/__sandbox__/leads", params={"fields": "company_id,active"}).json()
    assert rows == truth
    default = execute(http, key, "crm.lead", "search_read", [[]], {"fields": ["company_id"]})["result"]
    assert {row["company_id"][0] for row in default} == {1}
    assert len(default) < len(rows)


def test_other_methods(http):
    key = new_key(http)
    assert execute(http, key, "crm.lead", "search_count", [[]], {"context": CONTEXT})["result"] == len(http.get("/__sandbox__/leads").json())
    ids = execute(http, key, "crm.lead", "search", [[["stage_id", "=", 2]]], {"order": "id asc"})["result"]
    assert ids == sorted(ids) and ids
    users = execute(http, key, "res.users", "read", [[ADMIN_UID], ["company_ids", "name"]])["result"]
    assert users == [{"id": ADMIN_UID, "company_ids": [1, 2], "name": "Mitchell Admin"}]
    assert execute(http, key, "res.users", "context_get", [])["result"]["uid"] == ADMIN_UID
    fields = execute(http, key, "crm.lead", "fields_get", [], {"attributes": ["type"]})["result"]
    assert fields["stage_id"] == {"type": "many2one"}
    raw = execute(http, key, "crm.lead", "search_read", [[]], {"fields": ["stage_id"], "limit": 1, "load": None})["result"]
    assert isinstance(raw[0]["stage_id"], int)


@pytest.mark.parametrize(("version", "code"), [(16, 200), (17, 200), (18, 200), (19, 0)])
def test_errors_inside_http_200(http, version, code):
    configure(http, odoo_version=version)
    key = new_key(http)
    body = execute(http, key, "crm.lead", "search_read", [[]], {"fields": ["nope"]})
    assert "result" not in body
    error = body["error"]
    assert error["code"] == code
    assert error["message"] == "Odoo Server Error"
    assert set(error["data"]) == {"name", "debug", "message", "arguments", "context"}
    assert error["data"]["name"] == "builtins.ValueError"
    assert "nope" in error["data"]["message"]


def test_error_names(http):
    key = new_key(http)
    denied = execute(http, "f" * 40, "crm.lead", "search_count", [[]])["error"]["data"]
    assert denied["name"] == "odoo.exceptions.AccessDenied"
    companies = execute(http, new_key(http, "demo"), "crm.lead", "search_count", [[]], {"context": CONTEXT}, uid=6)
    assert companies["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    private = execute(http, key, "crm.lead", "_read", [[1]])["error"]["data"]
    assert private["name"] == "odoo.exceptions.AccessError"
    unknown = execute(http, key, "crm.lead", "search_read", [[]], {"bogus": 1})["error"]["data"]
    assert unknown["name"] == "builtins.TypeError"
    model = execute(http, key, "no.such.model", "search", [[]])["error"]["data"]
    assert model["name"] == "odoo.exceptions.UserError"


def test_queued_failures(http):
    key = new_key(http)
    configure(http, jsonrpc_fail_next=["session_expired", "access_error", "503_html"])
    expired = execute(http, key, "crm.lead", "search_count", [[]])["error"]
    assert expired["code"] == 100
    assert expired["message"] == "Odoo Session Expired"
    assert expired["data"]["name"] == "odoo.http.SessionExpiredException"
    assert execute(http, key, "crm.lead", "search_count", [[]])["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    proxy = http.post("/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "params": {"service": "object", "method": "execute_kw", "args": ["sandbox", ADMIN_UID, key, "crm.lead", "search_count", [[]]]}, "id": 1})
    assert proxy.status_code == 503
    assert proxy.headers["Content-Type"].startswith("text/html")
    assert "result" in execute(http, key, "crm.lead", "search_count", [[]])


@pytest.mark.parametrize(("version", "status", "content_type"), [(16, 400, "text/plain"), (19, 415, "text/html")])
def test_wrong_content_type(http, version, status, content_type):
    configure(http, odoo_version=version)
    response = http.post("/jsonrpc", data="{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(content_type)


def test_body_not_json(http):
    response = http.post("/jsonrpc", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_cooldown_refuses_then_lifts(http, server):
    key = new_key(http)
    configure(http, login_cooldown_after=3, login_cooldown_duration=1)
    for _ in range(3):
        assert rpc(http, "common", "authenticate", "sandbox", "admin", "bad", {})["result"] is False
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] is False
    stats = http.get("/__sandbox__/stats").json()
    assert stats["login_failures"] == 3
    assert stats["login_cooldown_refusals"] == 1
    server.sandbox.stopping.wait(1.1)
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] == ADMIN_UID


@pytest.mark.parametrize(("version", "blocked"), [(16, True), (17, False), (19, False)])
def test_cooldown_and_execute_kw(http, version, blocked):
    configure(http, odoo_version=version, login_cooldown_after=2)
    key = new_key(http)
    for _ in range(2):
        rpc(http, "common", "authenticate", "sandbox", "admin", "bad", {})
    body = execute(http, key, "crm.lead", "search_count", [[]])
    if blocked:
        assert body["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    else:
        assert isinstance(body["result"], int)


def test_keys_stored_hashed(http, server):
    key = new_key(http, name="sync")
    listed = http.get("/__sandbox__/api-keys").json()
    assert listed[0]["name"] == "sync"
    assert "key" not in listed[0]
    connection = sqlite3.connect(server.sandbox.db.path)
    try:
        stored = connection.execute("SELECT key_index, key_hash FROM res_users_apikeys").fetchone()
    finally:
        connection.close()
    assert stored[0] == key[:8]
    assert key not in stored[1]


def test_expiry_from_18(http):
    configure(http, odoo_version=17)
    refused = http.post("/__sandbox__/api-keys", json={"login": "admin", "expiration_date": "2099-01-01 00:00:00"})
    assert refused.status_code == 400
    configure(http, odoo_version=18)
    assert http.post("/__sandbox__/api-keys", json={"login": "demo"}).status_code == 400
    key = new_key(http, expiration_date="2099-01-01 00:00:00")
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] == ADMIN_UID
    key_id = http.get("/__sandbox__/api-keys").json()[0]["id"]
    http.patch(f"/__sandbox__/api-keys/{key_id}", json={"expiration_date": "2000-01-01 00:00:00"})
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] is False
    configure(http, odoo_version=17)
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] == ADMIN_UID


def test_reset_deletes_keys(http):
    key = new_key(http)
    http.post("/__sandbox__/reset")
    assert rpc(http, "common", "authenticate", "sandbox", "admin", key, {})["result"] is False
