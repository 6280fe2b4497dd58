"""Odoo 19's JSON-2 API: `POST /json/2/<model>/<method>` with an API key as the bearer.

The body is a JSON object of named arguments plus `ids` and `context`; the response is the
bare return value. Errors carry an HTTP status and the body
`{"name", "message", "arguments", "context", "debug"}`. Before Odoo 19 the route does not
exist and the server returns its HTML 404 page.
"""

from __future__ import annotations

import json
import logging
import re

from werkzeug.exceptions import NotFound, UnsupportedMediaType
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import apikeys
from sandbox.dialects import native
from sandbox.exceptions import AccessError, MissingError, OdooError, UserError, ValidationError
from sandbox.http import json_response

logger = logging.getLogger(__name__)

FIRST_VERSION = 19
# Seconds in the Retry-After header of the queued 503_retry_after failure.
QUEUED_RETRY_AFTER = 30
BEARER = re.compile(r"^bearer\s+(\S+)\s*$", re.IGNORECASE)
MISSING_BEARER = 'User not authenticated: send the API key in an "Authorization: bearer" header.'

# HTTP status of each Odoo exception, as Odoo 19's JSON-2 dispatcher sets it.
STATUS_BY_ERROR = (
    (native.AccessDenied, 403),
    (AccessError, 403),
    (MissingError, 404),
    (native.LockError, 409),
    (ValidationError, 422),
    (UserError, 422),
)

# Errors served by the json2_fail_next switch after the bearer key was accepted.
QUEUED_ERRORS = {
    "access_error": lambda: AccessError("You are not allowed to access 'Lead/Opportunity' (crm.lead) records."),
    "missing_error": lambda: MissingError("Record does not exist or has been deleted."),
    "lock_error": lambda: native.LockError("A concurrent update holds a lock on these records."),
    "validation_error": lambda: ValidationError("The operation cannot be completed: a constraint failed."),
    "user_error": lambda: UserError("The operation cannot be completed."),
    "server_error": lambda: KeyError("crm.lead"),
}


def rules() -> list[Rule]:
    # No method restriction: Odoo's route takes every method and rejects the others itself.
    return [Rule("/json/2/<string:model>/<string:method>", endpoint=json2)]


def error_response(error: Exception, status: int) -> Response:
    """Return Odoo's JSON-2 error body for an exception."""
    return json_response(native.error_data(error), status=status)


def _http_error(name: str, message: str, status: int, headers: dict | None = None) -> Response:
    """Return the JSON-2 body of a werkzeug HTTP exception such as NotFound."""
    return json_response(native.describe(f"werkzeug.exceptions.{name}", message), status=status, headers=headers)


def _unauthorized(sandbox, message: str) -> Response:
    sandbox.stats.increment("native_errors", "werkzeug.exceptions.Unauthorized")
    return _http_error("Unauthorized", message, 401, headers={"WWW-Authenticate": "bearer"})


def json2(sandbox, request: Request, model: str, method: str) -> Response:
    native.count_cookies(sandbox, request)
    version = sandbox.settings.odoo_version
    if version < FIRST_VERSION:
        return NotFound().get_response()
    sandbox.stats.increment("json2_calls", f"{model}/{method}")
    if request.method != "POST":
        return _http_error("NotFound", f"{request.method} is not served on JSON-2 routes; use POST.", 404)
    if request.mimetype != "application/json":
        return UnsupportedMediaType(f"Expected Content-Type application/json, got {request.mimetype or 'none'}.").get_response()

    rejected = _check_bearer(sandbox, request)
    if isinstance(rejected, Response):
        return rejected
    uid = rejected

    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return _http_error("BadRequest", "The request body is not valid JSON.", 400)
    if not isinstance(body, dict):
        return _http_error("BadRequest", "The request body must be a JSON object of named arguments.", 400)

    injected = sandbox.faults.data_failure()
    if injected is not None:
        return injected
    queued = sandbox.settings.pop_next("json2_fail_next")
    if queued is not None:
        return _serve_queued(sandbox, queued)
    return _call(sandbox, uid, model, method, body)


def _check_bearer(sandbox, request: Request) -> int | Response:
    """Return the uid of the bearer key, or the 401 (or early-19.0 403) response."""
    match = BEARER.match(request.headers.get("Authorization", ""))
    if match is None:
        status = sandbox.settings.json2_missing_bearer_status
        if status == 403:
            sandbox.stats.increment("native_errors", "werkzeug.exceptions.Unauthorized")
            return _http_error("Unauthorized", MISSING_BEARER, 403)
        return _unauthorized(sandbox, MISSING_BEARER)
    apikeys.ensure_tables(sandbox.db)
    with sandbox.db.snapshot() as connection:
        uid = apikeys.user_id_for_key(connection, match.group(1), version=sandbox.settings.odoo_version)
    if uid is None:
        return _unauthorized(sandbox, "Invalid apikey")
    return uid


def _serve_queued(sandbox, kind: str) -> Response:
    if kind == "429":
        return sandbox.faults.build("429", "json2")
    if kind == "503_retry_after":
        response = sandbox.faults.build("503_html", "json2")
        response.headers["Retry-After"] = str(QUEUED_RETRY_AFTER)
        return response
    sandbox.stats.increment("failures_injected", kind)
    if kind == "invalid_apikey":
        return _unauthorized(sandbox, "Invalid apikey")
    if kind == "missing_bearer_403":
        return _http_error("Unauthorized", MISSING_BEARER, 403)
    if kind == "not_found":
        return _http_error("NotFound", "The model or method does not exist.", 404)
    if kind == "unprocessable":
        return _http_error("UnprocessableEntity", "search_read() got an unexpected keyword argument 'args'", 422)
    if kind == "bare_string":
        # Builds before 19.0 returned some errors as a bare JSON string.
        return json_response("missing a required argument: 'domain'", status=422)
    error = QUEUED_ERRORS[kind]()
    return error_response(error, _status_of(error))


def _status_of(error: Exception) -> int:
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 500


def _call(sandbox, uid: int, model: str, method: str, body: dict) -> Response:
    version = sandbox.settings.odoo_version
    arguments = dict(body)
    ids = arguments.pop("ids", None)
    context = arguments.pop("context", None) or {}
    try:
        with sandbox.db.snapshot() as connection:
            env = sandbox.user_env(connection, uid, context if isinstance(context, dict) else {})
            spec = native.method_spec(env, model, method, version)
            if ids and not spec.on_records:
                raise native.ArgumentError(f"{model}.{method} is a model method and cannot take ids")
            native.bind(method, spec, [], arguments)
            result = native.invoke(env, model, method, ids or [], arguments)
    except (native.UnknownModel, native.UnknownMethod) as error:
        return _http_error("NotFound", str(error), 404)
    except native.ArgumentError as error:
        return _http_error("UnprocessableEntity", str(error), 422)
    except (OdooError, ValueError, TypeError, KeyError) as error:
        sandbox.stats.increment("native_errors", native.error_data(error)["name"])
        logger.info("JSON-2 call %s/%s failed: %s", model, method, error)
        return error_response(error, _status_of(error))
    return json_response(result)
