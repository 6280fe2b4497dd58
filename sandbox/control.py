"""Control API under `/__sandbox__/`: test back door to the data, switches, stats and clients.

It acts as Odoo's superuser (no record rules, archived leads included) and speaks JSON.
"""

from __future__ import annotations

import logging

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import apikeys, crm
from sandbox.exceptions import MissingError, OdooError, odoo_name_of
from sandbox.http import error_body, json_response, request_json
from sandbox.oauth import store

logger = logging.getLogger(__name__)

PREFIX = "/__sandbox__"
# Largest `count` accepted by POST /__sandbox__/seed in one request.
MAX_SEED_COUNT = 1_000_000


def rules() -> list[Rule]:
    return [
        Rule(f"{PREFIX}/leads", endpoint=list_leads, methods=["GET"]),
        Rule(f"{PREFIX}/leads", endpoint=create_lead, methods=["POST"]),
        Rule(f"{PREFIX}/leads/<int:lead_id>", endpoint=get_lead, methods=["GET"]),
        Rule(f"{PREFIX}/leads/<int:lead_id>", endpoint=write_lead, methods=["PATCH"]),
        Rule(f"{PREFIX}/leads/<int:lead_id>", endpoint=delete_lead, methods=["DELETE"]),
        Rule(f"{PREFIX}/leads/<int:lead_id>/lose", endpoint=lose_lead, methods=["POST"]),
        Rule(f"{PREFIX}/leads/<int:lead_id>/restore", endpoint=restore_lead, methods=["POST"]),
        Rule(f"{PREFIX}/leads/<int:lead_id>/win", endpoint=win_lead, methods=["POST"]),
        Rule(f"{PREFIX}/seed", endpoint=seed, methods=["POST"]),
        Rule(f"{PREFIX}/reset", endpoint=reset, methods=["POST"]),
        Rule(f"{PREFIX}/config", endpoint=get_config, methods=["GET"]),
        Rule(f"{PREFIX}/config", endpoint=update_config, methods=["POST"]),
        Rule(f"{PREFIX}/stats", endpoint=get_stats, methods=["GET"]),
        Rule(f"{PREFIX}/stats/reset", endpoint=reset_stats, methods=["POST"]),
        Rule(f"{PREFIX}/oauth-clients", endpoint=list_clients, methods=["GET"]),
        Rule(f"{PREFIX}/oauth-clients", endpoint=register_client, methods=["POST"]),
        Rule(f"{PREFIX}/tokens", endpoint=list_tokens, methods=["GET"]),
        Rule(f"{PREFIX}/tokens/expire", endpoint=expire_tokens, methods=["POST"]),
        Rule(f"{PREFIX}/last-authorization", endpoint=last_authorization, methods=["GET"]),
        Rule(f"{PREFIX}/api-keys", endpoint=list_api_keys, methods=["GET"]),
        Rule(f"{PREFIX}/api-keys", endpoint=create_api_key, methods=["POST"]),
        Rule(f"{PREFIX}/api-keys/<int:key_id>", endpoint=update_api_key, methods=["PATCH"]),
        Rule(f"{PREFIX}/api-keys/<int:key_id>", endpoint=delete_api_key, methods=["DELETE"]),
    ]


def _bad_request(error: Exception) -> Response:
    status = 404 if isinstance(error, MissingError) else 400
    return json_response(error_body(odoo_name_of(error), str(error)), status=status)


def _body(request: Request) -> dict:
    body = request_json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("Invalid JSON body: expected an object.")
    return body


def _controlled(handler):
    """Turn ORM and validation errors of a control handler into JSON 400 / 404 responses."""

    def route(sandbox, request: Request, **arguments) -> Response:
        try:
            return handler(sandbox, request, **arguments)
        except (ValueError, OdooError) as error:
            logger.info("Control request %s %s failed: %s", request.method, request.path, error)
            return _bad_request(error)

    route.__name__ = handler.__name__
    return route


def _read_lead(sandbox, connection, lead_id: int) -> dict:
    records = sandbox.env(connection)["crm.lead"].read([lead_id])
    if not records:
        raise MissingError(f"Lead {lead_id} does not exist.")
    return records[0]


# Leads


@_controlled
def list_leads(sandbox, request: Request) -> Response:
    """Return every lead, archived included, with every field of the current version, by id."""
    fields = request.args.get("fields")
    with sandbox.db.snapshot() as connection:
        env = sandbox.env(connection, context={"active_test": False})
        records = env["crm.lead"].search_read(
            [], fields=fields.split(",") if fields else None, order="id asc"
        )
    return json_response(records)


@_controlled
def get_lead(sandbox, request: Request, lead_id: int) -> Response:
    with sandbox.db.snapshot() as connection:
        return json_response(_read_lead(sandbox, connection, lead_id))


@_controlled
def create_lead(sandbox, request: Request) -> Response:
    values = _body(request)
    with sandbox.db.transaction() as connection:
        lead_id = sandbox.env(connection)["crm.lead"].create(values)
        record = _read_lead(sandbox, connection, lead_id)
    return json_response(record, status=201)


@_controlled
def write_lead(sandbox, request: Request, lead_id: int) -> Response:
    values = _body(request)
    with sandbox.db.transaction() as connection:
        sandbox.env(connection)["crm.lead"].write([lead_id], values)
        record = _read_lead(sandbox, connection, lead_id)
    return json_response(record)


@_controlled
def delete_lead(sandbox, request: Request, lead_id: int) -> Response:
    with sandbox.db.transaction() as connection:
        sandbox.env(connection)["crm.lead"].unlink([lead_id])
    return json_response({"deleted": lead_id})


def _lead_action(action):
    @_controlled
    def route(sandbox, request: Request, lead_id: int) -> Response:
        body = _body(request)
        with sandbox.db.transaction() as connection:
            env = sandbox.env(connection)
            if not env["crm.lead"].exists([lead_id]):
                raise MissingError(f"Lead {lead_id} does not exist.")
            action(env, lead_id, body)
            record = _read_lead(sandbox, connection, lead_id)
        return json_response(record)

    route.__name__ = action.__name__
    return route


@_lead_action
def lose_lead(env, lead_id: int, body: dict) -> None:
    crm.mark_lost(env, lead_id, body.get("lost_reason_id"), body.get("write_date"))


@_lead_action
def restore_lead(env, lead_id: int, body: dict) -> None:
    crm.restore(env, lead_id, body.get("write_date"))


@_lead_action
def win_lead(env, lead_id: int, body: dict) -> None:
    crm.mark_won(env, lead_id, body.get("write_date"))


# Data set


@_controlled
def seed(sandbox, request: Request) -> Response:
    count = _body(request).get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_SEED_COUNT:
        raise ValueError(f"Invalid count {count!r}: expected an integer between 1 and {MAX_SEED_COUNT}.")
    first_id, last_id = sandbox.add_leads(count)
    return json_response({"created": count, "first_id": first_id, "last_id": last_id})


@_controlled
def reset(sandbox, request: Request) -> Response:
    sandbox.reset()
    return json_response({"reset": True})


# Switches, stats, OAuth


def get_config(sandbox, request: Request) -> Response:
    return json_response(sandbox.settings.as_dict())


@_controlled
def update_config(sandbox, request: Request) -> Response:
    switches = sandbox.settings.update(_body(request))
    logger.info("Switches changed: %s", sorted(_body(request)))
    return json_response(switches)


def get_stats(sandbox, request: Request) -> Response:
    return json_response(sandbox.stats.snapshot())


def reset_stats(sandbox, request: Request) -> Response:
    sandbox.stats.reset()
    return json_response(sandbox.stats.snapshot())


def list_clients(sandbox, request: Request) -> Response:
    with sandbox.db.snapshot() as connection:
        clients = store.list_clients(connection)
    return json_response([client.public() for client in clients])


@_controlled
def register_client(sandbox, request: Request) -> Response:
    body = _body(request)
    known = {"client_id", "client_secret", "redirect_uris", "preset", "skip_authorization", "name", "grant_types"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(f"Unknown client attributes {unknown}: use {sorted(known)}.")
    with sandbox.db.transaction() as connection:
        client = store.save_client(
            connection,
            client_id=body.get("client_id"),
            client_secret=body.get("client_secret", ""),
            redirect_uris=body.get("redirect_uris", []),
            preset=body.get("preset", "muk"),
            skip_authorization=body.get("skip_authorization", False),
            name=body.get("name"),
            grant_types=body.get("grant_types"),
        )
    return json_response(client.public(), status=201)


def list_tokens(sandbox, request: Request) -> Response:
    with sandbox.db.snapshot() as connection:
        return json_response(store.token_overview(connection, sandbox.oauth_now()))


def expire_tokens(sandbox, request: Request) -> Response:
    with sandbox.db.transaction() as connection:
        expired = store.expire_access_tokens(connection, sandbox.oauth_now())
    return json_response({"expired_access_tokens": expired})


def last_authorization(sandbox, request: Request) -> Response:
    return json_response(sandbox.last_authorization())


# API keys


def list_api_keys(sandbox, request: Request) -> Response:
    apikeys.ensure_tables(sandbox.db)
    with sandbox.db.snapshot() as connection:
        return json_response([key.public() for key in apikeys.list_keys(connection)])


@_controlled
def create_api_key(sandbox, request: Request) -> Response:
    """Create a key as the user would under Preferences > Account Security; the value is returned only here."""
    body = _body(request)
    known = {"login", "name", "scope", "expiration_date"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(f"Unknown API key attributes {unknown}: use {sorted(known)}.")
    apikeys.ensure_tables(sandbox.db)
    with sandbox.db.transaction() as connection:
        key, value = apikeys.create_key(
            connection,
            login=body.get("login"),
            version=sandbox.settings.odoo_version,
            name=body.get("name"),
            scope=body.get("scope"),
            expiration_date=body.get("expiration_date"),
        )
    logger.info("API key %d created for %s", key.id, key.login)
    return json_response({**key.public(), "key": value}, status=201)


@_controlled
def update_api_key(sandbox, request: Request, key_id: int) -> Response:
    body = _body(request)
    if set(body) != {"expiration_date"}:
        raise ValueError("Invalid API key change: send only {\"expiration_date\": ...}.")
    apikeys.ensure_tables(sandbox.db)
    with sandbox.db.transaction() as connection:
        apikeys.set_expiration(connection, key_id, body["expiration_date"])
        key = next(key for key in apikeys.list_keys(connection) if key.id == key_id)
    return json_response(key.public())


@_controlled
def delete_api_key(sandbox, request: Request, key_id: int) -> Response:
    apikeys.ensure_tables(sandbox.db)
    with sandbox.db.transaction() as connection:
        apikeys.delete_key(connection, key_id)
    return json_response({"deleted": key_id})
