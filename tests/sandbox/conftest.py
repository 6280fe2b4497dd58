"""Fixtures for the sandbox tests: a sandbox on a temporary SQLite file, in-process or served."""

from __future__ import annotations

import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

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


CLIENT_ID = "sandbox-muk"
CLIENT_SECRET = "sandbox-muk-secret"
REDIRECT_URI = "http://127.0.0.1:8000/odoo/oauth/callback/"
AUTHORIZE_PATH = "/api/v2/authentication/oauth2/authorize"
TOKEN_PATH = "/api/v2/authentication/oauth2/token"
REVOKE_PATH = "/api/v2/authentication/oauth2/revoke"


class HiddenInputs(HTMLParser):
    """Collect the hidden inputs and the action of the authorize page's form."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action", "")
        if tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value", "")


class OAuthFlow:
    """Drive the MuK authorization-code flow the way a browser and a client app would."""

    def __init__(self, http: SandboxClient):
        self.http = http

    def authorize_parameters(self, **overrides) -> dict:
        parameters = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "crm",
            "state": "state-" + secrets.token_urlsafe(8),
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
        parameters.update(overrides)
        return {name: value for name, value in parameters.items() if value is not None}

    def consent(self, login: str = "admin", password: str = "admin", button: str = "authorize", **overrides):
        """Open the authorize page, fill the form and press a button; returns the POST response."""
        page = self.http.get(AUTHORIZE_PATH, params=self.authorize_parameters(**overrides), allow_redirects=False)
        assert page.status_code == 200, page.text
        form = HiddenInputs()
        form.feed(page.text)
        data = {**form.fields, "login": login, "password": password, button: "1"}
        return self.http.post(form.action, data=data, allow_redirects=False)

    def code(self, **options) -> tuple[str, dict]:
        """Return the authorization code and the callback's query parameters."""
        response = self.consent(**options)
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        return query["code"][0], {name: values[0] for name, values in query.items()}

    def exchange(self, code: str, redirect_uri: str = REDIRECT_URI, body_auth: bool = False, **extra):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
        return self.token_request(data, body_auth)

    def refresh(self, refresh_token: str, body_auth: bool = False):
        return self.token_request({"grant_type": "refresh_token", "refresh_token": refresh_token}, body_auth)

    def token_request(self, data: dict, body_auth: bool = False, secret: str = CLIENT_SECRET):
        if body_auth:
            return self.http.post(TOKEN_PATH, data={**data, "client_id": CLIENT_ID, "client_secret": secret})
        return self.http.post(TOKEN_PATH, data=data, auth=(CLIENT_ID, secret))

    def tokens(self, login: str = "admin", password: str = "admin") -> dict:
        """Run the whole flow and return the token response."""
        code, _query = self.code(login=login, password=password)
        response = self.exchange(code, code_verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, path: str, access_token: str | None, method: str = "GET", **options):
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return self.http.request(method, path, headers=headers, **options)


@pytest.fixture
def oauth(http) -> OAuthFlow:
    return OAuthFlow(http)
