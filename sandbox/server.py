"""HTTP server for the sandbox: a threaded werkzeug server on 127.0.0.1, in a thread or in the foreground."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.app import Sandbox

logger = logging.getLogger(__name__)

# The sandbox serves loopback only: it has demo passwords and a back door for tests.
HOST = "127.0.0.1"


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs each request only when the server is verbose."""

    verbose = False

    def log_request(self, code="-", size="-") -> None:
        if self.verbose:
            super().log_request(code, size)


def _handler_class(verbose: bool) -> type[WSGIRequestHandler]:
    return type("SandboxRequestHandler", (QuietRequestHandler,), {"verbose": verbose})


def build_server(sandbox: Sandbox, port: int = 0, verbose: bool = False) -> BaseWSGIServer:
    """Bind a threaded server on 127.0.0.1:port (0 picks a free port)."""
    return make_server(HOST, port, sandbox, threaded=True, request_handler=_handler_class(verbose))


class SandboxServer:
    """A sandbox served from a background thread; use as a context manager or call stop()."""

    def __init__(self, sandbox: Sandbox, server: BaseWSGIServer):
        self.sandbox = sandbox
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox-server", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> "SandboxServer":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, end pending injected waits and close the database connections."""
        self.sandbox.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout)
        self.sandbox.close()

    def __enter__(self) -> "SandboxServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def serve_in_thread(db_path: str | Path, port: int = 0, verbose: bool = False, **options) -> SandboxServer:
    """Start a sandbox on 127.0.0.1 in a daemon thread and return its handle once it listens.

    `options` go to `Sandbox`: seed_value, seed_leads, reset, odoo_version, redirect_uris,
    switches.
    """
    sandbox = Sandbox(db_path, **options)
    server = build_server(sandbox, port, verbose)
    return SandboxServer(sandbox, server).start()
