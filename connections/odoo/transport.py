"""The one place that turns transport failures and HTTP statuses into Odoo errors."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils import timezone

from .errors import (
    OdooBadResponse,
    OdooRateLimited,
    OdooServerError,
    OdooTimeout,
    OdooUnreachable,
)

USER_AGENT = "odoo-crm-sync/0.1"


def host_of(url: str) -> str:
    """Return the host of a URL: error messages name it, never the path, query or body."""
    return urlsplit(url).netloc or url


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header given as seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    # Odoo rejects a bearer key that arrives with another user's session
    # cookie, so cookies are never kept between requests.
    session.cookies.set_policy(_NoCookies())
    return session


class _NoCookies(requests.cookies.cookielib.DefaultCookiePolicy):
    def set_ok(self, cookie, request) -> bool:  # noqa: ANN001
        return False

    def return_ok(self, cookie, request) -> bool:  # noqa: ANN001
        return False


def send(session: requests.Session, method: str, url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    """Send a request; raise a transient OdooError for network failures, 429 and 5xx."""
    host = host_of(url)
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout as error:
        raise OdooTimeout(f"Odoo at {host} did not respond within {timeout:g} s.") from error
    except requests.ConnectionError as error:
        raise OdooUnreachable(f"Could not connect to Odoo at {host}: {type(error).__name__}.") from error
    raise_for_transient_status(response, host)
    return response


def raise_for_transient_status(response: requests.Response, host: str) -> None:
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if response.status_code == 429:
        raise OdooRateLimited(
            f"Odoo at {host} is rate limiting requests (HTTP 429).", status=429, retry_after=retry_after
        )
    if response.status_code >= 500:
        raise OdooServerError(
            f"Odoo at {host} responded with HTTP {response.status_code}.",
            status=response.status_code,
            retry_after=retry_after,
        )


def is_json(response: requests.Response) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return "json" in content_type.split(";")[0].lower()


def json_body(response: requests.Response, host: str) -> Any:
    """Decode a JSON body; an HTML page or broken JSON is a transient bad response."""
    if not is_json(response):
        content_type = response.headers.get("Content-Type", "no content type")
        raise OdooBadResponse(
            f"Odoo at {host} responded with HTTP {response.status_code} with {content_type} instead of JSON.",
            status=response.status_code,
        )
    try:
        return response.json()
    except (json.JSONDecodeError, ValueError) as error:
        raise OdooBadResponse(
            f"Odoo at {host} responded with HTTP {response.status_code} with invalid JSON.", status=response.status_code
        ) from error
