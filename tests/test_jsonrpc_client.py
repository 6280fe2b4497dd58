"""JSON-RPC client: errors inside HTTP 200 (session expiry, access errors) and the envelope rules."""

from __future__ import annotations

import logging

import pytest
import responses

from connections.linking import check_connection
from connections.models import OdooConnection
from connections.odoo.dialects.jsonrpc import JsonRpcClient
from connections.odoo.errors import OdooAccessDenied, OdooRequestRejected, OdooSessionExpired
from crm.models import Lead, SyncCursor, SyncRun
from crm.sync import run_sync
from tests.test_apikey_connections import api_key_connection, assert_synced, create_api_key

pytestmark = pytest.mark.django_db

ODOO = "https://odoo.example.test"
TRACEBACK = 'Traceback (most recent call last):\n  File "odoo/http.py", line 1, in dispatch\nSecretLine'


def linked_connection(sandbox, control, version: int) -> OdooConnection:
    control.configure(odoo_version=version)
    connection = api_key_connection(sandbox.url, create_api_key(sandbox.url))
    check_connection(connection)
    return connection


@pytest.mark.parametrize("version", [16, 17, 18, 19])
def test_access_error_in_200_stops_sync(version, sandbox, control, caplog):
    connection = linked_connection(sandbox, control, version)
    # JSON-RPC even on 19, where the code of the envelope is 0 instead of 200.
    connection.api_key_credential.dialect_override = "jsonrpc"
    connection.api_key_credential.dialect = "jsonrpc"
    connection.api_key_credential.save()
    control.configure(jsonrpc_fail_next=["access_error"] * 3)

    with caplog.at_level(logging.WARNING):
        run = run_sync(connection.pk).run

    connection.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error_kind == "access_error"
    assert Lead.objects.filter(connection=connection).count() == 0
    assert SyncCursor.objects.get(connection=connection).write_date is None
    assert connection.status == OdooConnection.Status.CONFIGURATION_ERROR
    assert "not allowed to access" in connection.last_error_message
    assert "Traceback" not in connection.last_error_message
    assert "Traceback" not in run.error_message
    assert any("odoo.exceptions.AccessError" in record.getMessage() and "Traceback" in record.getMessage() for record in caplog.records)


def test_session_expired_in_200_keeps_cursor(sandbox, control):
    connection = linked_connection(sandbox, control, 17)
    assert_synced(connection, control)
    cursor_before = SyncCursor.objects.get(connection=connection).write_date
    lead_id = control.leads()[0]["id"]
    control.write_lead(lead_id, name="Renamed while the session expired")
    control.configure(jsonrpc_fail_next=["session_expired"])

    run = run_sync(connection.pk).run

    connection.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error_kind == "session_expired"
    assert SyncCursor.objects.get(connection=connection).write_date == cursor_before
    assert Lead.objects.get(connection=connection, odoo_id=lead_id).name != "Renamed while the session expired"
    assert connection.status == OdooConnection.Status.CONNECTED
    assert run_sync(connection.pk).run.status == SyncRun.Status.SUCCEEDED
    assert Lead.objects.get(connection=connection, odoo_id=lead_id).name == "Renamed while the session expired"


class FixedKey:
    """A credential provider with a known uid, for narrow HTTP tests of the client alone."""

    login = "admin"

    def __init__(self) -> None:
        self.rejected: list[str] = []

    def api_key(self) -> str:
        return "a" * 40

    def authorization_header(self) -> str:
        return f"Bearer {self.api_key()}"

    def cached_uid(self) -> int:
        return 2

    def remember_uid(self, uid: int) -> None:
        raise AssertionError("the uid is already known")

    def renew_after_rejection(self, rejected_header: str) -> bool:
        return False

    def reject(self, rejected_key: str, reason: str) -> Exception:
        self.rejected.append(reason)
        return OdooRequestRejected(reason)


def client() -> JsonRpcClient:
    return JsonRpcClient(ODOO, database="tenant_db", credentials=FixedKey(), timeout=5)


@responses.activate
def test_envelope_without_result_is_none():
    responses.post(f"{ODOO}/jsonrpc", json={"jsonrpc": "2.0", "id": 1})
    assert client().execute("res.partner", "write", [[1], {}], {}) is None


@responses.activate
def test_session_expired_case_body(caplog):
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {
            "code": 100,
            "message": "Odoo Session Expired",
            "data": {
                "name": "odoo.http.SessionExpiredException",
                "message": "Session expired",
                "arguments": ["Session expired"],
                "context": {},
                "debug": TRACEBACK,
            },
        },
    }
    responses.post(f"{ODOO}/jsonrpc", json=body)
    with caplog.at_level(logging.WARNING), pytest.raises(OdooSessionExpired) as raised:
        client().search_read("crm.lead", domain=[], fields=["name"], order="id asc", limit=10)
    assert "SecretLine" not in raised.value.message
    assert "SecretLine" in caplog.text


@pytest.mark.parametrize("code", [200, 0])
@responses.activate
def test_access_error_by_name_not_code(code):
    error = {"code": code, "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.AccessError", "message": "denied", "debug": TRACEBACK}}
    responses.post(f"{ODOO}/jsonrpc", json={"jsonrpc": "2.0", "id": 1, "error": error})
    with pytest.raises(OdooAccessDenied):
        client().search_count("crm.lead", domain=[])


@responses.activate
def test_key_never_in_messages(caplog):
    key = "a" * 40
    error = {"code": 200, "message": "Odoo Server Error", "data": {"name": "builtins.ValueError", "message": f"bad {key}", "debug": f"echo {key}"}}
    responses.post(f"{ODOO}/jsonrpc", json={"jsonrpc": "2.0", "id": 1, "error": error})
    with caplog.at_level(logging.DEBUG), pytest.raises(OdooRequestRejected) as raised:
        client().search_count("crm.lead", domain=[])
    assert key not in raised.value.message
    assert key not in caplog.text
    sent = responses.calls[0].request
    assert "Authorization" not in sent.headers
