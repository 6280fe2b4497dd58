"""The admin overview page: health of every connection and the pipeline of their leads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from connections.admin import health_badge, last_sync_summary, with_health
from connections.models import OdooConnection

from .models import Lead, SyncRun
from .overview import WEEKS_SHOWN, open_pipeline, stage_chart, week_chart, won_lost_by_week

FAILURE_WINDOW = timedelta(hours=24)


def connection_rows(since) -> list[OdooConnection]:  # noqa: ANN001
    """Return every connection with its health annotations and the number of failed runs since ``since``."""
    failures = (
        SyncRun.objects.filter(connection=OuterRef("pk"), status=SyncRun.Status.FAILED, started_at__gte=since)
        .order_by()
        .values("connection")
        .annotate(total=Count("pk"))
        .values("total")
    )
    connections = list(with_health(OdooConnection.objects.all()).annotate(failed_runs=Coalesce(Subquery(failures), 0)))
    for connection in connections:
        connection.badge = health_badge(connection)
        connection.last_sync = last_sync_summary(connection)
    return connections


def overview(request: HttpRequest) -> TemplateResponse:
    """Render connection health and the pipeline, for all connections or the one in ?connection=."""
    user = request.user
    if not (user.has_perm("crm.view_lead") and user.has_perm("connections.view_odooconnection")):
        raise PermissionDenied("Viewing the overview needs the view permission on leads and connections.")

    connections = connection_rows(timezone.now() - FAILURE_WINDOW)
    selected = next((row for row in connections if str(row.pk) == request.GET.get("connection")), None)
    leads = Lead.objects.all() if selected is None else Lead.objects.filter(connection=selected)
    stages = open_pipeline(leads)
    weeks = won_lost_by_week(leads)

    context = {
        **admin.site.each_context(request),
        "title": "Overview",
        "connections": connections,
        "selected": selected,
        "stages": stages,
        "weeks": weeks,
        "weeks_shown": WEEKS_SHOWN,
        "stage_chart": stage_chart(stages),
        "week_chart": week_chart(weeks),
        "open_total": sum(stage.leads for stage in stages),
        "open_revenue": sum((stage.revenue for stage in stages), Decimal(0)),
        "won_total": sum(week.won for week in weeks),
        "won_revenue": sum((week.won_revenue for week in weeks), Decimal(0)),
        "lost_total": sum(week.lost for week in weeks),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/crm/overview.html", context)
