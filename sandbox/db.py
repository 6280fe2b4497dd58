"""SQLite storage: connection pool, transactions and the schema built from the model tables."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.models import SUPPORTED_VERSIONS, registry

logger = logging.getLogger(__name__)

# Seconds a connection waits for another writer before SQLite raises "database is locked".
BUSY_TIMEOUT_SECONDS = 30
MAX_IDLE_CONNECTIONS = 16

OAUTH_SCHEMA = (
    """CREATE TABLE oauth_client (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        client_secret TEXT NOT NULL,
        name TEXT,
        preset TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        skip_authorization INTEGER NOT NULL DEFAULT 0,
        grant_types TEXT NOT NULL,
        create_date TEXT NOT NULL
    )""",
    # Codes and tokens are stored as SHA-256 hashes; expiry times are POSIX seconds.
    """CREATE TABLE oauth_authorization_code (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code_hash TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL,
        redirect_uri TEXT,
        user_id INTEGER NOT NULL,
        scope TEXT,
        state TEXT,
        code_challenge TEXT,
        code_challenge_method TEXT,
        expires_at REAL NOT NULL,
        used_at REAL
    )""",
    """CREATE TABLE oauth_refresh_token (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash TEXT NOT NULL UNIQUE,
        family_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        scope TEXT,
        access_expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        rotated_at REAL,
        revoked_at REAL
    )""",
    """CREATE TABLE oauth_access_token (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash TEXT NOT NULL UNIQUE,
        family_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        scope TEXT,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX oauth_refresh_token_family ON oauth_refresh_token (family_id)",
    "CREATE INDEX oauth_access_token_family ON oauth_access_token (family_id)",
)

LEAD_INDEXES = (
    # Incremental sync reads `write_date >= cursor ORDER BY write_date, id`.
    "CREATE INDEX crm_lead_write_date_id ON crm_lead (write_date, id)",
    # crm.lead's default order is `priority desc, id desc`.
    "CREATE INDEX crm_lead_priority_id ON crm_lead (priority, id)",
    "CREATE INDEX crm_lead_company_id ON crm_lead (company_id)",
    "CREATE INDEX crm_lead_user_id ON crm_lead (user_id)",
)


def _column_declaration(field_type: str) -> str:
    if field_type in ("integer", "boolean", "many2one"):
        return "INTEGER"
    if field_type in ("float", "monetary"):
        return "REAL"
    return "TEXT"


def schema_statements() -> list[str]:
    """Return the DDL of every table: the union of all versions' columns, plus the OAuth tables.

    Each table contains the columns of every supported version, so switching the emulated
    version at run time keeps the data and only changes which fields are visible.
    """
    tables: dict[str, dict[str, str]] = {}
    relation_tables: dict[str, tuple[str, str]] = {}
    for version in SUPPORTED_VERSIONS:
        for spec in registry(version).values():
            columns = tables.setdefault(spec.table, {"id": "INTEGER PRIMARY KEY AUTOINCREMENT"})
            for field in spec.fields.values():
                if field.type == "many2many":
                    relation_tables[field.relation_table] = (field.column1, field.column2)
                elif field.has_column and field.sql_column not in columns:
                    columns[field.sql_column] = _column_declaration(field.type)
            for name, declaration in spec.extra_columns:
                columns.setdefault(name, declaration)

    statements = []
    for table, columns in tables.items():
        body = ",\n    ".join(f"{name} {declaration}" for name, declaration in columns.items())
        statements.append(f"CREATE TABLE {table} (\n    {body}\n)")
    for table, (column1, column2) in relation_tables.items():
        statements.append(
            f"CREATE TABLE {table} ({column1} INTEGER NOT NULL, {column2} INTEGER NOT NULL,"
            f" PRIMARY KEY ({column1}, {column2})) WITHOUT ROWID"
        )
        statements.append(f"CREATE INDEX {table}_{column2} ON {table} ({column2}, {column1})")
    statements.extend(LEAD_INDEXES)
    statements.extend(OAUTH_SCHEMA)
    return statements


def _schema_fingerprint(statements: list[str]) -> str:
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Database:
    """One SQLite file in WAL mode, shared by all request threads through a connection pool."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None leaves transactions to explicit BEGIN statements.
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        # SQLite's own lower() and LIKE fold ASCII letters only; Odoo's ilike folds all of Unicode.
        connection.create_function("sandbox_lower", 1, _lower, deterministic=True)
        return connection

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Lend a pooled connection to one thread for the duration of the block."""
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._connect()
        try:
            yield connection
        finally:
            if connection.in_transaction:
                connection.rollback()
            with self._lock:
                if len(self._idle) < MAX_IDLE_CONNECTIONS:
                    self._idle.append(connection)
                    connection = None
            if connection is not None:
                connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in a write transaction, committed on success and rolled back on error.

        BEGIN IMMEDIATE takes the write lock at once, so two transactions that read a row
        and then update it (a refresh-token rotation) run one after the other.
        """
        with self.connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Run the block's reads in one read transaction, so they see one consistent state."""
        with self.connection() as connection:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("COMMIT")

    def ensure_schema(self) -> bool:
        """Create the tables, recreating all of them when the schema changed.

        Returns True when the tables were (re)created empty, so the caller seeds them.
        """
        statements = schema_statements()
        fingerprint = _schema_fingerprint(statements)
        with self.transaction() as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT)")
            row = connection.execute("SELECT value FROM sandbox_meta WHERE key = 'schema'").fetchone()
            if row and row[0] == fingerprint:
                return False
            if row:
                logger.warning("Schema of %s changed; recreating every table, which drops the data", self.path)
            existing = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT IN ('sandbox_meta', 'sqlite_sequence')"
            ).fetchall()
            for (table,) in existing:
                connection.execute(f"DROP TABLE {table}")
            for statement in statements:
                connection.execute(statement)
            connection.execute("DELETE FROM sandbox_meta")
            connection.execute("INSERT INTO sandbox_meta (key, value) VALUES ('schema', ?)", (fingerprint,))
        return True

    def table_names(self, connection: sqlite3.Connection) -> list[str]:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT IN ('sandbox_meta', 'sqlite_sequence')"
        ).fetchall()
        return [name for (name,) in rows]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def get_meta(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM sandbox_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(connection: sqlite3.Connection, key: str, value: str) -> None:
    connection.execute(
        "INSERT INTO sandbox_meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
