"""MuK REST (``muk_rest``) data routes: ``/api/v2/search_read/<model>`` and friends."""

from __future__ import annotations

import json
from typing import Any

import requests

from ..errors import OdooAccessDenied, OdooBadResponse, OdooRequestRejected
from ..transport import json_body
from . import results
from .base import Domain, OdooDataClient


class MukRestClient(OdooDataClient):
    key = "muk_rest"
    api_path = "/api/v2"

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
            "domain": json.dumps(domain),
            "fields": json.dumps(fields),
            "order": order,
            "limit": str(limit),
            "offset": str(offset),
            "with_context": json.dumps(context or {}),
        }
        return results.records(self._call("search_read", model, params), self.host, f"search_read on {model}")

    def search_ids(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> list[int]:
        params = {"domain": json.dumps(domain), "with_context": json.dumps(context or {}), "order": "id asc"}
        return results.ids(self._call("search", model, params), self.host, f"search on {model}")

    def search_count(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> int:
        params = {"domain": json.dumps(domain), "with_context": json.dumps(context or {}), "count": "true"}
        return results.count(self._call("search", model, params), self.host, f"search_count on {model}")

    def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        attributes = ["string", "type", "relation"]
        result = self._call("call", f"{model}/fields_get", {"args": "[]", "kwargs": json.dumps({"attributes": attributes})})
        return results.mapping(result, self.host, f"fields_get on {model}")

    def current_user(self) -> dict[str, Any]:
        context = self._call("call", "res.users/context_get", {"args": "[]", "kwargs": "{}"})
        uid = context.get("uid") if isinstance(context, dict) else None
        if not isinstance(uid, int):
            raise OdooBadResponse(f"Odoo at {self.host} returned context_get without a user id.")
        rows = self.search_read(
            "res.users", domain=[("id", "=", uid)], fields=["company_ids"], order="id asc", limit=1
        )
        return {"uid": uid, "company_ids": results.company_ids(rows, self.host, uid)}

    def _call(self, route: str, model: str, params: dict[str, str]) -> Any:
        url = f"{self.base_url}{self.api_path}/{route}/{model}"
        headers = {"DATABASE": self.database} if self.database else {}
        response = self._authorized_request("POST", url, data=params, headers=headers)
        return self._decode(response, route, model)

    def _decode(self, response: requests.Response, route: str, model: str) -> Any:
        if response.is_redirect:
            # Odoo sends an unauthenticated browser to /web/login.
            location = response.headers.get("Location", "")
            raise OdooBadResponse(
                f"Odoo at {self.host} redirected {route} on {model} to {location.split('?')[0] or 'another page'}.",
                status=response.status_code,
            )
        body = json_body(response, self.host)
        if response.status_code == 200:
            return body
        detail = _error_message(body)
        if response.status_code == 403:
            raise OdooAccessDenied(
                f"Odoo at {self.host} denied {route} on {model}: {detail}", status=response.status_code
            )
        raise OdooRequestRejected(
            f"Odoo at {self.host} rejected {route} on {model} (HTTP {response.status_code}): {detail}",
            status=response.status_code,
        )

    def _is_rejection(self, response: requests.Response) -> bool:
        # MuK rejects an invalid or expired bearer with 401, and some builds
        # with 403 and an "invalid token" message.
        if response.status_code == 401:
            return True
        if response.status_code == 403:
            try:
                message = _error_message(response.json()).lower()
            except ValueError:
                return False
            return "token" in message
        return False


def _error_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        nested = body.get("error")
        if isinstance(nested, dict):
            return str(nested.get("message") or nested.get("name") or "no message")
    if isinstance(body, str):
        return body
    return "no message"
