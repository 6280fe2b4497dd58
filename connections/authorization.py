"""Server-side state of the authorization-code flow: state and PKCE verifier."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import AuthorizationRequest, OdooConnection, hash_state

# Pending requests kept per user; older ones are dropped so a user who
# clicks Connect repeatedly cannot grow the table without bound.
MAX_PENDING_PER_USER = 10


class StateError(Exception):
    """The callback's state does not match a usable pending authorization."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def code_challenge_for(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(connection: OdooConnection, user, redirect_uri: str) -> tuple[str, str]:  # noqa: ANN001
    """Create a pending authorization; return its state and PKCE code challenge."""
    state = secrets.token_urlsafe(32)
    # RFC 7636 requires 43 to 128 characters; 64 random bytes give 86.
    code_verifier = secrets.token_urlsafe(64)
    now = timezone.now()
    with transaction.atomic():
        AuthorizationRequest.objects.filter(expires_at__lte=now).delete()
        AuthorizationRequest.objects.create(
            connection=connection,
            user=user,
            state_hash=hash_state(state),
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.ODOO_AUTHORIZATION_REQUEST_TTL),
        )
        stale = AuthorizationRequest.objects.filter(user=user, used_at__isnull=True).order_by("-created_at")
        stale_ids = list(stale.values_list("pk", flat=True)[MAX_PENDING_PER_USER:])
        if stale_ids:
            AuthorizationRequest.objects.filter(pk__in=stale_ids).delete()
    return state, code_challenge_for(code_verifier)


def consume(state: str, user) -> AuthorizationRequest:  # noqa: ANN001
    """Mark the pending authorization of ``state`` used and return it.

    Raises StateError for an unknown, expired, used or foreign state. A
    foreign state is left untouched so another user cannot burn it.
    """
    if not state:
        raise StateError("missing", "The response from Odoo has no state parameter, so it was ignored.")
    with transaction.atomic():
        request = (
            AuthorizationRequest.objects.select_for_update()
            .select_related("connection")
            .filter(state_hash=hash_state(state))
            .first()
        )
        if request is None:
            raise StateError("unknown", "This authorization response does not match any Connect click; click Connect again.")
        if request.user_id != user.pk:
            raise StateError("foreign", "This authorization was started by another user; start your own.")
        if request.used_at is not None:
            raise StateError("used", "This authorization response was already used; click Connect again.")
        request.used_at = timezone.now()
        request.save(update_fields=["used_at"])
        if request.expires_at <= request.used_at:
            raise_after = StateError("expired", "This authorization took longer than allowed; click Connect again.")
        else:
            raise_after = None
    if raise_after is not None:
        raise raise_after
    return request
