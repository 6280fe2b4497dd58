"""A third-party Odoo client (odooly) reads the sandbox's JSON-RPC endpoint like a real Odoo."""

from __future__ import annotations

import pytest

from connections.linking import check_connection
from crm.models import Lead
from tests.test_apikey_connections import api_key_connection, assert_synced, create_api_key

pytestmark = pytest.mark.django_db

FIELDS = ["name", "active", "type", "stage_id", "user_id", "team_id", "company_id", "tag_ids", "email_from", "write_date"]


def test_odooly_reads_what_the_project_synced(sandbox, control):
    import odooly

    control.configure(odoo_version=17)
    key = create_api_key(sandbox.url)
    connection = api_key_connection(sandbox.url, key)
    check_connection(connection)
    assert_synced(connection, control)

    client = odooly.Client(f"{sandbox.url}/jsonrpc", db="sandbox", user="admin", api_key=key)
    env = client.env(context={"active_test": False, "allowed_company_ids": [1, 2]})
    rows = env.execute("crm.lead", "search_read", [], FIELDS, order="id asc")

    synced = {lead.odoo_id: lead.raw for lead in Lead.objects.filter(connection=connection)}
    assert client.server_version == "17.0"
    assert env.uid == 2
    assert [row["id"] for row in rows] == sorted(synced)
    for row in rows:
        assert row == {"id": row["id"], **{name: synced[row["id"]][name] for name in FIELDS}}, row["id"]
