"""Synconics `restapi` data routes under `/restapi/1.0/object/<model>`.

Each query parameter is a Python literal (`domain=[('active','in',[True,False])]`,
`fields=['name']`, `order='id asc'`, `context={'active_test': False}`, `ids=1,2`), read
here with `ast.literal_eval`. Quirks kept from the add-on:

- the result is wrapped in an object under a key derived from the model (its description,
  such as "Lead/Opportunity");
- one match comes back as a bare object, not a one-element list;
- zero matches return `404 {"code": 404, "message": "Record not found"}`;
- JSON needs `Accept: application/json`; other requests get XML;
- a request without a token is redirected to `/web/login`; a bad or expired token gets
  `401 {"code": 401, "message": "Access Token Invalid"}`.
"""

from __future__ import annotations

import ast
import logging
from xml.sax.saxutils import escape, quoteattr

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import web_login
from sandbox.exceptions import AccessError, MissingError, OdooError
from sandbox.http import json_response
from sandbox.oauth import store

logger = logging.getLogger(__name__)

BASE_PATH = "/restapi/1.0/object"
# Odoo's model descriptions, which the add-on uses as the wrapping key.
MODEL_KEYS = {
    "crm.lead": "Lead/Opportunity",
    "crm.stage": "CRM Stages",
    "crm.tag": "CRM Tag",
    "crm.team": "Sales Team",
    "crm.lost.reason": "Opp. Lost Reason",
    "res.users": "User",
    "res.partner": "Contact",
    "res.company": "Companies",
}
# NOTE: only `search` is documented among these; the add-on's routes for the others are
# inferred from its "Calling Methods" documentation.
METHODS = ("search", "search_count", "fields_get", "context_get")


def rules() -> list[Rule]:
    return [
        Rule(f"{BASE_PATH}/<string:model>", endpoint=search_read, methods=["GET"]),
        Rule(f"{BASE_PATH}/<string:model>/<int:record_id>", endpoint=read_one, methods=["GET"]),
        Rule(f"{BASE_PATH}/<string:model>/<string:method>", endpoint=call_method, methods=["GET", "POST"]),
    ]


class BadParameter(ValueError):
    """A parameter that is not a Python literal of the expected type."""


def literal(request: Request, name: str, expected: type | tuple[type, ...], default=None):
    """Return a parameter read as a Python literal (never evaluated as code)."""
    raw = request.values.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise BadParameter(f"Invalid parameter {name}: {raw!r} is not a Python literal.") from None
    allowed = expected if isinstance(expected, tuple) else (expected,)
    # bool is a subclass of int, so True must not pass for an integer parameter.
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise BadParameter(f"Invalid parameter {name}: {raw!r} is not of the expected type.")
    return value


def _ids(request: Request) -> list[int] | None:
    value = literal(request, "ids", (int, tuple, list))
    if value is None:
        return None
    ids = [value] if isinstance(value, int) else list(value)
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
        raise BadParameter("Invalid parameter ids: expected comma-separated record ids.")
    return ids


def _wrap_key(model: str) -> str:
    return MODEL_KEYS.get(model, model)


def _to_xml(tag: str, value) -> str:
    if isinstance(value, dict):
        inner = "".join(_to_xml(str(key), item) for key, item in value.items())
        return f"<{tag} type=\"dict\">{inner}</{tag}>"
    if isinstance(value, list):
        inner = "".join(_to_xml("item", item) for item in value)
        return f"<{tag} type=\"list\">{inner}</{tag}>"
    kind = type(value).__name__
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = escape(str(value))
    return f"<{tag} type={quoteattr(kind)}>{text}</{tag}>"


def respond(request: Request, model: str, result) -> Response:
    """Wrap a result under the model key, with the add-on's one-match and no-match quirks."""
    if isinstance(result, list):
        if not result:
            return json_response({"code": 404, "message": "Record not found"}, status=404)
        if len(result) == 1:
            result = result[0]
    if "json" not in request.headers.get("Accept", "").lower():
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + _to_xml(model, result)
        return Response(body, content_type="application/xml; charset=utf-8")
    return json_response({_wrap_key(model): result})


def _error(status: int, message: str) -> Response:
    return json_response({"code": status, "message": message}, status=status)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.values.get("access_token") or None


def _data_route(handler):
    """Wrap a data handler with counting, failure injection, token checks and error bodies."""

    def route(sandbox, request: Request, model: str, **arguments) -> Response:
        sandbox.stats.increment("data_requests")
        injected = sandbox.faults.data_failure()
        if injected is not None:
            return injected
        token = _bearer(request)
        if token is None:
            # The route is declared auth='user', so Odoo sends a visitor without a token to log in.
            sandbox.stats.increment("data_401")
            return web_login.redirect_to_login(request)
        try:
            with sandbox.db.snapshot() as connection:
                grant = store.find_access_token(connection, token, sandbox.oauth_now())
                if grant is None:
                    sandbox.stats.increment("data_401")
                    return _error(401, "Access Token Invalid")
                context = literal(request, "context", dict, {})
                env = sandbox.user_env(connection, grant.user_id, context)
                return respond(request, model, handler(env[model], request, **arguments))
        except AccessError as error:
            return _error(403, error.message)
        except MissingError as error:
            return _error(404, error.message)
        except (ValueError, OdooError) as error:
            logger.info("Synconics data request on %s failed: %s", model, error)
            return _error(400, str(error))

    route.__name__ = handler.__name__
    return route


def _search_arguments(request: Request) -> dict:
    domain = list(literal(request, "domain", (list, tuple), []))
    ids = _ids(request)
    if ids is not None:
        domain = ["&", ("id", "in", ids), *domain] if domain else [("id", "in", ids)]
    return {
        "domain": domain,
        "offset": literal(request, "offset", int, 0),
        "limit": literal(request, "limit", int, None),
        "order": literal(request, "order", str, None),
    }


@_data_route
def search_read(records, request: Request) -> list[dict]:
    fields = literal(request, "fields", (list, tuple), None)
    return records.search_read(fields=list(fields) if fields else None, **_search_arguments(request))


@_data_route
def read_one(records, request: Request, record_id: int) -> list[dict]:
    fields = literal(request, "fields", (list, tuple), None)
    return records.read([record_id], list(fields) if fields else None)


@_data_route
def call_method(records, request: Request, method: str):
    if method not in METHODS:
        raise MissingError(f"Method {method!r} is not available on {records.spec.name!r} in the sandbox.")
    if method == "search":
        return records.search(**_search_arguments(request))
    if method == "search_count":
        return records.search_count(_search_arguments(request)["domain"])
    if method == "fields_get":
        return records.fields_get(literal(request, "attributes", (list, tuple), None))
    env = records.env
    row = env.connection.execute("SELECT company_id FROM res_users WHERE id = ?", (env.uid,)).fetchone()
    return {"lang": "en_US", "tz": "Europe/Brussels", "uid": env.uid, "company_id": row[0] if row else False}
