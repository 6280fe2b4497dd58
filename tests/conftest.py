"""Shared fixtures."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection as db_connection

from connections.fields import SecretField
from connections.keys import SECRET_MODELS
from sandbox.server import serve_in_thread
from tests.odoo_sandbox import CALLBACK_URL, SandboxClient, add_connection, link_through_browser


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


@pytest.fixture
def sandbox(tmp_path, settings):
    """An Odoo sandbox with the demo data, served over HTTP on 127.0.0.1."""
    settings.ODOO_ALLOW_HTTP_LOOPBACK = True
    with serve_in_thread(tmp_path / "sandbox.sqlite3", redirect_uris=[CALLBACK_URL]) as server:
        yield server


@pytest.fixture
def control(sandbox):
    return SandboxClient(sandbox.url)


@pytest.fixture
def linked(sandbox, control, admin_client, django_capture_on_commit_callbacks):
    """A connection linked to the sandbox through the OAuth flow, before its first sync."""
    control.register_client("e2e-client", "e2e-secret")
    connection = add_connection(sandbox.url, "e2e-client", "e2e-secret")
    with django_capture_on_commit_callbacks() as callbacks:
        response = link_through_browser(admin_client, connection)
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(message.startswith("Connected") for message in messages), messages
    if db_connection.in_atomic_block:
        # In a test wrapped in a transaction the callback waits for a commit
        # that never comes; in a transactional test it has already run.
        assert len(callbacks) == 1, "the first sync must be queued on commit"
    connection.refresh_from_db()
    return connection
