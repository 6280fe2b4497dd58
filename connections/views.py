"""Views of the OAuth 2.0 authorization-code flow."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from . import authorization, signals
from .models import OAuthClient, OdooConnection
from .odoo import oauth
from .odoo.errors import EncryptionKeyMismatch, InvalidClient, InvalidGrant, OdooError
from .tokens import client_config, store_authorization

logger = logging.getLogger(__name__)

# RFC 6749 section 4.1.2.1 error codes and what staff should do about them.
AUTHORIZATION_ERRORS = {
    "access_denied": "Access was denied in Odoo. Click Connect again and approve the request.",
    "invalid_request": "Odoo rejected the authorization request as malformed. Check the OAuth client settings.",
    "unauthorized_client": "Odoo does not allow this client to use the authorization-code grant. Enable it in Odoo.",
    "unsupported_response_type": "Odoo does not support the authorization-code flow for this client.",
    "invalid_scope": "Odoo rejected the requested scopes. Correct the Scopes field and connect again.",
    "server_error": "Odoo had an internal error while authorizing. Try again later.",
    "temporarily_unavailable": "Odoo is temporarily unable to authorize. Try again in a few minutes.",
}


def redirect_uri_for(request: HttpRequest) -> str:
    """Return the absolute callback URL registered in Odoo."""
    if settings.ODOO_OAUTH_REDIRECT_URI:
        return settings.ODOO_OAUTH_REDIRECT_URI
    return request.build_absolute_uri(reverse("connections:oauth-callback"))


def _change_page(connection: OdooConnection) -> HttpResponseRedirect:
    return redirect("admin:connections_odooconnection_change", connection.pk)


def _changelist() -> HttpResponseRedirect:
    return redirect("admin:connections_odooconnection_changelist")


@never_cache
@staff_member_required
@require_GET
def authorize(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the authorization-code flow for one connection."""
    if not request.user.has_perm("connections.change_odooconnection"):
        raise PermissionDenied("You may not change Odoo connections.")
    connection = get_object_or_404(OdooConnection, pk=pk)
    try:
        config = client_config(connection, redirect_uri_for(request))
    except OAuthClient.DoesNotExist:
        messages.error(request, "Add the OAuth client that you created in Odoo before connecting.")
        return _change_page(connection)
    except (EncryptionKeyMismatch, InvalidClient) as error:
        messages.error(request, error.message)
        return _change_page(connection)
    state, code_challenge = authorization.start(connection, request.user, config.redirect_uri)
    logger.info("oauth.authorize_start connection_id=%s user_id=%s", connection.pk, request.user.pk)
    return HttpResponseRedirect(oauth.build_authorization_url(config, state=state, code_challenge=code_challenge))


@never_cache
@staff_member_required
@require_GET
@sensitive_variables("code", "pending")
def callback(request: HttpRequest) -> HttpResponse:
    """Finish the flow: check the state, then exchange the code with that same client."""
    try:
        pending = authorization.consume(request.GET.get("state", ""), request.user)
    except authorization.StateError as error:
        logger.warning("oauth.callback_rejected reason=%s user_id=%s", error.reason, request.user.pk)
        messages.error(request, error.message)
        return _changelist()

    connection = pending.connection
    error_code = request.GET.get("error", "")
    if error_code:
        return _authorization_error(request, connection, error_code)
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "Odoo redirected back without an authorization code. Click Connect again.")
        return _change_page(connection)

    try:
        config = client_config(connection, pending.redirect_uri)
        token_set = oauth.exchange_code(
            config, code=code, code_verifier=pending.code_verifier, timeout=settings.ODOO_HTTP_TIMEOUT
        )
    except (OAuthClient.DoesNotExist, OdooError) as error:
        return _exchange_failed(request, connection, error)

    with transaction.atomic():
        store_authorization(connection, token_set)
        signals.connection_authorized.send(sender=OdooConnection, connection=connection)
    messages.success(request, f"Connected to {connection.name}. The first sync has been queued.")
    return _change_page(connection)


def _authorization_error(request: HttpRequest, connection: OdooConnection, error_code: str) -> HttpResponse:
    known = error_code in AUTHORIZATION_ERRORS
    logger.warning(
        "oauth.authorization_error connection_id=%s error=%s", connection.pk, error_code if known else "other"
    )
    message = AUTHORIZATION_ERRORS.get(
        error_code, "Odoo returned an authorization error. Check the OAuth client in Odoo and connect again."
    )
    description = request.GET.get("error_description", "")[:200]
    if description:
        message = f"{message} Odoo's description: {description}"
    messages.error(request, message)
    return _change_page(connection)


def _exchange_failed(request: HttpRequest, connection: OdooConnection, error: Exception) -> HttpResponse:
    if isinstance(error, OAuthClient.DoesNotExist):
        messages.error(request, "This connection has no OAuth client any more; add it and connect again.")
        return _change_page(connection)
    assert isinstance(error, OdooError)
    logger.warning("oauth.code_exchange_failed connection_id=%s kind=%s", connection.pk, error.kind)
    if isinstance(error, InvalidClient) and not connection.is_linked:
        connection.set_status(
            OdooConnection.Status.CONFIGURATION_ERROR, error_kind=error.kind, error_message=error.message
        )
    if isinstance(error, InvalidGrant):
        messages.error(request, "Odoo rejected the authorization code (expired or already used). Click Connect again.")
    elif error.transient:
        messages.error(request, f"{error.message} Nothing was changed; try again in a moment.")
    else:
        messages.error(request, error.message)
    return _change_page(connection)
