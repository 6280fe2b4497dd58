"""Test a connection against its Odoo and link it: read the version, the dialect, the user and the visible leads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from . import signals
from .apikeys import ApiKeyCredentials, credential_of, detect_dialect
from .clients import build_data_client
from .models import ApiKeyCredential, OdooConnection
from .odoo import version as odoo_version
from .odoo.errors import (
    EncryptionKeyMismatch,
    InvalidClient,
    InvalidGrant,
    OdooAccessDenied,
    OdooError,
    OdooRequestRejected,
    OdooUnauthorized,
    OdooUnsupportedVersion,
)
from .odoo.transport import new_session

logger = logging.getLogger(__name__)


@dataclass
class ConnectionReport:
    """Findings of a successful connection test, shown to staff."""

    version: str
    edition: str
    dialect: str
    uid: int
    user_name: str
    user_login: str
    company_names: list[str]
    lead_count: int
    # Every crm.lead field the server lists; empty when the dialect cannot list fields.
    lead_fields: list[str] = field(default_factory=list)
    # True when this test linked a connection that was not linked before.
    newly_linked: bool = False


def check_connection(connection: OdooConnection) -> ConnectionReport:
    """Read the version, choose the dialect, and read the user, its companies and the visible leads.

    Staff run this explicitly, so an API key that Odoo refused earlier is tried again once.
    A connection that was not linked becomes linked and its first sync is queued after
    commit. Errors are recorded on the connection and raised.
    """
    try:
        report = _check(connection)
    except OdooError as error:
        _record_failure(connection, error)
        raise
    with transaction.atomic():
        connection.refresh_from_db(fields=["status"])
        report.newly_linked = not connection.is_linked
        connection.set_status(OdooConnection.Status.CONNECTED, clear_error=True)
        if report.newly_linked:
            signals.connection_authorized.send(sender=OdooConnection, connection=connection)
    logger.info(
        "connection.tested connection_id=%s version=%s dialect=%s uid=%s leads=%s",
        connection.pk,
        report.version,
        report.dialect,
        report.uid,
        report.lead_count,
    )
    return report


def _check(connection: OdooConnection) -> ConnectionReport:
    version = read_version(connection)
    if connection.auth_method == OdooConnection.AuthMethod.API_KEY:
        credential = credential_of(connection)
        if credential.status == ApiKeyCredential.Status.REJECTED:
            credential.reset_verification()
            credential.save(update_fields=["uid", "status", "rejected_at"])
        detect_dialect(connection, credential, version)

    client = build_data_client(connection)
    user = client.current_user()
    uid, company_ids = user["uid"], sorted(user["company_ids"])
    if isinstance(client.credentials, ApiKeyCredentials):
        # JSON-2 has no authenticate call, so the uid from context_get is stored here.
        client.credentials.remember_uid(uid)
    context = {"active_test": False, "allowed_company_ids": company_ids}
    users = client.search_read(
        "res.users", domain=[("id", "=", uid)], fields=["name", "login"], order="id asc", limit=1, context=context
    )
    companies = client.search_read(
        "res.company", domain=[("id", "in", company_ids)], fields=["name"], order="id asc", limit=len(company_ids) or 1, context=context
    )
    lead_count = client.search_count("crm.lead", domain=[], context=context)
    lead_fields = sorted(client.fields_get("crm.lead")) if client.capabilities.fields_get else []
    return ConnectionReport(
        version=version.label if version else connection.odoo_version or "unknown",
        edition=version.edition if version else "",
        dialect=client.key,
        uid=uid,
        user_name=str(users[0].get("name") or "") if users else "",
        user_login=str(users[0].get("login") or "") if users else "",
        company_names=[str(company.get("name") or company["id"]) for company in companies],
        lead_count=lead_count,
        lead_fields=lead_fields,
    )


def read_version(connection: OdooConnection) -> odoo_version.ServerVersion | None:
    """Return the server version and store it; OAuth add-on connections go on without it."""
    try:
        version = odoo_version.fetch_version(new_session(), connection.base_url, timeout=settings.ODOO_HTTP_TIMEOUT)
    except OdooError as error:
        if connection.auth_method == OdooConnection.AuthMethod.API_KEY:
            raise
        logger.info("connection.version_unknown connection_id=%s kind=%s", connection.pk, error.kind)
        return None
    connection.odoo_version = version.label[:32]
    connection.save(update_fields=["odoo_version", "updated_at"])
    return version


def _record_failure(connection: OdooConnection, error: OdooError) -> None:
    connection.refresh_from_db(fields=["status"])
    Status = OdooConnection.Status
    if isinstance(error, EncryptionKeyMismatch | InvalidGrant | InvalidClient) or connection.status in (
        Status.CREDENTIALS_REJECTED,
        Status.KEY_MISMATCH,
    ):
        # The credential layer already stored the status staff must act on.
        return
    if isinstance(error, OdooUnauthorized):
        status = Status.NEEDS_REAUTHORIZATION if connection.is_linked else connection.status
    elif isinstance(error, OdooAccessDenied | OdooUnsupportedVersion | OdooRequestRejected):
        status = Status.CONFIGURATION_ERROR
    elif error.transient and connection.is_linked:
        status = Status.DEGRADED
    else:
        status = connection.status
    connection.set_status(status, error_kind=error.kind, error_message=error.message)
    logger.warning("connection.test_failed connection_id=%s kind=%s", connection.pk, error.kind)
