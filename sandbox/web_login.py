"""Odoo's web login (`/web/login`) and the session cookie that OCA's and Synconics' pages require.

Routes declared with `auth='user'` in Odoo send a visitor without a session to
`/web/login?redirect=<the requested path>`. After a good login Odoo sets the `session_id`
cookie and redirects back. Sessions live in memory, one table per sandbox, so they end
when the sandbox stops.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import weakref
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.http import html_page, html_response
from sandbox.seed import check_password

logger = logging.getLogger(__name__)

COOKIE_NAME = "session_id"
LOGIN_PATH = "/web/login"
# Landing page after a login without a redirect parameter.
HOME_PATH = "/web"


def rules() -> list[Rule]:
    return [
        Rule(LOGIN_PATH, endpoint=login, methods=["GET", "POST"]),
        Rule("/web/session/logout", endpoint=logout, methods=["GET", "POST"]),
        Rule(HOME_PATH, endpoint=home, methods=["GET"]),
    ]


@dataclass
class WebSession:
    """One browser session: the logged-in user, its CSRF token and per-page data."""

    uid: int
    csrf_token: str = field(default_factory=lambda: secrets.token_hex(20))
    # Pages keep state between a GET and the form POST here, as Odoo's httpsession does.
    data: dict = field(default_factory=dict)


class SessionStore:
    """Thread-safe table of web sessions keyed by the session_id cookie value."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions: dict[str, WebSession] = {}

    def create(self, uid: int) -> tuple[str, WebSession]:
        session_id = secrets.token_urlsafe(30)
        session = WebSession(uid=uid)
        with self._lock:
            self._sessions[session_id] = session
        return session_id, session

    def get(self, session_id: str | None) -> WebSession | None:
        if not session_id:
            return None
        with self._lock:
            return self._sessions.get(session_id)

    def delete(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)


_stores: "weakref.WeakKeyDictionary[object, SessionStore]" = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def sessions(sandbox) -> SessionStore:
    """Return the session table of one sandbox, created on first use."""
    with _stores_lock:
        store = _stores.get(sandbox)
        if store is None:
            store = _stores[sandbox] = SessionStore()
        return store


def current_session(sandbox, request: Request) -> WebSession | None:
    """Return the web session of the request's cookie, or None without a logged-in user."""
    return sessions(sandbox).get(request.cookies.get(COOKIE_NAME))


def redirect_to_login(request: Request) -> Response:
    """Send the browser to the login page, coming back to the requested page afterwards."""
    target = request.full_path if request.query_string else request.path
    return redirect(f"{LOGIN_PATH}?redirect={quote(target, safe='')}", code=303)


def check_csrf(session: WebSession, request: Request) -> bool:
    """Return whether a form POST carries the session's CSRF token, as Odoo checks on http routes."""
    sent = request.form.get("csrf_token", "")
    return bool(sent) and secrets.compare_digest(sent, session.csrf_token)


def authenticate(sandbox, login_name: str, password: str) -> int | None:
    """Return the id of the active user with this login and password, or None."""
    with sandbox.db.snapshot() as connection:
        row = connection.execute(
            "SELECT id, password_hash FROM res_users WHERE login = ? AND active = 1", (login_name,)
        ).fetchone()
    if row and check_password(password, row[1]):
        return row[0]
    return None


def _local_redirect(target: str | None) -> str:
    """Return `target` when it is a path on this server, else the home page (no open redirect)."""
    if not target:
        return HOME_PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return HOME_PATH
    return target


def _login_page(redirect_target: str, error: str | None = None, login_name: str = "") -> Response:
    error_html = f'<p class="alert alert-danger error" id="error">{html.escape(error)}</p>' if error else ""
    body = f"""<h1>Odoo</h1>
{error_html}
<form class="oe_login_form" method="post" action="{LOGIN_PATH}">
<input type="hidden" name="redirect" value="{html.escape(redirect_target)}">
<label for="login">Email</label>
<input type="text" name="login" id="login" value="{html.escape(login_name)}" autocomplete="username">
<label for="password">Password</label>
<input type="password" name="password" id="password" autocomplete="current-password">
<div class="buttons"><button type="submit">Log in</button></div>
</form>"""
    return html_response(html_page("Login | Odoo", body))


def login(sandbox, request: Request) -> Response:
    """Show the login form, or log in and redirect to the `redirect` parameter."""
    target = _local_redirect(request.values.get("redirect"))
    if request.method == "GET":
        if current_session(sandbox, request) is not None and request.args.get("redirect"):
            return redirect(target, code=303)
        return _login_page(target)

    login_name = request.form.get("login", "")
    uid = authenticate(sandbox, login_name, request.form.get("password", ""))
    if uid is None:
        logger.info("Web login failed for login %r", login_name)
        return _login_page(target, error="Wrong login/password", login_name=login_name)
    session_id, _session = sessions(sandbox).create(uid)
    logger.info("Web login of user %d", uid)
    response = redirect(target, code=303)
    response.set_cookie(COOKIE_NAME, session_id, httponly=True, samesite="Lax", path="/")
    return response


def logout(sandbox, request: Request) -> Response:
    sessions(sandbox).delete(request.cookies.get(COOKIE_NAME))
    response = redirect(LOGIN_PATH, code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


def home(sandbox, request: Request) -> Response:
    """Stand in for Odoo's web client: a page naming the logged-in user."""
    session = current_session(sandbox, request)
    if session is None:
        return redirect_to_login(request)
    return html_response(html_page("Odoo", f"<h1>Odoo</h1><p>Logged in as user {session.uid}.</p>"))
