"""Date and datetime handling in Odoo's storage formats (naive UTC)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

# Stored datetimes always carry six fractional digits, so comparing the strings compares
# the instants, like PostgreSQL's `timestamp without time zone` that Odoo uses.
STORED_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"

_DATETIME_PATTERN = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?$"
)


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime with microseconds."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_stored(moment: datetime) -> str:
    return moment.strftime(STORED_DATETIME_FORMAT)


def now_stored() -> str:
    return to_stored(utcnow())


def parse_datetime(value: object) -> datetime:
    """Parse a datetime or date string the way PostgreSQL casts it to `timestamp`.

    A date alone means midnight. A time zone suffix is ignored, as the cast to
    `timestamp without time zone` ignores it. Raises ValueError on anything else.
    """
    if not isinstance(value, str):
        raise ValueError(f"Invalid datetime {value!r}: expected a string 'YYYY-MM-DD HH:MM:SS'.")
    match = _DATETIME_PATTERN.match(value.strip())
    if not match:
        raise ValueError(f"Invalid datetime {value!r}: expected 'YYYY-MM-DD HH:MM:SS'.")
    year, month, day, hour, minute, second, fraction = match.groups()
    microsecond = int((fraction or "0").ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), microsecond
        )
    except ValueError as error:
        raise ValueError(f"Invalid datetime {value!r}: {error}.") from None


def normalize_datetime(value: object) -> str:
    """Return a datetime string in the stored format, with six fractional digits."""
    return to_stored(parse_datetime(value))


def normalize_date(value: object) -> str:
    """Return a date string as 'YYYY-MM-DD'; a datetime string is cut to its date, as a cast does."""
    return parse_datetime(value).strftime(DATE_FORMAT)


def shape_datetime(stored: str | None) -> str | bool:
    """Return a stored datetime as Odoo reads it: truncated to whole seconds, or False."""
    if not stored:
        return False
    return stored[:19]


def whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def next_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def days_from(start: datetime, days: float) -> datetime:
    return start + timedelta(days=days)


def as_date(moment: datetime) -> date:
    return moment.date()
