"""API-key credentials for the data clients, and the choice of dialect from the server version.

A key that Odoo rejected is marked rejected and never sent again by syncs. Odoo counts every
failed login, and after ``base.login_cooldown_after`` (10 on new databases) failures it rejects
all logins from this site's address for ``base.login_cooldown_duration`` (60 s), so retried bad
keys would lock out the good keys of other connections. Only a key entered by staff, or
staff's own Test connection, sends a key again.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .fields import is_undecryptable
from .models import ApiKeyCredential, OdooConnection
from .odoo import version as odoo_version
from .odoo.dialects.apikey import bearer
from .odoo.errors import EncryptionKeyMismatch, OdooCredentialsRejected, OdooUnauthorized
from .odoo.transport import new_session

logger = logging.getLogger(__name__)

REJECTED_HINT = "Create a new API key in Odoo, enter it on this connection, then click Test connection."


def credential_of(connection: OdooConnection) -> ApiKeyCredential:
    try:
        return ApiKeyCredential.objects.get(connection=connection)
    except ApiKeyCredential.DoesNotExist:
        raise OdooUnauthorized(
            f"Connection {connection.pk} uses an API key but has none; enter the login and API key."
        ) from None


def detect_dialect(
    connection: OdooConnection, credential: ApiKeyCredential, version: odoo_version.ServerVersion | None = None
) -> str:
    """Store the server version on the connection, and store and return the dialect it needs.

    The version is read from the server unless the caller already did.
    """
    if version is None:
        version = odoo_version.fetch_version(new_session(), connection.base_url, timeout=settings.ODOO_HTTP_TIMEOUT)
    connection.odoo_version = version.label[:32]
    connection.save(update_fields=["odoo_version", "updated_at"])
    dialect = credential.dialect_override or odoo_version.choose_dialect(version)
    if credential.dialect != dialect:
        credential.dialect = dialect
        credential.save(update_fields=["dialect"])
    logger.info("apikey.dialect connection_id=%s version=%s dialect=%s", connection.pk, version.label, dialect)
    return dialect


class ApiKeyCredentials:
    """The login and API key of one connection, as JSON-RPC and JSON-2 clients use them."""

    def __init__(self, connection: OdooConnection) -> None:
        self.connection = connection
        self._row: ApiKeyCredential | None = None

    def _load(self) -> ApiKeyCredential:
        row = credential_of(self.connection)
        if is_undecryptable(row.api_key):
            self._record_key_mismatch()
        if not row.api_key:
            raise OdooUnauthorized(f"Connection {self.connection.pk} has no API key stored; enter one.")
        self._row = row
        return row

    def _current(self) -> ApiKeyCredential:
        return self._row if self._row is not None else self._load()

    def _record_key_mismatch(self) -> None:
        connection = self.connection
        error = EncryptionKeyMismatch(
            f"The API key of connection {connection.pk} cannot be decrypted with the configured DJANGO_SECRET_KEY "
            "and DJANGO_SALT_KEY. Restore the old key, or list it in DJANGO_SECRET_KEY_FALLBACKS."
        )
        if connection.status != OdooConnection.Status.KEY_MISMATCH:
            connection.set_status(OdooConnection.Status.KEY_MISMATCH, error_kind=error.kind, error_message=error.message)
            logger.error("apikey.key_mismatch connection_id=%s", connection.pk)
        raise error

    @property
    def login(self) -> str:
        return self._current().login

    def api_key(self) -> str:
        row = self._load()
        if row.status == ApiKeyCredential.Status.REJECTED:
            error = OdooCredentialsRejected(
                f"Odoo refused the API key of connection {self.connection.pk}, so it is not sent again. {REJECTED_HINT}"
            )
            if self.connection.status != OdooConnection.Status.CREDENTIALS_REJECTED:
                # Someone marked the connection linked again without entering a new key.
                self.connection.set_status(
                    OdooConnection.Status.CREDENTIALS_REJECTED, error_kind=error.kind, error_message=error.message
                )
            raise error
        return row.api_key

    def authorization_header(self) -> str:
        return bearer(self.api_key())

    def cached_uid(self) -> int | None:
        return self._current().uid

    def remember_uid(self, uid: int) -> None:
        sent_key = self._current().api_key
        with transaction.atomic():
            row = ApiKeyCredential.objects.select_for_update().get(pk=self._current().pk)
            if row.api_key != sent_key:
                # Staff entered another key meanwhile, so this uid belongs to the old one.
                return
            row.uid = uid
            row.status = ApiKeyCredential.Status.ACTIVE
            row.verified_at = timezone.now()
            row.save(update_fields=["uid", "status", "verified_at"])
        self._row = row

    def renew_after_rejection(self, rejected_header: str) -> bool:
        rejected_key = rejected_header.removeprefix("Bearer ")
        row = self._load()
        if row.api_key != rejected_key and row.status != ApiKeyCredential.Status.REJECTED:
            logger.info("apikey.renewed connection_id=%s", self.connection.pk)
            return True
        raise self.reject(rejected_key, f"Odoo at {self.connection.base_url} refused the API key.")

    def reject(self, rejected_key: str, reason: str) -> OdooCredentialsRejected:
        """Mark the key rejected unless staff replaced it meanwhile; return the error to raise."""
        message = f"{reason} {REJECTED_HINT}"
        with transaction.atomic():
            row = ApiKeyCredential.objects.select_for_update().get(connection=self.connection)
            if row.api_key == rejected_key and row.status != ApiKeyCredential.Status.REJECTED:
                row.status = ApiKeyCredential.Status.REJECTED
                row.rejected_at = timezone.now()
                row.uid = None
                row.save(update_fields=["status", "rejected_at", "uid"])
                self.connection.set_status(
                    OdooConnection.Status.CREDENTIALS_REJECTED,
                    error_kind=OdooCredentialsRejected.kind,
                    error_message=message,
                )
                logger.error("apikey.rejected connection_id=%s login=%s", self.connection.pk, row.login)
        self._row = None
        return OdooCredentialsRejected(message)
