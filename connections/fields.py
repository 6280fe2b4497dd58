"""Encrypted model field that tells a wrong key apart from a stored value."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from encrypted_fields.fields import EncryptedTextField


class UndecryptableSecret:
    """A stored ciphertext that none of the configured keys can decrypt.

    django-fernet-encrypted-fields returns the ciphertext itself when
    decryption fails, which would then be sent to Odoo as a token or
    encrypted a second time on save. This object is not a string, so it
    cannot be sent by mistake, and saving it writes the ciphertext back
    unchanged.
    """

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str) -> None:
        self.ciphertext = ciphertext

    def __repr__(self) -> str:
        return "<UndecryptableSecret>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UndecryptableSecret) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


class SecretField(EncryptedTextField):
    """Fernet-encrypted text for tokens, client secrets, API keys and verifiers.

    Keep it free of ``max_length``, validators and ``blank=False``: a
    validation error inside the library's ``clean()`` used to leave the
    shared field object returning ciphertext for every later load.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        try:
            return self.f.decrypt(value.encode("utf-8")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            return UndecryptableSecret(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, UndecryptableSecret):
            return value
        return super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, UndecryptableSecret):
            return value.ciphertext
        return super().get_prep_value(value)

    def clean(self, value: Any, model_instance: Any) -> Any:
        try:
            return super().clean(value, model_instance)
        finally:
            # The library sets this flag on the shared field object and
            # removes it only when validation succeeds.
            if hasattr(self, "_already_decrypted"):
                del self._already_decrypted


def is_undecryptable(value: Any) -> bool:
    return isinstance(value, UndecryptableSecret)
