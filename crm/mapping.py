"""Translate ``crm.lead`` rows in Odoo's value shapes into local field values.

Odoo writes ``false`` for every empty value except numbers, ``[id, name]``
for a many-to-one, and naive UTC strings for datetimes. Local text fields
use "" for empty and every other field uses NULL, so the text "False" can
never be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

ODOO_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ODOO_DATE_FORMAT = "%Y-%m-%d"


class MappingError(ValueError):
    """A value in an Odoo row does not have the shape Odoo documents."""


@dataclass(frozen=True)
class Reference:
    """A many-to-one value: the Odoo id and display name."""

    odoo_id: int
    name: str


@dataclass
class MappedLead:
    odoo_id: int
    values: dict[str, Any]
    stage: Reference | None
    salesperson: Reference | None
    team: Reference | None
    tag_ids: list[int] = field(default_factory=list)
    write_date: datetime | None = None


def parse_datetime(value: Any, field_name: str = "value") -> datetime | None:
    """Read Odoo's naive UTC ``YYYY-MM-DD HH:MM:SS`` as an aware UTC datetime."""
    if value is False or value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MappingError(f"{field_name}={value!r} is not an Odoo datetime string.")
    try:
        # Odoo datetimes are UTC and never shifted to the user's time zone,
        # so the local TIME_ZONE must not be applied (it would fail or
        # shift inside daylight-saving gaps and overlaps).
        return datetime.strptime(value[:19], ODOO_DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise MappingError(f"{field_name}={value!r} is not in Odoo's YYYY-MM-DD HH:MM:SS format.") from None


def format_datetime(moment: datetime) -> str:
    """Write a datetime the way Odoo domains expect it: naive UTC, whole seconds."""
    return moment.astimezone(UTC).strftime(ODOO_DATETIME_FORMAT)


def parse_date(value: Any, field_name: str = "value") -> date | None:
    if value is False or value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MappingError(f"{field_name}={value!r} is not an Odoo date string.")
    try:
        return datetime.strptime(value[:10], ODOO_DATE_FORMAT).date()
    except ValueError:
        raise MappingError(f"{field_name}={value!r} is not in Odoo's YYYY-MM-DD format.") from None


def parse_reference(value: Any, field_name: str = "value") -> Reference | None:
    if value is False or value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], int):
        name = value[1] if isinstance(value[1], str) else ""
        return Reference(value[0], name)
    if isinstance(value, int) and not isinstance(value, bool):
        return Reference(value, "")
    raise MappingError(f"{field_name}={value!r} is not an Odoo many-to-one value [id, name].")


def parse_text(value: Any, max_length: int | None = None) -> str:
    if value is False or value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text[:max_length] if max_length else text


def parse_float(value: Any, field_name: str = "value") -> float | None:
    if value is False or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MappingError(f"{field_name}={value!r} is not a number.")
    return float(value)


def parse_money(value: Any, field_name: str = "value") -> Decimal | None:
    number = parse_float(value, field_name)
    if number is None:
        return None
    try:
        return Decimal(repr(number)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise MappingError(f"{field_name}={value!r} is not a finite amount.") from None


def parse_priority(value: Any) -> int:
    """Read the selection "0" to "3" (Low to Very High) as an integer."""
    if value is False or value is None or value == "":
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MappingError(f"priority={value!r} is not one of Odoo's values '0' to '3'.") from None
    if not 0 <= number <= 3:
        raise MappingError(f"priority={value!r} is not one of Odoo's values '0' to '3'.")
    return number


def lead_status(row: dict[str, Any], stage_is_won: bool) -> str:
    """Apply Odoo's rule: won at 100 % in a won stage; lost when archived at 0 %."""
    won_status = row.get("won_status")
    active = bool(row.get("active", True))
    if won_status == "won":
        return "won"
    if won_status == "lost":
        return "lost"
    if not active:
        return "lost" if row.get("probability") == 0 else "archived"
    if stage_is_won and row.get("probability") == 100:
        return "won"
    return "open"


def map_lead(row: dict[str, Any], *, won_stage_ids: set[int]) -> MappedLead:
    """Return the local values of one ``crm.lead`` row."""
    odoo_id = row.get("id")
    if not isinstance(odoo_id, int) or isinstance(odoo_id, bool):
        raise MappingError(f"id={odoo_id!r} is not an Odoo record id.")
    stage = parse_reference(row.get("stage_id"), "stage_id")
    # Odoo 16 renamed the many-to-one lost_reason to lost_reason_id.
    lost_reason = parse_reference(row.get("lost_reason_id") or row.get("lost_reason"), "lost_reason_id")
    country = parse_reference(row.get("country_id"), "country_id")
    company = parse_reference(row.get("company_id"), "company_id")
    partner = parse_reference(row.get("partner_id"), "partner_id")
    tag_ids = row.get("tag_ids") or []
    if not isinstance(tag_ids, list) or not all(isinstance(tag, int) for tag in tag_ids):
        raise MappingError(f"tag_ids={tag_ids!r} is not a list of ids.")
    write_date = parse_datetime(row.get("write_date"), "write_date")
    lead_type = row.get("type") or "lead"
    values = {
        "name": parse_text(row.get("name"), 255),
        "type": lead_type if lead_type in ("lead", "opportunity") else "lead",
        "probability": parse_float(row.get("probability"), "probability"),
        "expected_revenue": parse_money(row.get("expected_revenue"), "expected_revenue"),
        "priority": parse_priority(row.get("priority")),
        "company_name": parse_text(row.get("partner_name"), 255),
        "contact_name": parse_text(row.get("contact_name"), 255),
        "partner_name": partner.name[:255] if partner else "",
        "email": parse_text(row.get("email_from"), 255),
        "phone": parse_text(row.get("phone"), 64),
        "city": parse_text(row.get("city"), 128),
        "country": country.name[:128] if country else "",
        "date_deadline": parse_date(row.get("date_deadline"), "date_deadline"),
        "date_closed": parse_datetime(row.get("date_closed"), "date_closed"),
        "lost_reason": lost_reason.name[:255] if lost_reason else "",
        "odoo_company": company.name[:255] if company else "",
        "active": bool(row.get("active", True)),
        "status": lead_status(row, stage is not None and stage.odoo_id in won_stage_ids),
        "create_date": parse_datetime(row.get("create_date"), "create_date"),
        "write_date": write_date,
        "raw": row,
    }
    return MappedLead(
        odoo_id=odoo_id,
        values=values,
        stage=stage,
        salesperson=parse_reference(row.get("user_id"), "user_id"),
        team=parse_reference(row.get("team_id"), "team_id"),
        tag_ids=list(tag_ids),
        write_date=write_date,
    )
