"""Build the data client of a connection: its dialect with its credentials."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from .apikeys import ApiKeyCredentials, credential_of, detect_dialect
from .models import OdooConnection
from .odoo.dialects import OdooDataClient, get_dialect
from .odoo.errors import InvalidClient
from .tokens import OAuthCredentials
from .urls_policy import validate_provider_url


def build_data_client(connection: OdooConnection) -> OdooDataClient:
    """Return the client of the connection's data API.

    An API-key connection whose dialect was never chosen (not tested yet, or its URL
    changed) reads the server version first, so its first sync links it.
    """
    try:
        # Settings may have changed since the URL was saved: http stays
        # limited to loopback hosts in development, for data requests too.
        validate_provider_url(connection.base_url)
    except ValidationError as error:
        raise InvalidClient(
            f"Connection {connection.pk} cannot be used: {error.messages[0]}", error_code="insecure_url"
        ) from None
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
