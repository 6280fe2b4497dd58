"""Link the sandbox through the admin and sync it over real HTTP."""

from __future__ import annotations

import pytest

from connections.models import OdooConnection
from crm.models import Lead, SyncRun
from crm.sync import run_sync
from tests.odoo_sandbox import assert_matches_truth

pytestmark = pytest.mark.django_db


def test_link_and_sync_matches_sandbox(linked, control):
    connection = linked
    assert connection.status == OdooConnection.Status.CONNECTED

    result = run_sync(connection.pk)

    assert result.run.status == SyncRun.Status.SUCCEEDED, result.run.error_message
    truth = control.leads()
    assert len(truth) >= 40
    assert any(not row["active"] for row in truth), "the demo data must include archived leads"
    assert len({row["company_id"][0] for row in truth if row["company_id"]}) == 2
    assert_matches_truth(connection, truth)
    statuses = set(Lead.objects.filter(connection=connection).values_list("status", flat=True))
    assert {"open", "won", "lost"} <= statuses


def test_incremental_sync_reads_only_changes(linked, control):
    connection = linked
    run_sync(connection.pk)
    lead_id = control.leads()[0]["id"]

    control.write_lead(lead_id, name="Renamed in Odoo")
    control.lose_lead(control.leads()[1]["id"])
    second = run_sync(connection.pk).run

    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.created == 0
    assert second.updated == 2
    assert second.archived == 1
    assert Lead.objects.get(connection=connection, odoo_id=lead_id).name == "Renamed in Odoo"
    assert_matches_truth(connection, control.leads())


def test_pkce_and_state_reach_the_sandbox(linked, sandbox):
    import requests

    seen = requests.get(f"{sandbox.url}/__sandbox__/last-authorization", timeout=5).json()
    text = repr(seen)
    assert "S256" in text
    assert "code_challenge" in text
