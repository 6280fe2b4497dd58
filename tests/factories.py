"""Builders for the rows most tests need."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from connections.models import OAuthClient, OAuthToken, OdooConnection

ODOO_URL = "https://odoo.example.test"
TOKEN_URL = f"{ODOO_URL}/api/v2/authentication/oauth2/token"
AUTHORIZE_URL = f"{ODOO_URL}/api/v2/authentication/oauth2/authorize"


def make_connection(
    name: str = "Tenant",
    base_url: str = ODOO_URL,
    *,
    client_id: str = "client-1",
    client_secret: str = "client-secret-1",
    status: str = OdooConnection.Status.NOT_LINKED,
    **client_fields,
) -> OdooConnection:
    connection = OdooConnection.objects.create(name=name, base_url=base_url, database="tenant_db", status=status)
    OAuthClient.objects.create(
        connection=connection, preset="muk", client_id=client_id, client_secret=client_secret, **client_fields
    )
    return connection


def make_token(
    connection: OdooConnection,
    *,
    access_token: str = "AT-1",
    refresh_token: str | None = "RT-1",
    expires_in: int | None = 3600,
) -> OAuthToken:
    now = timezone.now()
    token = OAuthToken.objects.create(
        connection=connection,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=now + timedelta(seconds=expires_in) if expires_in is not None else None,
        obtained_at=now,
    )
    connection.set_status(OdooConnection.Status.CONNECTED)
    return token
