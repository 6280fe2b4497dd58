"""Admin for synced leads and sync history (read-only), the purge of a connection's leads, and the overview URL."""

from __future__ import annotations

import json
import re
import secrets
from functools import cached_property

import nh3
from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe

from connections.models import OdooConnection

from .locks import acquire_lock, release_lock
from .models import Lead, Salesperson, Stage, SyncCursor, SyncRun, Tag, Team

# Below this many rows by PostgreSQL's estimate, counting exactly is cheap.
EXACT_COUNT_BELOW = 10_000
LATEST_RUNS_SHOWN = 20

LEAD_STATUS_COLOURS = {
    Lead.Status.OPEN: "#1565c0",
    Lead.Status.WON: "#2e7d32",
    Lead.Status.LOST: "#c62828",
    Lead.Status.ARCHIVED: "#616161",
}
DELETED_COLOUR = "#37474f"
DELETED_IN_ODOO = "deleted"

# Tags a lead description may keep. Images are dropped because a remote
# image would be fetched by the staff member's browser when the page opens.
DESCRIPTION_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}


class EstimatedCountPaginator(Paginator):
    """Paginator that reads PostgreSQL's row estimate instead of counting an unfiltered table.

    A filtered or searched list, a small table and any other database get
    an exact count. ``count_is_estimate`` is True when the count is the estimate.
    """

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        estimate = self._estimate()
        if estimate is None or estimate < EXACT_COUNT_BELOW:
            return super().count
        self.count_is_estimate = True
        return estimate

    def _estimate(self) -> int | None:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or queryset.query.where or queryset.query.is_sliced:
            return None
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            # reltuples is -1 for a table that was never analyzed (PostgreSQL 14+).
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
        return row[0] if row else None


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows come from Odoo; editing them here would be overwritten by the next sync."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


def odoo_major_version(version: str) -> int | None:
    """Return the major version of an Odoo version string such as "17.0", "16.0+e" or "saas~18.2"."""
    match = re.match(r"(?:saas~)?(\d+)", version.strip())
    return int(match.group(1)) if match else None


def odoo_lead_url(base_url: str, odoo_version: str, odoo_id: int) -> str:
    """Return the address of a lead's form in Odoo's web client.

    Odoo 18, and the Online versions numbered saas~18.x, serve record pages
    at /odoo/<app>/<id>. Older versions use the /web# fragment form, which
    newer versions redirect, so that form is also used for an unknown version.
    """
    base = base_url.rstrip("/")
    major = odoo_major_version(odoo_version)
    if major is not None and major >= 18:
        return f"{base}/odoo/crm/{odoo_id}"
    return f"{base}/web#id={odoo_id}&model=crm.lead&view_type=form"


def sanitized_description(value: object) -> str:
    """Return a lead description as safe HTML: sanitised HTML, or plain text with its line breaks."""
    if not isinstance(value, str) or not value.strip():
        return ""
    if not nh3.is_html(value):
        # Odoo before 15 stores the description as plain text.
        return linebreaks(value, autoescape=True)
    return mark_safe(nh3.clean(value, tags=DESCRIPTION_TAGS))  # noqa: S308 (nh3 output is sanitised)


def status_pill(label: str, colour: str) -> str:
    return format_html(
        '<span style="display:inline-block;padding:1px 8px;border-radius:9px;'
        'background:{};color:#fff;font-size:11px;white-space:nowrap;">{}</span>',
        colour,
        label,
    )


class LeadChangeList(ChangeList):
    """Changelist that leaves out the date hierarchy bar while a search term is given.

    A search scans every lead, since icontains cannot use a B-tree index, and
    the bar would add two more such scans (first and last date, then the
    years). A date drilled into before searching still filters the list,
    because ModelAdmin.lookup_allowed accepts lookups on the model's own fields.
    """

    def __init__(self, request: HttpRequest, model, list_display, list_display_links, list_filter, date_hierarchy, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003, E501
        if request.GET.get(SEARCH_VAR):
            date_hierarchy = None
        super().__init__(request, model, list_display, list_display_links, list_filter, date_hierarchy, *args, **kwargs)


class LeadStatusFilter(admin.SimpleListFilter):
    """Odoo's four lead states, each without leads gone from Odoo, plus those gone leads."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*Lead.Status.choices, (DELETED_IN_ODOO, "Deleted in Odoo")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == DELETED_IN_ODOO:
            return queryset.filter(deleted_in_odoo_at__isnull=False)
        if value in Lead.Status.values:
            return queryset.filter(status=value, deleted_in_odoo_at__isnull=True)
        return queryset


class ConnectionScopedFilter(admin.RelatedFieldListFilter):
    """Stages, salespeople, teams and tags of the connection chosen in the connection filter.

    Every connection has its own "New" stage and "Sales" team, so with
    several connections each choice also names its connection.
    """

    def field_choices(self, field, request: HttpRequest, model_admin: admin.ModelAdmin):  # noqa: ANN001, ANN201
        records = field.related_model.objects.select_related("connection").order_by(
            *field.related_model._meta.ordering, "pk"
        )
        connection_id = request.GET.get("connection__id__exact")
        if connection_id and connection_id.isdigit():
            records = records.filter(connection_id=int(connection_id))
        records = list(records)
        several = len({record.connection_id for record in records}) > 1
        return [(record.pk, f"{record} ({record.connection})" if several else str(record)) for record in records]


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "type",
        "stage",
        "salesperson",
        "team",
        "revenue",
        "probability_percent",
        "status_label",
        "changed_in_odoo",
        "connection",
        "odoo_link",
    ]
    list_filter = [
        "connection",
        ("stage", ConnectionScopedFilter),
        "type",
        ("salesperson", ConnectionScopedFilter),
        ("team", ConnectionScopedFilter),
        ("tags", ConnectionScopedFilter),
        LeadStatusFilter,
        "priority",
    ]
    search_fields = ["name", "contact_name", "company_name", "partner_name", "email", "phone"]
    search_help_text = "Search the name, contact, company, customer, email and phone."
    list_select_related = ["connection", "stage", "salesperson", "team"]
    date_hierarchy = "write_date"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Facet counts would run one COUNT per filter choice over every lead.
    show_facets = admin.ShowFacets.NEVER
    fieldsets = [
        (None, {"fields": ["name", "odoo_link", "type", "status_label", "stage", "probability", "expected_revenue", "priority"]}),
        ("Assignment", {"fields": ["salesperson", "team", "odoo_company", "tag_list"]}),
        ("Customer", {"fields": ["company_name", "contact_name", "partner_name", "email", "phone", "city", "country"]}),
        ("Description", {"fields": ["description"]}),
        ("Dates", {"fields": ["date_deadline", "date_closed", "lost_reason", "create_date", "write_date", "deleted_in_odoo_at"]}),
        ("Odoo", {"fields": ["connection", "odoo_id", "active", "synced_at", "raw_record"]}),
    ]
    readonly_fields = ["odoo_link", "status_label", "tag_list", "description", "raw_record"]

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:  # noqa: ANN003
        return LeadChangeList

    @admin.display(description="Expected revenue", ordering="expected_revenue")
    def revenue(self, obj: Lead) -> str:
        return "-" if obj.expected_revenue is None else f"{obj.expected_revenue:,.2f}"

    @admin.display(description="Probability", ordering="probability")
    def probability_percent(self, obj: Lead) -> str:
        return "-" if obj.probability is None else f"{obj.probability:.0f} %"

    @admin.display(description="Changed in Odoo", ordering="write_date")
    def changed_in_odoo(self, obj: Lead) -> str:
        if obj.write_date is None:
            return "-"
        return date_format(timezone.localtime(obj.write_date), "Y-m-d H:i")

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: Lead) -> str:
        if obj.deleted_in_odoo_at is not None:
            return status_pill("Deleted in Odoo", DELETED_COLOUR)
        return status_pill(obj.get_status_display(), LEAD_STATUS_COLOURS.get(obj.status, DELETED_COLOUR))

    @admin.display(description="Odoo")
    def odoo_link(self, obj: Lead) -> str:
        url = odoo_lead_url(obj.connection.base_url, obj.connection.odoo_version, obj.odoo_id)
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer" style="white-space:nowrap;">Open in Odoo</a>', url
        )

    @admin.display(description="Tags")
    def tag_list(self, obj: Lead) -> str:
        return ", ".join(tag.name for tag in obj.tags.all()) or "-"

    @admin.display(description="Description")
    def description(self, obj: Lead) -> str:
        html = sanitized_description(obj.raw.get("description") if isinstance(obj.raw, dict) else None)
        if not html:
            return "-"
        return format_html('<div class="lead-description">{}</div>', html)

    @admin.display(description="Record as received from Odoo")
    def raw_record(self, obj: Lead) -> str:
        return format_html(
            '<pre style="max-height:40em;overflow:auto;white-space:pre-wrap;">{}</pre>',
            json.dumps(obj.raw, indent=2, sort_keys=True, ensure_ascii=False),
        )


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "connection",
        "kind",
        "status",
        "full",
        "pages",
        "fetched",
        "created",
        "updated",
        "archived",
        "restored",
        "deleted",
        "duration",
        "error_kind",
    ]
    list_filter = ["status", "kind", "connection", "full"]
    list_select_related = ["connection"]
    date_hierarchy = "started_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class LatestRunsFormSet(BaseInlineFormSet):
    """The connection's latest sync runs only: a connection records one every few minutes."""

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_latest_runs"):
            self._latest_runs = super().get_queryset().order_by("-started_at", "-id")[:LATEST_RUNS_SHOWN]
        return self._latest_runs


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    formset = LatestRunsFormSet
    fields = ["started_at", "kind", "status", "full", "pages", "fetched", "created", "updated", "error_kind", "error_message"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = f"Latest {LATEST_RUNS_SHOWN} sync runs"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


for model in (Stage, Tag, Salesperson, Team):
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {
        "list_display": ["name", "odoo_id", "connection"],
        "list_filter": ["connection"],
        "list_select_related": ["connection"],
        "search_fields": ["name"],
    }))


def purge_leads(connection: OdooConnection) -> int | None:
    """Delete a connection's leads and rewind its sync cursor; return how many leads were deleted.

    Return None, deleting nothing, while a sync of the connection holds its
    lock. The next sync then reads every lead again. Stages, tags,
    salespeople, teams and the sync history stay.
    """
    owner = f"purge-{secrets.token_hex(8)}"
    if not acquire_lock(connection, owner):
        return None
    try:
        with transaction.atomic():
            # Tag links go first in one statement. QuerySet.delete() on the
            # leads would load every lead, raw JSON included, to find them.
            Lead.tags.through.objects.filter(lead__connection=connection).delete()
            with connections[Lead.objects.db].cursor() as cursor:
                quote = cursor.db.ops.quote_name
                table, column = quote(Lead._meta.db_table), quote(Lead._meta.get_field("connection").column)
                cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [connection.pk])
                deleted = cursor.rowcount
            SyncCursor.objects.filter(connection=connection).update(write_date=None, last_id=0)
    finally:
        release_lock(connection, owner)
    return deleted


def overview_url_patterns(get_urls):  # noqa: ANN001, ANN201
    """Wrap AdminSite.get_urls to add the overview page at <admin>/crm/overview/."""

    def get_urls_with_overview() -> list:
        from .admin_views import overview

        return [path("crm/overview/", admin.site.admin_view(overview), name="crm_overview"), *get_urls()]

    return get_urls_with_overview


# The project serves the default admin site, so its URL list is extended in
# place rather than replaced by a custom AdminSite subclass.
admin.site.get_urls = overview_url_patterns(admin.site.get_urls)
