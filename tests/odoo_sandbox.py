"""Helpers that drive the Odoo sandbox over real HTTP, as a browser and as Odoo's admin."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests
from django.urls import reverse

from connections.models import OAuthClient, OdooConnection
from crm.models import Lead

CALLBACK_URL = "http://testserver/odoo/oauth/callback/"
TIMEOUT = 10


class FormReader(HTMLParser):
    """The action and inputs of the first form on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._depth = 0
        self._seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and not self._seen:
            self._depth, self._seen, self.action = 1, True, values.get("action", "")
        elif tag == "input" and self._depth and values.get("name") and values.get("type") != "submit":
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._depth = 0


class SandboxClient:
    """The control API of a running sandbox."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def _call(self, method: str, path: str, **kwargs):  # noqa: ANN003, ANN201
        response = self.http.request(method, f"{self.url}/__sandbox__{path}", timeout=TIMEOUT, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def leads(self) -> list[dict]:
        return self._call("GET", "/leads")

    def configure(self, **switches) -> dict:  # noqa: ANN003
        return self._call("POST", "/config", json=switches)

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def register_client(self, client_id: str, client_secret: str, preset: str = "muk") -> None:
        self._call(
            "POST",
            "/oauth-clients",
            json={"client_id": client_id, "client_secret": client_secret, "redirect_uris": [CALLBACK_URL], "preset": preset},
        )

    def create_lead(self, **values) -> int:  # noqa: ANN003
        return self._call("POST", "/leads", json=values)["id"]

    def write_lead(self, lead_id: int, **values) -> None:  # noqa: ANN003
        self._call("PATCH", f"/leads/{lead_id}", json=values)

    def delete_lead(self, lead_id: int) -> None:
        self._call("DELETE", f"/leads/{lead_id}")

    def lose_lead(self, lead_id: int, **values) -> None:  # noqa: ANN003
        self._call("POST", f"/leads/{lead_id}/lose", json=values)

    def restore_lead(self, lead_id: int) -> None:
        self._call("POST", f"/leads/{lead_id}/restore", json={})

    def seed(self, count: int) -> None:
        self._call("POST", "/seed", json={"count": count})


def add_connection(sandbox_url: str, client_id: str, client_secret: str, preset: str = "muk") -> OdooConnection:
    connection = OdooConnection.objects.create(name="Sandbox", base_url=sandbox_url, database="sandbox")
    OAuthClient.objects.create(connection=connection, preset=preset, client_id=client_id, client_secret=client_secret)
    return connection


def link_through_browser(admin_client, connection: OdooConnection, login: str = "admin", password: str = "admin"):  # noqa: ANN001, ANN201
    """Click Connect, log in and approve at the sandbox, and follow the redirect back."""
    start = admin_client.get(reverse("connections:oauth-authorize", args=[connection.pk]))
    assert start.status_code == 302, start.content[:500]
    browser = requests.Session()
    consent = browser.get(start["Location"], timeout=TIMEOUT)
    assert consent.status_code == 200, consent.text[:500]
    form = FormReader()
    form.feed(consent.text)
    fields = {**form.fields, "login": login, "password": password, "authorize": "1"}
    approved = browser.post(urljoin(consent.url, form.action), data=fields, allow_redirects=False, timeout=TIMEOUT)
    assert approved.status_code in (302, 303), approved.text[:500]
    back = urlsplit(approved.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK_URL
    return admin_client.get(f"{back.path}?{back.query}")


def odoo_datetime(value):
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if value else None


def local_odoo_id(record):  # noqa: ANN001, ANN201
    return record.odoo_id if record is not None else None


def odoo_id_of(value):  # noqa: ANN001, ANN201
    """Return the id of an Odoo many-to-one value, or None for ``false``."""
    return value[0] if value else None


def assert_matches_truth(connection, truth):
    """Assert that the local leads of ``connection`` still in Odoo equal the sandbox's rows, field by field."""
    leads = Lead.objects.filter(connection=connection, deleted_in_odoo_at__isnull=True)
    local = {lead.odoo_id: lead for lead in leads.select_related("stage", "salesperson", "team").prefetch_related("tags")}
    assert sorted(local) == sorted(row["id"] for row in truth)
    for row in truth:
        lead = local[row["id"]]
        assert lead.name == row["name"], row["id"]
        assert lead.active == row["active"], row["id"]
        assert lead.type == row["type"], row["id"]
        assert lead.write_date == odoo_datetime(row["write_date"]), row["id"]
        assert lead.email == (row["email_from"] or ""), row["id"]
        assert lead.expected_revenue == (Decimal(repr(float(row["expected_revenue"]))).quantize(Decimal("0.01")) if row["expected_revenue"] is not False else None), row["id"]
        assert local_odoo_id(lead.stage) == odoo_id_of(row["stage_id"]), row["id"]
        assert local_odoo_id(lead.salesperson) == odoo_id_of(row["user_id"]), row["id"]
        assert local_odoo_id(lead.team) == odoo_id_of(row["team_id"]), row["id"]
        assert sorted(tag.odoo_id for tag in lead.tags.all()) == sorted(row["tag_ids"]), row["id"]
        assert lead.odoo_company == (row["company_id"][1] if row["company_id"] else ""), row["id"]


