"""API keys of `res.users` and the login cooldown, as Odoo's native APIs check them.

A key is 40 hex characters (160 random bits). Like Odoo, the sandbox keeps the first 8
characters in clear as an index and only a salted hash of the whole key. Keys work in place
of the password for JSON-RPC and as the JSON-2 bearer. From Odoo 18 a key may carry an
expiration date, after which it behaves like a wrong key.

The login cooldown follows Odoo's `res.users._assert_can_auth`: failed logins are counted
per source IP until a successful one. Once `login_cooldown_after` failures were counted and
the last one is less than `login_cooldown_duration` seconds old, every login from that IP is
refused without being checked or counted. Odoo keeps the counters in memory per worker; the
sandbox keeps them in its SQLite file, so `POST /__sandbox__/reset` clears them with the keys.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta

from sandbox import timeutil
from sandbox.db import Database
from sandbox.demo_data import ADMIN_ID
from sandbox.exceptions import MissingError
from sandbox.models import SUPERUSER_ID
from sandbox.seed import check_password, hash_password

KEY_INDEX_LENGTH = 8
# Odoo 18 added expiration dates to API keys.
EXPIRY_FROM_VERSION = 18
# The superuser and Mitchell Admin may create keys without an expiration date in Odoo 18+;
# other users must set one within their groups' api_key_duration, 1 day when no group sets it.
ADMIN_IDS = (SUPERUSER_ID, ADMIN_ID)
NON_ADMIN_MAX_DURATION = timedelta(days=1)

# Created on first use: the tables are not Odoo models, so they stay out of sandbox/db.py's schema.
TABLES = (
    """CREATE TABLE IF NOT EXISTS res_users_apikeys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        scope TEXT,
        key_index TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        create_date TEXT NOT NULL,
        expiration_date TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS res_users_apikeys_key_index ON res_users_apikeys (key_index)",
    """CREATE TABLE IF NOT EXISTS sandbox_login_failures (
        source TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure REAL NOT NULL
    )""",
)

_databases_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_tables(db: Database) -> None:
    """Create the key and login failure tables once per database handle."""
    if db in _databases_ready:
        return
    with db.transaction() as connection:
        for statement in TABLES:
            connection.execute(statement)
    _databases_ready.add(db)


@dataclass(frozen=True)
class ApiKey:
    """A stored key without its value."""

    id: int
    name: str
    user_id: int
    login: str
    scope: str | None
    create_date: str
    expiration_date: str | None

    def public(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "user_id": self.user_id,
            "login": self.login,
            "scope": self.scope,
            "create_date": self.create_date,
            "expiration_date": self.expiration_date,
        }


def _parse_expiration(value: object) -> str | None:
    if value in (None, False, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"Invalid expiration_date {value!r}: expected 'YYYY-MM-DD HH:MM:SS' in UTC.")
    try:
        moment = timeutil.parse_datetime(value)
    except ValueError:
        raise ValueError(f"Invalid expiration_date {value!r}: expected 'YYYY-MM-DD HH:MM:SS' in UTC.") from None
    return moment.strftime(timeutil.DATETIME_FORMAT)


def user_id_for_login(connection: sqlite3.Connection, login: object) -> int | None:
    """Return the id of the active user with this login, or None."""
    if not isinstance(login, str) or not login:
        return None
    row = connection.execute("SELECT id FROM res_users WHERE login = ? AND active", (login,)).fetchone()
    return row[0] if row else None


def create_key(
    connection: sqlite3.Connection,
    *,
    login: object,
    version: int,
    name: object = None,
    scope: object = None,
    expiration_date: object = None,
) -> tuple[ApiKey, str]:
    """Store a new key for a user and return it with its value, which is never stored."""
    user_id = user_id_for_login(connection, login)
    if user_id is None:
        raise ValueError(f"Invalid login {login!r}: no active user has it.")
    if scope is not None and not isinstance(scope, str):
        raise ValueError(f"Invalid scope {scope!r}: expected a string or null (every scope).")
    label = name if isinstance(name, str) and name else "sandbox key"
    expiration = _parse_expiration(expiration_date)
    if version < EXPIRY_FROM_VERSION:
        if expiration is not None:
            raise ValueError(f"Invalid expiration_date: API keys have no expiration date before Odoo {EXPIRY_FROM_VERSION}.")
    elif user_id not in ADMIN_IDS:
        latest = timeutil.utcnow() + NON_ADMIN_MAX_DURATION
        if expiration is None:
            raise ValueError(f"Missing expiration_date: user {login!r} is not an administrator, so the key must expire.")
        if timeutil.parse_datetime(expiration) > latest:
            raise ValueError(
                f"Invalid expiration_date {expiration!r}: user {login!r} may create keys valid for at most 1 day."
            )

    value = secrets.token_hex(20)
    now = timeutil.utcnow().strftime(timeutil.DATETIME_FORMAT)
    cursor = connection.execute(
        "INSERT INTO res_users_apikeys (name, user_id, scope, key_index, key_hash, create_date, expiration_date)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (label, user_id, scope, value[:KEY_INDEX_LENGTH], hash_password(value), now, expiration),
    )
    key = ApiKey(cursor.lastrowid, label, user_id, login, scope, now, expiration)
    return key, value


def list_keys(connection: sqlite3.Connection) -> list[ApiKey]:
    rows = connection.execute(
        "SELECT k.id, k.name, k.user_id, u.login, k.scope, k.create_date, k.expiration_date"
        " FROM res_users_apikeys k JOIN res_users u ON u.id = k.user_id ORDER BY k.id"
    ).fetchall()
    return [ApiKey(*row) for row in rows]


def set_expiration(connection: sqlite3.Connection, key_id: int, expiration_date: object) -> None:
    """Change a key's expiration date, as a test does to expire a key without waiting."""
    updated = connection.execute(
        "UPDATE res_users_apikeys SET expiration_date = ? WHERE id = ?", (_parse_expiration(expiration_date), key_id)
    ).rowcount
    if not updated:
        raise MissingError(f"API key {key_id} does not exist.")


def delete_key(connection: sqlite3.Connection, key_id: int) -> None:
    if not connection.execute("DELETE FROM res_users_apikeys WHERE id = ?", (key_id,)).rowcount:
        raise MissingError(f"API key {key_id} does not exist.")


def user_id_for_key(connection: sqlite3.Connection, key: object, *, version: int, scope: str = "rpc") -> int | None:
    """Return the active user whose key this is, or None for a wrong, expired or other-scope key.

    Keys without a scope work for every scope, as in Odoo.
    """
    if not isinstance(key, str) or len(key) < KEY_INDEX_LENGTH:
        return None
    rows = connection.execute(
        "SELECT k.user_id, k.key_hash, k.scope, k.expiration_date FROM res_users_apikeys k"
        " JOIN res_users u ON u.id = k.user_id WHERE k.key_index = ? AND u.active",
        (key[:KEY_INDEX_LENGTH],),
    ).fetchall()
    now = timeutil.utcnow().strftime(timeutil.DATETIME_FORMAT)
    for user_id, key_hash, key_scope, expiration in rows:
        if key_scope is not None and key_scope != scope:
            continue
        if version >= EXPIRY_FROM_VERSION and expiration is not None and expiration <= now:
            continue
        if check_password(key, key_hash):
            return user_id
    return None


def check_credentials(connection: sqlite3.Connection, user_id: int, secret: object, *, version: int) -> bool:
    """Check a password or an API key of an active user, as `res.users._check_credentials` does for RPC."""
    row = connection.execute("SELECT password_hash FROM res_users WHERE id = ? AND active", (user_id,)).fetchone()
    if row is None or not isinstance(secret, str) or not secret:
        return False
    if check_password(secret, row[0]):
        return True
    return user_id_for_key(connection, secret, version=version) == user_id


class LoginCooldown:
    """Failed logins per source IP and the refusal that follows them; see the module docstring."""

    def __init__(self, connection: sqlite3.Connection, source: str, *, after: int, duration: int):
        self.connection = connection
        self.source = source
        self.after = after
        self.duration = duration

    def active(self) -> bool:
        if self.after <= 0:
            return False
        row = self.connection.execute(
            "SELECT failures, last_failure FROM sandbox_login_failures WHERE source = ?", (self.source,)
        ).fetchone()
        if row is None:
            return False
        failures, last_failure = row
        return failures >= self.after and time.time() - last_failure < self.duration

    def record_failure(self) -> None:
        self.connection.execute(
            "INSERT INTO sandbox_login_failures (source, failures, last_failure) VALUES (?, 1, ?)"
            " ON CONFLICT (source) DO UPDATE SET failures = failures + 1, last_failure = excluded.last_failure",
            (self.source, time.time()),
        )

    def clear(self) -> None:
        self.connection.execute("DELETE FROM sandbox_login_failures WHERE source = ?", (self.source,))
