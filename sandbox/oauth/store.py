"""OAuth storage shared by every provider: clients, authorization codes and token families.

Codes and tokens are random (`secrets.token_urlsafe`) and only their SHA-256 hashes are
stored. A token family is every access and refresh token descending from one authorization
code; reuse detection revokes a whole family at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass

from sandbox import timeutil

DEFAULT_CLIENT_ID = "sandbox-muk"
DEFAULT_CLIENT_SECRET = "sandbox-muk-secret"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/odoo/oauth/callback/"
# Presets a client can be registered for: MuK REST, OCA oauth_provider, Synconics restapi
# and a plain RFC 6749 server (the project's "Custom" preset).
PRESETS = ("muk", "oca", "synconics", "generic")

# Authorization codes live 10 minutes, the lifetime RFC 6749 section 4.1.2 recommends.
CODE_LIFETIME_SECONDS = 600


class OAuthError(Exception):
    """An RFC 6749 error: `error` code, optional description and the HTTP status to send.

    `reason` names the cause in a stable word (`unknown`, `used`, `expired`, ...) for add-ons
    whose error messages are not RFC 6749 codes.
    """

    def __init__(self, error: str, description: str | None = None, status: int = 400, reason: str | None = None):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status
        self.reason = reason

    def body(self) -> dict:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    name: str
    preset: str
    redirect_uris: list[str]
    skip_authorization: bool
    grant_types: list[str]

    def public(self) -> dict:
        """Return the client without its secret, for the control API."""
        return {
            "client_id": self.client_id,
            "name": self.name,
            "preset": self.preset,
            "redirect_uris": self.redirect_uris,
            "skip_authorization": self.skip_authorization,
            "grant_types": self.grant_types,
        }


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def save_client(
    connection: sqlite3.Connection,
    client_id: str,
    client_secret: str,
    redirect_uris: list[str],
    preset: str = "muk",
    skip_authorization: bool = False,
    name: str | None = None,
    grant_types: list[str] | None = None,
) -> OAuthClient:
    """Create or replace a client, as an administrator would in the add-on's settings."""
    if not isinstance(client_id, str) or not client_id:
        raise ValueError("Invalid client_id: expected a non-empty string.")
    if not isinstance(client_secret, str):
        raise ValueError("Invalid client_secret: expected a string.")
    if not isinstance(redirect_uris, list) or not all(isinstance(uri, str) and uri for uri in redirect_uris):
        raise ValueError("Invalid redirect_uris: expected a list of URIs.")
    if preset not in PRESETS:
        raise ValueError(f"Invalid preset {preset!r}: use one of {list(PRESETS)}.")
    client = OAuthClient(
        client_id=client_id,
        client_secret=client_secret,
        name=name or client_id,
        preset=preset,
        redirect_uris=list(redirect_uris),
        skip_authorization=bool(skip_authorization),
        grant_types=list(grant_types or ["authorization_code", "refresh_token"]),
    )
    connection.execute(
        "INSERT INTO oauth_client (client_id, client_secret, name, preset, redirect_uris, skip_authorization,"
        " grant_types, create_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (client_id) DO UPDATE SET client_secret = excluded.client_secret, name = excluded.name,"
        " preset = excluded.preset, redirect_uris = excluded.redirect_uris,"
        " skip_authorization = excluded.skip_authorization, grant_types = excluded.grant_types",
        (
            client.client_id,
            client.client_secret,
            client.name,
            client.preset,
            json.dumps(client.redirect_uris),
            int(client.skip_authorization),
            json.dumps(client.grant_types),
            timeutil.now_stored(),
        ),
    )
    return client


def _client_from_row(row: tuple) -> OAuthClient:
    client_id, client_secret, name, preset, redirect_uris, skip_authorization, grant_types = row
    return OAuthClient(
        client_id, client_secret, name, preset, json.loads(redirect_uris), bool(skip_authorization), json.loads(grant_types)
    )


_CLIENT_COLUMNS = "client_id, client_secret, name, preset, redirect_uris, skip_authorization, grant_types"


def get_client(connection: sqlite3.Connection, client_id: str | None) -> OAuthClient | None:
    if not client_id:
        return None
    row = connection.execute(f"SELECT {_CLIENT_COLUMNS} FROM oauth_client WHERE client_id = ?", (client_id,)).fetchone()
    return _client_from_row(row) if row else None


def list_clients(connection: sqlite3.Connection) -> list[OAuthClient]:
    rows = connection.execute(f"SELECT {_CLIENT_COLUMNS} FROM oauth_client ORDER BY id").fetchall()
    return [_client_from_row(row) for row in rows]


def authenticate_client(connection: sqlite3.Connection, client_id: str | None, client_secret: str | None) -> OAuthClient:
    """Return the client whose id and secret match, or raise invalid_client (401)."""
    client = get_client(connection, client_id)
    if client is None or client_secret is None or not secrets.compare_digest(client.client_secret, client_secret):
        raise OAuthError("invalid_client", status=401)
    return client


# Authorization codes


def issue_code(
    connection: sqlite3.Connection,
    client: OAuthClient,
    redirect_uri: str | None,
    user_id: int,
    scope: str | None,
    state: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    now: float,
) -> str:
    """Store a single-use code bound to client, redirect_uri, user and scope; returns the code.

    `redirect_uri` is None when the authorize request did not send one.
    """
    code = secrets.token_urlsafe(32)
    connection.execute(
        "INSERT INTO oauth_authorization_code (code_hash, client_id, redirect_uri, user_id, scope, state,"
        " code_challenge, code_challenge_method, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            hash_secret(code),
            client.client_id,
            redirect_uri,
            user_id,
            scope,
            state,
            code_challenge,
            code_challenge_method,
            now + CODE_LIFETIME_SECONDS,
        ),
    )
    return code


def redeem_code(
    connection: sqlite3.Connection,
    client: OAuthClient,
    code: str | None,
    redirect_uri: str | None,
    now: float,
    check_redirect_uri: bool = True,
) -> tuple[int, str | None]:
    """Consume a code and return its (user_id, scope); raises OAuthError as oauthlib would.

    PKCE is not checked: none of the Odoo OAuth add-ons verifies `code_verifier`. Synconics
    does not compare `redirect_uri` either, hence `check_redirect_uri`.
    """
    if not code:
        raise OAuthError("invalid_request", "Missing code parameter.")
    row = connection.execute(
        "SELECT id, client_id, redirect_uri, user_id, scope, expires_at, used_at"
        " FROM oauth_authorization_code WHERE code_hash = ?",
        (hash_secret(code),),
    ).fetchone()
    if row is None:
        raise OAuthError("invalid_grant", "The authorization code is invalid.", reason="unknown")
    code_id, code_client_id, code_redirect_uri, user_id, scope, expires_at, used_at = row
    if used_at is not None:
        raise OAuthError("invalid_grant", "The authorization code was already used.", reason="used")
    if code_client_id != client.client_id:
        raise OAuthError("invalid_grant", "The authorization code was issued to another client.", reason="unknown")
    if now >= expires_at:
        raise OAuthError("invalid_grant", "The authorization code has expired.", reason="expired")
    if not check_redirect_uri:
        redirect_matches = True
    elif code_redirect_uri is not None:
        redirect_matches = redirect_uri == code_redirect_uri
    else:
        redirect_matches = redirect_uri is None or redirect_uri in client.redirect_uris
    if not redirect_matches:
        # oauthlib's MismatchingRedirectURIError is an invalid_request error.
        raise OAuthError("invalid_request", "Mismatching redirect URI.", reason="redirect_uri")
    connection.execute("UPDATE oauth_authorization_code SET used_at = ? WHERE id = ?", (now, code_id))
    return user_id, scope


# Tokens


def issue_tokens(
    connection: sqlite3.Connection,
    client_id: str,
    user_id: int,
    scope: str | None,
    family_id: str | None,
    lifetime: int,
    now: float,
) -> dict:
    """Store a new access token and refresh token pair and return the RFC 6749 token response."""
    family_id = family_id or secrets.token_hex(16)
    access_token = insert_access_token(connection, client_id, user_id, scope, family_id, lifetime, now)
    refresh_token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    connection.execute(
        "INSERT INTO oauth_refresh_token (token_hash, family_id, client_id, user_id, scope, access_expires_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (hash_secret(refresh_token), family_id, client_id, user_id, scope, expires_at, now),
    )
    response = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "refresh_token": refresh_token,
    }
    if scope is not None:
        response["scope"] = scope
    return response


def insert_access_token(
    connection: sqlite3.Connection,
    client_id: str,
    user_id: int,
    scope: str | None,
    family_id: str,
    lifetime: int,
    now: float,
) -> str:
    """Store a new access token without a refresh token and return it."""
    access_token = secrets.token_urlsafe(32)
    connection.execute(
        "INSERT INTO oauth_access_token (token_hash, family_id, client_id, user_id, scope, expires_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (hash_secret(access_token), family_id, client_id, user_id, scope, now + lifetime, now),
    )
    return access_token


def revoke_family(connection: sqlite3.Connection, family_id: str, now: float) -> None:
    connection.execute("DELETE FROM oauth_access_token WHERE family_id = ?", (family_id,))
    connection.execute(
        "UPDATE oauth_refresh_token SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", (now, family_id)
    )


def rotate_refresh_token(
    connection: sqlite3.Connection,
    client: OAuthClient,
    refresh_token: str | None,
    requested_scope: str | None,
    lifetime: int,
    grace_seconds: int,
    reuse_detection: bool,
    now: float,
) -> dict:
    """Exchange a refresh token for a new token pair in the same family.

    The presented refresh token is marked rotated but keeps working until `grace_seconds`
    after its access token expired (MuK's behaviour), unless `reuse_detection` is on: then
    presenting an already rotated token revokes the whole family.
    """
    if not refresh_token:
        raise OAuthError("invalid_request", "Missing refresh_token parameter.")
    row = connection.execute(
        "SELECT id, family_id, client_id, user_id, scope, access_expires_at, rotated_at, revoked_at"
        " FROM oauth_refresh_token WHERE token_hash = ?",
        (hash_secret(refresh_token),),
    ).fetchone()
    if row is None:
        raise OAuthError("invalid_grant", "The refresh token is invalid.")
    token_id, family_id, token_client_id, user_id, scope, access_expires_at, rotated_at, revoked_at = row
    if token_client_id != client.client_id:
        raise OAuthError("invalid_grant", "The refresh token was issued to another client.")
    if revoked_at is not None:
        raise OAuthError("invalid_grant", "The refresh token has been revoked.")
    if now >= access_expires_at + grace_seconds:
        raise OAuthError("invalid_grant", "The refresh token has expired.")
    if rotated_at is not None and reuse_detection:
        revoke_family(connection, family_id, now)
        raise OAuthError("invalid_grant", "The refresh token was already used; every token of this grant is revoked.")
    if requested_scope is not None and scope is not None:
        if not set(requested_scope.split()) <= set(scope.split()):
            raise OAuthError("invalid_scope", "The requested scope exceeds the scope granted by the resource owner.")
        scope = requested_scope
    if rotated_at is None:
        connection.execute("UPDATE oauth_refresh_token SET rotated_at = ? WHERE id = ?", (now, token_id))
    return issue_tokens(connection, client.client_id, user_id, scope, family_id, lifetime, now)


def delete_access_token(connection: sqlite3.Connection, token: str) -> int:
    """Delete the access token row matching `token` and return how many rows went (0 or 1)."""
    return connection.execute("DELETE FROM oauth_access_token WHERE token_hash = ?", (hash_secret(token),)).rowcount


def validate_access_token(connection: sqlite3.Connection, token: str | None, now: float) -> tuple[int, str, str | None] | None:
    """Return (user_id, client_id, scope) for a live access token, or None."""
    if not token:
        return None
    row = connection.execute(
        "SELECT user_id, client_id, scope, expires_at FROM oauth_access_token WHERE token_hash = ?",
        (hash_secret(token),),
    ).fetchone()
    if row is None or now >= row[3]:
        return None
    return row[0], row[1], row[2]


def token_overview(connection: sqlite3.Connection, now: float) -> dict:
    """Summarise stored tokens without revealing them, for the control API."""
    access = connection.execute(
        "SELECT family_id, client_id, user_id, scope, expires_at FROM oauth_access_token ORDER BY id"
    ).fetchall()
    refresh = connection.execute(
        "SELECT family_id, client_id, user_id, rotated_at, revoked_at, access_expires_at"
        " FROM oauth_refresh_token ORDER BY id"
    ).fetchall()
    return {
        "access_tokens": [
            {"family_id": f, "client_id": c, "user_id": u, "scope": s, "expires_in": round(e - now, 3), "expired": now >= e}
            for f, c, u, s, e in access
        ],
        "refresh_tokens": [
            {
                "family_id": f,
                "client_id": c,
                "user_id": u,
                "rotated": rotated is not None,
                "revoked": revoked is not None,
                "access_expires_in": round(expires - now, 3),
            }
            for f, c, u, rotated, revoked, expires in refresh
        ],
    }


def expire_access_tokens(connection: sqlite3.Connection, now: float) -> int:
    """Make every access token expire now; their refresh tokens keep their grace period."""
    connection.execute("UPDATE oauth_refresh_token SET access_expires_at = MIN(access_expires_at, ?)", (now,))
    return connection.execute("UPDATE oauth_access_token SET expires_at = ? WHERE expires_at > ?", (now, now)).rowcount


@dataclass(frozen=True)
class AccessGrant:
    """A live access token's row: who it acts for, for which client, scope and expiry."""

    user_id: int
    client_id: str
    scope: str | None
    family_id: str
    expires_at: float
    created_at: float


def find_access_token(connection: sqlite3.Connection, token: str | None, now: float) -> AccessGrant | None:
    """Return the grant of a live (stored and unexpired) access token, or None."""
    if not token:
        return None
    row = connection.execute(
        "SELECT user_id, client_id, scope, family_id, expires_at, created_at FROM oauth_access_token"
        " WHERE token_hash = ?",
        (hash_secret(token),),
    ).fetchone()
    if row is None or now >= row[4]:
        return None
    return AccessGrant(*row)


def _live_refresh_token(connection: sqlite3.Connection, token: str, now: float) -> tuple[int, str] | None:
    """Return (row id, family id) of an unrevoked refresh token whose access token is unexpired."""
    row = connection.execute(
        "SELECT id, family_id, access_expires_at, revoked_at FROM oauth_refresh_token WHERE token_hash = ?",
        (hash_secret(token),),
    ).fetchone()
    if row is None or row[3] is not None or now >= row[2]:
        return None
    return row[0], row[1]


def is_live_token(connection: sqlite3.Connection, token: str, now: float) -> bool:
    """Return whether `token` is a live access token or a live refresh token."""
    return bool(token) and (
        find_access_token(connection, token, now) is not None or _live_refresh_token(connection, token, now) is not None
    )


def revoke_token_row(connection: sqlite3.Connection, token: str, now: float) -> str | None:
    """Revoke one token row the way OCA's oauth_provider does; return "access", "refresh" or None.

    OCA keeps an access token and its refresh token in one row, hidden once the access token
    expired. Revoking the access token deletes that row, so its refresh token goes too.
    Revoking the refresh token clears it and leaves the access token working.
    """
    grant = find_access_token(connection, token, now)
    if grant is not None:
        delete_access_token(connection, token)
        connection.execute(
            "UPDATE oauth_refresh_token SET revoked_at = ? WHERE family_id = ? AND created_at = ? AND revoked_at IS NULL",
            (now, grant.family_id, grant.created_at),
        )
        return "access"
    live = _live_refresh_token(connection, token, now)
    if live is not None:
        connection.execute("UPDATE oauth_refresh_token SET revoked_at = ? WHERE id = ?", (now, live[0]))
        return "refresh"
    return None


def revoke_grant(connection: sqlite3.Connection, token: str, token_type_hint: str | None, now: float) -> bool:
    """Revoke a token as RFC 7009 describes; return whether a token matched.

    An access token is deleted on its own. A refresh token revokes its whole grant, access
    tokens included (RFC 7009 section 2.1). The hint only sets which kind is looked up first.
    """
    lookups = ["refresh", "access"] if token_type_hint == "refresh_token" else ["access", "refresh"]
    for kind in lookups:
        if kind == "access" and delete_access_token(connection, token):
            return True
        if kind == "refresh":
            row = connection.execute(
                "SELECT family_id FROM oauth_refresh_token WHERE token_hash = ?", (hash_secret(token),)
            ).fetchone()
            if row is not None:
                revoke_family(connection, row[0], now)
                return True
    return False
