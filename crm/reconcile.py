"""Deletion check: compare every lead id visible in Odoo with the local leads.

Odoo's ``unlink`` leaves no trace and a lead may leave the linked user's
view, so the only way to notice is a full id listing. Leads missing from it
get a ``deleted_in_odoo_at`` timestamp (rows are kept); leads that appear
again lose it. A listing that fails, is cut short or looks truncated marks
nothing.
"""

from __future__ import annotations

import logging
import secrets

from django.db import transaction
from django.utils import timezone

from connections.clients import build_data_client
from connections.models import OdooConnection
from connections.odoo.errors import OdooBadResponse, OdooError

from .locks import acquire_lock, release_lock
from .models import Lead, SyncCursor, SyncRun

logger = logging.getLogger(__name__)


def reconcile(connection_id: int) -> SyncRun | None:
    """Run one deletion check of a connection under its run lock."""
    connection = OdooConnection.objects.filter(pk=connection_id).first()
    if connection is None or not connection.is_linked:
        return None
    owner = secrets.token_hex(16)
    if not acquire_lock(connection, owner):
        return SyncRun.objects.create(
            connection=connection,
            kind=SyncRun.Kind.RECONCILE,
            status=SyncRun.Status.SKIPPED,
            finished_at=timezone.now(),
            error_message="Another run of this connection is in progress.",
        )
    run = SyncRun.objects.create(connection=connection, kind=SyncRun.Kind.RECONCILE)
    try:
        _reconcile(connection, run)
        run.status = SyncRun.Status.SUCCEEDED
    except OdooError as error:
        run.status = SyncRun.Status.FAILED
        run.error_kind = error.kind
        run.error_message = error.message
        logger.warning(
            "reconcile.failed connection_id=%s run_id=%s kind=%s", connection.pk, run.pk, error.kind
        )
    finally:
        release_lock(connection, owner)
    run.finished_at = timezone.now()
    run.save()
    return run


def _reconcile(connection: OdooConnection, run: SyncRun) -> None:
    client = build_data_client(connection)
    cursor = SyncCursor.objects.get(connection=connection)
    context = {"active_test": False}
    if cursor.company_ids:
        context["allowed_company_ids"] = cursor.company_ids
    expected = client.search_count("crm.lead", domain=[], context=context)
    visible = client.search_ids("crm.lead", domain=[], context=context)
    visible_ids = set(visible)
    if len(visible_ids) != len(visible) or len(visible_ids) != expected:
        raise OdooBadResponse(
            f"The id listing of connection {connection.pk} returned {len(visible_ids)} distinct ids but Odoo "
            f"counts {expected} leads; it may be truncated, so nothing was marked deleted."
        )
    local = Lead.objects.filter(connection=connection)
    if not visible_ids and local.filter(deleted_in_odoo_at__isnull=True).exists():
        raise OdooBadResponse(
            f"Odoo listed no leads for connection {connection.pk} while {local.count()} are stored; "
            "nothing was marked deleted. Check the linked user's access rights."
        )
    run.fetched = len(visible_ids)
    apply_visible_ids(connection, run, visible_ids)


def apply_visible_ids(connection: OdooConnection, run: SyncRun, visible_ids: set[int]) -> None:
    """Mark local leads missing from a complete id listing as gone, and returning ones as back."""
    local = Lead.objects.filter(connection=connection)
    now = timezone.now()
    with transaction.atomic():
        live = dict(local.filter(deleted_in_odoo_at__isnull=True).values_list("odoo_id", "pk"))
        gone = dict(local.filter(deleted_in_odoo_at__isnull=False).values_list("odoo_id", "pk"))
        missing = [pk for odoo_id, pk in live.items() if odoo_id not in visible_ids]
        back = [pk for odoo_id, pk in gone.items() if odoo_id in visible_ids]
        run.deleted += _update_in_batches(missing, deleted_in_odoo_at=now)
        run.restored += _update_in_batches(back, deleted_in_odoo_at=None)
    logger.info(
        "reconcile.done connection_id=%s run_id=%s visible=%s deleted=%s restored=%s",
        connection.pk,
        run.pk,
        len(visible_ids),
        run.deleted,
        run.restored,
    )


def _update_in_batches(pks: list[int], **values) -> int:  # noqa: ANN003
    # SQLite limits the number of bound parameters in one statement.
    updated = 0
    for start in range(0, len(pks), 5000):
        updated += Lead.objects.filter(pk__in=pks[start : start + 5000]).update(**values)
    return updated
