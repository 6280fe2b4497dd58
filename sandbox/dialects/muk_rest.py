"""MuK REST data routes: search_read, search, read and call, authenticated by OAuth bearer tokens.

Parameters travel as JSON-encoded values in the query string (GET), in a form body, or
as a JSON object body (POST). Responses are bare JSON values in Odoo's read() shapes.
"""

from __future__ import annotations

import json
import logging

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.exceptions import AccessError, MissingError, OdooError, odoo_name_of
from sandbox.http import error_body, json_response, request_json
from sandbox.oauth import store

logger = logging.getLogger(__name__)

BASE_PATH = "/api/v2"


def rules() -> list[Rule]:
    methods = ["GET", "POST"]
    return [
        Rule(f"{BASE_PATH}/search_read/<string:model>", endpoint=search_read, methods=methods),
        Rule(f"{BASE_PATH}/search/<string:model>", endpoint=search, methods=methods),
        Rule(f"{BASE_PATH}/read/<string:model>", endpoint=read, methods=methods),
        Rule(f"{BASE_PATH}/call/<string:model>/<string:method>", endpoint=call, methods=["POST"]),
    ]


class BadParameter(ValueError):
    """A request parameter that is missing or not valid JSON."""


class Parameters:
    """Request parameters, each JSON-decoded, from a JSON body, a form body or the query string."""

    def __init__(self, request: Request):
        self._json_body = None
        if request.method == "POST" and request.mimetype == "application/json":
            body = request_json(request)
            if body is not None and not isinstance(body, dict):
                raise BadParameter("Invalid JSON body: expected an object of parameters.")
            self._json_body = body or {}
        self._values = request.values

    def get(self, name: str, default=None, plain_string: bool = False):
        """Return a decoded parameter; with `plain_string` a value that is not JSON is kept as text."""
        if self._json_body is not None and name in self._json_body:
            value = self._json_body[name]
            if not isinstance(value, str):
                return value
        elif name in self._values:
            value = self._values[name]
        else:
            return default
        try:
            return json.loads(value)
        except ValueError:
            if plain_string:
                return value
            raise BadParameter(f"Invalid parameter {name!r}: {value!r} is not valid JSON.") from None

    def context(self) -> dict:
        context = self.get("with_context")
        if context is None:
            context = self.get("context")
        if context is None:
            return {}
        if not isinstance(context, dict):
            raise BadParameter(f"Invalid parameter 'with_context': {context!r} is not a JSON object.")
        return context

    def integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is None or value is False:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadParameter(f"Invalid parameter {name!r}: {value!r} is not an integer.")
        return value


def _unauthorized(sandbox, message: str) -> Response:
    sandbox.stats.increment("data_401")
    return json_response(
        error_body("werkzeug.exceptions.Unauthorized", message),
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="odoo", error="invalid_token"'},
    )


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    # oauthlib also reads the token from an access_token parameter.
    return request.values.get("access_token")


def _error_response(error: Exception) -> Response:
    if isinstance(error, AccessError):
        status = 403
    elif isinstance(error, MissingError):
        status = 404
    elif isinstance(error, (ValueError, OdooError)):
        status = 400
    else:
        status = 500
    return json_response(error_body(odoo_name_of(error), str(error)), status=status)


def _data_route(handler):
    """Wrap a data handler with counting, failure injection, bearer authentication and errors."""

    def route(sandbox, request: Request, model: str, **arguments) -> Response:
        sandbox.stats.increment("data_requests")
        injected = sandbox.faults.data_failure()
        if injected is not None:
            return injected
        token = _bearer_token(request)
        if token is None:
            return _unauthorized(sandbox, "Missing access token: send an Authorization: Bearer header.")
        try:
            parameters = Parameters(request)
            with sandbox.db.snapshot() as connection:
                grant = store.validate_access_token(connection, token, sandbox.oauth_now())
                if grant is None:
                    return _unauthorized(sandbox, "Invalid or expired access token.")
                user_id, _client_id, _scope = grant
                env = sandbox.user_env(
                    connection, user_id, parameters.context(), with_company=parameters.integer("with_company")
                )
                records = env[model]
                return json_response(handler(records, parameters, **arguments))
        except (ValueError, OdooError) as error:
            logger.info("Data request on %s failed: %s", model, error)
            return _error_response(error)

    route.__name__ = handler.__name__
    return route


def _search_arguments(parameters: Parameters) -> dict:
    return {
        "domain": parameters.get("domain", []),
        "offset": parameters.integer("offset") or 0,
        "limit": parameters.integer("limit"),
        "order": parameters.get("order", plain_string=True),
    }


@_data_route
def search_read(records, parameters: Parameters) -> list[dict]:
    return records.search_read(fields=parameters.get("fields"), **_search_arguments(parameters))


@_data_route
def search(records, parameters: Parameters) -> list[int] | int:
    arguments = _search_arguments(parameters)
    if parameters.get("count", plain_string=True) in (True, "true", "True", 1, "1"):
        return records.search_count(arguments["domain"])
    return records.search(**arguments)


def _ids(parameters: Parameters) -> list[int]:
    ids = parameters.get("ids", [], plain_string=True)
    if isinstance(ids, str):
        try:
            ids = [int(part) for part in ids.split(",") if part.strip()]
        except ValueError:
            raise BadParameter(f"Invalid parameter 'ids': {ids!r} is not a list of ids.") from None
    if isinstance(ids, int) and not isinstance(ids, bool):
        ids = [ids]
    if not isinstance(ids, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
        raise BadParameter(f"Invalid parameter 'ids': {ids!r} is not a list of ids.")
    return ids


@_data_route
def read(records, parameters: Parameters) -> list[dict]:
    return records.read(_ids(parameters), parameters.get("fields"))


# Methods callable through /api/v2/call; the sandbox has no other public model methods.
CALLABLE_METHODS = ("search_read", "search", "search_count", "read", "fields_get", "context_get")


@_data_route
def call(records, parameters: Parameters, method: str) -> object:
    if method not in CALLABLE_METHODS:
        raise MissingError(f"Method {method!r} does not exist on model {records.spec.name!r} in the sandbox.")
    args = parameters.get("args", [])
    kwargs = parameters.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise BadParameter("Invalid parameters: 'args' must be a JSON list and 'kwargs' a JSON object.")
    kwargs = {name: value for name, value in kwargs.items() if name != "context"}
    if method == "context_get":
        return _context_get(records)
    if method == "read":
        return records.read(_ids(parameters) or (args[0] if args else []), *args[1:], **kwargs)
    if method == "fields_get":
        return records.fields_get(*args, **kwargs)
    try:
        return getattr(records, method)(*args, **kwargs)
    except TypeError as error:
        raise BadParameter(f"Invalid arguments for {method}: {error}.") from None


def _context_get(records) -> dict:
    env = records.env
    row = env.connection.execute("SELECT company_id FROM res_users WHERE id = ?", (env.uid,)).fetchone()
    return {"lang": "en_US", "tz": "Europe/Brussels", "uid": env.uid, "company_id": row[0] if row else False}
