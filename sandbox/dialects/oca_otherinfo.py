"""OCA `oauth_provider` data routes: `/oauth2/otherinfo`, and the scopes that shape every response.

An OCA scope is a model, a saved filter and a field list. `/oauth2/otherinfo?model=crm.lead`
returns one JSON object keyed by record id, merging what each of the token's scopes on that
model allows. There is no domain, paging or ordering: every call is a full snapshot, read
as the token's user (record rules and the user's current company apply). Many2one values
come back as display names only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.exceptions import OdooError
from sandbox.http import json_response
from sandbox.oauth import store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scope:
    """One `oauth.provider.scope` record: the code clients request and what it lets them read."""

    code: str
    name: str
    description: str
    model: str
    # The saved filter's domain; an empty list matches every record the user may read.
    domain: tuple
    fields: tuple[str, ...]


# Fields of crm.lead that exist in every emulated version (16 to 19).
LEAD_SCOPE_FIELDS = (
    "name", "type", "active", "stage_id", "probability", "expected_revenue", "priority", "user_id",
    "team_id", "partner_id", "partner_name", "contact_name", "email_from", "phone", "city", "country_id",
    "tag_ids", "date_deadline", "date_closed", "lost_reason_id", "company_id", "create_date", "write_date",
)

# Every OCA client registered in the sandbox is allowed all of these scopes.
SCOPES = (
    Scope(
        code="crm_leads",
        name="CRM leads",
        description="Read your leads and opportunities, lost ones included.",
        model="crm.lead",
        # The saved filter names `active`, so archived (lost) leads are part of the snapshot.
        domain=(("active", "in", [True, False]),),
        fields=LEAD_SCOPE_FIELDS,
    ),
    Scope(
        code="crm_stages",
        name="CRM stages",
        description="Read the pipeline stages and which of them are won.",
        model="crm.stage",
        domain=(),
        fields=("name", "sequence", "is_won"),
    ),
    Scope(
        code="crm_tags",
        name="CRM tags",
        description="Read the lead tags.",
        model="crm.tag",
        domain=(),
        fields=("name", "color"),
    ),
    Scope(
        code="user_profile",
        name="Your profile",
        description="Read your name, login, email and companies.",
        model="res.users",
        domain=(),
        fields=("name", "login", "email", "company_id", "company_ids"),
    ),
)
SCOPE_CODES = tuple(scope.code for scope in SCOPES)


def scopes_of(codes: str | None) -> list[Scope]:
    """Return the scopes named in a space-separated list of codes, unknown codes left out."""
    wanted = set((codes or "").split())
    return [scope for scope in SCOPES if scope.code in wanted]


def data_for_model(sandbox, connection, uid: int, scope_codes: str | None, model: str, res_id: int | None = None):
    """Return what the scopes allow on `model`, keyed by record id, as OCA's get_data_for_model does.

    With `res_id` only that record's values are returned, or {} when no scope reaches it.
    """
    data: dict[int, dict] = {}
    env = sandbox.user_env(connection, uid)
    for scope in scopes_of(scope_codes):
        if scope.model != model:
            continue
        domain = [list(leaf) for leaf in scope.domain]
        if res_id is not None:
            domain.append(["id", "=", res_id])
        for row in env[model].search_read(domain, fields=list(scope.fields), order="id asc"):
            values = data.setdefault(row["id"], {})
            for name, value in row.items():
                # Odoo's read() gives a many2one as (id, name); the add-on keeps only the name.
                values[name] = value[1] if _is_many2one(env, model, name, value) else value
    if res_id is not None:
        return data.get(res_id, {})
    return data


def _is_many2one(env, model: str, name: str, value) -> bool:
    field = env.models[model].fields.get(name)
    return field is not None and field.type == "many2one" and isinstance(value, list)


def bearer_or_parameter(request: Request) -> str | None:
    """Return the access token from `Authorization: Bearer` or the `access_token` parameter."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.values.get("access_token") or None


def invalid_token(sandbox) -> Response:
    sandbox.stats.increment("data_401")
    return json_response({"error": "invalid_or_expired_token"}, status=401)


def rules() -> list[Rule]:
    return [Rule("/oauth2/otherinfo", endpoint=otherinfo, methods=["GET"])]


def otherinfo(sandbox, request: Request) -> Response:
    """Return the snapshot of `model` that the token's scopes allow."""
    sandbox.stats.increment("data_requests")
    injected = sandbox.faults.data_failure()
    if injected is not None:
        return injected
    model = request.args.get("model")
    with sandbox.db.snapshot() as connection:
        grant = store.find_access_token(connection, bearer_or_parameter(request), sandbox.oauth_now())
        if grant is None:
            return invalid_token(sandbox)
        if model not in sandbox.models:
            return json_response({"error": "invalid_model"}, status=400)
        try:
            data = data_for_model(sandbox, connection, grant.user_id, grant.scope, model)
        except (ValueError, OdooError) as error:
            logger.info("otherinfo on %s failed: %s", model, error)
            return json_response({"error": "invalid_request"}, status=400)
    return json_response(data)
