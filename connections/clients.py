"""Build the data client of a connection: its dialect with its credentials."""

from __future__ import annotations

from django.conf import settings

from .models import OdooConnection
from .odoo.dialects import OdooDataClient, get_dialect
from .tokens import OAuthCredentials


def build_data_client(connection: OdooConnection) -> OdooDataClient:
    dialect = get_dialect(connection.oauth_client.effective_dialect)
    return dialect(
        connection.base_url,
        database=connection.database,
        credentials=OAuthCredentials(connection),
        timeout=settings.ODOO_HTTP_TIMEOUT,
    )
