"""Benchmark worker: run one measured workload in this process and print its figures as one JSON line.

Run by the benchmark scripts through ``bench.harness.run_worker`` with
DATABASE_URL pointing at their scratch database; not meant to be run by hand.
Modes:

* ``link``: create a connection and authorize it through the OAuth code flow.
* ``sync``: the product's ``crm.sync.run_sync(..., sliced=False)``.
* ``fetch-only``: the same pages with plain requests and JSON decoding, then
  the same requests again reading only the bytes (the sandbox's own rate).
* ``fetch-copy``: the same pages, each loaded with PostgreSQL COPY.
* ``naive``: the same pages saved with one ``update_or_create`` per lead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection as database, transaction  # noqa: E402

from connections import tokens  # noqa: E402
from connections.clients import build_data_client  # noqa: E402
from connections.models import OAuthClient, OdooConnection  # noqa: E402
from connections.odoo import oauth  # noqa: E402
from crm.mapping import map_lead, parse_text  # noqa: E402
from crm.models import Lead, Salesperson, Stage, Tag, Team  # noqa: E402
from crm.paging import iter_pages  # noqa: E402
from crm.sync import LEAD_FIELDS, OPTIONAL_LEAD_FIELDS, run_sync  # noqa: E402

from bench.harness import authorize, pkce_pair, process_cpu_seconds  # noqa: E402

HTTP_TIMEOUT = 60


def memory_kb() -> dict[str, int]:
    """Return this process's current (VmRSS) and peak (VmHWM) resident set size in KiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return {"rss_kb": values["VmRSS"], "peak_rss_kb": values["VmHWM"]}


class QueryCounter:
    """Django execute wrapper that counts SQL statements sent to the database.

    BEGIN and COMMIT of ``transaction.atomic`` go through the driver, not
    through ``execute``, so they are not counted.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        self.count += 1
        return execute(sql, params, many, context)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Phase:
    """Wall time, sandbox data requests and CPU times of one timed part of a workload.

    CPU time is counted for this process, the PostgreSQL backends it uses
    and the sandbox, because other work on the machine stretches wall time
    but not CPU time. The sandbox's counters are read over its control API
    just outside the timed span, so those reads cost the measured code
    nothing.
    """

    def __init__(self, sandbox_url: str, sandbox_pid: int, database_pids: list[int]) -> None:
        self.stats_url = f"{sandbox_url}/__sandbox__/stats"
        self.sandbox_pid = sandbox_pid
        self.database_pids = database_pids
        self.figures: dict[str, float] = {}

    def _database_cpu(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in self.database_pids)

    def _requests(self) -> tuple[int, int]:
        stats = requests.get(self.stats_url, timeout=HTTP_TIMEOUT).json()
        return stats["data_requests"], sum(stats["token_requests"].values())

    def __enter__(self) -> Phase:
        self._data, self._token = self._requests()
        self._cpu = (own_cpu_seconds(), self._database_cpu(), process_cpu_seconds(self.sandbox_pid))
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        seconds = time.perf_counter() - self._started
        worker, database_cpu, sandbox = own_cpu_seconds(), self._database_cpu(), process_cpu_seconds(self.sandbox_pid)
        data, token = self._requests()
        self.figures = {
            "seconds": seconds,
            "data_requests": data - self._data,
            "token_requests": token - self._token,
            "worker_cpu_seconds": worker - self._cpu[0],
            "database_cpu_seconds": database_cpu - self._cpu[1],
            "sandbox_cpu_seconds": sandbox - self._cpu[2],
        }


def django_backend_pid() -> int:
    """Open Django's database connection now and return the process id of its PostgreSQL backend."""
    database.ensure_connection()
    return database.connection.info.backend_pid


def phase(connection: OdooConnection, arguments: argparse.Namespace, database_pids: list[int]) -> Phase:
    return Phase(connection.base_url, arguments.sandbox_pid, database_pids)


def emit(result: dict[str, Any]) -> None:
    result.update(memory_kb())
    print(json.dumps(result), flush=True)


# --- link -----------------------------------------------------------------


def command_link(arguments: argparse.Namespace) -> None:
    connection = OdooConnection.objects.create(name=arguments.name, base_url=arguments.sandbox, database="")
    OAuthClient.objects.create(
        connection=connection,
        preset="muk",
        client_id=arguments.client_id,
        client_secret=os.environ["BENCH_CLIENT_SECRET"],
    )
    config = tokens.client_config(connection, arguments.redirect_uri)
    verifier, challenge = pkce_pair()
    code = authorize(oauth.build_authorization_url(config, state="bench", code_challenge=challenge))
    token_set = oauth.exchange_code(config, code=code, code_verifier=verifier, timeout=HTTP_TIMEOUT)
    tokens.store_authorization(connection, token_set)
    emit({"connection_id": connection.pk})


# --- the product ----------------------------------------------------------


def command_sync(arguments: argparse.Namespace) -> None:
    counter = QueryCounter()
    # Statements counted when each page has been saved, for per-page figures.
    marks: list[int] = []
    rss_before = memory_kb()["rss_kb"]
    timed = phase(OdooConnection.objects.get(pk=arguments.connection), arguments, [django_backend_pid()])
    with timed, database.execute_wrapper(counter):
        result = run_sync(
            arguments.connection, full=arguments.full, sliced=False, progress=lambda run: marks.append(counter.count)
        )
    if result is None:
        raise SystemExit(f"Connection {arguments.connection} is not linked; the sync did not run.")
    run = result.run
    per_page = [later - earlier for earlier, later in zip(marks, marks[1:])]
    emit(
        {
            **timed.figures,
            "status": run.status,
            "error": run.error_message,
            "pages": run.pages,
            "fetched": run.fetched,
            "created": run.created,
            "updated": run.updated,
            "queries": counter.count,
            # The first page also counts the run's setup: lock, run record, cached references.
            "queries_first_page": marks[0] if marks else 0,
            "queries_per_page_max": max(per_page, default=0),
            "queries_per_page_min": min(per_page, default=0),
            "queries_after_last_page": counter.count - (marks[-1] if marks else 0),
            "rss_before_kb": rss_before,
        }
    )


# --- baselines --------------------------------------------------------------


def product_request(connection: OdooConnection) -> tuple[dict[str, Any], list[str]]:
    """Return the context and the lead fields that the product's full sync sends to this server.

    The context reads archived leads and every company of the user; the
    fields are the base list plus the optional ones the server has.
    """
    client = build_data_client(connection)
    context = {"active_test": False, "allowed_company_ids": sorted(client.current_user()["company_ids"])}
    if not client.capabilities.fields_get:
        return context, LEAD_FIELDS
    available = client.fields_get("crm.lead")
    return context, [name for name in LEAD_FIELDS + OPTIONAL_LEAD_FIELDS if name in available]


class PlainReader:
    """``search_read`` on ``crm.lead`` with plain requests, shaped like the product's MuK REST requests."""

    def __init__(self, connection: OdooConnection) -> None:
        self.url = f"{connection.base_url}/api/v2/search_read/crm.lead"
        context, fields = product_request(connection)
        self.context = json.dumps(context)
        self.fields = json.dumps(fields)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {connection.oauth_token.access_token}"
        # Every request's form body, kept so they can be sent again verbatim.
        self.sent: list[dict[str, str]] = []

    def fetch(self, domain: list[Any], order: str, limit: int) -> list[dict[str, Any]]:
        body = {
            "domain": json.dumps(domain),
            "fields": self.fields,
            "order": order,
            "limit": str(limit),
            "offset": "0",
            "with_context": self.context,
        }
        self.sent.append(body)
        response = self.session.post(self.url, data=body, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()

    def replay(self) -> int:
        """Send every recorded request again, reading only the bytes; return the bytes received."""
        received = 0
        for body in self.sent:
            response = self.session.post(self.url, data=body, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            received += len(response.content)
        return received


def read_pages(fetch: Callable[[list[Any], str, int], list[dict[str, Any]]], on_page: Callable[[list[dict]], None], limit: int | None = None) -> dict[str, int]:
    """Walk the product's keyset pages with ``fetch``; stop after the page that reaches ``limit`` leads."""
    pages = leads = 0
    for page in iter_pages(fetch, start=None, page_size=settings.ODOO_SYNC_PAGE_SIZE):
        on_page(page.rows)
        pages += 1
        leads += len(page.rows)
        if limit is not None and leads >= limit:
            break
    return {"pages": pages, "fetched": leads}


def command_fetch_only(arguments: argparse.Namespace) -> None:
    connection = OdooConnection.objects.get(pk=arguments.connection)
    reader = PlainReader(connection)
    with phase(connection, arguments, []) as fetching:
        counts = read_pages(reader.fetch, lambda rows: None)
    with phase(connection, arguments, []) as serving:
        received = reader.replay()
    emit({**fetching.figures, **counts, "serve": {**serving.figures, "bytes": received}})


COPY_TABLE = "bench_copy_lead"
COPY_COLUMNS = ("odoo_id", "name", "stage_id", "user_id", "team_id", "write_date", "raw")


def many_to_one_id(value: Any) -> int | None:
    return value[0] if isinstance(value, list) and value else None


def command_fetch_copy(arguments: argparse.Namespace) -> None:
    connection = OdooConnection.objects.get(pk=arguments.connection)
    reader = PlainReader(connection)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as pg:
        pg.execute("SET TIME ZONE 'UTC'")
        pg.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        # A primary key, like the unique (connection, odoo_id) of crm_lead, so
        # the copy maintains an index as the product's inserts do.
        pg.execute(
            f"CREATE TABLE {COPY_TABLE} (odoo_id integer PRIMARY KEY, name text, stage_id integer,"
            " user_id integer, team_id integer, write_date timestamptz, raw jsonb)"
        )
        copy_sql = f"COPY {COPY_TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN"

        def save(rows: list[dict[str, Any]]) -> None:
            # One transaction per page, as the product commits each page with its cursor.
            with pg.transaction(), pg.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(
                        (
                            row["id"],
                            parse_text(row.get("name")),
                            many_to_one_id(row.get("stage_id")),
                            many_to_one_id(row.get("user_id")),
                            many_to_one_id(row.get("team_id")),
                            row.get("write_date") or None,
                            json.dumps(row),
                        )
                    )

        with phase(connection, arguments, [pg.info.backend_pid]) as timed:
            counts = read_pages(reader.fetch, save)
        copied = pg.execute(f"SELECT count(*) FROM {COPY_TABLE}").fetchone()[0]
        pg.execute(f"DROP TABLE {COPY_TABLE}")
    emit({**timed.figures, **counts, "rows_copied": copied})


class NaiveSaver:
    """Saves leads the way a first implementation would: one ORM call per record.

    Each page is one transaction, like the product's, so the baseline pays
    per-statement costs but not a commit per lead.
    """

    def __init__(self, connection: OdooConnection, client: Any, context: dict[str, Any]) -> None:
        self.connection = connection
        stages = client.search_read(
            "crm.stage", domain=[], fields=["name", "sequence", "is_won"], order="id asc", limit=1000, context=context
        )
        self.stage_names = {stage["id"]: stage for stage in stages}
        self.won_stage_ids = {stage["id"] for stage in stages if stage.get("is_won")}
        tags = client.search_read("crm.tag", domain=[], fields=["name"], order="id asc", limit=1000, context=context)
        self.tag_names = {tag["id"]: parse_text(tag.get("name"), 255) for tag in tags}

    def save(self, rows: list[dict[str, Any]]) -> None:
        with transaction.atomic():
            for row in rows:
                self.save_lead(row)

    def save_lead(self, row: dict[str, Any]) -> None:
        lead = map_lead(row, won_stage_ids=self.won_stage_ids)
        stage = None
        if lead.stage is not None:
            known = self.stage_names.get(lead.stage.odoo_id, {})
            stage, _ = Stage.objects.get_or_create(
                connection=self.connection,
                odoo_id=lead.stage.odoo_id,
                defaults={
                    "name": lead.stage.name[:255],
                    "sequence": int(known.get("sequence") or 0),
                    "is_won": bool(known.get("is_won")),
                },
            )
        salesperson = self.reference(Salesperson, lead.salesperson)
        team = self.reference(Team, lead.team)
        saved, _ = Lead.objects.update_or_create(
            connection=self.connection,
            odoo_id=lead.odoo_id,
            defaults={**lead.values, "stage": stage, "salesperson": salesperson, "team": team, "deleted_in_odoo_at": None},
        )
        saved.tags.set(
            [
                Tag.objects.get_or_create(
                    connection=self.connection, odoo_id=tag_id, defaults={"name": self.tag_names.get(tag_id, "")}
                )[0]
                for tag_id in lead.tag_ids
            ]
        )

    def reference(self, model: type, reference: Any) -> Any:
        if reference is None:
            return None
        record, _ = model.objects.get_or_create(
            connection=self.connection, odoo_id=reference.odoo_id, defaults={"name": reference.name[:255]}
        )
        return record


def command_naive(arguments: argparse.Namespace) -> None:
    connection = OdooConnection.objects.get(pk=arguments.connection)
    client = build_data_client(connection)
    counter = QueryCounter()
    with phase(connection, arguments, [django_backend_pid()]) as timed, database.execute_wrapper(counter):
        context, fields = product_request(connection)
        saver = NaiveSaver(connection, client, context)

        def fetch(domain: list[Any], order: str, limit: int) -> list[dict[str, Any]]:
            return client.search_read("crm.lead", domain=domain, fields=fields, order=order, limit=limit, context=context)

        counts = read_pages(fetch, saver.save, limit=arguments.limit)
    saved = Lead.objects.filter(connection=connection).count()
    emit({**timed.figures, **counts, "saved": saved, "queries": counter.count})


# --- entry point ------------------------------------------------------------


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/worker.py", description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)

    link = modes.add_parser("link", help="create and authorize a connection")
    link.add_argument("--sandbox", required=True, help="sandbox URL, http://127.0.0.1:PORT")
    link.add_argument("--name", required=True, help="connection name")
    link.add_argument("--client-id", required=True, help="OAuth client id registered in the sandbox")
    link.add_argument("--redirect-uri", required=True, help="redirect URI registered for that client")
    link.set_defaults(handler=command_link)

    sync = modes.add_parser("sync", help="run the product's sync")
    sync.add_argument("--connection", type=int, required=True, help="connection id")
    sync.add_argument("--full", action="store_true", help="re-read every lead")
    sync.set_defaults(handler=command_sync)
    measured = [sync]

    for name, handler in (("fetch-only", command_fetch_only), ("fetch-copy", command_fetch_copy)):
        baseline = modes.add_parser(name, help="baseline without the product's saving")
        baseline.add_argument("--connection", type=int, required=True, help="connection id whose token is used")
        baseline.set_defaults(handler=handler)
        measured.append(baseline)

    naive = modes.add_parser("naive", help="save with one update_or_create per lead")
    naive.add_argument("--connection", type=int, required=True, help="connection id, with no leads saved yet")
    naive.add_argument("--limit", type=int, default=None, help="stop after the page that reaches this many leads")
    naive.set_defaults(handler=command_naive)
    measured.append(naive)
    for mode in measured:
        mode.add_argument("--sandbox-pid", type=int, required=True, help="process id of the sandbox, for its CPU time")
    return parser.parse_args(argv)


if __name__ == "__main__":
    parsed = parse_arguments()
    parsed.handler(parsed)
