"""Shared fixtures."""

from __future__ import annotations

import pytest
from django.conf import settings

from connections.fields import SecretField
from connections.keys import SECRET_MODELS


def reset_secret_keys() -> None:
    """Drop the keys each SecretField derived and cached from the settings."""
    for model in SECRET_MODELS:
        for field in model._meta.get_fields():
            if isinstance(field, SecretField):
                field.__dict__.pop("keys", None)
                field.__dict__.pop("f", None)


@pytest.fixture
def switch_keys():
    """Restart-like switch of DJANGO_SECRET_KEY/DJANGO_SALT_KEY for one test."""
    original = (settings.SECRET_KEY, list(settings.SECRET_KEY_FALLBACKS), settings.SALT_KEY)

    def switch(secret_key: str, salt_keys: list[str], fallbacks: list[str] | None = None) -> None:
        settings.SECRET_KEY = secret_key
        settings.SECRET_KEY_FALLBACKS = fallbacks or []
        settings.SALT_KEY = salt_keys
        reset_secret_keys()

    yield switch
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS, settings.SALT_KEY = original
    reset_secret_keys()
