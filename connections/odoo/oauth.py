"""OAuth 2.0 client for Odoo's authorization-server add-ons, built on requests-oauthlib.

It uses no models: it takes URLs and credentials, returns a ``TokenSet`` and
raises the errors of ``connections.odoo.errors``. The add-ons bend RFC 6749
in small ways (lifetime under ``access_token_validity``, ``expires_in`` as a
string or 0, ``scope: null``, errors as ``{"code", "message"}``); a
compliance hook normalises a success before oauthlib parses it and turns
every failure into one of the project's error kinds first.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import requests
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from .errors import (
    InvalidClient,
    InvalidGrant,
    OdooBadResponse,
    OdooTimeout,
    OdooUnreachable,
    TokenEndpointError,
)
from .transport import host_of, is_json, new_session, raise_for_transient_status

logger = logging.getLogger(__name__)

# Error codes in add-on token responses that mean the client registration is wrong.
INVALID_CLIENT_CODES = {"invalid_client", "invalid_client_id", "unauthorized_client"}
# Non-RFC error messages that mean a dead code or refresh token.
INVALID_GRANT_MESSAGES = (
    "invalid authentication code",
    "authentication code expired",
    "invalid refresh token",
)
INVALID_CLIENT_MESSAGES = ("invalid credentials", "invalid user")


@dataclass(frozen=True)
class ClientConfig:
    """Settings of one OAuth client registration, as the token endpoint needs them."""

    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str
    redirect_uri: str
    scope: str = ""
    client_auth: Literal["basic", "body"] = "basic"
    client_id_in_body: bool = False


@dataclass(frozen=True)
class TokenSet:
    """A normalised token response."""

    access_token: str
    token_type: str
    refresh_token: str | None
    scope: str
    expires_in: int | None
    received_at: datetime

    @property
    def expires_at(self) -> datetime | None:
        if self.expires_in is None:
            return None
        return self.received_at + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:
        return f"TokenSet(token_type={self.token_type!r}, expires_in={self.expires_in!r}, scope={self.scope!r})"


def build_authorization_url(config: ClientConfig, *, state: str, code_challenge: str) -> str:
    """Return the authorize URL with state and an S256 PKCE challenge."""
    oauth = OAuth2Session(client_id=config.client_id, redirect_uri=config.redirect_uri, scope=_scope_list(config))
    url, _ = oauth.authorization_url(
        config.authorize_url,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method="S256",
    )
    return url


def exchange_code(config: ClientConfig, *, code: str, code_verifier: str, timeout: float) -> TokenSet:
    """Exchange an authorization code at the token URL of this same client."""
    oauth, seen = _session(config)
    with _token_errors(config.token_url, timeout):
        token = oauth.fetch_token(
            config.token_url,
            code=code,
            code_verifier=code_verifier,
            timeout=timeout,
            **_client_auth_kwargs(config),
        )
    return _token_set(token, seen)


def refresh(config: ClientConfig, *, refresh_token: str, timeout: float) -> TokenSet:
    """Use a refresh token. The result keeps ``refresh_token=None`` when Odoo sent none."""
    oauth, seen = _session(config)
    # refresh_token() puts extra keyword arguments into the form body.
    if config.client_auth == "body":
        auth_kwargs: dict[str, Any] = {"client_id": config.client_id, "client_secret": config.client_secret}
    else:
        auth_kwargs = {"auth": requests.auth.HTTPBasicAuth(config.client_id, config.client_secret)}
        if config.client_id_in_body:
            auth_kwargs["client_id"] = config.client_id
    with _token_errors(config.token_url, timeout):
        token = oauth.refresh_token(config.token_url, refresh_token=refresh_token, timeout=timeout, **auth_kwargs)
    return _token_set(token, seen)


def revoke(config: ClientConfig, *, token: str, token_type_hint: str, timeout: float) -> bool:
    """Revoke a token (RFC 7009). Return False when the server did not confirm it.

    The add-ons reject unknown tokens with 401 and may keep Odoo's CSRF
    check on the route, so any failure means "revoked locally only".
    """
    if not config.revoke_url:
        return False
    session = new_session()
    data = {"token": token, "token_type_hint": token_type_hint}
    auth = None
    if config.client_auth == "basic":
        auth = requests.auth.HTTPBasicAuth(config.client_id, config.client_secret)
    else:
        data.update(client_id=config.client_id, client_secret=config.client_secret)
    try:
        response = session.post(config.revoke_url, data=data, auth=auth, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        logger.warning("oauth.revoke_failed host=%s error=%s", host_of(config.revoke_url), type(error).__name__)
        return False
    if response.status_code != 200:
        logger.warning("oauth.revoke_rejected host=%s status=%s", host_of(config.revoke_url), response.status_code)
        return False
    return True


# --- internals ---------------------------------------------------------------


def _scope_list(config: ClientConfig) -> list[str] | None:
    scopes = config.scope.split()
    return scopes or None


def _client_auth_kwargs(config: ClientConfig) -> dict[str, Any]:
    """Keyword arguments of fetch_token() for the client's authentication method."""
    if config.client_auth == "body":
        return {"include_client_id": True, "client_secret": config.client_secret}
    return {
        "auth": requests.auth.HTTPBasicAuth(config.client_id, config.client_secret),
        "include_client_id": config.client_id_in_body,
    }


def _session(config: ClientConfig) -> tuple[OAuth2Session, dict[str, Any]]:
    """Return a session whose hook normalises token responses, and what the hook saw."""
    oauth = OAuth2Session(client_id=config.client_id, redirect_uri=config.redirect_uri, scope=_scope_list(config))
    # requests-oauthlib sets no cookie policy or Accept header of its own.
    template = new_session()
    oauth.headers.update(template.headers)
    oauth.cookies.set_policy(template.cookies._policy)  # noqa: SLF001
    host = host_of(config.token_url)
    seen: dict[str, Any] = {}

    def normalise(response: requests.Response) -> requests.Response:
        seen["received_at"] = timezone.now()
        body = _check_token_response(response, host)
        # requests-oauthlib copies the old refresh token into its result
        # when a refresh response has none; this records what Odoo sent.
        seen["refresh_token"] = body.get("refresh_token")
        seen["expires_in"] = body.get("expires_in")
        response._content = json.dumps(body).encode("utf-8")  # noqa: SLF001
        response.headers["Content-Type"] = "application/json"
        return response

    oauth.register_compliance_hook("access_token_response", normalise)
    oauth.register_compliance_hook("refresh_token_response", normalise)
    return oauth, seen


class _token_errors:
    """Map exceptions raised while talking to a token endpoint to project errors."""

    def __init__(self, url: str, timeout: float) -> None:
        self.host = host_of(url)
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:  # noqa: ANN001
        if exc is None or isinstance(exc, TokenEndpointError | OdooBadResponse) or not isinstance(exc, Exception):
            return False
        if isinstance(exc, requests.Timeout):
            raise OdooTimeout(f"The token endpoint at {self.host} did not respond within {self.timeout:g} s.") from exc
        if isinstance(exc, requests.ConnectionError):
            raise OdooUnreachable(f"Could not connect to the token endpoint at {self.host}.") from exc
        if isinstance(exc, OAuth2Error):
            # oauthlib validated a 200 response and found it lacking. Its
            # description never contains the token itself.
            raise TokenEndpointError(
                f"The token endpoint at {self.host} returned an unusable token response: {exc.description or exc.error}.",
                error_code=exc.error,
            ) from exc
        return False


def _check_token_response(response: requests.Response, host: str) -> dict[str, Any]:
    """Return a normalised success body, or raise the error the response means."""
    raise_for_transient_status(response, host)
    if response.is_redirect:
        raise OdooBadResponse(
            f"The token endpoint at {host} redirected (HTTP {response.status_code}); check the token URL.",
            status=response.status_code,
        )
    body = _decode_object(response)
    if body is None:
        raise OdooBadResponse(
            f"The token endpoint at {host} responded with HTTP {response.status_code} without a JSON object "
            f"({response.headers.get('Content-Type', 'no content type')}).",
            status=response.status_code,
        )
    if response.status_code == 200 and body.get("access_token"):
        return normalise_token_body(body)
    raise _token_error(body, response.status_code, host)


def _decode_object(response: requests.Response) -> dict[str, Any] | None:
    if not response.content or not is_json(response) and not response.content.lstrip().startswith(b"{"):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _token_error(body: dict[str, Any], status: int, host: str) -> TokenEndpointError:
    code = str(body.get("error") or "").strip()
    # Synconics responds with {"code": 401, "message": "Invalid Credentials."}.
    message = str(body.get("message") or body.get("error_description") or "").strip()
    lowered = message.lower()
    summary = f"The token endpoint at {host} responded with HTTP {status}"
    if code == "invalid_grant" or any(text in lowered for text in INVALID_GRANT_MESSAGES):
        return InvalidGrant(f"{summary}: the grant is invalid, expired or revoked.", error_code="invalid_grant", status=status)
    if code in INVALID_CLIENT_CODES or (not code and any(text in lowered for text in INVALID_CLIENT_MESSAGES)):
        return InvalidClient(
            f"{summary}: the client id or secret was rejected. Check the OAuth client in Odoo and here.",
            error_code=code or "invalid_client",
            status=status,
        )
    label = code or "no error code"
    return TokenEndpointError(f"{summary} ({label}).", error_code=code, status=status)


def normalise_token_body(body: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an add-on's token response into RFC 6749 section 5.1 shape."""
    result = {key: body[key] for key in ("access_token", "refresh_token", "token_type", "scope") if key in body}
    result["token_type"] = str(body.get("token_type") or "Bearer")
    expires_in = _lifetime(body)
    if expires_in is not None:
        result["expires_in"] = expires_in
    scope = body.get("scope")
    if isinstance(scope, list):
        result["scope"] = " ".join(str(item) for item in scope)
    elif scope is None or scope == "":
        result.pop("scope", None)
    if not result.get("refresh_token"):
        result.pop("refresh_token", None)
    return result


def _lifetime(body: dict[str, Any]) -> int | None:
    for key in ("expires_in", "access_token_validity"):
        value = body.get(key)
        if value is None or value == "" or isinstance(value, bool):
            continue
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds):
            return max(0, int(seconds))
    return None


def _token_set(token: dict[str, Any], seen: dict[str, Any]) -> TokenSet:
    expires_in = seen.get("expires_in")
    return TokenSet(
        access_token=str(token["access_token"]),
        token_type=str(token.get("token_type") or "Bearer"),
        refresh_token=seen.get("refresh_token") or None,
        scope=" ".join(token["scope"]) if isinstance(token.get("scope"), list) else str(token.get("scope") or ""),
        expires_in=int(expires_in) if expires_in is not None else None,
        received_at=seen.get("received_at") or timezone.now(),
    )
