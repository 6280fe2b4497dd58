"""OCA ``oauth_provider`` data route: ``GET /oauth2/otherinfo?model=<model>``, a snapshot per call.

The add-on returns one JSON object keyed by record id, each value holding the
fields of the token's scopes (a scope is a model, a saved filter and a field
list set up in Odoo). It has no domain, paging or ordering, so every call
returns every record the scopes reach, and many2one values come back as
display names only.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import requests

from ..errors import OdooAccessDenied, OdooBadResponse, OdooRequestRejected
from ..transport import json_body
from .base import Capabilities, Domain, OdooDataClient

logger = logging.getLogger(__name__)

# Many2one fields of crm.lead and res.users, by the model they point to. The snapshot
# gives only their display names, so the type cannot be read from the response.
MANY2ONE_RELATIONS = {
    "stage_id": "crm.stage",
    "user_id": "res.users",
    "team_id": "crm.team",
    "partner_id": "res.partner",
    "country_id": "res.country",
    "state_id": "res.country.state",
    "lang_id": "res.lang",
    "title": "res.partner.title",
    "company_id": "res.company",
    "company_currency": "res.currency",
    "lost_reason_id": "crm.lost.reason",
    "campaign_id": "utm.campaign",
    "medium_id": "utm.medium",
    "source_id": "utm.source",
    "create_uid": "res.users",
    "write_uid": "res.users",
}
# Models that leads reach through a many2one. Their own snapshots are keyed by the same
# synthetic ids, so a stage read from a crm.stage scope matches the leads' stage_id.
SYNTHETIC_ID_MODELS = frozenset(MANY2ONE_RELATIONS.values())


def synthetic_id(relation: str, name: str) -> int:
    """Return a stable negative id standing for the record of ``relation`` named ``name``.

    NOTE: the add-on never sends many2one ids, so stages, salespeople and teams are
    stored under these ids instead: negative so they never meet a real Odoo id, and
    within PostgreSQL's integer range. Two records with the same display name share
    one id, and a renamed record gets a new one.
    """
    digest = hashlib.sha256(f"{relation}\x00{name}".encode()).digest()
    return -(int.from_bytes(digest[:4], "big") % (2**31 - 1)) - 1


class OcaOtherinfoClient(OdooDataClient):
    key = "oca_otherinfo"
    capabilities = Capabilities(domain=False, paging=False, order=False, fields_get=False)

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
        """Return every record the token's scopes reach, with the scopes' fields, by ascending id.

        ``domain``, ``fields``, ``order``, ``limit``, ``offset`` and ``context`` cannot be
        sent to the add-on and are ignored, as ``capabilities`` declares. Records of the
        models in ``SYNTHETIC_ID_MODELS`` (stages, users, teams) carry their synthetic id.
        """
        snapshot = self._snapshot(model)
        return [snapshot[record_id] for record_id in sorted(snapshot)]

    def search_ids(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> list[int]:
        return sorted(self._snapshot(model))

    def search_count(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> int:
        return len(self._snapshot(model))

    def current_user(self) -> dict[str, Any]:
        """Read ``/oauth2/userinfo``; its fields depend on the scopes, so missing ones are tolerated."""
        body = self._get("/oauth2/userinfo", {}, "userinfo")
        if not isinstance(body, dict):
            raise OdooBadResponse(f"Odoo at {self.host} returned userinfo with something other than an object.")
        uid = body.get("id")
        company_ids = body.get("company_ids")
        if not isinstance(company_ids, list) or not all(isinstance(item, int) for item in company_ids):
            company_ids = []
        return {"uid": uid if isinstance(uid, int) and not isinstance(uid, bool) else None, "company_ids": company_ids}

    def _snapshot(self, model: str) -> dict[int, dict[str, Any]]:
        # NOTE: the 12.0 port reads the token only from an access_token query parameter.
        # It is sent as a bearer header here, so it never lands in a logged URL.
        body = self._get("/oauth2/otherinfo", {"model": model}, f"otherinfo on {model}")
        if not isinstance(body, dict):
            raise OdooBadResponse(f"Odoo at {self.host} returned otherinfo on {model} with something other than an object.")
        snapshot: dict[int, dict[str, Any]] = {}
        for key, values in body.items():
            try:
                record_id = int(key)
            except (TypeError, ValueError):
                raise OdooBadResponse(f"Odoo at {self.host} returned otherinfo on {model} with a key that is not a record id.") from None
            if not isinstance(values, dict):
                raise OdooBadResponse(f"Odoo at {self.host} returned otherinfo on {model} with a record that is not an object.")
            name = values.get("name")
            if model in SYNTHETIC_ID_MODELS and isinstance(name, str):
                record_id = synthetic_id(model, name)
            snapshot[record_id] = {**{field: _shape(field, value) for field, value in values.items()}, "id": record_id}
        return snapshot

    def _get(self, path: str, params: dict[str, str], operation: str) -> Any:
        response = self._authorized_request("GET", f"{self.base_url}{path}", params=params)
        if response.is_redirect:
            raise OdooBadResponse(
                f"Odoo at {self.host} redirected {operation} (HTTP {response.status_code}).", status=response.status_code
            )
        body = json_body(response, self.host)
        if response.status_code == 200:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        detail = error if isinstance(error, str) and error else "no error code"
        if response.status_code == 403:
            raise OdooAccessDenied(f"Odoo at {self.host} denied {operation}: {detail}.", status=403)
        raise OdooRequestRejected(
            f"Odoo at {self.host} rejected {operation} (HTTP {response.status_code}): {detail}.",
            status=response.status_code,
        )

    def _is_rejection(self, response: requests.Response) -> bool:
        # An unknown or expired token: 401 {"error": "invalid_or_expired_token"}.
        return response.status_code == 401


def _shape(name: str, value: Any) -> Any:
    """Turn a many2one display name back into Odoo's ``[id, name]`` shape; keep other values."""
    relation = MANY2ONE_RELATIONS.get(name)
    if relation is None or not isinstance(value, str):
        return value
    return [synthetic_id(relation, value), value]
