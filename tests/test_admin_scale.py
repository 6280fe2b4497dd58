"""The admin with 100,000 leads in PostgreSQL: bounded query counts and no full COUNT."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.admin_changelist import analyze, insert_leads
from connections.models import OdooConnection
from crm.models import Lead, Salesperson, Stage, SyncCursor, Tag

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LEADS = 100_000
LEAD_CHANGELIST = "admin:crm_lead_changelist"


@pytest.fixture
def many_leads():
    connection = OdooConnection.objects.create(
        name="Scale", base_url="https://odoo.example.test", odoo_version="17.0", status=OdooConnection.Status.CONNECTED
    )
    insert_leads(connection, LEADS)
    # The estimate the paginator reads is refreshed by ANALYZE (autovacuum does it in production).
    analyze(Lead._meta.db_table)
    return connection


def full_counts(queries: CaptureQueriesContext) -> list[str]:
    """Return the COUNT queries over crm_lead that have no WHERE clause."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if "COUNT(" in query["sql"] and '"crm_lead"' in query["sql"] and "WHERE" not in query["sql"]
    ]


def test_lead_changelist_queries(admin_client, django_assert_max_num_queries, many_leads):
    stage = Stage.objects.get(connection=many_leads, name="Qualified")
    person = Salesperson.objects.filter(connection=many_leads).first()
    tag = Tag.objects.filter(connection=many_leads).first()
    url = reverse(LEAD_CHANGELIST)
    pages = [
        {},
        {"stage__id__exact": stage.pk},
        {"salesperson__id__exact": person.pk, "status": "open"},
        {"tags__id__exact": tag.pk},
        {"status": "deleted"},
        {"q": "contact12345"},
        {"o": "6"},
        {"write_date__year": "2025"},
        {"connection__id__exact": many_leads.pk, "type__exact": "lead", "priority__exact": "3"},
    ]

    for params in pages:
        with django_assert_max_num_queries(15) as queries:
            response = admin_client.get(url, params)

        assert response.status_code == 200, params
        assert len(response.context["cl"].result_list) > 0, params
        assert full_counts(queries) == [], params

    with CaptureQueriesContext(db) as queries:
        unfiltered = admin_client.get(url)
    estimate = unfiltered.context["cl"].result_count
    assert unfiltered.context["cl"].paginator.count_is_estimate
    assert 0.9 * LEADS <= estimate <= 1.1 * LEADS
    assert f"about {estimate}" in unfiltered.content.decode()
    assert any("reltuples" in query["sql"] for query in queries.captured_queries)


def test_other_pages_and_purge(admin_client, django_assert_max_num_queries, many_leads):
    with django_assert_max_num_queries(10):
        connections = admin_client.get(reverse("admin:connections_odooconnection_changelist"))
    with django_assert_max_num_queries(10):
        overview = admin_client.get(reverse("admin:crm_overview"))
    with django_assert_max_num_queries(15):
        delete_page = admin_client.get(reverse("admin:connections_odooconnection_delete", args=[many_leads.pk]))
    lead = Lead.objects.filter(connection=many_leads).first()
    with django_assert_max_num_queries(10):
        detail = admin_client.get(reverse("admin:crm_lead_change", args=[lead.pk]))

    assert '">100,000</a>' in connections.content.decode()
    assert overview.status_code == 200
    assert "100,000 leads" in delete_page.content.decode()
    assert detail.status_code == 200

    response = admin_client.post(
        reverse("admin:connections_odooconnection_changelist"),
        {"action": "purge", helpers.ACTION_CHECKBOX_NAME: [many_leads.pk], "post": "yes"},
    )

    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert messages == ["Deleted 100,000 leads of Scale. The next sync reads every lead again."]
    assert not Lead.objects.filter(connection=many_leads).exists()
    assert not Lead.tags.through.objects.exists()
    assert SyncCursor.objects.get(connection=many_leads).write_date is None
