"""Errors raised by the Odoo clients, sorted into transient and terminal kinds."""

from __future__ import annotations


class OdooError(Exception):
    """Base class. ``kind`` is a stable name stored on connections and sync runs."""

    kind = "odoo_error"
    # Transient errors are retried with backoff and never change credentials.
    transient = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class OdooUnreachable(OdooError):
    kind = "unreachable"
    transient = True


class OdooTimeout(OdooError):
    kind = "timeout"
    transient = True


class OdooServerError(OdooError):
    kind = "server_error"
    transient = True


class OdooRateLimited(OdooError):
    kind = "rate_limited"
    transient = True


class OdooBadResponse(OdooError):
    """A response that is not the JSON the API promises, such as an HTML page from a proxy."""

    kind = "bad_response"
    transient = True


class OdooUnauthorized(OdooError):
    """Odoo rejected the credential sent with a data request."""

    kind = "unauthorized"


class OdooAccessDenied(OdooError):
    """The linked Odoo user may not read what was requested."""

    kind = "access_error"


class OdooRequestRejected(OdooError):
    """Odoo rejected the request itself (bad field, bad parameter): a bug on this side."""

    kind = "request_rejected"


class TokenEndpointError(OdooError):
    """The OAuth token endpoint returned an error response (RFC 6749 section 5.2)."""

    kind = "token_error"

    def __init__(self, message: str, *, error_code: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.error_code = error_code


class InvalidGrant(TokenEndpointError):
    """The authorization code or refresh token is dead: a person must authorize again."""

    kind = "invalid_grant"


class InvalidClient(TokenEndpointError):
    """Odoo does not accept the client id or secret: the registration is wrong."""

    kind = "invalid_client"


class EncryptionKeyMismatch(OdooError):
    """A stored secret cannot be decrypted with the configured keys."""

    kind = "key_mismatch"


class OdooCredentialsRejected(OdooUnauthorized):
    """Odoo refused the login or API key; it is not sent again until staff enter another."""

    kind = "credentials_rejected"


class OdooSessionExpired(OdooError):
    """Odoo reported that the session expired (JSON-RPC error code 100)."""

    kind = "session_expired"


class OdooMissingRecord(OdooError):
    """A record was deleted while it was being read (Odoo's MissingError)."""

    kind = "missing_record"


class OdooConflict(OdooError):
    """Odoo could not lock the records (LockError, HTTP 409); the same request may pass later."""

    kind = "conflict"
    transient = True


class OdooUnsupportedVersion(OdooError):
    """The server's Odoo version has no API that this site can use with an API key."""

    kind = "unsupported_version"
