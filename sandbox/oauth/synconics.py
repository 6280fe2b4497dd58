"""Synconics "Odoo REST API" (`restapi`) OAuth 2.0 server: authorize, access_token and version.

Where it departs from RFC 6749:

- A consumer (client) belongs to one Odoo user. Authorize needs an Odoo web login, and a
  logged-in user other than the owner gets `401 "Invalid User"`.
- The token endpoint reads `client_id` and `client_secret` from the form body or the query
  string only: HTTP Basic is ignored. It does not compare `redirect_uri`.
- A token response has `access_token_validity` (1800 seconds) instead of `expires_in`, and
  no `scope`. The refresh token is one static value per consumer: never rotated, never
  expired.
- Errors are `{"code": N, "message": "..."}` objects.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox import web_login
from sandbox.demo_data import ADMIN_ID
from sandbox.http import json_response, request_json
from sandbox.oauth import generic, store
from sandbox.oauth.muk import NO_STORE, with_query
from sandbox.oauth.store import OAuthClient, OAuthError

logger = logging.getLogger(__name__)

PRESET = "synconics"
BASE_PATH = "/restapi/1.0/common"
# The add-on's access tokens live 30 minutes; a shorter access_token_lifetime switch wins.
ACCESS_TOKEN_VALIDITY = 1800
# Consumers registered without an owner belong to Mitchell Admin.
DEFAULT_OWNER_ID = ADMIN_ID

_CONSUMER_TABLE = (
    "CREATE TABLE IF NOT EXISTS synconics_consumer (client_id TEXT PRIMARY KEY, user_id INTEGER NOT NULL)"
)


def rules() -> list[Rule]:
    return [
        Rule(f"{BASE_PATH}/oauth2/authorize", endpoint=authorize, methods=["GET"]),
        Rule(f"{BASE_PATH}/oauth2/access_token", endpoint=access_token, methods=["POST"]),
        Rule(f"{BASE_PATH}/version", endpoint=version, methods=["GET"]),
        Rule("/__sandbox__/synconics/consumer-owner", endpoint=set_consumer_owner, methods=["POST"]),
    ]


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    return json_response({"code": status, "message": message}, status=status, headers=headers)


# Consumers


def consumer_owner(connection: sqlite3.Connection, client_id: str) -> int:
    """Return the id of the user owning a consumer; a consumer without a recorded owner is the admin's."""
    try:
        row = connection.execute("SELECT user_id FROM synconics_consumer WHERE client_id = ?", (client_id,)).fetchone()
    except sqlite3.OperationalError:
        # The table is created on the first owner change; until then every consumer is the admin's.
        return DEFAULT_OWNER_ID
    return row[0] if row else DEFAULT_OWNER_ID


def static_refresh_token(client: OAuthClient) -> str:
    """Return the consumer's one refresh token, derived from its secret so it never changes."""
    return hmac.new(client.client_secret.encode(), f"restapi-refresh:{client.client_id}".encode(), hashlib.sha256).hexdigest()


def set_consumer_owner(sandbox, request: Request) -> Response:
    """Control API: `{"client_id", "login"}` makes that user the owner of the consumer."""
    try:
        body = request_json(request) or {}
    except ValueError as error:
        return json_response({"error": str(error)}, status=400)
    client_id, login_name = body.get("client_id"), body.get("login")
    with sandbox.db.transaction() as connection:
        client = store.get_client(connection, client_id)
        user = connection.execute("SELECT id FROM res_users WHERE login = ?", (login_name,)).fetchone()
        if client is None or client.preset != PRESET or user is None:
            return json_response(
                {"error": f"Unknown Synconics consumer {client_id!r} or login {login_name!r}."}, status=400
            )
        connection.execute(_CONSUMER_TABLE)
        connection.execute(
            "INSERT INTO synconics_consumer (client_id, user_id) VALUES (?, ?)"
            " ON CONFLICT (client_id) DO UPDATE SET user_id = excluded.user_id",
            (client_id, user[0]),
        )
    return json_response({"client_id": client_id, "user_id": user[0]})


# Authorize


def authorize(sandbox, request: Request) -> Response:
    """Issue a code to the consumer's owner once logged in; there is no consent page."""
    session = web_login.current_session(sandbox, request)
    if session is None:
        return web_login.redirect_to_login(request)
    sandbox.stats.increment("authorize_requests")
    parameters = {name: request.args.get(name) for name in generic.AUTHORIZE_PARAMETERS}
    generic.record_authorize_request(sandbox, request, parameters)

    with sandbox.db.transaction() as connection:
        client = store.get_client(connection, parameters["client_id"])
        # NOTE: the add-on's answers to an unknown consumer, a bad redirect URI and a bad
        # response type are not documented; these JSON errors are inferred.
        if client is None or client.preset != PRESET:
            return error_response(401, "Invalid Credentials.")
        if consumer_owner(connection, client.client_id) != session.uid:
            logger.info("Authorize: user %d does not own consumer %s", session.uid, client.client_id)
            return error_response(401, "Invalid User")
        target = generic.registered_redirect(client, parameters["redirect_uri"])
        if target is None:
            return error_response(400, "Invalid Redirect URI.")
        if parameters["response_type"] != "code":
            return error_response(400, "Invalid Response Type.")
        code = store.issue_code(
            connection,
            client,
            parameters["redirect_uri"],
            session.uid,
            None,
            parameters["state"],
            parameters["code_challenge"],
            parameters["code_challenge_method"],
            sandbox.oauth_now(),
        )
    sandbox.stats.increment("authorizations_granted")
    return redirect(with_query(target, [("code", code), ("state", parameters["state"])]))


# Token


def _grant(sandbox, request: Request, grant_type: str | None) -> dict:
    values = request.values
    lifetime = min(ACCESS_TOKEN_VALIDITY, sandbox.settings.access_token_lifetime)

    def grant(connection, now: float) -> dict:
        try:
            client = store.authenticate_client(connection, values.get("client_id"), values.get("client_secret"))
        except OAuthError:
            raise OAuthError("invalid_client", "Invalid Credentials.", status=401) from None
        if client.preset != PRESET:
            raise OAuthError("invalid_client", "Invalid Credentials.", status=401)
        refresh_token = static_refresh_token(client)
        if grant_type == "authorization_code":
            try:
                user_id, _scope = store.redeem_code(connection, client, values.get("code"), None, now, check_redirect_uri=False)
            except OAuthError as error:
                if error.reason in ("used", "expired"):
                    raise OAuthError("invalid_grant", "Authentication code expired", status=400) from None
                raise OAuthError("invalid_grant", "Invalid Authentication Code.", status=401) from None
        elif grant_type == "refresh_token":
            if not hmac.compare_digest(values.get("refresh_token") or "", refresh_token):
                raise OAuthError("invalid_grant", "Invalid Refresh Token.", status=400)
            user_id = consumer_owner(connection, client.client_id)
        else:
            raise OAuthError("unsupported_grant_type", "Invalid Grant Type.", status=400)
        family_id = f"synconics:{client.client_id}"
        token_value = store.insert_access_token(connection, client.client_id, user_id, None, family_id, lifetime, now)
        return {
            "access_token": token_value,
            "access_token_validity": lifetime,
            "token_type": "Bearer",
            "refresh_token": refresh_token,
        }

    return generic.run_grant(sandbox, grant)


def access_token(sandbox, request: Request) -> Response:
    """Exchange a code or the consumer's refresh token for an access token."""
    client_id = request.values.get("client_id")
    auth = "basic" if request.headers.get("Authorization", "")[:6].lower() == "basic " else "body"
    grant_type = generic.count_token_request(sandbox, request, client_id, auth)
    injected = sandbox.faults.token_failure()
    if injected is not None:
        return injected
    try:
        body = _grant(sandbox, request, grant_type)
    except OAuthError as error:
        sandbox.stats.increment("token_errors", error.error)
        logger.info("Token request failed: %s (grant_type=%s, client_id=%s)", error.description, grant_type, client_id)
        return error_response(error.status, error.description or error.error, headers=NO_STORE)
    return json_response(body, headers=NO_STORE)


def version(sandbox, request: Request) -> Response:
    """Return the server version, shaped like Odoo's common.version()."""
    major = sandbox.settings.odoo_version
    return json_response(
        {
            "server_version": f"{major}.0",
            "server_version_info": [major, 0, 0, "final", 0, ""],
            "server_serie": f"{major}.0",
            "protocol_version": 1,
        }
    )
