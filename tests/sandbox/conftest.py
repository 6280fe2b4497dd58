"""Fixtures for the sandbox tests: a sandbox on a temporary SQLite file, in-process or served."""

from __future__ import annotations

import pytest
import requests

from sandbox.app import Sandbox
from sandbox.server import serve_in_thread

# Seconds any test request may take; the sandbox responds to local requests in milliseconds.
REQUEST_TIMEOUT = 10


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    """A seeded sandbox application without an HTTP server."""
    app = Sandbox(tmp_path / "sandbox.sqlite3")
    yield app
    app.close()


@pytest.fixture
def server(tmp_path):
    """A seeded sandbox served on 127.0.0.1 with a free port."""
    handle = serve_in_thread(tmp_path / "sandbox.sqlite3", port=0)
    yield handle
    handle.stop()


@pytest.fixture
def http(server):
    """A requests session whose paths are relative to the served sandbox, with a timeout."""
    return SandboxClient(server.url)


class SandboxClient:
    """Thin wrapper over requests that prefixes the sandbox URL and always sets a timeout."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, **options) -> requests.Response:
        options.setdefault("timeout", REQUEST_TIMEOUT)
        return self.session.request(method, self.base_url + path, **options)

    def get(self, path: str, **options) -> requests.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options) -> requests.Response:
        return self.request("POST", path, **options)

    def patch(self, path: str, **options) -> requests.Response:
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options) -> requests.Response:
        return self.request("DELETE", path, **options)
