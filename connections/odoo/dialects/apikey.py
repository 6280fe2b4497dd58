"""What a data client needs from an API-key credential, and how it keeps the key out of text."""

from __future__ import annotations

from typing import Protocol

from .base import CredentialProvider
from ..errors import OdooCredentialsRejected

REDACTED = "[redacted]"


class ApiKeyProvider(CredentialProvider, Protocol):
    """An Odoo login and API key, with the uid that ``authenticate`` returned for them.

    ``authorization_header()`` returns ``Bearer <key>`` and raises OdooCredentialsRejected,
    without sending anything, once Odoo refused the stored key. ``renew_after_rejection``
    returns True only when staff stored another key since the rejected one was read;
    otherwise it marks the key rejected and raises OdooCredentialsRejected.
    """

    login: str

    def api_key(self) -> str:
        """Return the stored key; raise OdooCredentialsRejected when Odoo refused it."""

    def cached_uid(self) -> int | None:
        """Return the uid stored for this login and key, if ``authenticate`` ran before."""

    def remember_uid(self, uid: int) -> None:
        """Store the uid ``authenticate`` returned for the current key."""

    def reject(self, rejected_key: str, reason: str) -> OdooCredentialsRejected:
        """Mark the key rejected (unless staff replaced it meanwhile) and return the error to raise."""


def bearer(api_key: str) -> str:
    return f"Bearer {api_key}"


def redact(text: str, secret: str | None) -> str:
    """Return ``text`` with every occurrence of the secret replaced, for logs and staff messages."""
    if secret and len(secret) >= 8:
        return text.replace(secret, REDACTED)
    return text
