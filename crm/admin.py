"""Admin for synced leads and sync history; everything here is read-only."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .models import Lead, Salesperson, Stage, SyncRun, Tag, Team


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows come from Odoo; editing them here would be overwritten by the next sync."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "type",
        "stage",
        "salesperson",
        "team",
        "expected_revenue",
        "probability",
        "status",
        "write_date",
        "connection",
    ]
    list_filter = ["connection", "status", "type", "stage", "salesperson", "team", "tags", "priority"]
    search_fields = ["name", "contact_name", "company_name", "partner_name", "email", "phone"]
    list_select_related = ["connection", "stage", "salesperson", "team"]
    date_hierarchy = "write_date"
    fieldsets = [
        (None, {"fields": ["name", "type", "status", "stage", "probability", "expected_revenue", "priority"]}),
        ("Assignment", {"fields": ["salesperson", "team", "odoo_company", "tag_list"]}),
        ("Customer", {"fields": ["company_name", "contact_name", "partner_name", "email", "phone", "city", "country"]}),
        ("Dates", {"fields": ["date_deadline", "date_closed", "lost_reason", "create_date", "write_date"]}),
        ("Odoo", {"fields": ["connection", "odoo_id", "active", "synced_at", "raw_record"]}),
    ]
    readonly_fields = ["tag_list", "raw_record"]

    @admin.display(description="Tags")
    def tag_list(self, obj: Lead) -> str:
        return ", ".join(tag.name for tag in obj.tags.all()) or "-"

    @admin.display(description="Record as received from Odoo")
    def raw_record(self, obj: Lead) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, sort_keys=True, ensure_ascii=False))


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "connection",
        "status",
        "full",
        "pages",
        "fetched",
        "created",
        "updated",
        "archived",
        "restored",
        "duration",
        "error_kind",
    ]
    list_filter = ["status", "connection", "full"]
    list_select_related = ["connection"]
    date_hierarchy = "started_at"


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    fields = ["started_at", "status", "pages", "fetched", "created", "updated", "error_kind", "error_message"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Latest sync runs"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-started_at")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


for model in (Stage, Tag, Salesperson, Team):
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {
        "list_display": ["name", "odoo_id", "connection"],
        "list_filter": ["connection"],
        "search_fields": ["name"],
    }))
