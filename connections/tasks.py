"""Celery tasks that keep OAuth tokens fresh before they expire."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone

from .models import OAuthToken, OdooConnection
from .odoo.errors import OdooError
from .tokens import refresh_access_token

logger = logging.getLogger(__name__)


@shared_task(name="connections.refresh_expiring_tokens")
def refresh_expiring_tokens() -> int:
    """Queue a refresh for every active token expiring within the margin."""
    deadline = timezone.now() + timedelta(seconds=settings.ODOO_TOKEN_REFRESH_MARGIN)
    connection_ids = list(
        OAuthToken.objects.filter(
            status=OAuthToken.Status.ACTIVE,
            expires_at__lte=deadline,
            connection__status__in=[OdooConnection.Status.CONNECTED, OdooConnection.Status.DEGRADED],
        ).values_list("connection_id", flat=True)
    )
    for connection_id in connection_ids:
        refresh_token.delay(connection_id)
    logger.info("oauth.refresh_fan_out connections=%s", len(connection_ids))
    return len(connection_ids)


@shared_task(name="connections.refresh_token", acks_late=True)
def refresh_token(connection_id: int) -> None:
    """Refresh one connection's token unless another worker did it first."""
    token = OAuthToken.objects.filter(connection_id=connection_id, status=OAuthToken.Status.ACTIVE).first()
    if token is None or not token.expires_within(settings.ODOO_TOKEN_REFRESH_MARGIN):
        return
    try:
        refresh_access_token(connection_id, seen_access_token=token.access_token, reason="scheduled")
    except OdooError as error:
        # Already recorded on the connection and logged by the token module.
        logger.info("oauth.scheduled_refresh_failed connection_id=%s kind=%s", connection_id, error.kind)


@worker_ready.connect
def check_keys_at_worker_start(**kwargs) -> None:  # noqa: ANN003
    """Report an encryption key mismatch when a worker starts, before it takes tasks."""
    from .keys import find_undecryptable, mark_key_mismatches

    rows = list(find_undecryptable())
    if rows:
        mark_key_mismatches(rows)
        logger.error(
            "keys.mismatch_at_start secrets=%s; restore the old key or set DJANGO_SECRET_KEY_FALLBACKS", len(rows)
        )
