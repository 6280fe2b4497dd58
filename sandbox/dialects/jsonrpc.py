"""Odoo's JSON-RPC endpoint `POST /jsonrpc`: services `common` (version, login) and `object` (execute_kw).

Errors come with HTTP 200 inside the JSON-RPC envelope. Their `code` is 200 ("Odoo Server
Error") up to Odoo 18 and 0 from Odoo 19, 100 for an expired session; clients must classify
them by `data.name`. A login that fails, also during the login cooldown, is not an error:
`authenticate` returns false.
"""

from __future__ import annotations

import json
import logging

from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import apikeys
from sandbox.dialects import native
from sandbox.exceptions import AccessError, MissingError, OdooError, UserError, ValidationError
from sandbox.http import json_response
from sandbox.models import version_info

logger = logging.getLogger(__name__)

JSON_MIMETYPES = ("application/json", "application/json-rpc")
# The first version whose dispatcher rejects a wrong Content-Type with 415 instead of a plain-text 400.
# NOTE: known for 16 (400) and 19 (415); 17 and 18 are assumed to follow their neighbours.
UNSUPPORTED_MEDIA_TYPE_FROM = 18


class SessionExpired(OdooError):
    odoo_name = "odoo.http.SessionExpiredException"


# Errors served by the jsonrpc_fail_next switch, as the object call would raise them.
QUEUED_ERRORS = {
    "session_expired": lambda: SessionExpired("Session expired"),
    "access_error": lambda: AccessError("You are not allowed to access 'Lead/Opportunity' (crm.lead) records."),
    "access_denied": lambda: native.AccessDenied("Access Denied"),
    "validation_error": lambda: ValidationError("The operation cannot be completed: a constraint failed."),
    "user_error": lambda: UserError("The operation cannot be completed."),
    "missing_error": lambda: MissingError("Record does not exist or has been deleted."),
    "server_error": lambda: KeyError("crm.lead"),
}


def rules() -> list[Rule]:
    return [Rule("/jsonrpc", endpoint=jsonrpc, methods=["POST"])]


class RpcError(Exception):
    """An error to send in the JSON-RPC envelope."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


class InjectedResponse(Exception):
    """A whole HTTP response that replaces the JSON-RPC response, such as a proxy's 503 page."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def jsonrpc(sandbox, request: Request) -> Response:
    native.count_cookies(sandbox, request)
    version = sandbox.settings.odoo_version
    if request.mimetype not in JSON_MIMETYPES:
        description = f"Expected a JSON-RPC request with Content-Type application/json, got {request.mimetype or 'none'}."
        if version >= UNSUPPORTED_MEDIA_TYPE_FROM:
            return UnsupportedMediaType(description).get_response()
        return Response(description, status=400, content_type="text/plain; charset=utf-8")
    try:
        payload = json.loads(request.get_data())
    except ValueError:
        return BadRequest("The request body is not valid JSON.").get_response()
    if not isinstance(payload, dict):
        return BadRequest("The request body must be a JSON-RPC object.").get_response()

    request_id = payload.get("id")
    try:
        result = _dispatch(sandbox, request, payload.get("params"))
    except RpcError as failure:
        return _error_response(request_id, failure.error, version)
    except InjectedResponse as injected:
        return injected.response
    body = {"jsonrpc": "2.0", "id": request_id}
    if result is not None:
        body["result"] = result
    return json_response(body)


def _error_response(request_id: object, error: Exception, version: int) -> Response:
    data = native.error_data(error)
    if isinstance(error, SessionExpired):
        code, message = 100, "Odoo Session Expired"
    else:
        code, message = (0 if version >= 19 else 200), "Odoo Server Error"
    return json_response({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message, "data": data}})


def _dispatch(sandbox, request: Request, params: object) -> object:
    if not isinstance(params, dict):
        raise RpcError(TypeError("params must be an object with service, method and args"))
    service, method, args = params.get("service"), params.get("method"), params.get("args", [])
    if not isinstance(args, list):
        raise RpcError(TypeError("args must be a list"))
    key = f"{service}.{method}"
    sandbox.stats.increment("jsonrpc_calls", key)
    if service == "common":
        return _common(sandbox, request, method, args)
    if service == "object":
        return _object(sandbox, request, method, args)
    raise RpcError(KeyError(f"Unknown service {service!r}"))


# Service common


def _common(sandbox, request: Request, method: object, args: list) -> object:
    version = sandbox.settings.odoo_version
    if method == "version":
        info = version_info(version)
        return {
            "server_version": info["version"],
            "server_version_info": info["version_info"],
            "server_serie": info["version"],
            "protocol_version": 1,
        }
    if method in ("authenticate", "login"):
        expected = 4 if method == "authenticate" else 3
        if len(args) != expected:
            raise RpcError(TypeError(f"{method}() takes {expected} arguments ({len(args)} given)"))
        return authenticate(sandbox, request, login=args[1], secret=args[2]) or False
    raise RpcError(KeyError(f"exp_{method}"))


def authenticate(sandbox, request: Request, *, login: object, secret: object) -> int | None:
    """Return the uid for a login and a password or API key; None when refused, cooldown included."""
    apikeys.ensure_tables(sandbox.db)
    version = sandbox.settings.odoo_version
    with sandbox.db.transaction() as connection:
        cooldown = native.cooldown(sandbox, connection, request)
        if cooldown.active():
            sandbox.stats.increment("login_cooldown_refusals")
            logger.info("Login of %r refused: login cooldown for %s", login, request.remote_addr)
            return None
        uid = apikeys.user_id_for_login(connection, login)
        if uid is None or not apikeys.check_credentials(connection, uid, secret, version=version):
            cooldown.record_failure()
            sandbox.stats.increment("login_failures")
            return None
        cooldown.clear()
        return uid


# Service object


def _object(sandbox, request: Request, method: object, args: list) -> object:
    if method == "execute_kw":
        if not 5 <= len(args) <= 7:
            raise RpcError(TypeError(f"execute_kw() takes from 5 to 7 arguments ({len(args)} given)"))
        _db, uid, secret, model, model_method = args[:5]
        positional = args[5] if len(args) > 5 else []
        keywords = args[6] if len(args) > 6 and args[6] is not None else {}
    elif method == "execute":
        if len(args) < 5:
            raise RpcError(TypeError(f"execute() takes at least 5 arguments ({len(args)} given)"))
        _db, uid, secret, model, model_method = args[:5]
        positional, keywords = list(args[5:]), {}
    else:
        raise RpcError(NameError(f"Method not available {method}"))
    if not isinstance(positional, list) or not isinstance(keywords, dict):
        raise RpcError(TypeError("execute_kw() needs args as a list and kwargs as an object"))
    if not isinstance(model, str) or not isinstance(model_method, str):
        raise RpcError(TypeError("execute_kw() needs the model and the method as strings"))

    _check_user(sandbox, request, uid, secret)
    injected = sandbox.faults.data_failure()
    if injected is not None:
        raise InjectedResponse(injected)
    queued = sandbox.settings.pop_next("jsonrpc_fail_next")
    if queued is not None:
        _serve_queued(sandbox, queued)
    return _call(sandbox, uid, model, model_method, positional, dict(keywords))


def _check_user(sandbox, request: Request, uid: object, secret: object) -> None:
    """Check the uid and its password or key; Odoo 16 also applies the login cooldown here."""
    apikeys.ensure_tables(sandbox.db)
    version = sandbox.settings.odoo_version
    valid_uid = isinstance(uid, int) and not isinstance(uid, bool)
    if version > 16:
        with sandbox.db.snapshot() as connection:
            if valid_uid and apikeys.check_credentials(connection, uid, secret, version=version):
                return
        raise RpcError(native.AccessDenied("Access Denied"))
    with sandbox.db.transaction() as connection:
        cooldown = native.cooldown(sandbox, connection, request)
        if cooldown.active():
            sandbox.stats.increment("login_cooldown_refusals")
            raise RpcError(native.AccessDenied("Too many failed logins from this address; wait and try again."))
        if valid_uid and apikeys.check_credentials(connection, uid, secret, version=version):
            cooldown.clear()
            return
        cooldown.record_failure()
        sandbox.stats.increment("login_failures")
    raise RpcError(native.AccessDenied("Access Denied"))


def _serve_queued(sandbox, kind: str):
    if kind in ("503_html", "429"):
        raise InjectedResponse(sandbox.faults.build(kind, "jsonrpc"))
    sandbox.stats.increment("failures_injected", kind)
    error = QUEUED_ERRORS[kind]()
    sandbox.stats.increment("native_errors", native.error_data(error)["name"])
    raise RpcError(error)


def _call(sandbox, uid: int, model: str, method: str, positional: list, keywords: dict) -> object:
    version = sandbox.settings.odoo_version
    context = keywords.pop("context", None) or {}
    try:
        with sandbox.db.snapshot() as connection:
            env = sandbox.user_env(connection, uid, context if isinstance(context, dict) else {})
            spec = native.method_spec(env, model, method, version)
            ids: list = []
            if spec.on_records:
                if not positional:
                    raise native.ArgumentError(f"{method}() missing required argument 'ids'")
                ids, positional = positional[0], positional[1:]
            arguments = native.bind(method, spec, positional, keywords)
            return native.invoke(env, model, method, ids, arguments)
    except (OdooError, LookupError, ValueError, TypeError) as error:
        sandbox.stats.increment("native_errors", native.error_data(error)["name"])
        logger.info("JSON-RPC call %s.%s failed: %s", model, method, error)
        raise RpcError(error) from None
