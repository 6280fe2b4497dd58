"""Keyset paging over ``crm.lead`` on ``(write_date, id)``.

Odoo stores ``write_date`` with microseconds but returns whole seconds, and
servers differ on whether a domain compares the stored or the truncated
value. Ordering by ``write_date`` inside one second is therefore by hidden
microseconds, not by id, so an id tie-breaker cannot resume inside a second
read that way. The pager reads in two modes that are right on both kinds of
server:

* after T: ``write_date >= T`` ordered ``write_date asc, id asc``, leaving
  out the ids of T already saved. A short page ends the read. A full page
  ends inside some second W that may be incomplete, so reading continues
  after W leaving out W's saved ids, or with a window on W when the whole
  page was W.
* window W: ``W <= write_date < W + 1 s`` ordered by ``id asc``, resuming
  with ``id > last id``. When the window is exhausted, reading continues
  after W + 1 s.

Every page must move the position forward; one that does not stops the run
with an error instead of looping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connections.odoo.errors import OdooError

from .mapping import MappingError, format_datetime, parse_datetime

ONE_SECOND = timedelta(seconds=1)


class CursorStalled(OdooError):
    """Odoo returned a page that does not advance the cursor."""

    kind = "cursor_stalled"


@dataclass(frozen=True, order=True)
class Position:
    """A point in ``(write_date, id)`` order: everything up to it has been saved."""

    write_date: datetime
    last_id: int = 0

    def __str__(self) -> str:
        return f"{format_datetime(self.write_date)}#{self.last_id}"


@dataclass
class Page:
    rows: list[dict[str, Any]]
    # Position that is safe to store once the rows are saved.
    position: Position | None


FetchPage = Callable[[list[Any], str, int], list[dict[str, Any]]]


def row_second(row: dict[str, Any]) -> datetime:
    try:
        moment = parse_datetime(row.get("write_date"), "write_date")
    except MappingError as error:
        raise CursorStalled(f"Lead {row.get('id')!r} has an unreadable write_date: {error}") from None
    if moment is None:
        raise CursorStalled(f"Lead {row.get('id')!r} has no write_date, so it cannot be paged.")
    return moment


def iter_pages(fetch: FetchPage, *, start: Position | None, page_size: int) -> Iterator[Page]:
    """Yield pages from ``start`` (None reads everything) until Odoo has no more.

    A start inside a second (``last_id`` > 0) first requests everything after
    it in one request; only when that page is full does the read fall back
    to the exact modes, so a sync with nothing new costs one request.
    """
    if page_size < 1:
        raise ValueError(f"page_size={page_size} must be at least 1.")
    if start is None or start.last_id == 0:
        yield from _keyset_pages(fetch, start, page_size)
        return

    rows = fetch(_resume_domain(start), "write_date asc, id asc", page_size)
    if len(rows) == page_size:
        yield from _keyset_pages(fetch, start, page_size)
        return
    for row in rows:
        second = row_second(row)
        if second < start.write_date or (second == start.write_date and row["id"] <= start.last_id):
            raise CursorStalled(
                f"Odoo returned lead {row.get('id')!r} ({row.get('write_date')!r}) for a read after {start}; "
                "the server is ignoring the domain."
            )
    if rows:
        seconds = [row_second(row) for row in rows]
        last_second = max(seconds)
        last_id = max(row["id"] for row, moment in zip(rows, seconds, strict=True) if moment == last_second)
        yield Page(rows, Position(last_second, last_id))


def _resume_domain(start: Position) -> list[Any]:
    """Build one domain for the rest of the start's second after its id and every later second."""
    return [
        "|",
        "&",
        "&",
        ("write_date", ">=", format_datetime(start.write_date)),
        ("write_date", "<", format_datetime(start.write_date + ONE_SECOND)),
        ("id", ">", start.last_id),
        ("write_date", ">=", format_datetime(start.write_date + ONE_SECOND)),
    ]


def _keyset_pages(fetch: FetchPage, start: Position | None, page_size: int) -> Iterator[Page]:
    """Read in the two exact modes from ``start``."""
    # Mode "after" reads from ``second`` on; mode "window" reads ``second``
    # by id after ``after_id``, leaving out ids in ``exclude``.
    if start is None or start.last_id == 0:
        mode, second, after_id = "after", start.write_date if start else None, 0
    else:
        mode, second, after_id = "window", start.write_date, start.last_id
    exclude: set[int] = set()

    while True:
        if mode == "after":
            rows = fetch(_after_domain(second, exclude), "write_date asc, id asc", page_size)
            seconds = [row_second(row) for row in rows]
            for row, moment in zip(rows, seconds, strict=True):
                if (second is not None and moment < second) or row["id"] in exclude:
                    raise CursorStalled(
                        f"Odoo returned lead {row.get('id')!r} ({row.get('write_date')!r}) for a read from "
                        f"{format_datetime(second) if second else 'the start'}; the server is ignoring the domain."
                    )
            if not rows:
                return
            last_second = max(seconds)
            in_last_second = {row["id"] for row, moment in zip(rows, seconds, strict=True) if moment == last_second}
            if last_second == second:
                in_last_second |= exclude
            if len(rows) < page_size:
                yield Page(rows, Position(last_second, max(in_last_second)))
                return
            # A full page may have stopped inside last_second, whose rows come
            # in microsecond order, so that second may be incomplete.
            yield Page(rows, Position(last_second, 0))
            if min(seconds) == last_second:
                # The whole page is one second: read it by id from here on,
                # so the list of ids to leave out stays bounded.
                mode, second, after_id, exclude = "window", last_second, 0, in_last_second
            else:
                # Continue from last_second, leaving out its rows already saved.
                second, exclude = last_second, in_last_second
            continue

        rows = fetch(_window_domain(second, after_id, exclude), "id asc", page_size)
        for row in rows:
            if row_second(row) != second or row["id"] <= after_id or row["id"] in exclude:
                raise CursorStalled(
                    f"Odoo returned lead {row.get('id')!r} ({row.get('write_date')!r}) for the window "
                    f"{format_datetime(second)} after id {after_id}; the page does not advance the cursor."
                )
        if rows:
            after_id = max(row["id"] for row in rows)
            yield Page(rows, Position(second, after_id))
        if len(rows) == page_size:
            continue
        mode, second, after_id, exclude = "after", second + ONE_SECOND, 0, set()


def _after_domain(since: datetime | None, exclude: set[int] | frozenset[int] = frozenset()) -> list[Any]:
    domain: list[Any] = [("write_date", ">=", format_datetime(since))] if since else []
    if exclude:
        domain.append(("id", "not in", sorted(exclude)))
    return domain


def _window_domain(second: datetime, after_id: int, exclude: set[int]) -> list[Any]:
    domain: list[Any] = [
        ("write_date", ">=", format_datetime(second)),
        ("write_date", "<", format_datetime(second + ONE_SECOND)),
        ("id", ">", after_id),
    ]
    if exclude:
        domain.append(("id", "not in", sorted(exclude)))
    return domain
