"""Model methods and credential checks shared by Odoo's native APIs: JSON-RPC and JSON-2.

Both APIs call a public model method by name. JSON-RPC's `execute_kw` passes positional
`args` and keyword `kwargs` (the context travels inside the kwargs); JSON-2 passes every
argument by name and the record ids as `ids`. Arguments are bound to the method's signature
in Odoo, so an unknown, duplicate or missing argument fails the same way in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from sandbox import apikeys
from sandbox.exceptions import AccessError, OdooError, odoo_name_of
from sandbox.orm import Env, Model


class AccessDenied(OdooError):
    """A wrong login, password or key, or a login refused during the cooldown."""

    odoo_name = "odoo.exceptions.AccessDenied"


class LockError(OdooError):
    odoo_name = "odoo.exceptions.LockError"


class UnknownModel(LookupError):
    """The model does not exist in the emulated version."""


class UnknownMethod(LookupError):
    """The method does not exist on the model, or the sandbox does not emulate it."""


class ArgumentError(TypeError):
    """Arguments that do not fit the method's signature."""


@dataclass(frozen=True)
class MethodSpec:
    """The parameters of one model method, in Odoo's order, after `self` (and the ids)."""

    parameters: tuple[str, ...]
    required: tuple[str, ...] = ()
    # Record methods (read) take ids; model methods (search_read) reject them.
    on_records: bool = False
    # Models the method exists on; None means every model.
    models: tuple[str, ...] | None = None


# The read-only methods the sandbox emulates. Odoo's other methods are rejected as unknown.
METHODS = {
    "search_read": MethodSpec(("domain", "fields", "offset", "limit", "order", "load")),
    "search": MethodSpec(("domain", "offset", "limit", "order"), required=("domain",)),
    "search_count": MethodSpec(("domain", "limit"), required=("domain",)),
    "read": MethodSpec(("fields", "load"), on_records=True),
    "fields_get": MethodSpec(("allfields", "attributes")),
    "context_get": MethodSpec((), models=("res.users",)),
}
# Odoo 16's search still had the `count` parameter that 17 removed.
SEARCH_16 = MethodSpec(("domain", "offset", "limit", "order", "count"), required=("domain",))


def method_spec(env: Env, model: str, method: str, version: int) -> MethodSpec:
    """Return the method's parameters; raise for unknown models and methods and for private methods."""
    if model not in env.models:
        raise UnknownModel(f"Model {model!r} does not exist.")
    if method.startswith("_"):
        raise AccessError(f"Private methods such as {model}.{method} cannot be called remotely.")
    spec = SEARCH_16 if method == "search" and version <= 16 else METHODS.get(method)
    if spec is None or (spec.models is not None and model not in spec.models):
        raise UnknownMethod(f"Model {model!r} has no method {method!r} in the sandbox.")
    return spec


def bind(method: str, spec: MethodSpec, positional: list, keywords: dict) -> dict:
    """Bind arguments as Python binds them to the method's signature; raise ArgumentError otherwise."""
    if len(positional) > len(spec.parameters):
        raise ArgumentError(
            f"{method}() takes {len(spec.parameters)} positional arguments but {len(positional)} were given"
        )
    bound = dict(zip(spec.parameters, positional))
    for name, value in keywords.items():
        if name not in spec.parameters:
            raise ArgumentError(f"{method}() got an unexpected keyword argument {name!r}")
        if name in bound:
            raise ArgumentError(f"{method}() got multiple values for argument {name!r}")
        bound[name] = value
    missing = [name for name in spec.required if name not in bound]
    if missing:
        raise ArgumentError(f"{method}() missing required argument {missing[0]!r}")
    return bound


def invoke(env: Env, model: str, method: str, ids: list, arguments: dict) -> object:
    """Run a bound method as the environment's user and return its result in Odoo's shapes."""
    records = env[model]
    if method == "search_read":
        rows = records.search_read(
            arguments.get("domain") or [],
            fields=arguments.get("fields") or None,
            offset=arguments.get("offset") or 0,
            limit=arguments.get("limit"),
            order=arguments.get("order"),
        )
        return _apply_load(records, rows, arguments.get("load", "_classic_read"))
    if method == "search":
        if arguments.get("count"):
            return records.search_count(arguments["domain"])
        return records.search(
            arguments["domain"],
            offset=arguments.get("offset") or 0,
            limit=arguments.get("limit"),
            order=arguments.get("order"),
        )
    if method == "search_count":
        count = records.search_count(arguments["domain"])
        limit = arguments.get("limit")
        return min(count, limit) if limit else count
    if method == "read":
        rows = records.read(_record_ids(ids), arguments.get("fields") or None)
        return _apply_load(records, rows, arguments.get("load", "_classic_read"))
    if method == "fields_get":
        descriptions = records.fields_get(arguments.get("attributes") or None)
        wanted = arguments.get("allfields")
        return {name: value for name, value in descriptions.items() if not wanted or name in wanted}
    if method == "context_get":
        return {"lang": "en_US", "tz": "Europe/Brussels", "uid": env.uid}
    raise UnknownMethod(f"Model {model!r} has no method {method!r} in the sandbox.")


def _record_ids(ids: object) -> list[int]:
    if isinstance(ids, int) and not isinstance(ids, bool):
        return [ids]
    if not isinstance(ids, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
        raise ValueError(f"Invalid ids {ids!r}: expected a list of record ids.")
    return ids


def _apply_load(records: Model, rows: list[dict], load: object) -> list[dict]:
    """Return many2one values as bare ids when `load` is not "_classic_read", as read() does."""
    if load == "_classic_read":
        return rows
    many2one = [name for name, field in records.spec.fields.items() if field.type == "many2one"]
    for row in rows:
        for name in many2one:
            if isinstance(row.get(name), list):
                row[name] = row[name][0]
    return rows


def error_data(error: Exception) -> dict:
    """Return Odoo's description of an exception: name, message, arguments, context and debug."""
    name = odoo_name_of(error)
    if isinstance(error, ArgumentError):
        name = "builtins.TypeError"
    elif isinstance(error, UnknownModel):
        name = "odoo.exceptions.UserError"
    elif isinstance(error, UnknownMethod):
        name = "builtins.AttributeError"
    return describe(name, str(error.args[0]) if error.args else "")


def describe(name: str, message: str) -> dict:
    """Return an error description; `debug` stands in for the traceback, as the sandbox has no Odoo frames."""
    return {
        "name": name,
        "debug": f"Traceback (most recent call last):\n  (frames of the Odoo sandbox)\n{name}: {message}\n",
        "message": message,
        "arguments": [message],
        "context": {},
    }


def count_cookies(sandbox, request: Request) -> None:
    """Count requests that carry cookies: clients of the native APIs need none."""
    if request.cookies:
        sandbox.stats.increment("requests_with_cookies")


def cooldown(sandbox, connection, request: Request) -> apikeys.LoginCooldown:
    settings = sandbox.settings
    return apikeys.LoginCooldown(
        connection,
        request.remote_addr or "unknown",
        after=settings.login_cooldown_after,
        duration=settings.login_cooldown_duration,
    )
