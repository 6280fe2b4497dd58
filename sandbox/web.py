"""Odoo's own unauthenticated web routes, such as `/web/version`."""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.http import json_response
from sandbox.models import version_info


def rules() -> list[Rule]:
    return [Rule("/web/version", endpoint=web_version, methods=["GET"])]


def web_version(sandbox, request: Request) -> Response:
    """Return the version of the emulated Odoo, following the odoo_version switch."""
    return json_response(version_info(sandbox.settings.odoo_version))
