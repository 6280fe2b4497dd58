"""Re-encrypt every stored secret with the current first key after a key rotation."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.keys import reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt tokens, client secrets and PKCE verifiers with the first key derived from DJANGO_SECRET_KEY "
        "and the first DJANGO_SALT_KEY. Run it after putting the new key first and keeping the old one in "
        "DJANGO_SECRET_KEY_FALLBACKS (or later in DJANGO_SALT_KEY); then the old key can be removed."
    )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        rewritten, failed = reencrypt_all()
        self.stdout.write(f"Re-encrypted {rewritten} row(s).")
        if failed:
            for row in failed:
                self.stderr.write(self.style.ERROR(f"Cannot decrypt {row}; left unchanged."))
            raise CommandError(
                f"{len(failed)} secret(s) could not be decrypted with any configured key and were left as stored."
            )
