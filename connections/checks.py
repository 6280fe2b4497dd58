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
