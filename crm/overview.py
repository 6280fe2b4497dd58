"""Pipeline figures for the admin overview page, and their charts drawn as inline SVG on the server."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Min, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .models import Lead

WEEKS_SHOWN = 12
NO_STAGE = "No stage"

LEADS_COLOUR = "#417690"
REVENUE_COLOUR = "#79aec8"
WON_COLOUR = "#2e7d32"
LOST_COLOUR = "#c62828"
GRID_COLOUR = "#d0d7de"
TEXT_COLOUR = "currentColor"


@dataclass(frozen=True)
class StageTotal:
    """Open leads of one stage name and the sum of their expected revenue."""

    name: str
    leads: int
    revenue: Decimal


@dataclass(frozen=True)
class WeekTotal:
    """Leads won and lost in the week starting on Monday ``start``."""

    start: date
    won: int
    lost: int
    won_revenue: Decimal


def open_pipeline(leads: QuerySet) -> list[StageTotal]:
    """Count open leads and sum their expected revenue per stage, in pipeline order, in one query.

    Stages of different connections that share a name are added together.
    """
    rows = (
        leads.filter(status=Lead.Status.OPEN, deleted_in_odoo_at__isnull=True)
        .values("stage__name")
        .annotate(leads=Count("pk"), revenue=Sum("expected_revenue"), sequence=Min("stage__sequence"))
        .order_by(F("sequence").asc(nulls_last=True), "stage__name")
    )
    return [StageTotal(row["stage__name"] or NO_STAGE, row["leads"], row["revenue"] or Decimal(0)) for row in rows]


def first_week_start(today: date, weeks: int = WEEKS_SHOWN) -> date:
    """Return the Monday that starts the first of the last ``weeks`` weeks, the current one included."""
    return today - timedelta(days=today.weekday(), weeks=weeks - 1)


def won_lost_by_week(leads: QuerySet, *, today: date | None = None, weeks: int = WEEKS_SHOWN) -> list[WeekTotal]:
    """Count the leads won and lost per week, by the date Odoo closed them, in one query.

    Weeks start on Monday in the current time zone; weeks without any closed
    lead are included with zeros.
    """
    today = today or timezone.localdate()
    first = first_week_start(today, weeks)
    since = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        leads.filter(
            status__in=[Lead.Status.WON, Lead.Status.LOST], deleted_in_odoo_at__isnull=True, date_closed__gte=since
        )
        .annotate(week=TruncWeek("date_closed"))
        .values("week", "status")
        .annotate(leads=Count("pk"), revenue=Sum("expected_revenue"))
        .order_by()
    )
    totals = {first + timedelta(weeks=index): {"won": 0, "lost": 0, "won_revenue": Decimal(0)} for index in range(weeks)}
    for row in rows:
        week = timezone.localtime(row["week"]).date() if timezone.is_aware(row["week"]) else row["week"].date()
        if week not in totals:
            continue
        totals[week][row["status"]] += row["leads"]
        if row["status"] == Lead.Status.WON:
            totals[week]["won_revenue"] += row["revenue"] or Decimal(0)
    return [WeekTotal(start=week, **values) for week, values in totals.items()]


# --- formatting ----------------------------------------------------------------


def compact_number(value: float | Decimal) -> str:
    """Format a number for an axis or a bar label: 950, 12.5k, 3.2M, 1.7B."""
    number = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{number:.0f}"


def tick_step(maximum: float, ticks: int = 4) -> float:
    """Return a round step (1, 2 or 5 times a power of ten) that splits 0..maximum in about ``ticks`` parts."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return max(factor * magnitude, 1)
    return 10 * magnitude


def _svg(width: int, height: int, label: str, parts: list[str]) -> SafeString:
    """Wrap already escaped SVG elements in an <svg> element that scales to its container."""
    return format_html(
        '<svg class="overview-chart" viewBox="0 0 {} {}" width="100%" style="max-width:{}px;" role="img" '
        'aria-label="{}" xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="12">{}</svg>',
        width,
        height,
        width,
        label,
        mark_safe("".join(parts)),  # noqa: S308 (every part comes from format_html)
    )


def _legend(x: float, y: float, entries: list[tuple[str, str]]) -> list[str]:
    parts = []
    for colour, text in entries:
        parts.append(format_html('<rect x="{}" y="{}" width="12" height="12" rx="2" fill="{}"/>', x, y, colour))
        parts.append(format_html('<text x="{}" y="{}" fill="{}">{}</text>', x + 17, y + 10, TEXT_COLOUR, text))
        x += 34 + 7 * len(text)
    return parts


# --- charts --------------------------------------------------------------------

STAGE_LABEL_WIDTH = 150
STAGE_BAR_WIDTH = 330
STAGE_ROW_HEIGHT = 38


def stage_chart(stages: list[StageTotal]) -> SafeString:
    """Draw one row per stage: a bar for the number of open leads and a thinner one for their revenue."""
    if not stages:
        return mark_safe('<p class="overview-empty">No open leads.</p>')
    width = STAGE_LABEL_WIDTH + STAGE_BAR_WIDTH + 170
    top = 30
    height = top + STAGE_ROW_HEIGHT * len(stages) + 6
    most_leads = max(stage.leads for stage in stages) or 1
    most_revenue = max(stage.revenue for stage in stages) or Decimal(1)
    parts = _legend(STAGE_LABEL_WIDTH, 4, [(LEADS_COLOUR, "Open leads"), (REVENUE_COLOUR, "Expected revenue")])
    for index, stage in enumerate(stages):
        y = top + index * STAGE_ROW_HEIGHT
        leads_width = STAGE_BAR_WIDTH * stage.leads / most_leads
        revenue_width = STAGE_BAR_WIDTH * float(stage.revenue / most_revenue)
        name = stage.name if len(stage.name) <= 22 else stage.name[:21] + "…"
        tooltip = f"{stage.name}: {stage.leads:,} open leads, expected revenue {stage.revenue:,.2f}"
        parts.append(format_html("<g><title>{}</title>", tooltip))
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                STAGE_LABEL_WIDTH - 8,
                y + 15,
                TEXT_COLOUR,
                name,
            )
        )
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="14" rx="2" fill="{}"/>',
                STAGE_LABEL_WIDTH,
                y + 4,
                f"{max(leads_width, 1):.1f}",
                LEADS_COLOUR,
            )
        )
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="8" rx="2" fill="{}"/>',
                STAGE_LABEL_WIDTH,
                y + 21,
                f"{max(revenue_width, 1):.1f}",
                REVENUE_COLOUR,
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="{}">{} · {}</text>',
                STAGE_LABEL_WIDTH + STAGE_BAR_WIDTH + 10,
                y + 19,
                TEXT_COLOUR,
                f"{stage.leads:,}",
                compact_number(stage.revenue),
            )
        )
        parts.append(mark_safe("</g>"))
    return _svg(width, height, "Open leads and expected revenue per stage", parts)


WEEK_CHART_WIDTH = 650
WEEK_CHART_HEIGHT = 250
WEEK_MARGIN_LEFT = 44
WEEK_MARGIN_TOP = 30
WEEK_MARGIN_BOTTOM = 36


def week_chart(weeks: list[WeekTotal]) -> SafeString:
    """Draw a pair of columns per week: leads won and leads lost, on a shared count axis."""
    plot_width = WEEK_CHART_WIDTH - WEEK_MARGIN_LEFT - 10
    plot_height = WEEK_CHART_HEIGHT - WEEK_MARGIN_TOP - WEEK_MARGIN_BOTTOM
    bottom = WEEK_MARGIN_TOP + plot_height
    highest = max([1, *(week.won for week in weeks), *(week.lost for week in weeks)])
    step = tick_step(highest)
    axis_max = step * math.ceil(highest / step)
    parts = _legend(WEEK_MARGIN_LEFT, 4, [(WON_COLOUR, "Won"), (LOST_COLOUR, "Lost")])

    tick = 0
    while tick <= axis_max:
        y = bottom - plot_height * tick / axis_max
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>',
                WEEK_MARGIN_LEFT,
                WEEK_MARGIN_LEFT + plot_width,
                f"{y:.1f}",
                f"{y:.1f}",
                GRID_COLOUR,
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                WEEK_MARGIN_LEFT - 6,
                f"{y + 4:.1f}",
                TEXT_COLOUR,
                compact_number(tick),
            )
        )
        tick += step

    group = plot_width / max(len(weeks), 1)
    bar = group * 0.36
    for index, week in enumerate(weeks):
        x = WEEK_MARGIN_LEFT + index * group + group * 0.12
        tooltip = f"Week of {week.start:%d %b %Y}: {week.won:,} won ({week.won_revenue:,.2f}), {week.lost:,} lost"
        parts.append(format_html("<g><title>{}</title>", tooltip))
        for offset, count, colour in ((0, week.won, WON_COLOUR), (bar, week.lost, LOST_COLOUR)):
            height = plot_height * count / axis_max
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    f"{x + offset:.1f}",
                    f"{bottom - height:.1f}",
                    f"{bar:.1f}",
                    f"{height:.1f}",
                    colour,
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="{}">{}</text>',
                f"{x + bar:.1f}",
                bottom + 16,
                TEXT_COLOUR,
                f"{week.start:%d %b}",
            )
        )
        parts.append(mark_safe("</g>"))
    return _svg(WEEK_CHART_WIDTH, WEEK_CHART_HEIGHT, f"Leads won and lost per week, last {len(weeks)} weeks", parts)
