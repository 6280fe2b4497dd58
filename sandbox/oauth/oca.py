"""OCA `oauth_provider` (SYLEAM / OCA) OAuth 2.0 server: authorize, token, tokeninfo, userinfo, revoke.

Behaviour of the 10.0 module and its ports, where it departs from RFC 6749:

- `/oauth2/authorize` needs an Odoo web session (else `/web/login` first). Its consent page
  has only an Authorize button; a client flagged `skip_authorization` skips the page. A bad
  client, redirect URI, response type or scope gets an Odoo error page, never a redirect.
- `/oauth2/token` finds the client by the `client_id` parameter; without one (HTTP Basic
  alone, as the 10.0 controller reads it) the response is `401 {"error": "invalid_client_id"}`.
  Responses echo the request's `scope` (`null` when none was sent) and add `odoo_user_id`.
- Each refresh issues a new refresh token. The old token row stays, but rows are hidden
  once their access token expired, so a refresh token dies with its access token.
- `/oauth2/revoke_token` answers an unknown or expired token with
  `401 {"error": "invalid_or_expired_token"}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import logging
import math
from urllib.parse import unquote

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox import web_login
from sandbox.dialects import oca_otherinfo
from sandbox.http import html_page, html_response, json_response
from sandbox.oauth import generic, store
from sandbox.oauth.muk import NO_STORE, with_query
from sandbox.oauth.store import OAuthClient, OAuthError

logger = logging.getLogger(__name__)

PRESET = "oca"
# The session key under which the authorize GET keeps the request for the consent POST.
PENDING_KEY = "oca_oauth_credentials"


def rules() -> list[Rule]:
    return [
        Rule("/oauth2/authorize", endpoint=authorize, methods=["GET", "POST"]),
        Rule("/oauth2/token", endpoint=token, methods=["POST"]),
        Rule("/oauth2/tokeninfo", endpoint=tokeninfo, methods=["GET"]),
        Rule("/oauth2/userinfo", endpoint=userinfo, methods=["GET"]),
        Rule("/oauth2/revoke_token", endpoint=revoke_token, methods=["POST"]),
    ]


# Authorize


def _error_page(title: str, message: str) -> Response:
    # Odoo renders the add-on's error template with status 200.
    body = f'<h1>{html.escape(title)}</h1><p class="error">{html.escape(message)}</p>'
    return html_response(html_page("Authorization error | Odoo", body))


def _unknown_client() -> Response:
    return _error_page("Unknown Client Identifier!", "This client identifier is invalid.")


def _consent_page(client: OAuthClient, scopes: list, csrf_token: str) -> Response:
    items = "\n".join(
        f"<li><strong>{html.escape(scope.name)}</strong>: {html.escape(scope.description)}</li>" for scope in scopes
    )
    body = f"""<h1>Authorization</h1>
<p><strong>{html.escape(client.name)}</strong> requests access to:</p>
<ul>{items}</ul>
<form method="post" id="oauth_authorize_form" action="/oauth2/authorize">
<input type="hidden" name="csrf_token" value="{html.escape(csrf_token)}">
<div class="buttons"><button type="submit" name="authorize" id="authorize" value="1">Authorize</button></div>
</form>"""
    return html_response(html_page("Authorization | Odoo", body))


def _validate_authorize(client: OAuthClient, parameters: dict) -> tuple[dict | None, Response | None]:
    """Return the credentials to keep in the session, or the error page oauthlib's checks lead to."""
    redirect_uri = parameters["redirect_uri"] or (client.redirect_uris[0] if client.redirect_uris else None)
    if redirect_uri not in client.redirect_uris:
        return None, _error_page("Error: invalid_request", "Mismatching redirect URI.")
    if parameters["response_type"] != "code":
        return None, _error_page("Error: unsupported_response_type", "An unknown error occured! Please contact your administrator")
    requested = (parameters["scope"] or " ".join(oca_otherinfo.SCOPE_CODES)).split()
    if not set(requested) <= set(oca_otherinfo.SCOPE_CODES):
        return None, _error_page("Error: invalid_scope", "An unknown error occured! Please contact your administrator")
    credentials = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        # None when the request named none, so the token request's check matches the client's default.
        "sent_redirect_uri": parameters["redirect_uri"],
        "state": parameters["state"],
        "scope": " ".join(requested),
        "code_challenge": parameters["code_challenge"],
        "code_challenge_method": parameters["code_challenge_method"],
    }
    return credentials, None


def authorize(sandbox, request: Request) -> Response:
    """GET: check the request and show the consent page. POST: issue a code for the session's request."""
    session = web_login.current_session(sandbox, request)
    if session is None:
        return web_login.redirect_to_login(request)
    if request.method == "POST":
        return _authorize_post(sandbox, request, session)

    sandbox.stats.increment("authorize_requests")
    parameters = {name: request.args.get(name) for name in generic.AUTHORIZE_PARAMETERS}
    generic.record_authorize_request(sandbox, request, parameters)
    with sandbox.db.snapshot() as connection:
        client = store.get_client(connection, parameters["client_id"])
    if client is None or client.preset != PRESET:
        return _unknown_client()
    credentials, error_page = _validate_authorize(client, parameters)
    if error_page is not None:
        return error_page
    session.data[PENDING_KEY] = credentials
    if client.skip_authorization:
        return _issue_code(sandbox, session, credentials)
    return _consent_page(client, oca_otherinfo.scopes_of(credentials["scope"]), session.csrf_token)


def _authorize_post(sandbox, request: Request, session) -> Response:
    if not web_login.check_csrf(session, request):
        return _error_page("Session expired", "Session expired (invalid CSRF token).")
    credentials = session.data.pop(PENDING_KEY, None)
    if credentials is None:
        return _unknown_client()
    return _issue_code(sandbox, session, credentials)


def _issue_code(sandbox, session, credentials: dict) -> Response:
    with sandbox.db.transaction() as connection:
        client = store.get_client(connection, credentials["client_id"])
        if client is None:
            return _unknown_client()
        code = store.issue_code(
            connection,
            client,
            credentials["sent_redirect_uri"],
            session.uid,
            credentials["scope"],
            credentials["state"],
            credentials["code_challenge"],
            credentials["code_challenge_method"],
            sandbox.oauth_now(),
        )
    sandbox.stats.increment("authorizations_granted")
    return redirect(with_query(credentials["redirect_uri"], [("code", code), ("state", credentials["state"])]))


# Token


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header[:6] != "Basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    client_id, client_secret = decoded.split(":", 1)
    return unquote(client_id), unquote(client_secret)


def _presented_credentials(request: Request) -> tuple[str | None, str | None]:
    """Return the client id and secret from HTTP Basic when sent, else from the form body."""
    basic = _basic_credentials(request)
    if basic is not None:
        return basic
    return request.form.get("client_id"), request.form.get("client_secret")


def _authenticate(connection, request: Request) -> OAuthClient:
    """Find the client by the client_id parameter, then check the presented id and secret."""
    client = store.get_client(connection, request.values.get("client_id"))
    if client is None or client.preset != PRESET:
        raise OAuthError("invalid_client_id", status=401)
    client_id, client_secret = _presented_credentials(request)
    if client_id != client.client_id:
        raise OAuthError("invalid_client", status=401)
    return store.authenticate_client(connection, client_id, client_secret)


def token(sandbox, request: Request) -> Response:
    """Exchange a code or a refresh token; refresh tokens rotate and die with their access token."""
    basic = _basic_credentials(request)
    grant_type = generic.count_token_request(
        sandbox, request, request.values.get("client_id"), "basic" if basic else "body"
    )
    injected = sandbox.faults.token_failure()
    if injected is not None:
        return injected
    settings = sandbox.settings
    form = request.form

    def grant(connection, now: float) -> dict:
        client = _authenticate(connection, request)
        if grant_type == "authorization_code":
            user_id, scope = store.redeem_code(connection, client, form.get("code"), form.get("redirect_uri"), now)
            body = store.issue_tokens(connection, client.client_id, user_id, scope, None, settings.access_token_lifetime, now)
        elif grant_type == "refresh_token":
            body = store.rotate_refresh_token(
                connection,
                client,
                form.get("refresh_token"),
                form.get("scope"),
                settings.access_token_lifetime,
                0,
                settings.refresh_token_reuse_detection,
                now,
            )
            user_id = store.find_access_token(connection, body["access_token"], now).user_id
        elif grant_type in ("password", "client_credentials"):
            raise OAuthError("unauthorized_client")
        else:
            raise OAuthError("unsupported_grant_type")
        # The controller passes the request's scope and the user id as extra credentials,
        # which oauthlib copies into the response over its own values.
        body["scope"] = form.get("scope")
        body["odoo_user_id"] = user_id
        return body

    try:
        body = generic.run_grant(sandbox, grant)
    except OAuthError as error:
        sandbox.stats.increment("token_errors", error.error)
        logger.info("Token request failed: %s (grant_type=%s)", error.error, grant_type)
        return generic.error_response(error)
    return json_response(body, headers=NO_STORE)


# Token information


def _user_identifier(client_id: str, uid: int) -> str:
    """Return an opaque per-client user id, stable for one client and user."""
    return hashlib.sha256(f"{client_id}:{uid}".encode()).hexdigest()


def tokeninfo(sandbox, request: Request) -> Response:
    """Return the token's audience, scopes, seconds left and, when a scope reaches res.users, a user id."""
    now = sandbox.oauth_now()
    with sandbox.db.snapshot() as connection:
        grant = store.find_access_token(connection, oca_otherinfo.bearer_or_parameter(request), now)
        if grant is None:
            return json_response({"error": "invalid_or_expired_token"}, status=401)
        user = oca_otherinfo.data_for_model(sandbox, connection, grant.user_id, grant.scope, "res.users", grant.user_id)
    data = {"audience": grant.client_id, "scopes": grant.scope or "", "expires_in": math.floor(grant.expires_at - now)}
    if "id" in user:
        data["user_id"] = _user_identifier(grant.client_id, grant.user_id)
    return json_response(data)


def userinfo(sandbox, request: Request) -> Response:
    """Return the res.users fields of the token's user that its scopes allow."""
    with sandbox.db.snapshot() as connection:
        grant = store.find_access_token(connection, oca_otherinfo.bearer_or_parameter(request), sandbox.oauth_now())
        if grant is None:
            return json_response({"error": "invalid_or_expired_token"}, status=401)
        data = oca_otherinfo.data_for_model(sandbox, connection, grant.user_id, grant.scope, "res.users", grant.user_id)
    return json_response(data)


# Revoke


def revoke_token(sandbox, request: Request) -> Response:
    """Revoke an access token (its row, refresh token included) or a refresh token alone."""
    sandbox.stats.increment("revocations")
    token_value = request.form.get("token") or ""
    now = sandbox.oauth_now()
    try:
        with sandbox.db.transaction() as connection:
            if not store.is_live_token(connection, token_value, now):
                return json_response({"error": "invalid_or_expired_token"}, status=401)
            client = store.authenticate_client(connection, *_presented_credentials(request))
            kind = store.revoke_token_row(connection, token_value, now)
    except OAuthError as error:
        return generic.error_response(error)
    logger.info("Revocation by client %s revoked a token of kind %s", client.client_id, kind)
    return Response("", status=200, headers=NO_STORE)
