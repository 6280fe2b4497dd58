"""MuK REST (`muk_rest`) OAuth 2.0 server: authorize page, token and revoke endpoints.

MuK runs oauthlib behind its own routes under a configurable base path, `/api/v2` by
default. Its authorize page has its own login and password form and does not reuse an
Odoo web session. PKCE parameters are accepted and stored but never verified.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.http import html_page, html_response, json_response
from sandbox.oauth import store
from sandbox.oauth.store import OAuthClient, OAuthError
from sandbox.seed import check_password

logger = logging.getLogger(__name__)

BASE_PATH = "/api/v2/authentication/oauth2"
PRESET = "muk"
AUTHORIZE_PARAMETERS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
# oauthlib adds these headers to every token endpoint response (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def rules() -> list[Rule]:
    return [
        Rule(f"{BASE_PATH}/authorize", endpoint=authorize, methods=["GET", "POST"]),
        Rule(f"{BASE_PATH}/token", endpoint=token, methods=["POST"]),
        Rule(f"{BASE_PATH}/revoke", endpoint=revoke, methods=["POST"]),
    ]


def with_query(uri: str, parameters: list[tuple[str, str | None]]) -> str:
    """Append query parameters to a URI that may already have a query string."""
    parts = urlsplit(uri)
    extra = urlencode([(name, value) for name, value in parameters if value is not None])
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# Authorize


def _error_page(message: str) -> Response:
    body = f"<h1>Authorization failed</h1><p class=\"error\">{html.escape(message)}</p>"
    return html_response(html_page("Error | REST API", body), status=400)


def _authorize_page(client: OAuthClient, parameters: dict, error: str | None = None, login: str = "") -> Response:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in parameters.items()
        if value is not None
    )
    error_html = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
    scope = parameters.get("scope") or "default"
    body = f"""<h1>REST API - Authorization</h1>
<p>The application <strong>{html.escape(client.name)}</strong> requests access to your Odoo account
(scope: <code>{html.escape(scope)}</code>). Log in to authorize it.</p>
{error_html}
<form method="post" id="oauth_authorize_form" action="{BASE_PATH}/authorize">
{hidden}
<label for="login">Login</label>
<input type="text" name="login" id="login" value="{html.escape(login)}" autocomplete="username">
<label for="password">Password</label>
<input type="password" name="password" id="password" autocomplete="current-password">
<div class="buttons">
<button type="submit" name="authorize" id="authorize" value="1">Authorize</button>
<button type="submit" name="deny" id="deny" value="1">Deny</button>
</div>
</form>"""
    return html_response(html_page("Authorize | REST API", body))


def _record_authorize(sandbox, request: Request, parameters: dict) -> None:
    recorded = {name: parameters.get(name) for name in AUTHORIZE_PARAMETERS}
    recorded["method"] = request.method
    recorded["code_challenge_sent"] = bool(parameters.get("code_challenge"))
    sandbox.record_authorization("authorize", recorded)


def authorize(sandbox, request: Request) -> Response:
    """Serve MuK's authorize page and handle its Authorize / Deny form."""
    sandbox.stats.increment("authorize_requests")
    parameters = {name: request.values.get(name) for name in AUTHORIZE_PARAMETERS}
    _record_authorize(sandbox, request, parameters)

    with sandbox.db.transaction() as connection:
        client = store.get_client(connection, parameters["client_id"])
        # An unknown client or redirect URI gets an error page: redirecting there would
        # make the server an open redirector.
        if client is None or client.preset != PRESET:
            return _error_page(f"Invalid client_id {parameters['client_id']!r}.")
        redirect_uri = parameters["redirect_uri"]
        if redirect_uri is None:
            if len(client.redirect_uris) != 1:
                return _error_page("Missing redirect_uri parameter.")
            target = client.redirect_uris[0]
        elif redirect_uri in client.redirect_uris:
            target = redirect_uri
        else:
            return _error_page("Mismatching redirect URI.")

        state = parameters["state"]
        response_type = parameters["response_type"]
        if not response_type:
            return redirect(with_query(target, [("error", "invalid_request"), ("error_description", "Missing response_type parameter."), ("state", state)]))
        if response_type == "token":
            # MuK supports the implicit flow only for clients configured for it.
            return redirect(with_query(target, [("error", "unauthorized_client"), ("state", state)]))
        if response_type != "code":
            return redirect(with_query(target, [("error", "unsupported_response_type"), ("state", state)]))

        if request.method == "GET":
            return _authorize_page(client, parameters)
        if "deny" in request.form:
            sandbox.stats.increment("authorizations_denied")
            return redirect(with_query(target, [("error", "access_denied"), ("state", state)]))

        login = request.form.get("login", "")
        user_id = _check_credentials(connection, login, request.form.get("password", ""))
        if user_id is None:
            logger.info("Authorize: wrong login or password for login %r, client %s", login, client.client_id)
            return _authorize_page(client, parameters, error="Wrong login/password", login=login)
        code = store.issue_code(
            connection,
            client,
            redirect_uri,
            user_id,
            parameters["scope"],
            state,
            parameters["code_challenge"],
            parameters["code_challenge_method"],
            sandbox.oauth_now(),
        )
    sandbox.stats.increment("authorizations_granted")
    return redirect(with_query(target, [("code", code), ("state", state)]))


def _check_credentials(connection, login: str, password: str) -> int | None:
    row = connection.execute(
        "SELECT id, password_hash FROM res_users WHERE login = ? AND active = 1", (login,)
    ).fetchone()
    if row and check_password(password, row[1]):
        return row[0]
    return None


# Token and revoke


def client_credentials(request: Request) -> tuple[str | None, str | None, str]:
    """Return (client_id, client_secret, method) from HTTP Basic or the form body.

    Basic credentials are form-urlencoded before base64 (RFC 6749 section 2.3.1), so they
    are unquoted after decoding.
    """
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None, "basic"
        client_id, _, client_secret = decoded.partition(":")
        return unquote(client_id), unquote(client_secret), "basic"
    return request.form.get("client_id"), request.form.get("client_secret"), "body"


def _oauth_error(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return json_response(error.body(), status=error.status, headers=headers)


def _record_token(sandbox, request: Request, method: str, client_id: str | None) -> None:
    form = request.form
    sandbox.record_authorization(
        "token",
        {
            "grant_type": form.get("grant_type"),
            "client_id": client_id,
            "client_auth": method,
            "redirect_uri": form.get("redirect_uri"),
            "scope": form.get("scope"),
            "code_sent": bool(form.get("code")),
            "refresh_token_sent": bool(form.get("refresh_token")),
            "code_verifier_sent": bool(form.get("code_verifier")),
        },
    )


def token(sandbox, request: Request) -> Response:
    """Exchange an authorization code or a refresh token for tokens (oauthlib semantics)."""
    grant_type = request.form.get("grant_type")
    sandbox.stats.increment("token_requests", grant_type or "missing")
    if grant_type == "refresh_token":
        sandbox.stats.increment("refresh_requests")
    client_id, client_secret, method = client_credentials(request)
    _record_token(sandbox, request, method, client_id)

    injected = sandbox.faults.token_failure()
    if injected is not None:
        return injected
    try:
        body = _grant(sandbox, request, grant_type, client_id, client_secret)
    except OAuthError as error:
        sandbox.stats.increment("token_errors", error.error)
        logger.info("Token request failed: %s (grant_type=%s, client_id=%s)", error.error, grant_type, client_id)
        return _oauth_error(error)
    return json_response(body, headers=NO_STORE)


def _grant(sandbox, request: Request, grant_type: str | None, client_id, client_secret) -> dict:
    if grant_type not in ("authorization_code", "refresh_token", "password", "client_credentials"):
        raise OAuthError("unsupported_grant_type")
    settings = sandbox.settings
    now = sandbox.oauth_now()
    failure = None
    with sandbox.db.transaction() as connection:
        # A failed grant still commits, so a reuse-detection revocation is kept.
        try:
            return _grant_in_transaction(connection, request, grant_type, client_id, client_secret, settings, now)
        except OAuthError as error:
            failure = error
    raise failure


def _grant_in_transaction(connection, request: Request, grant_type, client_id, client_secret, settings, now) -> dict:
    client = store.authenticate_client(connection, client_id, client_secret)
    if client.preset != PRESET:
        raise OAuthError("invalid_client", status=401)
    if grant_type not in client.grant_types:
        # A MuK client is configured for one flow, so it rejects the other grant types.
        raise OAuthError("unauthorized_client", f"The client is not allowed to use grant type {grant_type}.")
    if grant_type == "authorization_code":
        user_id, scope = store.redeem_code(
            connection, client, request.form.get("code"), request.form.get("redirect_uri"), now
        )
        return store.issue_tokens(
            connection, client.client_id, user_id, scope, None, settings.access_token_lifetime, now
        )
    return store.rotate_refresh_token(
        connection,
        client,
        request.form.get("refresh_token"),
        request.form.get("scope"),
        settings.access_token_lifetime,
        settings.refresh_token_grace_seconds,
        settings.refresh_token_reuse_detection,
        now,
    )


def revoke(sandbox, request: Request) -> Response:
    """Delete the access token named in `token`. MuK does not look refresh tokens up."""
    sandbox.stats.increment("revocations")
    client_id, client_secret, _method = client_credentials(request)
    token_value = request.form.get("token")
    try:
        with sandbox.db.transaction() as connection:
            client = store.authenticate_client(connection, client_id, client_secret)
            if not token_value:
                raise OAuthError("invalid_request", "Missing token parameter.")
            deleted = store.delete_access_token(connection, token_value)
    except OAuthError as error:
        return _oauth_error(error)
    logger.info("Revocation by client %s deleted %d access token(s)", client.client_id, deleted)
    return Response("", status=200, headers=NO_STORE)
