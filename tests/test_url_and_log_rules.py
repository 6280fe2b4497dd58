"""Rules on Odoo URLs, API-key connections, stale errors and the development server's log."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError

from connections.clients import build_data_client
from connections.logging import RedactSecretsFilter
from connections.models import OdooConnection
from connections.odoo.errors import InvalidClient
from connections.urls_policy import validate_odoo_base_url
from tests.factories import make_connection


@pytest.mark.parametrize(
    "url",
    ["https://odoo.example.test/odoo", "https://odoo.example.test/web", "https://odoo.example.test/web#id=7&model=crm.lead"],
)
def test_web_client_address_rejected(url):
    with pytest.raises(ValidationError) as error:
        validate_odoo_base_url(url)

    assert "https://odoo.example.test" in error.value.messages[0]


@pytest.mark.parametrize("url", ["https://odoo.example.test", "https://odoo.example.test/", "https://example.test/erp"])
def test_server_address_accepted(url):
    validate_odoo_base_url(url)


@pytest.mark.django_db
def test_api_key_connection_needs_database():
    connection = OdooConnection(name="Keyed", base_url="https://odoo.example.test", auth_method="api_key")

    with pytest.raises(ValidationError) as error:
        connection.full_clean()

    assert "database" in error.value.message_dict


@pytest.mark.django_db
def test_data_requests_obey_http_rule(settings):
    settings.ODOO_ALLOW_HTTP_LOOPBACK = False
    connection = make_connection(base_url="http://127.0.0.1:8069")

    with pytest.raises(InvalidClient) as error:
        build_data_client(connection)

    assert "ODOO_ALLOW_HTTP_LOOPBACK" in str(error.value)


@pytest.mark.django_db
def test_fresh_link_clears_last_error(linked):
    linked.set_status(OdooConnection.Status.CONFIGURATION_ERROR, error_kind="invalid_client", error_message="old")

    linked.set_status(OdooConnection.Status.CONNECTED, clear_error=True)

    linked.refresh_from_db()
    assert linked.last_error_kind == ""
    assert linked.last_error_message == ""
    assert linked.last_error_at is None


def test_server_log_hides_code_and_state():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1,
        '"GET /odoo/oauth/callback/?code=%s&state=%s HTTP/1.1" 302 0', ("CODE-SECRET-1", "STATE-SECRET-1"), None,
    )

    RedactSecretsFilter().filter(record)

    assert "CODE-SECRET-1" not in record.getMessage()
    assert "STATE-SECRET-1" not in record.getMessage()
    assert "/odoo/oauth/callback/" in record.getMessage()


def test_server_log_goes_through_redaction(settings):
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    assert "redact_secrets" in settings.LOGGING["handlers"]["console"]["filters"]
