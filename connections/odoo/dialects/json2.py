"""Odoo's JSON-2 API (``POST /json/2/<model>/<method>``, Odoo 19 and Online saas~18.4 on).

The API key is the bearer; every argument goes by name in a JSON object and the response body is
the bare return value. Errors are classified by HTTP status first. Bodies are parsed only
when they are JSON, because proxies and Odoo's own HTTP stack answer some errors with HTML,
and builds before 19.0 returned some as a bare JSON string instead of an error object.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from .apikey import ApiKeyProvider, redact
from ..errors import (
    OdooAccessDenied,
    OdooBadResponse,
    OdooConflict,
    OdooCredentialsRejected,
    OdooMissingRecord,
    OdooRequestRejected,
    OdooUnauthorized,
)
from ..transport import is_json, json_body, parse_retry_after
from . import results
from .base import Domain, OdooDataClient

logger = logging.getLogger(__name__)

FIELD_ATTRIBUTES = ["string", "type", "relation", "selection"]
MAX_MESSAGE = 500
ACCESS_ERROR = "odoo.exceptions.AccessError"
MISSING_ERROR = "odoo.exceptions.MissingError"
# Words of a 403 that is about the missing or refused bearer (early 19.0), not about record access.
REJECTION_HINTS = ("unauthorized", "authorization", "bearer", "apikey", "api key", "session", "accessdenied")


class Json2Client(OdooDataClient):
    key = "json2"
    credentials: ApiKeyProvider

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
        body = {"domain": domain, "fields": fields, "order": order, "limit": limit, "offset": offset, "context": context or {}}
        return results.records(self.call(model, "search_read", body), self.host, f"search_read on {model}")

    def search_ids(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> list[int]:
        body = {"domain": domain, "order": "id asc", "context": context or {}}
        return results.ids(self.call(model, "search", body), self.host, f"search on {model}")

    def search_count(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> int:
        body = {"domain": domain, "context": context or {}}
        return results.count(self.call(model, "search_count", body), self.host, f"search_count on {model}")

    def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        result = self.call(model, "fields_get", {"attributes": FIELD_ATTRIBUTES})
        return results.mapping(result, self.host, f"fields_get on {model}")

    def current_user(self) -> dict[str, Any]:
        context = results.mapping(self.call("res.users", "context_get", {}), self.host, "context_get on res.users")
        uid = context.get("uid")
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise OdooBadResponse(f"Odoo at {self.host} returned context_get without a user id.")
        rows = results.records(
            self.call("res.users", "read", {"ids": [uid], "fields": ["company_ids"]}), self.host, "read on res.users"
        )
        return {"uid": uid, "company_ids": results.company_ids(rows, self.host, uid)}

    def call(self, model: str, method: str, body: dict[str, Any]) -> Any:
        """POST one call; a refused key is renewed once when staff stored another, then rejected."""
        url = f"{self.base_url}/json/2/{model}/{method}"
        headers = {"Content-Type": "application/json"}
        if self.database:
            headers["X-Odoo-Database"] = self.database
        try:
            response = self._authorized_request("POST", url, json=body, headers=headers)
        except OdooCredentialsRejected:
            raise
        except OdooUnauthorized as error:
            # The base class retried once with a renewed key, and Odoo refused that one too.
            raise self.credentials.reject(self.credentials.api_key(), error.message) from None
        return self._decode(response, f"{model}/{method}")

    def _is_rejection(self, response: requests.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code != 403:
            return False
        name, message, _debug = _error_parts(response)
        if name == ACCESS_ERROR:
            return False
        text = f"{name} {message}".lower()
        return any(hint in text for hint in REJECTION_HINTS)

    def _decode(self, response: requests.Response, call: str) -> Any:
        status = response.status_code
        if response.is_redirect:
            raise OdooBadResponse(
                f"Odoo at {self.host} redirected {call} (HTTP {status}) instead of running it.", status=status
            )
        if status == 200:
            return json_body(response, self.host)

        name, message, debug = _error_parts(response)
        secret = self._current_key()
        message = redact(message, secret)[:MAX_MESSAGE]
        logger.warning(
            "odoo.json2_error host=%s call=%s status=%s name=%s traceback=%s",
            self.host,
            call,
            status,
            name or "unknown",
            redact(debug, secret) if debug else "none",
        )
        text = f"Odoo at {self.host} rejected {call} with HTTP {status} ({name or 'no error name'}): {message}"
        if status == 403:
            raise OdooAccessDenied(text, status=status)
        if status == 404 and name == MISSING_ERROR:
            raise OdooMissingRecord(text, status=status)
        if status == 404:
            raise OdooRequestRejected(
                f"{text}. The model or method does not exist, or this server has no JSON-2 API (Odoo before 19): "
                "choose the JSON-RPC data API.",
                status=status,
            )
        if status == 409:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise OdooConflict(text, status=status, retry_after=retry_after)
        # 400, 415 and 422 reject a request this site built wrong, or a value Odoo does not accept.
        logger.error("odoo.json2_request_rejected host=%s call=%s status=%s name=%s", self.host, call, status, name)
        raise OdooRequestRejected(text, status=status)

    def _current_key(self) -> str | None:
        try:
            return self.credentials.api_key()
        except OdooCredentialsRejected:
            return None


def _error_parts(response: requests.Response) -> tuple[str, str, str]:
    """Return the name, message and traceback of an error response. Bodies that are not JSON are not parsed."""
    if not is_json(response):
        content_type = response.headers.get("Content-Type", "no content type").split(";")[0]
        return "", f"a {content_type} body", ""
    try:
        body = response.json()
    except ValueError:
        return "", "invalid JSON", ""
    if isinstance(body, str):
        return "", body, ""
    if not isinstance(body, dict):
        return "", "no message", ""
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    message = body.get("message") if isinstance(body.get("message"), str) else ""
    debug = body.get("debug") if isinstance(body.get("debug"), str) else ""
    return name, message or "no message", debug
