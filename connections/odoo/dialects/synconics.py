"""Synconics "Odoo REST API" (``restapi``) data routes under ``/restapi/1.0/object/<model>``.

The add-on reads every query parameter as a Python literal, so values are
written with ``repr`` of plain Python values (``[('active', 'in', [True, False])]``),
never JSON. Its responses wrap the result in an object under one key derived
from the model, give a single match as a bare object instead of a list, and
return zero matches as ``404 {"code": 404, "message": "Record not found"}``.
A request without a token is redirected to ``/web/login``.
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import OdooAccessDenied, OdooBadResponse, OdooRequestRejected
from ..transport import json_body
from .base import Domain, OdooDataClient

logger = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "record not found"


def python_literal(value: Any) -> str:
    """Return ``value`` written as a Python literal that ``ast.literal_eval`` reads back.

    Only str, int, finite float, bool, None, list, tuple and dict with such keys and
    values are accepted. Anything else raises TypeError, so no object's own ``repr``,
    which could be arbitrary text, reaches the server.
    """
    _check_literal(value)
    return repr(value)


def _check_literal(value: Any) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{value!r} has no Python literal form.")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_literal(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_literal(key)
            _check_literal(item)
        return
    raise TypeError(f"A {type(value).__name__} cannot be sent as a Python literal.")


class SynconicsClient(OdooDataClient):
    key = "synconics"
    api_path = "/restapi/1.0/object"

    def search_read(
        self,
        model: str,
        *,
        domain: Domain,
        fields: list[str],
        order: str,
        limit: int,
        offset: int = 0,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        params = {
            "domain": python_literal(domain),
            "fields": python_literal(list(fields)),
            "order": python_literal(order),
            "limit": python_literal(limit),
            "offset": python_literal(offset),
            "context": python_literal(context or {}),
        }
        result = self._get(model, "", params, "search_read")
        rows = [result] if isinstance(result, dict) else result
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise OdooBadResponse(f"Odoo at {self.host} returned search_read on {model} with something other than records.")
        return rows

    def search_ids(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> list[int]:
        params = {"domain": python_literal(domain), "order": python_literal("id asc"), "context": python_literal(context or {})}
        result = self._get(model, "/search", params, "search")
        ids = [result] if isinstance(result, int) else result
        if not isinstance(ids, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
            raise OdooBadResponse(f"Odoo at {self.host} returned search on {model} with something other than ids.")
        return ids

    def search_count(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> int:
        # The add-on documents no count route, so the ids are listed and counted.
        return len(self.search_ids(model, domain=domain, context=context))

    def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        # NOTE: the route of a method call is inferred from the add-on's "Calling Methods"
        # documentation and has not been seen on a live server.
        params = {"attributes": python_literal(["string", "type", "relation"])}
        result = self._get(model, "/fields_get", params, "fields_get")
        if not isinstance(result, dict):
            raise OdooBadResponse(f"Odoo at {self.host} returned fields_get on {model} with something other than an object.")
        return result

    def current_user(self) -> dict[str, Any]:
        """Return the consumer's user and its companies.

        NOTE: ``res.users/context_get`` goes through the inferred method-call route. When
        the server rejects it, the user is reported unknown with no companies, so reads
        cover the user's current company only.
        """
        try:
            context = self._get("res.users", "/context_get", {}, "context_get")
        except OdooRequestRejected as error:
            logger.warning("synconics.context_get_unavailable host=%s status=%s", self.host, error.status)
            return {"uid": None, "company_ids": []}
        uid = context.get("uid") if isinstance(context, dict) else None
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise OdooBadResponse(f"Odoo at {self.host} returned context_get without a user id.")
        rows = self.search_read("res.users", domain=[("id", "=", uid)], fields=["company_ids"], order="id asc", limit=1)
        company_ids = rows[0].get("company_ids") if rows else None
        if not isinstance(company_ids, list):
            raise OdooBadResponse(f"Odoo at {self.host} returned no company_ids for user {uid}.")
        return {"uid": uid, "company_ids": company_ids}

    def _get(self, model: str, suffix: str, params: dict[str, str], operation: str) -> Any:
        """Send a GET and return the unwrapped result; zero matches return an empty list."""
        url = f"{self.base_url}{self.api_path}/{model}{suffix}"
        response = self._authorized_request("GET", url, params=params, headers={"Accept": "application/json"})
        if response.is_redirect:
            location = urlsplit(response.headers.get("Location", "")).path or "another page"
            raise OdooBadResponse(
                f"Odoo at {self.host} redirected {operation} on {model} to {location}.", status=response.status_code
            )
        body = json_body(response, self.host)
        if response.status_code == 200:
            return _unwrap(body, self.host, operation, model)
        message = _message(body)
        if response.status_code == 404 and message.lower().rstrip(".") == NOT_FOUND_MESSAGE:
            return []
        if response.status_code == 403:
            raise OdooAccessDenied(f"Odoo at {self.host} denied {operation} on {model}: {message}", status=403)
        raise OdooRequestRejected(
            f"Odoo at {self.host} rejected {operation} on {model} (HTTP {response.status_code}): {message}",
            status=response.status_code,
        )

    def _is_rejection(self, response: requests.Response) -> bool:
        # A bad or expired token gets 401, and a request without a token is redirected
        # to the login page.
        if response.status_code == 401:
            return True
        if response.is_redirect:
            return urlsplit(response.headers.get("Location", "")).path.rstrip("/").endswith("/web/login")
        return False


def _unwrap(body: Any, host: str, operation: str, model: str) -> Any:
    """Return the value under the one key the add-on wraps results in (``records`` in newer versions)."""
    if isinstance(body, dict):
        if isinstance(body.get("records"), list):
            return body["records"]
        if len(body) == 1:
            return next(iter(body.values()))
    raise OdooBadResponse(f"Odoo at {host} returned {operation} on {model} without the single wrapping key.")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return "no message"
