"""The sandbox WSGI application: shared state (database, switches, stats) and URL dispatch."""

from __future__ import annotations

import copy
import logging
import sqlite3
import threading
import time
from pathlib import Path

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from sandbox import control, crm, seed, timeutil, web, web_login  # noqa: F401 (crm registers the lead hooks)
from sandbox.db import Database, set_meta
from sandbox.dialects import muk_rest, oca_otherinfo
from sandbox.dialects import synconics as synconics_data
from sandbox.dialects import json2, jsonrpc
from sandbox.faults import FaultInjector
from sandbox.http import error_body, json_response
from sandbox.models import DEFAULT_VERSION, SUPERUSER_ID, registry
from sandbox.oauth import generic, muk, oca, store
from sandbox.oauth import synconics as synconics_oauth
from sandbox.orm import Env, user_env
from sandbox.settings import Settings
from sandbox.stats import Stats

logger = logging.getLogger(__name__)

# Each module contributes werkzeug Rules whose endpoint is `handler(sandbox, request, **values)`.
# A new OAuth provider or data dialect is one more module in this list.
ROUTE_MODULES = (
    web,
    web_login,
    control,
    muk,
    muk_rest,
    oca,
    oca_otherinfo,
    synconics_oauth,
    synconics_data,
    generic,
)
# Odoo's native APIs: JSON-RPC (16+) and JSON-2 (19+), authenticated by API keys.
ROUTE_MODULES += (jsonrpc, json2)


class Sandbox:
    """A running Odoo stand-in: one SQLite file, live switches, counters and the WSGI entry point."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        seed_value: int = 0,
        seed_leads: int = 0,
        reset: bool = False,
        odoo_version: int = DEFAULT_VERSION,
        redirect_uris: list[str] | None = None,
        switches: dict | None = None,
    ):
        self.settings = Settings(**{"odoo_version": odoo_version, "seed": seed_value, **(switches or {})})
        self.stats = Stats()
        self.stopping = threading.Event()
        self.faults = FaultInjector(self.settings, self.stats, self.stopping)
        self.db = Database(db_path)
        self.seed_leads = seed_leads
        self.redirect_uris = list(redirect_uris or [store.DEFAULT_REDIRECT_URI])
        self._authorization_lock = threading.Lock()
        self._last_authorization: dict = {"authorize": None, "token": None}
        self.url_map = Map([rule for module in ROUTE_MODULES for rule in module.rules()])

        created = self.db.ensure_schema()
        with self.db.snapshot() as connection:
            seeded = connection.execute("SELECT value FROM sandbox_meta WHERE key = 'seeded_at'").fetchone()
        if created or reset or not seeded:
            self.reset_data()

    # Data

    @property
    def models(self):
        return registry(self.settings.odoo_version)

    def env(self, connection: sqlite3.Connection, context: dict | None = None) -> Env:
        """Return a superuser environment, as the control API uses."""
        return Env(
            connection=connection,
            models=self.models,
            uid=SUPERUSER_ID,
            context=dict(context or {}),
            su=True,
            datetime_precision=self.settings.write_date_precision,
        )

    def user_env(self, connection, uid: int, context: dict | None = None, with_company: int | None = None) -> Env:
        """Return the environment of a user authenticated by a data API, record rules applied."""
        return user_env(
            connection,
            self.models,
            uid,
            context,
            with_company=with_company,
            datetime_precision=self.settings.write_date_precision,
        )

    def reset_data(self) -> None:
        """Replace every row with the demo data, the default OAuth client and the generated leads."""
        started = time.monotonic()
        now = timeutil.utcnow()
        with self.db.transaction() as connection:
            seed.clear_data(connection, self.db.table_names(connection))
            seed.seed_reference_data(connection, timeutil.to_stored(now))
            seed.seed_demo_leads(connection, self.settings.seed, now)
            store.save_client(
                connection,
                store.DEFAULT_CLIENT_ID,
                store.DEFAULT_CLIENT_SECRET,
                self.redirect_uris,
                preset="muk",
                name="Sandbox MuK client",
            )
            if self.seed_leads:
                seed.add_generated_leads(connection, self.seed_leads, self.settings.seed, now)
            set_meta(connection, "seeded_at", timeutil.to_stored(now))
        logger.info(
            "Seeded %s with demo data and %d generated leads in %.2f s",
            self.db.path,
            self.seed_leads,
            time.monotonic() - started,
        )

    def add_leads(self, count: int) -> tuple[int, int]:
        """Insert `count` generated leads in one transaction; returns the first and last id."""
        started = time.monotonic()
        with self.db.transaction() as connection:
            first_id, last_id = seed.add_generated_leads(connection, count, self.settings.seed, timeutil.utcnow())
        logger.info("Generated %d leads (ids %d-%d) in %.2f s", count, first_id, last_id, time.monotonic() - started)
        return first_id, last_id

    def reset(self) -> None:
        """Return to the state of a fresh start: data, tokens, switches, stats."""
        self.settings.reset()
        self.reset_data()
        self.stats.reset()
        with self._authorization_lock:
            self._last_authorization = {"authorize": None, "token": None}

    # OAuth helpers

    def oauth_now(self) -> float:
        """Return the clock for code and token expiry, shifted by clock_offset_seconds."""
        return time.time() + self.settings.clock_offset_seconds

    def record_authorization(self, kind: str, parameters: dict) -> None:
        with self._authorization_lock:
            self._last_authorization[kind] = dict(parameters, received_at=timeutil.now_stored()[:19])

    def last_authorization(self) -> dict:
        with self._authorization_lock:
            return copy.deepcopy(self._last_authorization)

    # WSGI

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            return endpoint(self, request, **values)
        except (NotFound, MethodNotAllowed) as error:
            return json_response(
                error_body(f"werkzeug.exceptions.{type(error).__name__}", error.description or error.name),
                status=error.code,
            )
        except HTTPException as error:
            return error
        except Exception as error:
            logger.exception("Unhandled error on %s %s", request.method, request.path)
            return json_response(error_body(f"builtins.{type(error).__name__}", str(error)), status=500)

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def close(self) -> None:
        self.stopping.set()
        self.db.close()


def create_app(db_path: str | Path, **options) -> Sandbox:
    """Build the sandbox WSGI application on a SQLite file; options as in `Sandbox`."""
    return Sandbox(db_path, **options)
