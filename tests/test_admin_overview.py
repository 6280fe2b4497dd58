"""The admin overview page: connection health and the pipeline charts drawn as inline SVG."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from connections.models import OdooConnection
from crm.models import Lead, Stage, SyncRun
from crm.overview import (
    WEEKS_SHOWN,
    StageTotal,
    WeekTotal,
    compact_number,
    first_week_start,
    open_pipeline,
    stage_chart,
    tick_step,
    week_chart,
    won_lost_by_week,
)
from tests.factories import make_connection, make_token

pytestmark = pytest.mark.django_db

OVERVIEW = "admin:crm_overview"


def test_overview_address_and_index_link(admin_client):
    index = admin_client.get(reverse("admin:index")).content.decode()

    assert reverse(OVERVIEW) == "/admin/crm/overview/"
    assert f'href="{reverse(OVERVIEW)}"' in index


def test_overview_needs_login(client):
    response = client.get(reverse(OVERVIEW))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_overview_needs_view_permissions(client, django_user_model):
    staff = django_user_model.objects.create_user("viewer", password="viewer-pass", is_staff=True)
    client.force_login(staff)

    response = client.get(reverse(OVERVIEW))
    index = client.get(reverse("admin:index")).content.decode()

    assert response.status_code == 403
    assert reverse(OVERVIEW) not in index


def monday_weeks_ago(weeks: int) -> datetime:
    """Return Tuesday 10:00 of the week that started ``weeks`` weeks before the current one."""
    start = first_week_start(timezone.localdate(), weeks + 1)
    return timezone.make_aware(datetime.combine(start, datetime.min.time())) + timedelta(days=1, hours=10)


@pytest.fixture
def pipeline():
    """One connection with open leads in three stages and leads won and lost in known weeks."""
    connection = make_connection(name="Pipeline")
    make_token(connection)
    new = Stage.objects.create(connection=connection, odoo_id=1, name="New", sequence=1)
    proposal = Stage.objects.create(connection=connection, odoo_id=2, name="Proposition", sequence=3)
    qualified = Stage.objects.create(connection=connection, odoo_id=3, name="Qualified", sequence=2)
    won_stage = Stage.objects.create(connection=connection, odoo_id=4, name="Won", sequence=9, is_won=True)
    leads = [
        (new, "open", "100.00", None, None),
        (new, "open", "50.50", None, None),
        (qualified, "open", None, None, None),
        (proposal, "open", "1000.00", None, None),
        (None, "open", "7.00", None, None),
        (new, "open", "999.00", None, timezone.now()),
        (won_stage, "won", "300.00", monday_weeks_ago(0), None),
        (won_stage, "won", "200.00", monday_weeks_ago(0), None),
        (won_stage, "won", "400.00", monday_weeks_ago(3), None),
        (new, "lost", "10.00", monday_weeks_ago(3), None),
        (new, "lost", "10.00", monday_weeks_ago(WEEKS_SHOWN + 2), None),
        (new, "archived", "10.00", None, None),
    ]
    for index, (stage, status, revenue, closed, deleted) in enumerate(leads, start=1):
        Lead.objects.create(
            connection=connection,
            odoo_id=index,
            name=f"Lead {index}",
            stage=stage,
            status=status,
            expected_revenue=Decimal(revenue) if revenue else None,
            date_closed=closed,
            deleted_in_odoo_at=deleted,
        )
    return connection


def test_open_pipeline_per_stage(pipeline):
    stages = open_pipeline(Lead.objects.all())

    assert stages == [
        StageTotal("New", 2, Decimal("150.50")),
        StageTotal("Qualified", 1, Decimal("0")),
        StageTotal("Proposition", 1, Decimal("1000.00")),
        StageTotal("No stage", 1, Decimal("7.00")),
    ]


def test_won_lost_per_week(pipeline):
    weeks = won_lost_by_week(Lead.objects.all())

    assert len(weeks) == WEEKS_SHOWN
    assert weeks[0].start == first_week_start(timezone.localdate())
    assert weeks[0].start.weekday() == 0
    assert weeks[-1].start <= timezone.localdate() < weeks[-1].start + timedelta(weeks=1)
    assert (weeks[-1].won, weeks[-1].lost, weeks[-1].won_revenue) == (2, 0, Decimal("500.00"))
    assert (weeks[-4].won, weeks[-4].lost, weeks[-4].won_revenue) == (1, 1, Decimal("400.00"))
    assert sum(week.won for week in weeks) == 3
    assert sum(week.lost for week in weeks) == 1


def test_overview_page(admin_client, pipeline):
    SyncRun.objects.create(connection=pipeline, status=SyncRun.Status.FAILED, error_kind="odoo_unavailable")
    pipeline.set_status(OdooConnection.Status.DEGRADED, error_kind="odoo_unavailable", error_message="Odoo answered 503.")

    with CaptureQueriesContext(db) as queries:
        response = admin_client.get(reverse(OVERVIEW))

    html = response.content.decode()
    assert response.status_code == 200
    assert ">Degraded</span>" in html
    assert "just now</span> · " in html
    assert "Failed</span> (odoo_unavailable)" in html
    assert "Odoo answered 503." in html
    assert f'?connection__id__exact={pipeline.pk}">12</a>' in html
    assert '<strong id="open-total">5</strong>' in html
    assert '<strong id="won-total">3</strong>' in html
    assert '<strong id="lost-total">1</strong>' in html
    assert html.count('<svg class="overview-chart"') == 2
    assert "<script" not in html.split('id="content-main"')[1].split("</main>")[0]
    assert "New: 2 open leads, expected revenue 150.50" in html
    assert len(queries) <= 6, [query["sql"][:100] for query in queries.captured_queries]


def test_overview_one_connection(admin_client, pipeline):
    other = make_connection(name="Other")
    Lead.objects.create(connection=other, odoo_id=1, name="Elsewhere", status="open")

    everything = admin_client.get(reverse(OVERVIEW)).content.decode()
    one = admin_client.get(reverse(OVERVIEW), {"connection": other.pk}).content.decode()

    assert '<strong id="open-total">6</strong>' in everything
    assert '<strong id="open-total">1</strong>' in one
    assert "Pipeline of Other" in one


def test_overview_without_data(admin_client):
    html = admin_client.get(reverse(OVERVIEW)).content.decode()

    assert "No Odoo connection yet." in html
    assert "No open leads." in html
    assert html.count('<svg class="overview-chart"') == 1


def test_stage_chart_scales_bars():
    svg = str(stage_chart([StageTotal("New", 10, Decimal("500")), StageTotal("<Won & done>", 5, Decimal("1000"))]))

    bars = re.findall(r'<rect x="150" y="\d+" width="([\d.]+)" height="(?:14|8)"', svg)
    widths = [float(width) for width in bars]
    assert widths == [330.0, 165.0, 165.0, 330.0]
    assert "&lt;Won &amp; done&gt;" in svg
    assert "<Won" not in svg


def test_week_chart_draws_pairs():
    weeks = [WeekTotal(date(2026, 1, 5) + timedelta(weeks=index), index, 1, Decimal(index)) for index in range(WEEKS_SHOWN)]

    svg = str(week_chart(weeks))

    bar = r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="{}"/>'
    won = [float(height) for height in re.findall(bar.format("#2e7d32"), svg)]
    lost = [float(height) for height in re.findall(bar.format("#c62828"), svg)]
    assert len(won) == WEEKS_SHOWN
    assert len(lost) == WEEKS_SHOWN
    assert won[0] == 0
    assert won[-1] == max(won)
    assert len(set(lost)) == 1
    assert "Week of 30 Mar 2026: 12 won" not in svg
    assert "Week of 23 Mar 2026: 11 won (11.00), 1 lost" in svg
    assert ">05 Jan</text>" in svg


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (950, "950"), (12_500, "12.5k"), (3_000_000, "3M"), (1_700_000_000, "1.7B"), (Decimal("1234.5"), "1.2k")],
)
def test_compact_number(value, expected):
    assert compact_number(value) == expected


@pytest.mark.parametrize(("maximum", "step"), [(0, 1), (3, 1), (7, 2), (40, 10), (160, 50), (1_000, 500)])
def test_tick_step(maximum, step):
    assert tick_step(maximum) == step
