"""Check that a decoded response has the shape the Odoo method promises."""

from __future__ import annotations

from typing import Any

from ..errors import OdooBadResponse


def records(result: Any, host: str, call: str) -> list[dict[str, Any]]:
    if not isinstance(result, list) or not all(isinstance(row, dict) for row in result):
        raise OdooBadResponse(f"Odoo at {host} returned something other than a list of records for {call}.")
    return result


def ids(result: Any, host: str, call: str) -> list[int]:
    if not isinstance(result, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in result):
        raise OdooBadResponse(f"Odoo at {host} returned something other than a list of ids for {call}.")
    return result


def count(result: Any, host: str, call: str) -> int:
    if not isinstance(result, int) or isinstance(result, bool):
        raise OdooBadResponse(f"Odoo at {host} returned something other than an integer for {call}.")
    return result


def mapping(result: Any, host: str, call: str) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise OdooBadResponse(f"Odoo at {host} returned something other than an object for {call}.")
    return result


def company_ids(rows: list[dict[str, Any]], host: str, uid: int) -> list[int]:
    """Return the ``company_ids`` of the one ``res.users`` row read for ``uid``."""
    value = rows[0].get("company_ids") if rows else None
    if not isinstance(value, list) or not all(isinstance(item, int) for item in value):
        raise OdooBadResponse(f"Odoo at {host} returned no company_ids for user {uid}.")
    return value
