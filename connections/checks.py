"""System checks for settings that would break the OAuth flow or leak credentials."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ValidationError

from .urls_policy import validate_provider_url


@register(Tags.security)
def check_redirect_uri(app_configs, **kwargs) -> list:  # noqa: ANN001
    uri = settings.ODOO_OAUTH_REDIRECT_URI
    if not uri:
        return []
    try:
        validate_provider_url(uri)
    except ValidationError as error:
        return [
            Error(
                f"ODOO_OAUTH_REDIRECT_URI is invalid: {error.messages[0]}",
                hint="Set it to the absolute https URL of /odoo/oauth/callback/ on this site.",
                id="connections.E001",
            )
        ]
    if not uri.rstrip("/").endswith("/odoo/oauth/callback"):
        return [
            Warning(
                f"ODOO_OAUTH_REDIRECT_URI={uri!r} does not end with /odoo/oauth/callback/.",
                hint="Odoo sends the user back to this URL; it must reach the callback view.",
                id="connections.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs) -> list:  # noqa: ANN001
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        return [
            Error(
                "DJANGO_SECRET_KEY is the built-in development key.",
                hint="Set DJANGO_SECRET_KEY and DJANGO_SALT_KEY to long random values: they encrypt every stored token.",
                id="connections.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_http_loopback(app_configs, **kwargs) -> list:  # noqa: ANN001
    if settings.ODOO_ALLOW_HTTP_LOOPBACK:
        return [
            Warning(
                "ODOO_ALLOW_HTTP_LOOPBACK is on, so tokens may travel over plain http to local servers.",
                hint="Turn it off outside local development.",
                id="connections.W002",
            )
        ]
    return []


@register(Tags.database)
def check_secrets_decrypt(app_configs, databases=None, **kwargs) -> list:  # noqa: ANN001
    """Catch an encryption key mismatch before any task runs (``check --database default``)."""
    if not databases:
        return []
    from django.db import DatabaseError

    from .keys import find_undecryptable

    try:
        rows = list(find_undecryptable())
    except DatabaseError:
        # Tables not migrated yet: nothing is stored that could mismatch.
        return []
    if not rows:
        return []
    return [
        Error(
            f"Encryption key mismatch: {len(rows)} stored secret(s) cannot be decrypted, e.g. {rows[0]}.",
            hint="Restore the previous DJANGO_SECRET_KEY/DJANGO_SALT_KEY or list the old key in "
            "DJANGO_SECRET_KEY_FALLBACKS, then run 'manage.py reencrypt_secrets'.",
            id="connections.E003",
        )
    ]


@register()
def check_sync_timing(app_configs, **kwargs) -> list:  # noqa: ANN001
    errors = []
    if settings.ODOO_SYNC_LOCK_TTL <= settings.ODOO_SYNC_TIME_LIMIT:
        errors.append(
            Error(
                f"ODOO_SYNC_LOCK_TTL={settings.ODOO_SYNC_LOCK_TTL} must exceed ODOO_SYNC_TIME_LIMIT="
                f"{settings.ODOO_SYNC_TIME_LIMIT}, or a live sync could lose its lock to a second run.",
                id="connections.E004",
            )
        )
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is not None and visibility <= settings.ODOO_SYNC_TIME_LIMIT:
        errors.append(
            Error(
                f"CELERY_VISIBILITY_TIMEOUT={visibility} must exceed ODOO_SYNC_TIME_LIMIT="
                f"{settings.ODOO_SYNC_TIME_LIMIT}, or Redis redelivers a sync task that is still running.",
                id="connections.E005",
            )
        )
    if settings.ODOO_TOKEN_REFRESH_MARGIN <= settings.ODOO_TOKEN_REFRESH_INTERVAL:
        errors.append(
            Warning(
                f"ODOO_TOKEN_REFRESH_MARGIN={settings.ODOO_TOKEN_REFRESH_MARGIN} is not above "
                f"ODOO_TOKEN_REFRESH_INTERVAL={settings.ODOO_TOKEN_REFRESH_INTERVAL}; a token may expire between two "
                "scheduled refreshes, and OCA refresh tokens die with their access token.",
                id="connections.W003",
            )
        )
    return errors
