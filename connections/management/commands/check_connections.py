"""Health check of every connection's stored secrets and link status."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.keys import find_undecryptable, mark_key_mismatches
from connections.models import OdooConnection

HEALTHY = {OdooConnection.Status.CONNECTED, OdooConnection.Status.NOT_LINKED, OdooConnection.Status.DISCONNECTED}


class Command(BaseCommand):
    help = (
        "Check that every stored secret decrypts with the configured keys and list connections that need "
        "attention. Exits with status 1 when a secret cannot be decrypted. Run it before starting workers."
    )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        undecryptable = list(find_undecryptable())
        if undecryptable:
            mark_key_mismatches(undecryptable)
        for connection in OdooConnection.objects.order_by("pk"):
            line = f"{connection.pk}: {connection.name} - {connection.get_status_display()}"
            if connection.status in HEALTHY:
                self.stdout.write(line)
            else:
                detail = f" ({connection.last_error_kind}: {connection.last_error_message})" if connection.last_error_kind else ""
                self.stdout.write(self.style.WARNING(line + detail))
        if undecryptable:
            for row in undecryptable:
                self.stderr.write(self.style.ERROR(f"Cannot decrypt {row}."))
            raise CommandError(
                f"Encryption key mismatch: {len(undecryptable)} stored secret(s) cannot be decrypted. Restore the "
                "previous DJANGO_SECRET_KEY or DJANGO_SALT_KEY, or list the old secret key in "
                "DJANGO_SECRET_KEY_FALLBACKS, then run 'manage.py reencrypt_secrets'."
            )
        self.stdout.write(self.style.SUCCESS("All stored secrets decrypt with the configured keys."))
