"""Signal receivers: queue the first sync of a freshly authorized connection."""

from __future__ import annotations

from django.dispatch import receiver

from connections.models import OdooConnection
from connections.signals import connection_authorized

from .tasks import sync


@receiver(connection_authorized, sender=OdooConnection)
def queue_first_sync(sender, connection: OdooConnection, **kwargs) -> None:  # noqa: ANN001
    # Queued after commit: a fast worker must find the stored tokens, and a
    # rolled-back authorization must queue nothing.
    sync.delay_on_commit(connection.pk)
