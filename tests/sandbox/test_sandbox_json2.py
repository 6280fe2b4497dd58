"""JSON-2 API of Odoo 19: bearer keys, named arguments, statuses and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.sandbox.test_sandbox_jsonrpc import configure, new_key

CONTEXT = {"active_test": False, "allowed_company_ids": [1, 2]}
ERROR_KEYS = {"name", "message", "arguments", "context", "debug"}


@pytest.fixture
def key(http) -> str:
    configure(http, odoo_version=19)
    return new_key(http)


def call(http, key: str | None, model: str, method: str, body: object = None, scheme: str = "bearer", **options):
    headers = {"Authorization": f"{scheme} {key}"} if key else {}
    return http.post(f"/json/2/{model}/{method}", json={} if body is None else body, headers=headers, **options)


def assert_error(response, status: int, name: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["name"] == name
    return body


def test_search_read_matches_truth(http, key):
    response = call(http, key, "crm.lead", "search_read", {"fields": ["name", "won_status"], "order": "id asc", "context": CONTEXT})
    assert response.status_code == 200
    truth = http.get("/__sandbox__/leads", params={"fields": "name,won_status"}).json()
    assert response.json() == truth


@pytest.mark.parametrize("scheme", ["bearer", "Bearer", "BEARER"])
def test_scheme_case_insensitive(http, key, scheme):
    assert call(http, key, "res.users", "context_get", scheme=scheme).json()["uid"] == 2


def test_other_methods(http, key):
    assert call(http, key, "crm.lead", "search_count", {"domain": [], "context": CONTEXT}).json() == len(http.get("/__sandbox__/leads").json())
    assert call(http, key, "crm.lead", "search", {"domain": [["stage_id", "=", 2]]}).json()
    assert call(http, key, "res.users", "read", {"ids": [2], "fields": ["company_ids"]}).json() == [{"id": 2, "company_ids": [1, 2]}]
    fields = call(http, key, "crm.lead", "fields_get", {"attributes": ["type"]}).json()
    assert "mobile" not in fields and "title" not in fields
    assert fields["won_status"] == {"type": "selection"}


def test_missing_and_bad_bearer(http, key):
    missing = assert_error(call(http, None, "crm.lead", "search_count", {"domain": []}), 401, "werkzeug.exceptions.Unauthorized")
    assert "Authorization" in missing["message"]
    bad = call(http, "0" * 40, "crm.lead", "search_count", {"domain": []})
    assert_error(bad, 401, "werkzeug.exceptions.Unauthorized")
    assert bad.headers["WWW-Authenticate"].lower() == "bearer"
    assert bad.json()["message"] == "Invalid apikey"
    assert_error(call(http, "admin", "crm.lead", "search_count", {"domain": []}), 401, "werkzeug.exceptions.Unauthorized")


def test_early_19_missing_bearer_is_403(http, key):
    configure(http, json2_missing_bearer_status=403)
    assert_error(call(http, None, "crm.lead", "search_count", {"domain": []}), 403, "werkzeug.exceptions.Unauthorized")


def test_bad_arguments_are_422(http, key):
    assert_error(call(http, key, "crm.lead", "search_read", {"ids": [1], "fields": ["name"]}), 422, "werkzeug.exceptions.UnprocessableEntity")
    assert_error(call(http, key, "crm.lead", "search_read", {"args": [[]]}), 422, "werkzeug.exceptions.UnprocessableEntity")
    assert_error(call(http, key, "crm.lead", "search", {}), 422, "werkzeug.exceptions.UnprocessableEntity")


def test_statuses(http, key):
    assert_error(call(http, key, "no.such", "search", {"domain": []}), 404, "werkzeug.exceptions.NotFound")
    assert_error(call(http, key, "crm.lead", "write", {}), 404, "werkzeug.exceptions.NotFound")
    assert_error(call(http, key, "crm.lead", "_read", {}), 403, "odoo.exceptions.AccessError")
    assert_error(call(http, key, "crm.lead", "search_read", {"fields": ["mobile"]}), 500, "builtins.ValueError")
    not_json = http.post(
        "/json/2/crm.lead/search_read",
        data=b"{x",
        headers={"Content-Type": "application/json", "Authorization": f"bearer {key}"},
    )
    assert_error(not_json, 400, "werkzeug.exceptions.BadRequest")


def test_demo_user_keys(http, key):
    tomorrow = (datetime.now(UTC) + timedelta(hours=12)).strftime("%Y-%m-%d %H:%M:%S")
    demo_key = new_key(http, "demo", expiration_date=tomorrow)
    foreign = call(http, demo_key, "crm.lead", "search_count", {"domain": [], "context": CONTEXT})
    assert_error(foreign, 403, "odoo.exceptions.AccessError")
    key_id = http.get("/__sandbox__/api-keys").json()[-1]["id"]
    http.patch(f"/__sandbox__/api-keys/{key_id}", json={"expiration_date": "2000-01-01 00:00:00"})
    expired = call(http, demo_key, "crm.lead", "search_count", {"domain": []})
    assert_error(expired, 401, "werkzeug.exceptions.Unauthorized")


def test_wrong_content_type_and_method(http, key):
    wrong = http.post("/json/2/crm.lead/search_count", data="{}", headers={"Content-Type": "text/plain", "Authorization": f"bearer {key}"})
    assert wrong.status_code == 415
    assert http.get("/json/2/crm.lead/search_count", headers={"Authorization": f"bearer {key}"}).status_code == 404
    assert http.request("PUT", "/json/2/crm.lead/search_count", headers={"Authorization": f"bearer {key}"}).status_code == 404


@pytest.mark.parametrize("version", [16, 17, 18])
def test_absent_before_19(http, version):
    configure(http, odoo_version=version)
    key = new_key(http)
    response = call(http, key, "crm.lead", "search_count", {"domain": []})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("kind", "status", "name"),
    [
        ("invalid_apikey", 401, "werkzeug.exceptions.Unauthorized"),
        ("missing_bearer_403", 403, "werkzeug.exceptions.Unauthorized"),
        ("access_error", 403, "odoo.exceptions.AccessError"),
        ("missing_error", 404, "odoo.exceptions.MissingError"),
        ("lock_error", 409, "odoo.exceptions.LockError"),
        ("validation_error", 422, "odoo.exceptions.ValidationError"),
        ("server_error", 500, "builtins.KeyError"),
    ],
)
def test_queued_error_bodies(http, key, kind, status, name):
    configure(http, json2_fail_next=[kind])
    assert_error(call(http, key, "crm.lead", "search_count", {"domain": []}), status, name)
    assert call(http, key, "crm.lead", "search_count", {"domain": []}).status_code == 200


def test_queued_proxy_and_bare_string(http, key):
    configure(http, json2_fail_next=["503_retry_after", "bare_string"])
    proxy = call(http, key, "crm.lead", "search_count", {"domain": []})
    assert proxy.status_code == 503
    assert proxy.headers["Retry-After"] == "30"
    assert proxy.headers["Content-Type"].startswith("text/html")
    bare = call(http, key, "crm.lead", "search_count", {"domain": []})
    assert bare.status_code == 422
    assert isinstance(bare.json(), str)


def test_cookies_counted(http, key):
    call(http, key, "res.users", "context_get")
    call(http, key, "res.users", "context_get", cookies={"session_id": "stale"})
    assert http.get("/__sandbox__/stats").json()["requests_with_cookies"] == 1
