"""Drive the sandbox's authorize pages as a browser that may first have to log in to Odoo's web client."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests
from django.urls import reverse

from connections.models import OAuthClient, OdooConnection
from tests.odoo_sandbox import CALLBACK_URL, TIMEOUT, FormReader, add_connection

# More pages than any add-on shows between Connect and the callback: login, consent, redirects.
MAX_BROWSER_STEPS = 10

# The sandbox's preset for each project preset; "custom" is the plain RFC 6749 server.
SANDBOX_PRESETS = {"muk": "muk", "oca": "oca", "synconics": "synconics", "custom": "generic"}


def add_preset_connection(sandbox_url: str, preset: str, client_id: str, client_secret: str) -> OdooConnection:
    """Create a connection for `preset`; a Custom one gets the sandbox's RFC 6749 URLs and MuK's data API."""
    connection = add_connection(sandbox_url, client_id, client_secret, preset=preset)
    if preset == "custom":
        OAuthClient.objects.filter(connection=connection).update(
            authorize_url=f"{sandbox_url}/oauth/authorize",
            token_url=f"{sandbox_url}/oauth/token",
            revoke_url=f"{sandbox_url}/oauth/revoke",
            dialect="muk_rest",
        )
        connection.refresh_from_db()
    return connection


def link_through_web_login(admin_client, connection: OdooConnection, login: str = "admin", password: str = "admin"):  # noqa: ANN001, ANN201
    """Click Connect, then follow the add-on's pages (Odoo login, consent) back to the callback.

    A page with a password input is a login form and gets `login` and `password`. Any other
    form is a consent page, submitted with its Authorize button.
    """
    start = admin_client.get(reverse("connections:oauth-authorize", args=[connection.pk]))
    assert start.status_code == 302, start.content[:500]
    browser = requests.Session()
    response = browser.get(start["Location"], allow_redirects=False, timeout=TIMEOUT)
    for _step in range(MAX_BROWSER_STEPS):
        if response.status_code in (302, 303):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(CALLBACK_URL):
                back = urlsplit(location)
                return admin_client.get(f"{back.path}?{back.query}")
            response = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        form = FormReader()
        form.feed(response.text)
        assert form.action, f"no form on {response.url}: {response.text[:500]}"
        fields = dict(form.fields)
        if "password" in fields:
            fields.update(login=login, password=password)
        else:
            fields["authorize"] = "1"
        response = browser.post(urljoin(response.url, form.action), data=fields, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError(f"the authorization did not reach the callback within {MAX_BROWSER_STEPS} pages")


def link_preset(preset: str, sandbox_url: str, control, admin_client):  # noqa: ANN001, ANN201
    """Register a `preset` client at the sandbox and link a new connection as the admin.

    Returns the callback response and the connection.
    """
    control.register_client(f"{preset}-client", f"{preset}-secret", preset=SANDBOX_PRESETS[preset])
    connection = add_preset_connection(sandbox_url, preset, f"{preset}-client", f"{preset}-secret")
    response = link_through_web_login(admin_client, connection)
    connection.refresh_from_db()
    assert connection.status == OdooConnection.Status.CONNECTED, connection.last_error_message
    return response, connection
