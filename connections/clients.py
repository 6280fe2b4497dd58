"""Build the data client of a connection: its dialect with its credentials."""

from __future__ import annotations

from django.conf import settings

from .apikeys import ApiKeyCredentials, credential_of, detect_dialect
from .models import OdooConnection
from .odoo.dialects import OdooDataClient, get_dialect
from .tokens import OAuthCredentials


def build_data_client(connection: OdooConnection) -> OdooDataClient:
    """Return the client of the connection's data API.

    An API-key connection whose dialect was never chosen (not tested yet, or its URL
    changed) reads the server version first, so its first sync links it.
    """
    if connection.auth_method == OdooConnection.AuthMethod.API_KEY:
        credential = credential_of(connection)
        dialect = credential.effective_dialect or detect_dialect(connection, credential)
        credentials = ApiKeyCredentials(connection)
    else:
        dialect = connection.oauth_client.effective_dialect
        credentials = OAuthCredentials(connection)
    return get_dialect(dialect)(
        connection.base_url,
        database=connection.database,
        credentials=credentials,
        timeout=settings.ODOO_HTTP_TIMEOUT,
    )
