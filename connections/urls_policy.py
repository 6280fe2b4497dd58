"""Rules for the Odoo URLs staff may enter."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

LOOPBACK_NAMES = {"localhost"}


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_provider_url(url: str) -> None:
    """Reject anything but https, except http on loopback in development."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValidationError(f"{url!r} is not an absolute URL; enter it as https://odoo.example.com.")
    if parts.username or parts.password:
        raise ValidationError(f"{url!r} contains credentials; enter them in their own fields.")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        if settings.ODOO_ALLOW_HTTP_LOOPBACK:
            return
        raise ValidationError(
            f"{url!r} uses http://. Use https://, or set ODOO_ALLOW_HTTP_LOOPBACK=true "
            "for a local development server."
        )
    raise ValidationError(f"{url!r} must use https://.")


# Paths of Odoo's web client that staff paste by mistake with the server address.
WEB_CLIENT_PATHS = ("/web", "/odoo")


def validate_odoo_base_url(url: str) -> None:
    """Apply the provider URL rule, and reject an address copied from inside the web client."""
    validate_provider_url(url)
    path = urlsplit(url).path.rstrip("/")
    if any(path == prefix or path.startswith(prefix + "/") for prefix in WEB_CLIENT_PATHS) or "#" in url:
        base = url.split(path, 1)[0] if path else url
        raise ValidationError(
            f"{url!r} points inside Odoo's web client; enter the server address only, e.g. {base!r}."
        )
