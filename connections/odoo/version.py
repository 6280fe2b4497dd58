"""Read an Odoo server's version and choose the API dialect that an API key can use with it.

Odoo reports its version as ``17.0``, ``16.0+e`` (Enterprise), or ``saas~18.4`` on Odoo
Online. JSON-2 exists from 19.0 and on Online from saas~18.4; JSON-RPC exists from 14
(the first version with API keys) and is scheduled for removal in Odoo 22.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests

from .errors import OdooBadResponse, OdooError, OdooRequestRejected, OdooUnsupportedVersion
from .transport import host_of, json_body, send

JSON2 = "json2"
JSONRPC = "jsonrpc"
FIRST_API_KEY_VERSION = (14, 0)
FIRST_JSON2_VERSION = (19, 0)
FIRST_JSON2_SAAS_VERSION = (18, 4)

_VERSION = re.compile(r"^(?P<saas>saas~)?(?P<major>\d+)\.(?P<minor>\d+)(?P<rest>.*)$")


@dataclass(frozen=True)
class ServerVersion:
    """An Odoo version as the server reports it."""

    label: str
    major: int
    minor: int
    saas: bool = False
    # "Enterprise", "Community", or "" when the server does not report it.
    edition: str = ""

    def __str__(self) -> str:
        return self.label

    @property
    def has_json2(self) -> bool:
        if self.saas:
            return (self.major, self.minor) >= FIRST_JSON2_SAAS_VERSION
        return (self.major, self.minor) >= FIRST_JSON2_VERSION

    @property
    def has_api_keys(self) -> bool:
        return (self.major, self.minor) >= FIRST_API_KEY_VERSION


def parse_version(label: object, version_info: object = None) -> ServerVersion:
    """Parse ``server_version`` or ``/web/version``'s ``version``; raise OdooBadResponse when unreadable.

    ``version_info`` is the list Odoo sends beside it, e.g. ``[17, 0, 0, "final", 0, ""]``; its
    last item is ``"e"`` on Enterprise and empty on Community.
    """
    if not isinstance(label, str):
        raise OdooBadResponse(f"Odoo reported the version {label!r}, which is not a version string.")
    match = _VERSION.match(label.strip())
    if match is None:
        raise OdooBadResponse(f"Odoo reported the version {label[:40]!r}, which this site cannot read.")
    edition = ""
    if match["rest"].startswith("+e"):
        edition = "Enterprise"
    elif isinstance(version_info, list) and len(version_info) >= 6 and isinstance(version_info[5], str):
        edition = "Enterprise" if version_info[5] == "e" else "Community"
    return ServerVersion(
        label=label.strip(),
        major=int(match["major"]),
        minor=int(match["minor"]),
        saas=bool(match["saas"]),
        edition=edition,
    )


def choose_dialect(version: ServerVersion) -> str:
    """Return JSON-2 for Odoo 19 and saas~18.4 on, JSON-RPC for 14 to 18."""
    if not version.has_api_keys:
        raise OdooUnsupportedVersion(
            f"Odoo {version} has no API keys (they arrived in 14.0); connect it through an OAuth add-on instead."
        )
    return JSON2 if version.has_json2 else JSONRPC


def fetch_version(session: requests.Session, base_url: str, *, timeout: float) -> ServerVersion:
    """Read the version from ``GET /web/version``, or from JSON-RPC ``common.version`` when that fails.

    Neither call needs credentials. Transient failures of the JSON-RPC call are raised.
    """
    base_url = base_url.rstrip("/")
    try:
        response = send(session, "GET", f"{base_url}/web/version", timeout=timeout)
        if response.status_code == 200:
            body = json_body(response, host_of(base_url))
            if isinstance(body, dict):
                return parse_version(body.get("version"), body.get("version_info"))
    except OdooError:
        # Proxies and older builds may not serve /web/version; JSON-RPC has the version too.
        pass
    return _version_over_jsonrpc(session, base_url, timeout=timeout)


def _version_over_jsonrpc(session: requests.Session, base_url: str, *, timeout: float) -> ServerVersion:
    host = host_of(base_url)
    payload = {"jsonrpc": "2.0", "method": "call", "params": {"service": "common", "method": "version", "args": []}, "id": 1}
    response = send(session, "POST", f"{base_url}/jsonrpc", timeout=timeout, json=payload)
    if response.status_code != 200:
        raise OdooRequestRejected(
            f"Odoo at {host} did not report its version: /web/version and /jsonrpc responded with HTTP {response.status_code}.",
            status=response.status_code,
        )
    body = json_body(response, host)
    result: Any = body.get("result") if isinstance(body, dict) else None
    if not isinstance(result, dict):
        raise OdooBadResponse(f"Odoo at {host} returned common.version without a version.")
    return parse_version(result.get("server_version"), result.get("server_version_info"))
