"""MuK REST data routes: parameters, value shapes, record rules, errors and failure injection."""

from __future__ import annotations

import json

import pytest

LEADS_PATH = "/api/v2/search_read/crm.lead"


@pytest.fixture
def admin_token(oauth) -> str:
    return oauth.tokens()["access_token"]


def encoded(**parameters) -> dict:
    return {name: json.dumps(value) for name, value in parameters.items()}


def truth(http) -> list[dict]:
    return http.get("/__sandbox__/leads").json()


def test_search_read_matches_truth(http, oauth, admin_token):
    fields = ["name", "stage_id", "tag_ids", "email_from", "write_date", "date_deadline", "probability"]
    params = encoded(fields=fields, order="id asc", with_context={"active_test": False, "allowed_company_ids": [1, 2]})
    records = oauth.data(LEADS_PATH, admin_token, params=params).json()
    expected = [{"id": lead["id"], **{name: lead[name] for name in fields}} for lead in truth(http)]
    assert records == expected


def test_search_read_post_form_and_json(oauth, admin_token):
    parameters = {"domain": [("stage_id", "=", 2)], "fields": ["name"], "order": "id asc"}
    by_query = oauth.data(LEADS_PATH, admin_token, params=encoded(**parameters)).json()
    by_form = oauth.data(LEADS_PATH, admin_token, method="POST", data=encoded(**parameters)).json()
    by_json = oauth.data(LEADS_PATH, admin_token, method="POST", json=parameters).json()
    assert by_query
    assert by_form == by_query
    assert by_json == by_query
    assert set(by_query[0]) == {"id", "name"}


def test_archived_and_context_alias(oauth, admin_token):
    archived = encoded(domain=[("active", "=", False)], fields=["active"])
    assert all(lead["active"] is False for lead in oauth.data(LEADS_PATH, admin_token, params=archived).json())
    default = oauth.data(LEADS_PATH, admin_token, params=encoded(fields=["active"])).json()
    assert all(lead["active"] for lead in default)
    with_alias = oauth.data(LEADS_PATH, admin_token, params=encoded(fields=["active"], context={"active_test": False}))
    assert len(with_alias.json()) > len(default)


def test_multi_company_visibility(oauth, admin_token):
    fields = encoded(fields=["company_id"])
    default = oauth.data(LEADS_PATH, admin_token, params=fields).json()
    assert {lead["company_id"][0] for lead in default} == {1}
    both = encoded(fields=["company_id"], with_context={"allowed_company_ids": [1, 2]})
    assert {lead["company_id"][0] for lead in oauth.data(LEADS_PATH, admin_token, params=both).json()} == {1, 2}
    second = encoded(fields=["company_id"], with_context={"allowed_company_ids": [2]})
    assert {lead["company_id"][0] for lead in oauth.data(LEADS_PATH, admin_token, params=second).json()} == {2}


def test_demo_user_sees_own_leads_only(oauth):
    token = oauth.tokens(login="demo", password="demo")["access_token"]
    records = oauth.data(LEADS_PATH, token, params=encoded(fields=["user_id"])).json()
    assert records
    assert {lead["user_id"][0] if lead["user_id"] else None for lead in records} <= {6, None}
    forbidden = oauth.data(LEADS_PATH, token, params=encoded(with_context={"allowed_company_ids": [1, 2]}))
    assert forbidden.status_code == 403
    assert forbidden.json()["name"] == "odoo.exceptions.AccessError"


def test_paging_with_write_date_cursor(http, oauth, admin_token):
    http.post("/__sandbox__/seed", json={"count": 1200})
    seen = []
    offset = 0
    while True:
        params = encoded(
            domain=[("write_date", ">=", "2000-01-01 00:00:00")],
            fields=["write_date"],
            order="write_date asc, id asc",
            limit=500,
            offset=offset,
            with_context={"active_test": False, "allowed_company_ids": [1, 2]},
        )
        page = oauth.data(LEADS_PATH, admin_token, params=params).json()
        seen.extend(page)
        if len(page) < 500:
            break
        offset += 500
    assert sorted(lead["id"] for lead in seen) == [lead["id"] for lead in truth(http)]
    # Rows are ordered by the stored microseconds, so within one second ids may go down.
    write_dates = [lead["write_date"] for lead in seen]
    assert write_dates == sorted(write_dates)


def test_search_ids_and_count(oauth, admin_token):
    context = {"active_test": False, "allowed_company_ids": [1, 2]}
    ids = oauth.data("/api/v2/search/crm.lead", admin_token, params=encoded(with_context=context, order="id asc")).json()
    assert ids == sorted(ids)
    assert all(isinstance(lead_id, int) for lead_id in ids)
    count = oauth.data(
        "/api/v2/search/crm.lead", admin_token, params={"count": "true", **encoded(with_context=context)}
    ).json()
    assert count == len(ids)


def test_read_by_ids_skips_missing(http, oauth, admin_token):
    first = truth(http)[0]
    records = oauth.data("/api/v2/read/crm.lead", admin_token, params={"ids": f"{first['id']},999999", "fields": '["name"]'})
    assert records.json() == [{"id": first["id"], "name": first["name"]}]


def test_call_fields_get_and_context_get(oauth, admin_token):
    described = oauth.data(
        "/api/v2/call/crm.lead/fields_get", admin_token, method="POST", json={"kwargs": {"attributes": ["type", "relation"]}}
    ).json()
    assert described["stage_id"] == {"type": "many2one", "relation": "crm.stage"}
    assert described["tag_ids"]["type"] == "many2many"
    context = oauth.data("/api/v2/call/res.users/context_get", admin_token, method="POST", json={}).json()
    assert context["uid"] == 2


@pytest.mark.parametrize(
    ("model", "field", "expected"),
    [
        ("crm.stage", "name", ["New", "Qualified", "Proposition", "Won"]),
        ("crm.lost.reason", "name", ["Not enough stock", "Too expensive", "We don't have people/skills"]),
        ("crm.team", "name", ["Sales", "Pre-Sales"]),
        ("res.company", "name", ["YourCompany"]),
    ],
)
def test_related_models(oauth, admin_token, model, field, expected):
    records = oauth.data(f"/api/v2/search_read/{model}", admin_token, params=encoded(fields=[field])).json()
    assert [record[field] for record in records] == expected


def test_user_company_ids(oauth, admin_token):
    users = oauth.data(
        "/api/v2/search_read/res.users", admin_token, params=encoded(domain=[("login", "=", "admin")], fields=["company_ids", "company_id"])
    ).json()
    assert users == [{"id": 2, "company_ids": [1, 2], "company_id": [1, "YourCompany"]}]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        (encoded(fields=["nope"]), 400, "Invalid field 'nope' on model 'crm.lead'"),
        (encoded(domain=[("nope", "=", 1)]), 400, "Invalid field crm.lead.nope"),
        ({"domain": "[not json"}, 400, "is not valid JSON"),
        (encoded(order="nope desc"), 400, "Invalid field 'nope'"),
    ],
)
def test_bad_parameters_return_400(oauth, admin_token, params, status, message):
    response = oauth.data(LEADS_PATH, admin_token, params=params)
    assert response.status_code == status
    assert message in response.json()["message"]


def test_unknown_model_returns_404(oauth, admin_token):
    assert oauth.data("/api/v2/search_read/no.such.model", admin_token).status_code == 404


def test_missing_or_bad_token_returns_401(http, oauth):
    missing = oauth.data(LEADS_PATH, None)
    assert missing.status_code == 401
    assert missing.json()["name"] == "werkzeug.exceptions.Unauthorized"
    assert oauth.data(LEADS_PATH, "not-a-token").status_code == 401
    stats = http.get("/__sandbox__/stats").json()
    assert stats["data_401"] == 2
    assert stats["data_requests"] == 2


@pytest.mark.parametrize(
    ("kind", "status"), [("500", 500), ("503_html", 503), ("429", 429), ("timeout", 504)]
)
def test_data_failure_injection(http, oauth, admin_token, kind, status):
    http.post("/__sandbox__/config", json={"data_fail_rate": 1.0, "data_fail_kinds": [kind], "timeout_seconds": 0.2})
    response = oauth.data(LEADS_PATH, admin_token)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    if kind == "429":
        assert response.headers["Retry-After"] == "1"
    assert http.get("/__sandbox__/stats").json()["failures_injected"] == {kind: 1}
    http.post("/__sandbox__/config", json={"data_fail_rate": 0.0})
    assert oauth.data(LEADS_PATH, admin_token).status_code == 200


def test_partial_failure_rate_is_seeded(http, oauth, admin_token):
    def statuses() -> list[int]:
        http.post("/__sandbox__/config", json={"data_fail_rate": 0.5, "data_fail_kinds": ["500"], "seed": 42})
        http.post("/__sandbox__/config", json={"seed": 43})
        http.post("/__sandbox__/config", json={"seed": 42})
        return [oauth.data(LEADS_PATH, admin_token, params=encoded(limit=1)).status_code for _ in range(20)]

    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first


def test_timeout_failure_outlasts_client_timeout(http, oauth, admin_token):
    import requests

    http.post("/__sandbox__/config", json={"data_fail_rate": 1.0, "data_fail_kinds": ["timeout"], "timeout_seconds": 3})
    with pytest.raises(requests.Timeout):
        oauth.data(LEADS_PATH, admin_token, timeout=0.5)
