"""Per-connection run lock with an owner token, kept in the database.

The lock lives on the connection's SyncCursor row, so it needs no extra
service and is renewed in the same transaction that saves each page. Only
the owner releases it; a run killed with SIGKILL stops renewing it, and it
lapses after ODOO_SYNC_LOCK_TTL seconds.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connections.models import OdooConnection

from .models import SyncCursor


def lock_expiry():  # noqa: ANN201
    return timezone.now() + timedelta(seconds=settings.ODOO_SYNC_LOCK_TTL)


def acquire_lock(connection: OdooConnection, owner: str) -> bool:
    """Take the lock unless another live owner holds it; an owner may take it again."""
    SyncCursor.objects.get_or_create(connection=connection)
    free = Q(lock_owner="") | Q(lock_expires_at__lt=timezone.now()) | Q(lock_owner=owner)
    taken = SyncCursor.objects.filter(connection=connection).filter(free).update(
        lock_owner=owner, lock_expires_at=lock_expiry()
    )
    return taken == 1


def release_lock(connection: OdooConnection, owner: str) -> bool:
    """Release the lock only if ``owner`` still holds it."""
    released = SyncCursor.objects.filter(connection=connection, lock_owner=owner).update(
        lock_owner="", lock_expires_at=None
    )
    return released == 1
