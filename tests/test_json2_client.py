"""JSON-2 client: the statuses returned in turn for a search_read, body parsing and cookies."""

from __future__ import annotations

import logging

import pytest
import responses

from connections.apikeys import ApiKeyCredentials
from connections.clients import build_data_client
from connections.linking import check_connection
from connections.models import ApiKeyCredential, OdooConnection
from connections.odoo.dialects.apikey import bearer
from connections.odoo.dialects.json2 import Json2Client
from connections.odoo.errors import (
    OdooAccessDenied,
    OdooConflict,
    OdooCredentialsRejected,
    OdooRequestRejected,
    OdooServerError,
)
from tests.test_apikey_connections import api_key_connection, create_api_key
from tests.test_jsonrpc_client import FixedKey

pytestmark = pytest.mark.django_db

ODOO = "https://odoo.example.test"
CONTEXT = {"active_test": False, "allowed_company_ids": [1, 2]}


def search_read(client):  # noqa: ANN001, ANN201
    return client.search_read("crm.lead", domain=[], fields=["name"], order="id asc", limit=5, context=CONTEXT)


def json2_calls(control) -> int:  # noqa: ANN001
    return control.stats()["json2_calls"].get("crm.lead/search_read", 0)


@pytest.fixture
def linked(sandbox, control) -> OdooConnection:
    control.configure(odoo_version=19)
    connection = api_key_connection(sandbox.url, create_api_key(sandbox.url))
    check_connection(connection)
    control._call("POST", "/stats/reset")
    return connection


def enter_key(connection: OdooConnection, key: str) -> None:
    """Store a key as the admin form does when staff type one."""
    credential = ApiKeyCredential.objects.get(connection=connection)
    credential.reset_verification()
    credential.api_key = key
    credential.save()
    connection.set_status(OdooConnection.Status.CONNECTED)


def test_statuses_in_turn(linked, sandbox, control, caplog):
    connection = linked
    control.configure(
        json2_fail_next=["invalid_apikey", "missing_bearer_403", "access_error", "validation_error", "503_retry_after"]
    )

    # 401: the stored key is the refused one, so no renewal is possible: rejected after one request.
    with pytest.raises(OdooCredentialsRejected):
        search_read(build_data_client(connection))
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CREDENTIALS_REJECTED
    assert json2_calls(control) == 1
    with pytest.raises(OdooCredentialsRejected):
        search_read(build_data_client(connection))
    assert json2_calls(control) == 1, "a rejected key is not sent again"

    # Early 19.0's 403 "missing bearer" is a rejection too, not an access error.
    enter_key(connection, create_api_key(sandbox.url))
    with pytest.raises(OdooCredentialsRejected):
        search_read(build_data_client(connection))
    assert json2_calls(control) == 2

    enter_key(connection, create_api_key(sandbox.url))
    with pytest.raises(OdooAccessDenied) as denied:
        search_read(build_data_client(connection))
    assert not isinstance(denied.value, OdooCredentialsRejected)
    assert not denied.value.transient
    assert json2_calls(control) == 3

    with caplog.at_level(logging.ERROR), pytest.raises(OdooRequestRejected) as rejected:
        search_read(build_data_client(connection))
    assert rejected.value.status == 422
    assert not rejected.value.transient
    assert "odoo.exceptions.ValidationError" in caplog.text
    assert json2_calls(control) == 4

    with pytest.raises(OdooServerError) as unavailable:
        search_read(build_data_client(connection))
    assert unavailable.value.transient
    assert unavailable.value.retry_after >= 30
    assert "<" not in unavailable.value.message
    assert json2_calls(control) == 5

    empty = build_data_client(connection).search_read(
        "crm.lead", domain=[("id", "=", -1)], fields=["name"], order="id asc", limit=5, context=CONTEXT
    )
    assert empty == []
    assert control.stats()["requests_with_cookies"] == 0


def test_refused_key_renewed_when_staff_entered_another(linked, sandbox):
    connection = linked
    credentials = ApiKeyCredentials(connection)
    refused = credentials.api_key()
    replacement = create_api_key(sandbox.url)
    enter_key(connection, replacement)

    assert credentials.renew_after_rejection(bearer(refused)) is True
    assert credentials.api_key() == replacement
    with pytest.raises(OdooCredentialsRejected):
        credentials.renew_after_rejection(bearer(replacement))
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CREDENTIALS_REJECTED


def client() -> Json2Client:
    return Json2Client(ODOO, database="tenant_db", credentials=FixedKey(), timeout=5)


@responses.activate
def test_no_cookies_and_database_header():
    url = f"{ODOO}/json/2/crm.lead/search_read"
    responses.post(url, json=[], headers={"Set-Cookie": "session_id=abc; Path=/"})
    responses.post(url, json=[])
    json2 = client()

    assert search_read(json2) == []
    assert search_read(json2) == []

    second = responses.calls[1].request
    assert "Cookie" not in second.headers
    assert second.headers["X-Odoo-Database"] == "tenant_db"
    assert second.headers["Authorization"] == f"Bearer {'a' * 40}"
    assert b'"ids"' not in second.body


@responses.activate
def test_bare_string_error_body():
    responses.post(f"{ODOO}/json/2/crm.lead/search_read", json="missing a required argument: 'domain'", status=422)
    with pytest.raises(OdooRequestRejected) as raised:
        search_read(client())
    assert "missing a required argument" in raised.value.message


@responses.activate
def test_html_error_not_parsed():
    responses.post(f"{ODOO}/json/2/crm.lead/search_read", body="<html><body>Forbidden</body></html>", status=403, content_type="text/html")
    with pytest.raises(OdooAccessDenied) as raised:
        search_read(client())
    assert "text/html" in raised.value.message
    assert "Forbidden" not in raised.value.message


@responses.activate
def test_lock_conflict_is_transient():
    body = {"name": "odoo.exceptions.LockError", "message": "locked", "arguments": [], "context": {}, "debug": ""}
    responses.post(f"{ODOO}/json/2/crm.lead/search_read", json=body, status=409)
    with pytest.raises(OdooConflict) as raised:
        search_read(client())
    assert raised.value.transient
