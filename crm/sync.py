"""The sync service: read ``crm.lead`` incrementally and upsert it, page by page.

One run: take the connection's lock, read pages from the stored cursor (see
``crm.paging``), save each page and its cursor in one transaction, record
the run. A page that fails is retried with backoff; the cursor never passes
a page that was not saved.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connections.clients import build_data_client
from connections.linking import read_version
from connections.models import OdooConnection
from connections.odoo.dialects import OdooDataClient
from connections.odoo.errors import (
    InvalidClient,
    InvalidGrant,
    OdooAccessDenied,
    OdooCredentialsRejected,
    OdooError,
    OdooUnauthorized,
)

from .locks import acquire_lock, lock_expiry, release_lock
from .mapping import MappedLead, MappingError, map_lead
from .models import Lead, SyncCursor, SyncRun
from .paging import Position, iter_pages
from .reconcile import apply_visible_ids
from .related import RelatedRecords

logger = logging.getLogger(__name__)

# Fields read from crm.lead when the dialect cannot list fields; they exist
# in Odoo 16 to 19 alike.
LEAD_FIELDS = [
    "name",
    "type",
    "active",
    "stage_id",
    "probability",
    "expected_revenue",
    "priority",
    "user_id",
    "team_id",
    "partner_id",
    "partner_name",
    "contact_name",
    "email_from",
    "phone",
    "city",
    "country_id",
    "tag_ids",
    "date_deadline",
    "date_closed",
    "lost_reason_id",
    "company_id",
    "description",
    "create_date",
    "write_date",
]

# Version-dependent fields also read when fields_get lists them: won_status
# (Community 19, Enterprise earlier) and lost_reason (before Odoo 16).
OPTIONAL_LEAD_FIELDS = ["won_status", "lost_reason"]

# Columns an upsert overwrites: everything but the identity of the row.
LEAD_UPDATE_FIELDS = [
    "name",
    "type",
    "stage",
    "probability",
    "expected_revenue",
    "priority",
    "salesperson",
    "team",
    "company_name",
    "contact_name",
    "partner_name",
    "email",
    "phone",
    "city",
    "country",
    "date_deadline",
    "date_closed",
    "lost_reason",
    "odoo_company",
    "active",
    "status",
    "create_date",
    "write_date",
    "raw",
    "deleted_in_odoo_at",
    "synced_at",
]


class SyncLockLost(OdooError):
    """The run's lock expired and may belong to another run now."""

    kind = "lock_lost"


ProgressCallback = Callable[[SyncRun], None]


@dataclass
class SliceResult:
    run: SyncRun
    # True when the slice stopped at its limit and a continuation must follow.
    more: bool


def run_sync(
    connection_id: int,
    *,
    full: bool = False,
    run_id: int | None = None,
    owner: str | None = None,
    progress: ProgressCallback | None = None,
    sliced: bool = True,
) -> SliceResult | None:
    """Run one slice of a sync; return its record, or None when it cannot run at all.

    ``run_id`` and ``owner`` continue a run whose previous slice stopped at
    its limit; that slice kept the lock for the same owner.
    """
    connection = OdooConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        logger.info("sync.skipped connection_id=%s reason=deleted", connection_id)
        return None
    if not connection.is_linked:
        logger.info("sync.skipped connection_id=%s reason=%s", connection_id, connection.status)
        return None
    run = None
    if run_id is not None:
        run = SyncRun.objects.filter(pk=run_id, connection=connection, status=SyncRun.Status.RUNNING).first()
        if run is None:
            logger.info("sync.continuation_dropped connection_id=%s run_id=%s", connection_id, run_id)
            return None
    owner = owner or secrets.token_hex(16)
    if not acquire_lock(connection, owner):
        return SliceResult(_skip(connection, full, run), more=False)

    more = False
    try:
        sync = LeadSync(connection, owner, full=full, run=run, progress=progress, sliced=sliced)
        more = sync.run_slice()
    finally:
        if not more:
            release_lock(connection, owner)
    return SliceResult(sync.run_record, more)


def _skip(connection: OdooConnection, full: bool, run: SyncRun | None) -> SyncRun:
    message = "Another sync of this connection is running."
    if run is not None:
        # A continuation whose lock lapsed: another run now owns the cursor.
        run.status = SyncRun.Status.PARTIAL
        run.finished_at = timezone.now()
        run.error_kind = "lock_lost"
        run.error_message = message
        run.save()
        logger.warning("sync.continuation_locked_out connection_id=%s run_id=%s", connection.pk, run.pk)
        return run
    skipped = SyncRun.objects.create(
        connection=connection,
        full=full,
        status=SyncRun.Status.SKIPPED,
        finished_at=timezone.now(),
        error_message=message,
    )
    logger.info("sync.skipped connection_id=%s reason=locked run_id=%s", connection.pk, skipped.pk)
    return skipped


class LeadSync:
    """One slice of a lead sync run for one connection; the caller holds the lock."""

    def __init__(
        self,
        connection: OdooConnection,
        owner: str,
        *,
        full: bool,
        run: SyncRun | None = None,
        progress: ProgressCallback | None = None,
        sliced: bool = True,
    ) -> None:
        self.connection = connection
        self.owner = owner
        self.progress = progress
        self.page_size = settings.ODOO_SYNC_PAGE_SIZE
        self.max_pages = settings.ODOO_SYNC_SLICE_PAGES if sliced else None
        self.max_seconds = settings.ODOO_SYNC_SLICE_SECONDS if sliced else None
        self.cursor = SyncCursor.objects.get(connection=connection)
        self.resumed = run is not None
        if run is None:
            run = SyncRun.objects.create(connection=connection, full=full, cursor_before=self._cursor_label())
        self.full = run.full
        self.run_record = run

    def _cursor_label(self) -> str:
        if self.cursor.write_date is None:
            return ""
        return str(Position(self.cursor.write_date, self.cursor.last_id))

    def run_slice(self) -> bool:
        """Read pages until done, failed or at the slice limit; return True when more remain."""
        run = self.run_record
        run.slices += 1
        run.heartbeat_at = timezone.now()
        SyncRun.objects.filter(pk=run.pk).update(slices=run.slices, heartbeat_at=run.heartbeat_at)
        logger.info(
            "sync.slice_start connection_id=%s run_id=%s slice=%s full=%s",
            self.connection.pk,
            run.pk,
            run.slices,
            self.full,
        )
        more = False
        try:
            client = build_data_client(self.connection)
            context = self._context(client)
            self.related = RelatedRecords(self.connection, client, context)
            more = self._read(client, context)
        except (OdooError, MappingError) as error:
            self._fail(error)
        except SoftTimeLimitExceeded:
            # Every saved page committed with its cursor; the next run resumes.
            self._fail(OdooError("The run reached its soft time limit and stopped after its last saved page."))
            run.error_kind = "time_limit"
        else:
            if not more:
                run.status = SyncRun.Status.SUCCEEDED
                if self.connection.status == OdooConnection.Status.DEGRADED:
                    self.connection.set_status(OdooConnection.Status.CONNECTED)
        if not more:
            run.finished_at = timezone.now()
        run.cursor_after = self._cursor_label()
        run.save()
        logger.info(
            "sync.slice_end connection_id=%s run_id=%s status=%s more=%s pages=%s fetched=%s created=%s updated=%s",
            self.connection.pk,
            run.pk,
            run.status,
            more,
            run.pages,
            run.fetched,
            run.created,
            run.updated,
        )
        return more

    # --- reading ---------------------------------------------------------

    def _context(self, client: OdooDataClient) -> dict[str, Any]:
        """Discover the user's companies and the lead fields on the first and on full runs."""
        cursor = self.cursor
        if not self.connection.odoo_version:
            # Shown to staff and used for links into Odoo; unauthenticated, and
            # the sync goes on without it.
            read_version(self.connection)
        if self.full or not cursor.company_ids:
            # Without allowed_company_ids Odoo reads only the user's current
            # company, so every company the linked user may use is sent.
            user = self._fetch_with_retry(client.current_user)
            cursor.company_ids = sorted(user["company_ids"])
            SyncCursor.objects.filter(pk=cursor.pk).update(company_ids=cursor.company_ids)
        if client.capabilities.fields_get and (self.full or not cursor.lead_fields):
            available = self._fetch_with_retry(lambda: client.fields_get("crm.lead"))
            cursor.lead_fields = [name for name in LEAD_FIELDS + OPTIONAL_LEAD_FIELDS if name in available]
            SyncCursor.objects.filter(pk=cursor.pk).update(lead_fields=cursor.lead_fields)
        context: dict[str, Any] = {"active_test": False}
        if cursor.company_ids:
            context["allowed_company_ids"] = cursor.company_ids
        return context

    @property
    def lead_fields(self) -> list[str]:
        return self.cursor.lead_fields or LEAD_FIELDS

    def _start_position(self) -> Position | None:
        run = self.run_record
        if self.resumed and run.position_write_date is not None:
            return Position(run.position_write_date, run.position_last_id)
        if self.full or self.cursor.write_date is None:
            return None
        overlap = settings.ODOO_SYNC_OVERLAP
        if overlap > 0:
            # Odoo's write_date is the start of the writing transaction, so a
            # long transaction can commit a value older than one already
            # seen, and a lead written again within the cursor's second keeps
            # that second. Both are caught by re-reading from before it.
            return Position(self.cursor.write_date - timedelta(seconds=overlap), 0)
        return Position(self.cursor.write_date, self.cursor.last_id)

    def _read(self, client: OdooDataClient, context: dict[str, Any]) -> bool:
        def fetch(domain: list[Any], order: str, limit: int) -> list[dict[str, Any]]:
            return self._fetch_with_retry(
                lambda: client.search_read(
                    "crm.lead", domain=domain, fields=self.lead_fields, order=order, limit=limit, context=context
                )
            )

        if not client.capabilities.paging:
            self._read_snapshot(client, context)
            return False
        started = time.monotonic()
        pages = 0
        for page in iter_pages(fetch, start=self._start_position(), page_size=self.page_size):
            self._fetch_with_retry(lambda rows=page.rows: self.related.fetch_unknown(rows))
            self._save_page(page.rows, page.position)
            pages += 1
            if self.progress:
                self.progress(self.run_record)
            if self._slice_exhausted(pages, started) and len(page.rows) == self.page_size:
                return True
        return False

    def _read_snapshot(self, client: OdooDataClient, context: dict[str, Any]) -> None:
        """Read a dialect that returns every lead on each call, and diff it with the local leads."""
        rows = self._fetch_with_retry(
            lambda: client.search_read("crm.lead", domain=[], fields=self.lead_fields, order="", limit=0, context=context)
        )
        for start in range(0, len(rows), self.page_size):
            chunk = rows[start : start + self.page_size]
            self._fetch_with_retry(lambda chunk=chunk: self.related.fetch_unknown(chunk))
            self._save_page(chunk, None)
            if self.progress:
                self.progress(self.run_record)
        # The snapshot is the complete list of leads the user can see.
        apply_visible_ids(self.connection, self.run_record, {row["id"] for row in rows})

    def _slice_exhausted(self, pages: int, started: float) -> bool:
        if self.max_pages is not None and pages >= self.max_pages:
            return True
        return self.max_seconds is not None and time.monotonic() - started >= self.max_seconds

    def _fetch_with_retry(self, call: Callable[[], Any]) -> Any:
        attempts = max(1, settings.ODOO_SYNC_PAGE_ATTEMPTS)
        for attempt in range(1, attempts + 1):
            try:
                return call()
            except OdooError as error:
                if not error.transient or attempt == attempts:
                    raise
                delay = min(2.0 ** (attempt - 1), settings.ODOO_SYNC_MAX_BACKOFF)
                if error.retry_after is not None:
                    if error.retry_after > settings.ODOO_SYNC_MAX_BACKOFF:
                        raise
                    delay = max(delay, error.retry_after)
                logger.warning(
                    "sync.page_retry connection_id=%s run_id=%s attempt=%s kind=%s delay=%.1f",
                    self.connection.pk,
                    self.run_record.pk,
                    attempt,
                    error.kind,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")

    # --- writing ---------------------------------------------------------

    def _save_page(self, rows: list[dict[str, Any]], position: Position | None) -> None:
        by_id = {row["id"]: row for row in rows}
        mapped = [map_lead(row, won_stage_ids=self.related.won_stage_ids) for row in by_id.values()]
        run = self.run_record
        with transaction.atomic():
            self.related.sync_references(mapped)
            counts = self._upsert_leads(mapped)
            self._store_cursor(position)
            run.pages += 1
            run.fetched += len(rows)
            for name, value in counts.items():
                setattr(run, name, getattr(run, name) + value)
            run.heartbeat_at = timezone.now()
            if position is not None:
                run.position_write_date, run.position_last_id = position.write_date, position.last_id
            SyncRun.objects.filter(pk=run.pk).update(
                pages=F("pages") + 1,
                fetched=F("fetched") + len(rows),
                heartbeat_at=run.heartbeat_at,
                position_write_date=run.position_write_date,
                position_last_id=run.position_last_id,
                **{name: F(name) + value for name, value in counts.items()},
            )

    def _upsert_leads(self, mapped: list[MappedLead]) -> dict[str, int]:
        existing = {
            odoo_id: (active, raw, deleted_at)
            for odoo_id, active, raw, deleted_at in Lead.objects.filter(
                connection=self.connection, odoo_id__in=[lead.odoo_id for lead in mapped]
            ).values_list("odoo_id", "active", "raw", "deleted_in_odoo_at")
        }
        counts = {"created": 0, "updated": 0, "archived": 0, "restored": 0}
        changed: list[MappedLead] = []
        for lead in mapped:
            previous = existing.get(lead.odoo_id)
            if previous is None:
                counts["created"] += 1
                changed.append(lead)
                continue
            was_active, old_raw, deleted_at = previous
            if old_raw == lead.values["raw"] and deleted_at is None:
                continue
            counts["updated"] += 1
            is_active = lead.values["active"]
            if deleted_at is not None or (is_active and not was_active):
                counts["restored"] += 1
            elif was_active and not is_active:
                counts["archived"] += 1
            changed.append(lead)
        if not changed:
            return counts

        objects = [self._lead_object(lead) for lead in changed]
        Lead.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["connection", "odoo_id"],
            update_fields=LEAD_UPDATE_FIELDS,
        )
        through = Lead.tags.through
        through.objects.filter(lead_id__in=[lead.pk for lead in objects]).delete()
        through.objects.bulk_create(
            [
                through(lead_id=obj.pk, tag_id=tag_pk)
                for obj, lead in zip(objects, changed, strict=True)
                for tag_pk in self.related.tag_pks(lead.tag_ids)
            ]
        )
        return counts

    def _lead_object(self, lead: MappedLead) -> Lead:
        related = self.related
        return Lead(
            connection=self.connection,
            odoo_id=lead.odoo_id,
            stage_id=related.pk_of(related.stages, lead.stage),
            salesperson_id=related.pk_of(related.salespeople, lead.salesperson),
            team_id=related.pk_of(related.teams, lead.team),
            deleted_in_odoo_at=None,
            **lead.values,
        )

    def _store_cursor(self, position: Position | None) -> None:
        """Move the cursor forward (never back) and renew the lock, in the page's transaction."""
        cursor = self.cursor
        updates: dict[str, Any] = {"lock_expires_at": lock_expiry()}
        current = Position(cursor.write_date, cursor.last_id) if cursor.write_date else None
        if position is not None and (current is None or position > current):
            updates.update(write_date=position.write_date, last_id=position.last_id)
        stored = SyncCursor.objects.filter(pk=cursor.pk, lock_owner=self.owner).update(**updates)
        if stored != 1:
            raise SyncLockLost(
                f"The sync lock of connection {self.connection.pk} expired during the run; the page was not saved."
            )
        if "write_date" in updates:
            cursor.write_date, cursor.last_id = position.write_date, position.last_id

    # --- errors ----------------------------------------------------------

    def _fail(self, error: Exception) -> None:
        run = self.run_record
        run.status = SyncRun.Status.PARTIAL if run.pages else SyncRun.Status.FAILED
        run.error_kind = getattr(error, "kind", "mapping_error")
        run.error_message = getattr(error, "message", str(error))[:2000]
        log = logger.warning if getattr(error, "transient", False) else logger.error
        log(
            "sync.failed connection_id=%s run_id=%s kind=%s message=%s",
            self.connection.pk,
            run.pk,
            run.error_kind,
            run.error_message,
        )
        self._update_connection_status(error)

    def _update_connection_status(self, error: Exception) -> None:
        connection = self.connection
        connection.refresh_from_db(fields=["status"])
        if isinstance(error, InvalidGrant | InvalidClient) or connection.status not in (
            OdooConnection.Status.CONNECTED,
            OdooConnection.Status.DEGRADED,
        ):
            # The credential layer already recorded what staff must do.
            return
        Status = OdooConnection.Status
        if isinstance(error, OdooCredentialsRejected):
            # A rejected API key is never retried automatically: Odoo's login
            # cooldown would then lock out good calls from this address too.
            connection.set_status(Status.CREDENTIALS_REJECTED, error_kind=error.kind, error_message=error.message)
        elif isinstance(error, OdooUnauthorized):
            connection.set_status(Status.NEEDS_REAUTHORIZATION, error_kind=error.kind, error_message=error.message)
        elif isinstance(error, OdooAccessDenied):
            connection.set_status(Status.CONFIGURATION_ERROR, error_kind=error.kind, error_message=error.message)
        elif isinstance(error, OdooError) and error.transient:
            connection.set_status(Status.DEGRADED, error_kind=error.kind, error_message=error.message)
