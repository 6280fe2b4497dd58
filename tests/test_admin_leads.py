"""The leads admin: columns, filters, search, the Odoo link, the detail page, and help texts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from connections.models import OdooConnection
from crm.admin import odoo_lead_url, sanitized_description
from crm.models import Lead, Salesperson, Stage, Tag, Team

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:crm_lead_changelist"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("", "https://odoo.example.test/web#id=42&model=crm.lead&view_type=form"),
        ("16.0+e", "https://odoo.example.test/web#id=42&model=crm.lead&view_type=form"),
        ("17.0", "https://odoo.example.test/web#id=42&model=crm.lead&view_type=form"),
        ("saas~17.4", "https://odoo.example.test/web#id=42&model=crm.lead&view_type=form"),
        ("18.0", "https://odoo.example.test/odoo/crm/42"),
        ("saas~18.1", "https://odoo.example.test/odoo/crm/42"),
        ("saas~18.4", "https://odoo.example.test/odoo/crm/42"),
        ("19.0", "https://odoo.example.test/odoo/crm/42"),
        ("garbage", "https://odoo.example.test/web#id=42&model=crm.lead&view_type=form"),
    ],
)
def test_odoo_link_by_version(version, expected):
    assert odoo_lead_url("https://odoo.example.test", version, 42) == expected
    assert odoo_lead_url("https://odoo.example.test/", version, 42) == expected


def test_description_sanitised():
    html = sanitized_description(
        '<p onclick="steal()">Hello <b>there</b><script>alert(1)</script>'
        '<img src="https://tracker.example.test/pixel.png"><a href="javascript:alert(2)">x</a>'
        '<a href="https://example.test/page">page</a><style>p{color:red}</style></p>'
    )

    assert "<b>there</b>" in html
    assert "onclick" not in html
    assert "script" not in html
    assert "alert" not in html
    assert "<img" not in html
    assert "javascript:" not in html
    assert "color:red" not in html
    assert '<a href="https://example.test/page" rel="noopener noreferrer">page</a>' in html


def test_description_plain_text_and_empty():
    assert sanitized_description("Budget < 5k\nCall & visit") == "<p>Budget &lt; 5k<br>Call &amp; visit</p>"
    assert sanitized_description(False) == ""
    assert sanitized_description(None) == ""
    assert sanitized_description("   ") == ""


@pytest.fixture
def pipeline():
    """Two connections whose leads cover every status, with stages, people, teams and tags."""
    first = OdooConnection.objects.create(name="First", base_url="https://first.example.test", odoo_version="18.0")
    second = OdooConnection.objects.create(name="Second", base_url="https://second.example.test")
    rows = {}
    for connection in (first, second):
        new = Stage.objects.create(connection=connection, odoo_id=1, name="New", sequence=1)
        won = Stage.objects.create(connection=connection, odoo_id=4, name="Won", sequence=4, is_won=True)
        person = Salesperson.objects.create(connection=connection, odoo_id=2, name=f"Seller of {connection.name}")
        team = Team.objects.create(connection=connection, odoo_id=1, name="Sales")
        tag = Tag.objects.create(connection=connection, odoo_id=1, name="VIP")
        rows[connection.name] = {"new": new, "won": won, "person": person, "team": team, "tag": tag}
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    specs = [
        (first, 1, "Open desk deal", "open", "new", None),
        (first, 2, "Won chairs", "won", "won", None),
        (first, 3, "Lost tables", "lost", "new", None),
        (first, 4, "Archived lamps", "archived", "new", None),
        (first, 5, "Deleted sofa", "open", "new", moment),
        (second, 1, "Second open", "open", "new", None),
    ]
    for connection, odoo_id, name, status, stage, deleted in specs:
        parts = rows[connection.name]
        lead = Lead.objects.create(
            connection=connection,
            odoo_id=odoo_id,
            name=name,
            status=status,
            stage=parts[stage],
            salesperson=parts["person"],
            team=parts["team"],
            contact_name=f"Contact {odoo_id}",
            company_name=f"Company {connection.name}",
            email=f"lead{odoo_id}@{connection.name.lower()}.example.test",
            phone=f"+32 2 555 00 0{odoo_id}",
            expected_revenue=1234.5 * odoo_id,
            probability=25.0,
            write_date=moment,
            deleted_in_odoo_at=deleted,
            raw={"id": odoo_id, "name": name, "description": "<p>Needs <em>blue</em> desks</p>"},
        )
        if odoo_id == 1:
            lead.tags.add(parts["tag"])
    return {"first": first, "second": second, **rows}


def names_in(response) -> list[str]:  # noqa: ANN001
    return sorted(lead.name for lead in response.context["cl"].result_list)


def test_list_columns(admin_client, pipeline):
    response = admin_client.get(reverse(CHANGELIST))

    html = response.content.decode()
    assert response.status_code == 200
    for header in ["Name", "Type", "Stage", "Salesperson", "Team", "Expected revenue", "Probability", "Status", "Changed in Odoo", "Connection"]:
        assert f">{header}</a>" in html or f">{header}</span>" in html, header
    assert "6,172.50" in html
    assert "25 %" in html
    assert "2026-03-02 09:30" in html
    assert ">Deleted in Odoo</span>" in html
    assert 'href="https://first.example.test/odoo/crm/1"' in html
    assert 'href="https://second.example.test/web#id=1&amp;model=crm.lead&amp;view_type=form"' in html


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", ["Open desk deal", "Second open"]),
        ("won", ["Won chairs"]),
        ("lost", ["Lost tables"]),
        ("archived", ["Archived lamps"]),
        ("deleted", ["Deleted sofa"]),
    ],
)
def test_status_filter(admin_client, pipeline, status, expected):
    response = admin_client.get(reverse(CHANGELIST), {"status": status})

    assert names_in(response) == expected


def test_related_filters(admin_client, pipeline):
    first = pipeline["First"]

    by_stage = admin_client.get(reverse(CHANGELIST), {"stage__id__exact": first["won"].pk})
    by_person = admin_client.get(reverse(CHANGELIST), {"salesperson__id__exact": first["person"].pk})
    by_team = admin_client.get(reverse(CHANGELIST), {"team__id__exact": pipeline["Second"]["team"].pk})
    by_tag = admin_client.get(reverse(CHANGELIST), {"tags__id__exact": first["tag"].pk})
    by_connection = admin_client.get(reverse(CHANGELIST), {"connection__id__exact": pipeline["second"].pk})
    by_type = admin_client.get(reverse(CHANGELIST), {"type__exact": "opportunity"})
    by_priority = admin_client.get(reverse(CHANGELIST), {"priority__exact": "0"})

    assert names_in(by_stage) == ["Won chairs"]
    assert len(names_in(by_person)) == 5
    assert names_in(by_team) == ["Second open"]
    assert names_in(by_tag) == ["Open desk deal"]
    assert names_in(by_connection) == ["Second open"]
    assert names_in(by_type) == []
    assert len(names_in(by_priority)) == 6


def test_filter_choices_name_connection(admin_client, pipeline):
    everything = admin_client.get(reverse(CHANGELIST)).content.decode()
    one = admin_client.get(reverse(CHANGELIST), {"connection__id__exact": pipeline["first"].pk}).content.decode()

    assert "New (First)" in everything
    assert "New (Second)" in everything
    assert "Sales (Second)" in everything
    assert "New (First)" not in one
    assert "Seller of Second" not in one
    assert "Seller of First" in one


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("desk deal", ["Open desk deal"]),
        ('"Contact 3"', ["Lost tables"]),
        ("Company Second", ["Second open"]),
        ("lead4@first", ["Archived lamps"]),
        ("555 00 02", ["Won chairs"]),
    ],
)
def test_search(admin_client, pipeline, term, expected):
    response = admin_client.get(reverse(CHANGELIST), {"q": term})

    assert names_in(response) == expected
    assert f"{len(expected)} result" in response.content.decode()


def test_date_bar_hidden_while_searching(admin_client, pipeline):
    plain = admin_client.get(reverse(CHANGELIST))
    searched = admin_client.get(reverse(CHANGELIST), {"q": "desk"})
    drilled = admin_client.get(reverse(CHANGELIST), {"q": "desk", "write_date__year": "2025"})

    assert plain.context["cl"].date_hierarchy == "write_date"
    assert searched.context["cl"].date_hierarchy is None
    assert drilled.status_code == 200
    assert names_in(drilled) == []


def test_lead_detail_read_only(admin_client, pipeline):
    lead = Lead.objects.get(name="Open desk deal")
    url = reverse("admin:crm_lead_change", args=[lead.pk])

    response = admin_client.get(url)
    posted = admin_client.post(url, {"name": "Edited here"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<p>Needs <em>blue</em> desks</p>" in html
    assert "&quot;description&quot;: &quot;&lt;p&gt;Needs &lt;em&gt;blue&lt;/em&gt; desks&lt;/p&gt;&quot;" in html
    assert '\n  &quot;id&quot;: 1,' in html
    assert 'href="https://first.example.test/odoo/crm/1"' in html
    assert "VIP" in html
    assert 'name="_save"' not in html
    assert posted.status_code == 403
    lead.refresh_from_db()
    assert lead.name == "Open desk deal"


def test_sync_run_list_and_detail(admin_client, pipeline):
    from crm.models import SyncRun

    run = SyncRun.objects.create(connection=pipeline["first"], status=SyncRun.Status.FAILED, error_kind="odoo_unavailable")

    listing = admin_client.get(reverse("admin:crm_syncrun_changelist"), {"status__exact": "failed"})
    detail = admin_client.get(reverse("admin:crm_syncrun_change", args=[run.pk]))

    assert listing.status_code == 200
    assert "odoo_unavailable" in listing.content.decode()
    assert detail.status_code == 200


def admin_facing_fields(model_admin: admin.ModelAdmin, request) -> list[models.Field]:  # noqa: ANN001
    """Return the model fields a ModelAdmin shows: in its forms, its columns, its filters and its inlines."""
    opts = model_admin.model._meta
    # The add page, and the change page of an (unsaved) instance.
    names = set(model_admin.get_fields(request)) | set(model_admin.get_fields(request, model_admin.model()))
    names |= {name for name in model_admin.get_list_display(request) if isinstance(name, str)}
    names |= {item if isinstance(item, str) else item[0] for item in model_admin.get_list_filter(request) if not isinstance(item, type)}
    names |= set(model_admin.get_search_fields(request))
    fields = []
    for name in sorted(names):
        try:
            fields.append(opts.get_field(name.split("__")[0]))
        except Exception:  # noqa: BLE001 (a method or a display-only name)
            continue
    for inline in model_admin.get_inline_instances(request):
        inline_opts = inline.model._meta
        for name in inline.get_fields(request):
            try:
                fields.append(inline_opts.get_field(name))
            except Exception:  # noqa: BLE001
                continue
    return fields


def test_admin_fields_have_help_text(admin_user, pipeline):
    request = RequestFactory().get("/")
    request.user = admin_user
    missing = []
    checked = 0
    for model, model_admin in admin.site._registry.items():
        # Django's own auth models keep Django's wording.
        if model._meta.app_label not in {"connections", "crm"}:
            continue
        for field in admin_facing_fields(model_admin, request):
            if field.auto_created or field.primary_key:
                continue
            checked += 1
            if not str(field.help_text).strip():
                missing.append(f"{field.model.__name__}.{field.name}")

    assert checked > 60
    assert missing == []
