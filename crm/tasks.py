"""Celery tasks: a beat task fans out, a worker task syncs one connection by id."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from connections.models import OdooConnection

from .sync import run_sync

logger = logging.getLogger(__name__)


@shared_task(
    name="crm.sync",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ODOO_SYNC_SOFT_TIME_LIMIT,
    time_limit=settings.ODOO_SYNC_TIME_LIMIT,
)
def sync(connection_id: int, full: bool = False) -> None:
    """Sync the leads of one connection."""
    try:
        run = run_sync(connection_id, full=full)
    except SoftTimeLimitExceeded:
        logger.warning("sync.soft_time_limit connection_id=%s", connection_id)
        return
    if run is not None:
        logger.info("sync.task_done connection_id=%s run_id=%s status=%s", connection_id, run.pk, run.status)


@shared_task(name="crm.sync_all")
def sync_all() -> int:
    """Queue a sync for every linked connection whose sync is enabled."""
    connection_ids = list(
        OdooConnection.objects.filter(
            sync_enabled=True,
            status__in=[OdooConnection.Status.CONNECTED, OdooConnection.Status.DEGRADED],
        ).values_list("pk", flat=True)
    )
    for connection_id in connection_ids:
        sync.delay(connection_id)
    logger.info("sync.fan_out connections=%s", len(connection_ids))
    return len(connection_ids)
