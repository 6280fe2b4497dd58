"""A plain RFC 6749 authorization server in front of Odoo, for the project's "Custom" preset.

Routes: `/oauth/authorize` (Odoo web login, then a consent page with Authorize and Deny),
`/oauth/token` (authorization_code and refresh_token grants, RFC 6749 section 5 responses)
and `/oauth/revoke` (RFC 7009). Its tokens are valid on MuK's data routes under `/api/v2`,
which stand for "one of the dialects above" behind such a server.
"""

from __future__ import annotations

import html
import logging

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox import web_login
from sandbox.http import html_page, html_response, json_response
from sandbox.oauth import store
from sandbox.oauth.muk import NO_STORE, client_credentials, with_query
from sandbox.oauth.store import OAuthClient, OAuthError

logger = logging.getLogger(__name__)

BASE_PATH = "/oauth"
PRESET = "generic"
AUTHORIZE_PARAMETERS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method")


def rules() -> list[Rule]:
    return [
        Rule(f"{BASE_PATH}/authorize", endpoint=authorize, methods=["GET", "POST"]),
        Rule(f"{BASE_PATH}/token", endpoint=token, methods=["POST"]),
        Rule(f"{BASE_PATH}/revoke", endpoint=revoke, methods=["POST"]),
    ]


# Helpers shared with the other providers


def error_response(error: OAuthError) -> Response:
    """Return an RFC 6749 section 5.2 error; a 401 carries WWW-Authenticate, as section 5.2 requires."""
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Basic error="{error.error}"'
    return json_response(error.body(), status=error.status, headers=headers)


def count_token_request(sandbox, request: Request, client_id: str | None, client_auth: str) -> str | None:
    """Count a token request, record what it carried (never a secret) and return its grant type."""
    form = request.values
    grant_type = form.get("grant_type")
    sandbox.stats.increment("token_requests", grant_type or "missing")
    if grant_type == "refresh_token":
        sandbox.stats.increment("refresh_requests")
    sandbox.record_authorization(
        "token",
        {
            "grant_type": grant_type,
            "client_id": client_id,
            "client_auth": client_auth,
            "redirect_uri": form.get("redirect_uri"),
            "scope": form.get("scope"),
            "code_sent": bool(form.get("code")),
            "refresh_token_sent": bool(form.get("refresh_token")),
            "code_verifier_sent": bool(form.get("code_verifier")),
        },
    )
    return grant_type


def record_authorize_request(sandbox, request: Request, parameters: dict) -> None:
    recorded = {name: parameters.get(name) for name in AUTHORIZE_PARAMETERS}
    recorded["method"] = request.method
    recorded["code_challenge_sent"] = bool(parameters.get("code_challenge"))
    sandbox.record_authorization("authorize", recorded)


def registered_redirect(client: OAuthClient, redirect_uri: str | None) -> str | None:
    """Return where to send the browser: the exact registered URI, or the only one when none was sent."""
    if redirect_uri is None:
        return client.redirect_uris[0] if len(client.redirect_uris) == 1 else None
    return redirect_uri if redirect_uri in client.redirect_uris else None


def run_grant(sandbox, handler) -> dict:
    """Run `handler(connection, now)` in a write transaction that commits even when it raises OAuthError.

    Committing a failed grant keeps a reuse-detection revocation.
    """
    failure = None
    with sandbox.db.transaction() as connection:
        try:
            return handler(connection, sandbox.oauth_now())
        except OAuthError as error:
            failure = error
    raise failure


# Authorize


def _error_page(message: str, status: int = 400) -> Response:
    body = f'<h1>Authorization failed</h1><p class="error">{html.escape(message)}</p>'
    return html_response(html_page("Error | OAuth", body), status=status)


def _consent_page(client: OAuthClient, parameters: dict, csrf_token: str) -> Response:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in parameters.items()
        if value is not None
    )
    scope = parameters.get("scope") or "default"
    body = f"""<h1>Authorize access</h1>
<p><strong>{html.escape(client.name)}</strong> requests access to your Odoo account
(scope: <code>{html.escape(scope)}</code>).</p>
<form method="post" id="oauth_authorize_form" action="{BASE_PATH}/authorize">
<input type="hidden" name="csrf_token" value="{html.escape(csrf_token)}">
{hidden}
<div class="buttons">
<button type="submit" name="authorize" id="authorize" value="1">Authorize</button>
<button type="submit" name="deny" id="deny" value="1">Deny</button>
</div>
</form>"""
    return html_response(html_page("Authorize | OAuth", body))


def authorize(sandbox, request: Request) -> Response:
    """Check the request, log the user in through Odoo, then ask for consent."""
    sandbox.stats.increment("authorize_requests")
    parameters = {name: request.values.get(name) for name in AUTHORIZE_PARAMETERS}
    record_authorize_request(sandbox, request, parameters)
    with sandbox.db.snapshot() as connection:
        client = store.get_client(connection, parameters["client_id"])
    # An unknown client or redirect URI gets an error page, never a redirect (RFC 6749 4.1.2.1).
    if client is None or client.preset != PRESET:
        return _error_page(f"Invalid client_id {parameters['client_id']!r}.")
    target = registered_redirect(client, parameters["redirect_uri"])
    if target is None:
        return _error_page("Missing or unregistered redirect_uri.")

    state = parameters["state"]
    response_type = parameters["response_type"]
    if response_type != "code":
        error = "invalid_request" if not response_type else "unsupported_response_type"
        return redirect(with_query(target, [("error", error), ("state", state)]))

    session = web_login.current_session(sandbox, request)
    if session is None:
        return web_login.redirect_to_login(request)
    if request.method == "GET":
        return _consent_page(client, parameters, session.csrf_token)
    if not web_login.check_csrf(session, request):
        return _error_page("Session expired (invalid CSRF token). Reload the page.")
    if "authorize" not in request.form:
        sandbox.stats.increment("authorizations_denied")
        return redirect(with_query(target, [("error", "access_denied"), ("state", state)]))

    with sandbox.db.transaction() as connection:
        code = store.issue_code(
            connection,
            client,
            parameters["redirect_uri"],
            session.uid,
            parameters["scope"],
            state,
            parameters["code_challenge"],
            parameters["code_challenge_method"],
            sandbox.oauth_now(),
        )
    sandbox.stats.increment("authorizations_granted")
    return redirect(with_query(target, [("code", code), ("state", state)]))


# Token and revoke


def token(sandbox, request: Request) -> Response:
    """Exchange a code or a refresh token; refresh tokens rotate and follow the grace and reuse switches."""
    client_id, client_secret, method = client_credentials(request)
    grant_type = count_token_request(sandbox, request, client_id, method)
    injected = sandbox.faults.token_failure()
    if injected is not None:
        return injected
    settings = sandbox.settings
    form = request.form

    def grant(connection, now: float) -> dict:
        client = store.authenticate_client(connection, client_id, client_secret)
        if client.preset != PRESET:
            raise OAuthError("invalid_client", status=401)
        if grant_type == "authorization_code":
            user_id, scope = store.redeem_code(connection, client, form.get("code"), form.get("redirect_uri"), now)
            return store.issue_tokens(connection, client.client_id, user_id, scope, None, settings.access_token_lifetime, now)
        if grant_type == "refresh_token":
            return store.rotate_refresh_token(
                connection,
                client,
                form.get("refresh_token"),
                form.get("scope"),
                settings.access_token_lifetime,
                settings.refresh_token_grace_seconds,
                settings.refresh_token_reuse_detection,
                now,
            )
        raise OAuthError("unsupported_grant_type")

    try:
        body = run_grant(sandbox, grant)
    except OAuthError as error:
        sandbox.stats.increment("token_errors", error.error)
        logger.info("Token request failed: %s (grant_type=%s, client_id=%s)", error.error, grant_type, client_id)
        return error_response(error)
    return json_response(body, headers=NO_STORE)


def revoke(sandbox, request: Request) -> Response:
    """Revoke an access or refresh token (RFC 7009): 200 whether or not the token was known."""
    sandbox.stats.increment("revocations")
    client_id, client_secret, _method = client_credentials(request)
    token_value = request.form.get("token")
    try:
        with sandbox.db.transaction() as connection:
            client = store.authenticate_client(connection, client_id, client_secret)
            if not token_value:
                raise OAuthError("invalid_request", "Missing token parameter.")
            matched = store.revoke_grant(connection, token_value, request.form.get("token_type_hint"), sandbox.oauth_now())
    except OAuthError as error:
        return error_response(error)
    logger.info("Revocation by client %s matched a token: %s", client.client_id, matched)
    return Response("", status=200, headers=NO_STORE)
