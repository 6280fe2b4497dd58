"""Link the sandbox through the admin and sync it over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connections.models import OdooConnection
from crm.models import Lead, SyncRun
from crm.sync import run_sync

pytestmark = pytest.mark.django_db


def odoo_datetime(value):
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if value else None


def assert_matches_truth(connection, truth):
    local = {lead.odoo_id: lead for lead in Lead.objects.filter(connection=connection).select_related("stage", "salesperson", "team").prefetch_related("tags")}
    assert sorted(local) == sorted(row["id"] for row in truth)
    for row in truth:
        lead = local[row["id"]]
        assert lead.name == row["name"], row["id"]
        assert lead.active == row["active"], row["id"]
        assert lead.type == row["type"], row["id"]
        assert lead.write_date == odoo_datetime(row["write_date"]), row["id"]
        assert lead.email == (row["email_from"] or ""), row["id"]
        assert lead.expected_revenue == (Decimal(repr(float(row["expected_revenue"]))).quantize(Decimal("0.01")) if row["expected_revenue"] is not False else None), row["id"]
        assert (lead.stage.odoo_id if lead.stage else False) == (row["stage_id"][0] if row["stage_id"] else False), row["id"]
        assert (lead.salesperson.odoo_id if lead.salesperson else False) == (row["user_id"][0] if row["user_id"] else False), row["id"]
        assert (lead.team.odoo_id if lead.team else False) == (row["team_id"][0] if row["team_id"] else False), row["id"]
        assert sorted(tag.odoo_id for tag in lead.tags.all()) == sorted(row["tag_ids"]), row["id"]
        assert lead.odoo_company == (row["company_id"][1] if row["company_id"] else ""), row["id"]


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
