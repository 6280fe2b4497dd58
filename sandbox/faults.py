"""Failure injection on the data and token routes (5xx, HTML proxy pages, 429, slow responses)."""

from __future__ import annotations

import logging
import random
import threading

from werkzeug.wrappers import Response

from sandbox.http import html_page, html_response, json_response

logger = logging.getLogger(__name__)

_PROXY_503 = html_page(
    "503 Service Temporarily Unavailable",
    "<h1>503 Service Temporarily Unavailable</h1><p>The server is temporarily unable to service your"
    " request due to maintenance downtime or capacity problems. Please try again later.</p>",
)
_SERVER_ERROR = html_page(
    "500 Internal Server Error",
    "<h1>Internal Server Error</h1><p>The server encountered an internal error and was unable to"
    " complete your request.</p>",
)
_TOO_MANY = html_page("429 Too Many Requests", "<h1>Too Many Requests</h1><p>Try again later.</p>")
_GATEWAY_TIMEOUT = html_page("504 Gateway Time-out", "<h1>504 Gateway Time-out</h1>")
# Odoo's login page, which a client receives when a proxy or an expired session redirects it there.
_LOGIN_PAGE = html_page(
    "Login | Odoo",
    '<form class="oe_login_form" method="post" action="/web/login">'
    '<label for="login">Email</label><input type="text" name="login" id="login">'
    '<label for="password">Password</label><input type="password" name="password" id="password">'
    '<div class="buttons"><button type="submit">Log in</button></div></form>',
)


class FaultInjector:
    """Decide and build injected failures; randomness comes from the `seed` switch."""

    def __init__(self, settings, stats, stopping: threading.Event):
        self.settings = settings
        self.stats = stats
        self.stopping = stopping
        self._lock = threading.Lock()
        self._generation = settings.seed_generation
        self._random = random.Random(settings.seed)

    def _roll(self, rate: float, kinds: list[str]) -> str | None:
        with self._lock:
            generation = self.settings.seed_generation
            if generation != self._generation:
                # Setting the seed restarts the sequence, so a test can replay the same failures.
                self._generation = generation
                self._random = random.Random(self.settings.seed)
            if rate <= 0 or self._random.random() >= rate:
                return None
            return kinds[self._random.randrange(len(kinds))]

    def data_failure(self) -> Response | None:
        """Return an injected failure for a data request, or None to serve it normally."""
        kind = self._roll(self.settings.data_fail_rate, self.settings.data_fail_kinds)
        return self.build(kind, "data") if kind else None

    def token_failure(self) -> Response | None:
        """Return the next queued token endpoint failure, or None."""
        kind = self.settings.pop_token_failure()
        return self.build(kind, "token") if kind else None

    def build(self, kind: str, route: str) -> Response:
        self.stats.increment("failures_injected", kind)
        logger.info("Injecting failure %s on a %s request", kind, route)
        if kind == "500":
            return html_response(_SERVER_ERROR, status=500)
        if kind == "503_html":
            return html_response(_PROXY_503, status=503)
        if kind == "429":
            return html_response(_TOO_MANY, status=429, headers={"Retry-After": "1"})
        if kind == "timeout":
            # Waiting on the stop event lets a server shutdown end the wait early.
            self.stopping.wait(self.settings.timeout_seconds)
            return html_response(_GATEWAY_TIMEOUT, status=504)
        if kind == "invalid_grant":
            return json_response(
                {"error": "invalid_grant", "error_description": "Injected failure: the grant is invalid."}, status=400
            )
        if kind == "invalid_client":
            return json_response(
                {"error": "invalid_client"}, status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_client"'}
            )
        if kind == "html_login_page":
            return html_response(_LOGIN_PAGE, status=200)
        raise ValueError(f"Unknown failure kind {kind!r}.")
