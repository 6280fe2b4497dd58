"""Mapping of crm.lead rows in Odoo's value shapes to local fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from crm.mapping import MappingError, format_datetime, map_lead, parse_datetime
from crm.models import Lead, Salesperson, Team
from crm.paging import Position, _after_domain, _window_domain
from tests.factories import make_connection

WEBSITE_ENQUIRY = {
    "id": 7,
    "name": "Website enquiry",
    "email_from": False,
    "phone": False,
    "partner_id": False,
    "user_id": [2, "Sales Rep A"],
    "team_id": [1, "Team East"],
    "stage_id": [4, "Won"],
    "tag_ids": [],
    "expected_revenue": 0.0,
    "probability": 100.0,
    "date_deadline": False,
    "write_date": "2024-05-01 10:00:00",
    "active": True,
    "priority": "2",
}


def test_false_values_never_become_text():
    mapped = map_lead(WEBSITE_ENQUIRY, won_stage_ids={4})

    for name, value in mapped.values.items():
        assert value != "False", name
    assert mapped.values["email"] == ""
    assert mapped.values["phone"] == ""
    assert mapped.values["partner_name"] == ""
    assert mapped.values["date_deadline"] is None


def test_many2one_keeps_id_and_name():
    mapped = map_lead(WEBSITE_ENQUIRY, won_stage_ids={4})

    assert mapped.salesperson.odoo_id == 2
    assert mapped.salesperson.name == "Sales Rep A"
    assert mapped.team.odoo_id == 1
    assert mapped.stage.odoo_id == 4


def test_zero_revenue_and_priority_kept():
    mapped = map_lead(WEBSITE_ENQUIRY, won_stage_ids={4})

    assert mapped.values["expected_revenue"] == Decimal("0.00")
    assert mapped.values["expected_revenue"] is not None
    assert mapped.values["priority"] == 2
    assert mapped.values["status"] == "won"


@pytest.mark.django_db
def test_mapped_lead_passes_full_clean():
    connection = make_connection()
    mapped = map_lead(WEBSITE_ENQUIRY, won_stage_ids={4})
    salesperson = Salesperson.objects.create(connection=connection, odoo_id=2, name="Sales Rep A")
    team = Team.objects.create(connection=connection, odoo_id=1, name="Team East")

    lead = Lead(connection=connection, odoo_id=mapped.odoo_id, salesperson=salesperson, team=team, **mapped.values)
    lead.full_clean()
    lead.save()

    stored = Lead.objects.get(pk=lead.pk)
    assert stored.salesperson.odoo_id == 2
    assert stored.salesperson.name == "Sales Rep A"
    assert stored.expected_revenue == Decimal("0.00")
    assert stored.priority == 2
    assert stored.email == ""


def test_lost_lead_is_lost_and_restored_lead_open():
    lost_row = {
        "id": 42,
        "name": "Office chairs",
        "active": False,
        "probability": 0,
        "lost_reason_id": [3, "Too expensive"],
        "stage_id": [1, "New"],
        "write_date": "2024-05-02 11:00:00",
    }
    lost = map_lead(lost_row, won_stage_ids=set())
    restored = map_lead({**lost_row, "active": True, "probability": 10, "lost_reason_id": False}, won_stage_ids=set())

    assert lost.values["status"] == "lost"
    assert lost.values["active"] is False
    assert lost.values["lost_reason"] == "Too expensive"
    assert restored.values["status"] == "open"
    assert restored.values["lost_reason"] == ""


def test_archived_lead_with_probability_is_archived():
    row = {"id": 5, "name": "Old", "active": False, "probability": 40.0, "write_date": "2024-05-02 11:00:00"}

    assert map_lead(row, won_stage_ids=set()).values["status"] == "archived"


def test_won_status_field_wins_over_rule():
    row = {"id": 5, "name": "Deal", "active": True, "probability": 90.0, "won_status": "won"}

    assert map_lead(row, won_stage_ids=set()).values["status"] == "won"


@override_settings(TIME_ZONE="Europe/Brussels", USE_TZ=True)
def test_naive_utc_datetimes_in_dst_gap_and_overlap():
    row = {
        "id": 9,
        "name": "DST",
        "write_date": "2024-03-31 01:30:00",
        "create_date": "2024-10-27 00:30:00",
    }

    mapped = map_lead(row, won_stage_ids=set())

    assert mapped.values["write_date"] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert mapped.values["create_date"] == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert mapped.values["write_date"].utcoffset().total_seconds() == 0


@override_settings(TIME_ZONE="Europe/Brussels", USE_TZ=True)
@pytest.mark.django_db
def test_naive_utc_datetimes_stored_unshifted():
    connection = make_connection()
    mapped = map_lead(
        {"id": 9, "name": "DST", "write_date": "2024-03-31 01:30:00", "create_date": "2024-10-27 00:30:00"},
        won_stage_ids=set(),
    )
    Lead.objects.create(connection=connection, odoo_id=9, **mapped.values)

    stored = Lead.objects.get(odoo_id=9)
    assert stored.write_date.astimezone(UTC).isoformat() == "2024-03-31T01:30:00+00:00"
    assert stored.create_date.astimezone(UTC).isoformat() == "2024-10-27T00:30:00+00:00"


@override_settings(TIME_ZONE="Europe/Brussels", USE_TZ=True)
def test_cursor_domain_uses_odoo_format():
    moment = parse_datetime("2024-03-31 01:30:00")

    assert format_datetime(moment) == "2024-03-31 01:30:00"
    assert _after_domain(moment) == [("write_date", ">=", "2024-03-31 01:30:00")]
    window = _window_domain(moment, 12, set())
    assert window[0] == ("write_date", ">=", "2024-03-31 01:30:00")
    assert window[1] == ("write_date", "<", "2024-03-31 01:30:01")
    assert str(Position(moment, 12)) == "2024-03-31 01:30:00#12"


def test_date_and_fractional_write_date():
    row = {"id": 1, "name": "x", "date_deadline": "2024-06-30", "write_date": "2024-05-01 10:00:00.123456"}

    mapped = map_lead(row, won_stage_ids=set())

    assert mapped.values["date_deadline"] == date(2024, 6, 30)
    assert mapped.values["write_date"] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", "7"),
        ("stage_id", "New"),
        ("write_date", "01/05/2024"),
        ("probability", "high"),
        ("tag_ids", "1,2"),
    ],
)
def test_malformed_values_raise_naming_the_value(field, value):
    with pytest.raises(MappingError) as error:
        map_lead({"id": 1, "name": "x", field: value}, won_stage_ids=set())

    assert repr(value) in str(error.value)
