"""Token storage and refresh: one refresh per connection at a time, under a row lock."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .fields import is_undecryptable
from .models import ApiKeyCredential, OAuthClient, OAuthToken, OdooConnection
from .odoo import oauth
from .odoo.errors import EncryptionKeyMismatch, InvalidClient, InvalidGrant, OdooError, OdooUnauthorized
from .urls_policy import validate_provider_url

logger = logging.getLogger(__name__)

# Cooldown after a transient refresh failure: doubles per failure in a row,
# from 30 seconds to at most 30 minutes, and never less than Retry-After.
REFRESH_BACKOFF_BASE = 30.0
REFRESH_BACKOFF_MAX = 1800.0


class TokenRefreshCoolingDown(OdooError):
    """A refresh is not sent because a recent one failed transiently."""

    kind = "refresh_cooldown"
    transient = True


def client_config(connection: OdooConnection, redirect_uri: str = "") -> oauth.ClientConfig:
    """Build the model-free OAuth client settings of a connection."""
    client = connection.oauth_client
    _check_urls(connection, [client.effective_authorize_url, client.effective_token_url, client.effective_revoke_url])
    secret = client.client_secret
    if is_undecryptable(secret):
        raise EncryptionKeyMismatch(
            f"The client secret of connection {connection.pk} cannot be decrypted with the configured keys."
        )
    return oauth.ClientConfig(
        client_id=client.client_id,
        client_secret=secret or "",
        authorize_url=client.effective_authorize_url,
        token_url=client.effective_token_url,
        revoke_url=client.effective_revoke_url,
        redirect_uri=redirect_uri,
        scope=client.scopes,
        client_auth=client.effective_client_auth,
        client_id_in_body=client.provider.client_id_in_body or client.effective_client_auth == "body",
    )


def _check_urls(connection: OdooConnection, urls: list[str]) -> None:
    """Apply the https rule at request time too: settings may have changed since the form was saved."""
    for url in urls:
        if not url:
            continue
        try:
            validate_provider_url(url)
        except ValidationError as error:
            raise InvalidClient(
                f"Connection {connection.pk} cannot be used: {error.messages[0]}", error_code="insecure_url"
            ) from None


def store_authorization(connection: OdooConnection, token_set: oauth.TokenSet) -> OAuthToken:
    """Save the tokens of a fresh authorization and mark the connection connected."""
    token, _ = OAuthToken.objects.update_or_create(
        connection=connection,
        defaults={
            "access_token": token_set.access_token,
            "refresh_token": token_set.refresh_token,
            "token_type": token_set.token_type,
            "scope": token_set.scope,
            "expires_at": token_set.expires_at,
            "obtained_at": token_set.received_at,
            "refreshed_at": None,
            "status": OAuthToken.Status.ACTIVE,
        },
    )
    connection.set_status(OdooConnection.Status.CONNECTED, clear_error=True)
    logger.info(
        "oauth.authorized connection_id=%s expires_at=%s", connection.pk, _iso(token_set.expires_at)
    )
    return token


def refresh_access_token(connection_id: int, *, seen_access_token: str | None, reason: str) -> OAuthToken:
    """Refresh the token of a connection unless another worker already did.

    The row lock is held across the token request and the save, so a
    rotating refresh token is sent once. ``seen_access_token`` is the access
    token the caller decided to replace: when the stored one differs after
    the lock is taken, another worker refreshed it and no request is sent.
    Errors are raised only after the status change they cause is committed.
    """
    failure: OdooError | None = None
    with transaction.atomic():
        token = (
            OAuthToken.objects.select_for_update(of=("self",))
            .select_related("connection__oauth_client")
            .get(connection_id=connection_id)
        )
        failure = record_key_mismatch(token)
        already_refreshed = seen_access_token is not None and token.access_token != seen_access_token
        if failure is None and already_refreshed:
            logger.info("oauth.refresh_skipped connection_id=%s reason=already_refreshed", connection_id)
            return token
        if failure is None and not token.refresh_token:
            failure = InvalidGrant(
                f"Connection {connection_id} has no refresh token; authorize it again.", error_code="no_refresh_token"
            )
            _mark_dead_grant(token, failure)
        elif failure is None:
            failure = _refresh_locked(token, reason)
    if failure is not None:
        raise failure
    return token


def _refresh_locked(token: OAuthToken, reason: str) -> OdooError | None:
    connection = token.connection
    now = timezone.now()
    if token.retry_not_before and token.retry_not_before > now:
        wait = (token.retry_not_before - now).total_seconds()
        logger.info("oauth.refresh_cooling_down connection_id=%s retry_in=%.0f", connection.pk, wait)
        return TokenRefreshCoolingDown(
            f"Refreshing the token of connection {connection.pk} failed recently; next attempt in {wait:.0f} s.",
            retry_after=wait,
        )
    sent_refresh_token = token.refresh_token
    logger.info(
        "oauth.refresh_start connection_id=%s reason=%s old_expires_at=%s",
        connection.pk,
        reason,
        _iso(token.expires_at),
    )
    try:
        token_set = oauth.refresh(
            client_config(connection), refresh_token=sent_refresh_token, timeout=settings.ODOO_HTTP_TIMEOUT
        )
    except InvalidGrant as error:
        # The lock is held and the row was re-read, so the refresh token sent
        # is still the stored one: no other worker rotated it meanwhile.
        _mark_dead_grant(token, error)
        return error
    except InvalidClient as error:
        connection.set_status(
            OdooConnection.Status.CONFIGURATION_ERROR, error_kind=error.kind, error_message=error.message
        )
        logger.error("oauth.refresh_invalid_client connection_id=%s", connection.pk)
        return error
    except OdooError as error:
        return _record_refresh_failure(token, error)

    token.access_token = token_set.access_token
    if token_set.refresh_token:
        token.refresh_token = token_set.refresh_token
    token.token_type = token_set.token_type
    if token_set.scope:
        token.scope = token_set.scope
    token.expires_at = token_set.expires_at
    token.refreshed_at = token_set.received_at
    token.status = OAuthToken.Status.ACTIVE
    token.refresh_failures = 0
    token.retry_not_before = None
    token.save()
    if connection.status != OdooConnection.Status.CONNECTED:
        connection.set_status(OdooConnection.Status.CONNECTED)
    logger.info(
        "oauth.refresh_done connection_id=%s new_expires_at=%s rotated=%s",
        connection.pk,
        _iso(token.expires_at),
        bool(token_set.refresh_token),
    )
    return None


def _record_refresh_failure(token: OAuthToken, error: OdooError) -> OdooError:
    """Start a cooldown after a failure that may pass; stored tokens stay untouched."""
    token.refresh_failures += 1
    backoff = min(REFRESH_BACKOFF_BASE * 2 ** (token.refresh_failures - 1), REFRESH_BACKOFF_MAX)
    wait = max(backoff, error.retry_after or 0)
    token.retry_not_before = timezone.now() + timedelta(seconds=wait)
    token.save(update_fields=["refresh_failures", "retry_not_before"])
    token.connection.set_status(OdooConnection.Status.DEGRADED, error_kind=error.kind, error_message=error.message)
    logger.warning(
        "oauth.refresh_failed connection_id=%s kind=%s failures=%s retry_in=%.0f expires_at=%s",
        token.connection_id,
        error.kind,
        token.refresh_failures,
        wait,
        _iso(token.expires_at),
    )
    if error.retry_after is None or error.retry_after < wait:
        error.retry_after = wait
    return error


def _mark_dead_grant(token: OAuthToken, error: OdooError) -> None:
    token.status = OAuthToken.Status.INVALID
    token.save(update_fields=["status"])
    token.connection.set_status(
        OdooConnection.Status.NEEDS_REAUTHORIZATION,
        error_kind=error.kind,
        error_message="Odoo no longer accepts this connection's grant. Click Reconnect to authorize it again.",
    )
    logger.error("oauth.grant_dead connection_id=%s", token.connection_id)


def check_decryptable(token: OAuthToken) -> None:
    """Raise EncryptionKeyMismatch, and record it, when a stored token cannot be decrypted."""
    error = record_key_mismatch(token)
    if error is not None:
        raise error


def record_key_mismatch(token: OAuthToken) -> EncryptionKeyMismatch | None:
    """Return, and record on the connection, the error of an undecryptable token."""
    if not (is_undecryptable(token.access_token) or is_undecryptable(token.refresh_token)):
        return None
    connection = token.connection
    error = EncryptionKeyMismatch(
        f"The tokens of connection {connection.pk} cannot be decrypted with the configured "
        "DJANGO_SECRET_KEY and DJANGO_SALT_KEY. Restore the old key, or list it in "
        "DJANGO_SECRET_KEY_FALLBACKS, then run 'manage.py check'."
    )
    if connection.status != OdooConnection.Status.KEY_MISMATCH:
        connection.set_status(OdooConnection.Status.KEY_MISMATCH, error_kind=error.kind, error_message=error.message)
        logger.error("oauth.key_mismatch connection_id=%s", connection.pk)
    return error


class OAuthCredentials:
    """Bearer credentials of one connection for the data clients.

    The token is read from the database once and again only when it comes
    within the refresh margin or Odoo rejects it, so a sync page costs no
    token query. A token that another worker refreshed meanwhile is picked
    up on the first rejection, without a token request.
    """

    def __init__(self, connection: OdooConnection) -> None:
        self.connection = connection
        self._token: OAuthToken | None = None

    def _current(self) -> OAuthToken:
        try:
            token = OAuthToken.objects.select_related("connection").get(connection=self.connection)
        except OAuthToken.DoesNotExist:
            raise OdooUnauthorized(f"Connection {self.connection.pk} is not linked; click Connect.") from None
        check_decryptable(token)
        if token.status == OAuthToken.Status.INVALID:
            raise InvalidGrant(
                f"Connection {self.connection.pk} needs re-authorization; click Reconnect.", error_code="invalid_grant"
            )
        return token

    def authorization_header(self) -> str:
        margin = settings.ODOO_TOKEN_REFRESH_MARGIN
        token = self._token
        if token is None or token.expires_within(margin):
            token = self._current()
            if token.expires_within(margin):
                token = refresh_access_token(self.connection.pk, seen_access_token=token.access_token, reason="expiring")
            self._token = token
        return f"Bearer {token.access_token}"

    def renew_after_rejection(self, rejected_header: str) -> bool:
        rejected = rejected_header.removeprefix("Bearer ")
        logger.warning("oauth.access_token_rejected connection_id=%s", self.connection.pk)
        self._token = None
        token = refresh_access_token(self.connection.pk, seen_access_token=rejected, reason="rejected")
        self._token = token
        return token.access_token != rejected


def _iso(moment) -> str:  # noqa: ANN001
    return moment.isoformat() if moment else "unknown"


def disconnect(connection: OdooConnection) -> bool:
    """Revoke the tokens where the add-on allows it, delete the credentials and stop syncs.

    An API key cannot be revoked from here, so only the stored copy is
    deleted. Return True when the server confirmed a revocation. Leads stay
    until staff purge them.
    """
    revoked = False
    token = OAuthToken.objects.filter(connection=connection).first()
    if token is not None and not (is_undecryptable(token.access_token) or is_undecryptable(token.refresh_token)):
        try:
            config = client_config(connection)
        except (EncryptionKeyMismatch, InvalidClient, OAuthClient.DoesNotExist):
            config = None
        if config is not None and config.revoke_url:
            timeout = settings.ODOO_HTTP_TIMEOUT
            # Revoke the refresh token too: MuK's revoke endpoint ignores it,
            # RFC 7009 servers revoke the whole grant with it.
            revoked = oauth.revoke(config, token=token.access_token, token_type_hint="access_token", timeout=timeout)
            if token.refresh_token:
                oauth.revoke(config, token=token.refresh_token, token_type_hint="refresh_token", timeout=timeout)
    OAuthToken.objects.filter(connection=connection).delete()
    ApiKeyCredential.objects.filter(connection=connection).update(
        api_key=None, uid=None, status=ApiKeyCredential.Status.UNVERIFIED
    )
    connection.set_status(OdooConnection.Status.DISCONNECTED)
    logger.info("oauth.disconnected connection_id=%s revoked=%s", connection.pk, revoked)
    return revoked
