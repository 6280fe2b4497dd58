"""Celery tasks: beat tasks fan out, worker tasks take one connection id."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from connections.models import OdooConnection

from .models import SyncRun
from .reconcile import reconcile as reconcile_connection
from .sync import run_sync

logger = logging.getLogger(__name__)

LINKED = [OdooConnection.Status.CONNECTED, OdooConnection.Status.DEGRADED]


@shared_task(
    name="crm.sync",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ODOO_SYNC_SOFT_TIME_LIMIT,
    time_limit=settings.ODOO_SYNC_TIME_LIMIT,
)
def sync(connection_id: int, full: bool = False, run_id: int | None = None, owner: str | None = None) -> None:
    """Sync one slice of a connection's leads; queue the next slice when more remain."""
    owner = owner or secrets.token_hex(16)
    result = run_sync(connection_id, full=full, run_id=run_id, owner=owner)
    if result is None:
        return
    if result.more:
        # The lock stays with this owner until the continuation takes it.
        sync.apply_async(args=[connection_id], kwargs={"full": full, "run_id": result.run.pk, "owner": owner})
    logger.info(
        "sync.task_done connection_id=%s run_id=%s status=%s more=%s",
        connection_id,
        result.run.pk,
        result.run.status,
        result.more,
    )


@shared_task(name="crm.sync_all")
def sync_all() -> int:
    """Queue a sync for every linked connection whose sync is enabled."""
    connection_ids = list(
        OdooConnection.objects.filter(sync_enabled=True, status__in=LINKED).values_list("pk", flat=True)
    )
    for connection_id in connection_ids:
        sync.delay(connection_id)
    logger.info("sync.fan_out connections=%s", len(connection_ids))
    return len(connection_ids)


@shared_task(name="crm.reconcile", acks_late=True, reject_on_worker_lost=True, time_limit=settings.ODOO_SYNC_TIME_LIMIT)
def reconcile(connection_id: int) -> None:
    """Mark leads deleted in Odoo, or no longer visible, for one connection."""
    reconcile_connection(connection_id)


@shared_task(name="crm.reconcile_all")
def reconcile_all() -> int:
    connection_ids = list(
        OdooConnection.objects.filter(sync_enabled=True, status__in=LINKED).values_list("pk", flat=True)
    )
    for connection_id in connection_ids:
        reconcile.delay(connection_id)
    return len(connection_ids)


@shared_task(name="crm.reap_stuck_runs")
def reap_stuck_runs() -> int:
    """Mark runs failed whose worker stopped renewing them (killed or lost)."""
    silent_since = timezone.now() - timedelta(seconds=settings.ODOO_SYNC_LOCK_TTL)
    stuck = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=silent_since) | SyncRun.objects.filter(
        status=SyncRun.Status.RUNNING, heartbeat_at__isnull=True, started_at__lt=silent_since
    )
    reaped = stuck.update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_kind="worker_lost",
        error_message="The worker running this sync stopped without finishing it; the next run resumes from the saved cursor.",
    )
    if reaped:
        logger.warning("sync.reaped runs=%s", reaped)
    return reaped
