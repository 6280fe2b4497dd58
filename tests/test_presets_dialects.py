"""The OCA otherinfo and Synconics data clients against the sandbox, and Python-literal encoding."""

from __future__ import annotations

import ast
from datetime import datetime

import pytest
import requests

from connections.clients import build_data_client
from connections.models import OdooConnection
from connections.odoo.dialects.oca_otherinfo import synthetic_id
from connections.odoo.dialects.synconics import python_literal
from connections.odoo.errors import InvalidGrant, OdooUnauthorized
from tests.odoo_sandbox import TIMEOUT
from tests.odoo_sandbox_web import link_preset

pytestmark = pytest.mark.django_db


def linked_client(preset, sandbox, control, admin_client):
    _response, connection = link_preset(preset, sandbox.url, control, admin_client)
    return connection, build_data_client(connection)


def test_python_literal_round_trips_a_domain():
    domain = [("write_date", ">=", "2024-05-01 10:00:00"), "|", ("active", "in", [True, False]), ("name", "ilike", "O'Brien \"x\"")]

    text = python_literal(domain)

    assert ast.literal_eval(text) == domain
    assert "true" not in text
    assert ast.literal_eval(python_literal({"active_test": False, "allowed_company_ids": [1, 2]})) == {
        "active_test": False,
        "allowed_company_ids": [1, 2],
    }


@pytest.mark.parametrize("value", [datetime(2024, 5, 1), float("nan"), {1, 2}, object()])
def test_python_literal_rejects_other_values(value):
    with pytest.raises(TypeError):
        python_literal([("write_date", ">=", value)])


def test_synthetic_ids_are_stable_negative_integers():
    first = synthetic_id("crm.stage", "Won")

    assert first == synthetic_id("crm.stage", "Won")
    assert -(2**31) < first < 0
    assert first != synthetic_id("res.users", "Won")
    assert first != synthetic_id("crm.stage", "New")


def test_synconics_unwraps_single_and_empty_results(sandbox, control, admin_client):
    _connection, client = linked_client("synconics", sandbox, control, admin_client)
    context = {"active_test": False, "allowed_company_ids": [1, 2]}

    one = client.search_read("crm.lead", domain=[("id", "=", 1)], fields=["name"], order="id asc", limit=5, context=context)
    none = client.search_read("crm.lead", domain=[("id", "=", -1)], fields=["name"], order="id asc", limit=5, context=context)
    page = client.search_read(
        "crm.lead", domain=[("active", "in", [True, False])], fields=["name", "stage_id"], order="id asc", limit=3, offset=2, context=context
    )

    assert [row["id"] for row in one] == [1]
    assert none == []
    assert [row["id"] for row in page] == [3, 4, 5]
    assert isinstance(page[0]["stage_id"], list)
    assert client.search_ids("crm.lead", domain=[("id", "=", 2)], context=context) == [2]
    assert client.search_ids("crm.lead", domain=[("id", "=", -1)], context=context) == []
    assert client.search_count("crm.lead", domain=[], context=context) == len(control.leads())
    assert client.current_user() == {"uid": 2, "company_ids": [1, 2]}
    assert "name" in client.fields_get("crm.lead")


def test_synconics_login_redirect_renews_once(sandbox, control, admin_client):
    connection, client = linked_client("synconics", sandbox, control, admin_client)
    # A credential that sends no bearer, so the add-on redirects to /web/login.
    client.credentials.authorization_header = lambda: ""
    renewals = []
    client.credentials.renew_after_rejection = lambda header: renewals.append(header) or True

    with pytest.raises(OdooUnauthorized):
        client.search_ids("crm.lead", domain=[])

    assert renewals == [""]
    assert control.stats()["data_401"] == 2


def test_oca_snapshot_rows_and_synthetic_references(sandbox, control, admin_client):
    _connection, client = linked_client("oca", sandbox, control, admin_client)
    truth = {row["id"]: row for row in control.leads()}

    rows = client.search_read("crm.lead", domain=[("id", "=", 1)], fields=["name"], order="id asc", limit=1, offset=7)
    stages = client.search_read("crm.stage", domain=[], fields=[], order="", limit=0)

    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert len(rows) > 1, "domain, limit and offset are ignored"
    first = rows[0]
    assert first["stage_id"] == [synthetic_id("crm.stage", truth[1]["stage_id"][1]), truth[1]["stage_id"][1]]
    assert first["user_id"][1] == truth[1]["user_id"][1]
    assert first["tag_ids"] == truth[1]["tag_ids"]
    assert {stage["id"] for stage in stages} >= {first["stage_id"][0]}
    assert any(stage["is_won"] for stage in stages)
    assert client.search_ids("crm.lead", domain=[]) == [row["id"] for row in rows]
    assert client.search_count("crm.lead", domain=[]) == len(rows)
    assert client.current_user() == {"uid": 2, "company_ids": [1, 2]}
    assert client.capabilities.paging is False
    assert client.capabilities.domain is False


def test_oca_expired_token_needs_reauthorization(sandbox, control, admin_client):
    connection, client = linked_client("oca", sandbox, control, admin_client)
    # OCA hides a token row once its access token expired, refresh token included.
    requests.post(f"{sandbox.url}/__sandbox__/tokens/expire", timeout=TIMEOUT)

    with pytest.raises(InvalidGrant):
        client.search_count("crm.lead", domain=[])

    stats = control.stats()
    assert stats["data_401"] == 1
    assert stats["token_errors"] == {"invalid_grant": 1}
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.NEEDS_REAUTHORIZATION
