"""Odoo's JSON-RPC API (``POST /jsonrpc``, Odoo 14 to 21) with a login and an API key.

``common.authenticate`` turns the login and key into a uid once; the uid is stored on the
credential. Every later call is ``object.execute_kw`` with the key as the password and the
context inside the keyword arguments. Odoo returns errors with HTTP 200 and an error object.
They are classified here by ``data.name`` only, because the code changed from 200 to 0 in Odoo 19.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import requests

from .apikey import ApiKeyProvider, bearer, redact
from ..errors import (
    OdooAccessDenied,
    OdooBadResponse,
    OdooConflict,
    OdooError,
    OdooMissingRecord,
    OdooRequestRejected,
    OdooSessionExpired,
)
from ..transport import json_body, send
from . import results
from .base import Domain, OdooDataClient

logger = logging.getLogger(__name__)

FIELD_ATTRIBUTES = ["string", "type", "relation", "selection"]
# Longest Odoo error message kept for staff; tracebacks go to the log only.
MAX_MESSAGE = 500

SESSION_EXPIRED = "odoo.http.SessionExpiredException"
ACCESS_DENIED = "odoo.exceptions.AccessDenied"
# Odoo exception names and the error each becomes here.
ERRORS_BY_NAME: dict[str, type[OdooError]] = {
    "odoo.exceptions.AccessError": OdooAccessDenied,
    "odoo.exceptions.ValidationError": OdooRequestRejected,
    "odoo.exceptions.UserError": OdooRequestRejected,
    "odoo.exceptions.MissingError": OdooMissingRecord,
    "odoo.exceptions.LockError": OdooConflict,
    "odoo.exceptions.ConcurrencyError": OdooConflict,
    "psycopg2.errors.SerializationFailure": OdooConflict,
    "psycopg2.errors.LockNotAvailable": OdooConflict,
}


class KeyRefused(Exception):
    """``execute_kw`` raised AccessDenied: Odoo no longer accepts the key (or, in 16, the cooldown is on)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JsonRpcClient(OdooDataClient):
    key = "jsonrpc"
    credentials: ApiKeyProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request_ids = itertools.count(1)

    # The data interface

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
        keywords = {"fields": fields, "order": order, "limit": limit, "offset": offset, "context": context or {}}
        result = self.execute(model, "search_read", [domain], keywords)
        return results.records(result, self.host, f"search_read on {model}")

    def search_ids(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> list[int]:
        result = self.execute(model, "search", [domain], {"order": "id asc", "context": context or {}})
        return results.ids(result, self.host, f"search on {model}")

    def search_count(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> int:
        result = self.execute(model, "search_count", [domain], {"context": context or {}})
        return results.count(result, self.host, f"search_count on {model}")

    def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        result = self.execute(model, "fields_get", [], {"attributes": FIELD_ATTRIBUTES})
        return results.mapping(result, self.host, f"fields_get on {model}")

    def current_user(self) -> dict[str, Any]:
        uid = self.uid()
        rows = results.records(
            self.execute("res.users", "read", [[uid], ["company_ids"]], {}), self.host, "read on res.users"
        )
        return {"uid": uid, "company_ids": results.company_ids(rows, self.host, uid)}

    # Authentication

    def uid(self) -> int:
        """Return the stored uid, or authenticate once and store it."""
        uid = self.credentials.cached_uid()
        if uid is not None:
            return uid
        return self.authenticate()

    def authenticate(self) -> int:
        """Call ``common.authenticate``; false means a wrong login or key, or Odoo's login cooldown."""
        api_key = self.credentials.api_key()
        login = self.credentials.login
        result = self._rpc("common", "authenticate", [self.database, login, api_key, {}], secret=api_key)
        if isinstance(result, bool) or not isinstance(result, int):
            raise self.credentials.reject(
                api_key,
                f"Odoo at {self.host} refused the login {login!r} with this API key. Check the login, the "
                "database and the key; after 10 failed logins Odoo also refuses every login from this site "
                "for about a minute.",
            )
        self.credentials.remember_uid(result)
        logger.info("odoo.jsonrpc_authenticated host=%s uid=%s", self.host, result)
        return result

    def execute(self, model: str, method: str, args: list[Any], keywords: dict[str, Any]) -> Any:
        """Call ``object.execute_kw``; a refused key is renewed once when staff stored another."""
        api_key = self.credentials.api_key()
        try:
            return self._execute_as(api_key, model, method, args, keywords)
        except KeyRefused as refused:
            logger.warning("odoo.jsonrpc_key_refused host=%s call=%s.%s", self.host, model, method)
            if not self.credentials.renew_after_rejection(bearer(api_key)):
                raise self.credentials.reject(api_key, refused.message) from None
        api_key = self.credentials.api_key()
        try:
            return self._execute_as(api_key, model, method, args, keywords)
        except KeyRefused as refused:
            raise self.credentials.reject(api_key, refused.message) from None

    def _execute_as(self, api_key: str, model: str, method: str, args: list[Any], keywords: dict[str, Any]) -> Any:
        params = [self.database, self.uid(), api_key, model, method, args, keywords]
        return self._rpc("object", "execute_kw", params, secret=api_key, call=f"{model}.{method}")

    # Transport

    def _rpc(self, service: str, method: str, args: list[Any], *, secret: str, call: str = "") -> Any:
        call = call or f"{service}.{method}"
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._request_ids),
        }
        # No Authorization header: the key travels in the arguments, and the session keeps no cookies.
        response = send(self.session, "POST", f"{self.base_url}/jsonrpc", timeout=self.timeout, json=payload)
        body = self._decode(response, call)
        error = body.get("error")
        if error is not None:
            raise self._error(error, call, secret)
        # Odoo leaves out "result" when the method returned None.
        return body.get("result")

    def _decode(self, response: requests.Response, call: str) -> dict[str, Any]:
        if response.is_redirect:
            raise OdooBadResponse(
                f"Odoo at {self.host} redirected {call} (HTTP {response.status_code}) instead of running it.",
                status=response.status_code,
            )
        if response.status_code == 404:
            raise OdooRequestRejected(
                f"Odoo at {self.host} has no /jsonrpc endpoint (HTTP 404). Check the Odoo URL; on Odoo 19 "
                "choose the JSON-2 data API.",
                status=404,
            )
        if response.status_code != 200:
            # 400 and 415 mean the request itself was malformed: a bug on this side.
            logger.error("odoo.jsonrpc_http_error host=%s call=%s status=%s", self.host, call, response.status_code)
            raise OdooRequestRejected(
                f"Odoo at {self.host} rejected {call} with HTTP {response.status_code}.", status=response.status_code
            )
        body = json_body(response, self.host)
        if not isinstance(body, dict) or ("result" not in body and "error" not in body and "jsonrpc" not in body):
            raise OdooBadResponse(f"Odoo at {self.host} returned something other than a JSON-RPC response for {call}.")
        return body

    def _error(self, error: Any, call: str, secret: str) -> Exception:
        """Turn a JSON-RPC error object into an error of this project, by ``data.name``."""
        data = error.get("data") if isinstance(error, dict) else None
        data = data if isinstance(data, dict) else {}
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        raw_message = data.get("message") or (error.get("message") if isinstance(error, dict) else None)
        message = redact(str(raw_message or "no message"), secret)[:MAX_MESSAGE]
        debug = data.get("debug")
        logger.warning(
            "odoo.jsonrpc_error host=%s call=%s name=%s traceback=%s",
            self.host,
            call,
            name or "unknown",
            redact(debug, secret) if isinstance(debug, str) else "none",
        )
        text = f"Odoo at {self.host} failed {call} with {name or 'an error'}: {message}"
        if name == ACCESS_DENIED:
            return KeyRefused(text)
        if name == SESSION_EXPIRED:
            return OdooSessionExpired(text)
        error_class = ERRORS_BY_NAME.get(name, OdooRequestRejected)
        return error_class(text)
