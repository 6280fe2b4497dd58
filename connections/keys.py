"""Checks and re-encryption of every encrypted secret after a key change."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models, transaction

from .fields import SecretField, is_undecryptable
from .models import ApiKeyCredential, AuthorizationRequest, OAuthClient, OAuthToken, OdooConnection

logger = logging.getLogger(__name__)

SECRET_MODELS: list[type[models.Model]] = [OAuthClient, OAuthToken, AuthorizationRequest, ApiKeyCredential]


@dataclass(frozen=True)
class UndecryptableRow:
    model: str
    pk: int
    field: str
    connection_id: int

    def __str__(self) -> str:
        return f"{self.model} {self.pk} ({self.field}) of connection {self.connection_id}"


def secret_fields(model: type[models.Model]) -> list[str]:
    return [field.name for field in model._meta.get_fields() if isinstance(field, SecretField)]


def find_undecryptable() -> Iterator[UndecryptableRow]:
    """Yield every stored secret that none of the configured keys can decrypt."""
    for model in SECRET_MODELS:
        names = secret_fields(model)
        for row in model.objects.only("pk", "connection_id", *names).iterator():
            for name in names:
                if is_undecryptable(getattr(row, name)):
                    yield UndecryptableRow(model.__name__, row.pk, name, row.connection_id)


def mark_key_mismatches(rows: list[UndecryptableRow]) -> int:
    """Put the connections of undecryptable secrets in the key-mismatch status."""
    connection_ids = {row.connection_id for row in rows}
    for connection in OdooConnection.objects.filter(pk__in=connection_ids).exclude(
        status=OdooConnection.Status.KEY_MISMATCH
    ):
        connection.set_status(
            OdooConnection.Status.KEY_MISMATCH,
            error_kind="key_mismatch",
            error_message="Stored secrets cannot be decrypted with the configured keys (encryption key mismatch).",
        )
        logger.error("keys.mismatch connection_id=%s", connection.pk)
    return len(connection_ids)


def reencrypt_all() -> tuple[int, list[UndecryptableRow]]:
    """Save every decryptable secret again so that it is encrypted with the first key.

    Return how many rows were re-encrypted and the rows that could not be
    decrypted, which are left exactly as stored.
    """
    rewritten = 0
    failed: list[UndecryptableRow] = []
    for model in SECRET_MODELS:
        names = secret_fields(model)
        with transaction.atomic():
            for row in model.objects.select_for_update().only("pk", "connection_id", *names):
                bad = [name for name in names if is_undecryptable(getattr(row, name))]
                failed += [UndecryptableRow(model.__name__, row.pk, name, row.connection_id) for name in bad]
                good = [name for name in names if name not in bad and getattr(row, name)]
                if good:
                    row.save(update_fields=good)
                    rewritten += 1
    return rewritten, failed
