"""Measure the server time of the admin's leads changelist with 100,000 leads in PostgreSQL.

Usage (PostgreSQL on 127.0.0.1:5432, trust authentication):

    .venv/bin/python bench/admin_changelist.py [--leads 100000] [--repeat 20] [--keep]

The script creates the database ``odoo_crm_sync_bench`` (``--database`` to change it),
migrates it and inserts the leads once. It then renders each changelist ``--repeat``
times through Django's test client in this process. The figures are therefore the time
Django takes to handle the request (routing, queries and template rendering) without a
network hop. The database is dropped at the end unless ``--keep`` is given.

``insert_leads`` is also used by the tests that check the changelist at this scale.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STAGE_NAMES = ["New", "Qualified", "Proposition", "Negotiation", "Won"]
TEAM_NAMES = ["Sales", "Website", "Pre-Sales", "Partners"]
TAG_NAMES = ["Product", "Software", "Services", "Information", "Design", "Training", "Consulting", "Other"]
# Share of leads per status, and the share of leads gone from Odoo.
STATUS_WEIGHTS = {"open": 70, "won": 12, "lost": 12, "archived": 6}
DELETED_SHARE = 0.01


def insert_leads(connection, count: int, *, seed: int = 0, now: datetime | None = None) -> None:  # noqa: ANN001
    """Insert ``count`` generated leads of ``connection`` with their stages, salespeople, teams and tags.

    The leads spread their ``write_date`` over two years before ``now``, about a third
    of them carry two tags, and every lead has a small HTML description in ``raw``.
    """
    from django.db.models import Max

    from crm.models import Lead, Salesperson, Stage, Tag, Team

    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    stages = Stage.objects.bulk_create(
        Stage(connection=connection, odoo_id=index + 1, name=name, sequence=index, is_won=name == "Won")
        for index, name in enumerate(STAGE_NAMES)
    )
    open_stages = [stage for stage in stages if not stage.is_won]
    won_stage = next(stage for stage in stages if stage.is_won)
    salespeople = Salesperson.objects.bulk_create(
        Salesperson(connection=connection, odoo_id=100 + index, name=f"Salesperson {index + 1:02d}")
        for index in range(20)
    )
    teams = Team.objects.bulk_create(
        Team(connection=connection, odoo_id=index + 1, name=name) for index, name in enumerate(TEAM_NAMES)
    )
    tags = Tag.objects.bulk_create(
        Tag(connection=connection, odoo_id=index + 1, name=name) for index, name in enumerate(TAG_NAMES)
    )
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    last_odoo_id = Lead.objects.filter(connection=connection).aggregate(last=Max("odoo_id"))["last"] or 0

    leads = []
    for odoo_id in range(last_odoo_id + 1, last_odoo_id + count + 1):
        status = rng.choices(statuses, weights)[0]
        write_date = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))
        company = f"Company {rng.randrange(5000):04d}"
        contact = f"Contact {rng.randrange(20000):05d}"
        name = f"{company}: opportunity {odoo_id}"
        leads.append(
            {
                "connection_id": connection.pk,
                "odoo_id": odoo_id,
                "name": name,
                "type": "opportunity" if rng.random() < 0.8 else "lead",
                "stage_id": won_stage.pk if status == "won" else rng.choice(open_stages).pk,
                "probability": {"won": 100.0, "lost": 0.0}.get(status, float(rng.randrange(5, 95))),
                "expected_revenue": Decimal(rng.randrange(0, 200_000_00)) / 100,
                "priority": rng.randrange(4),
                "salesperson_id": rng.choice(salespeople).pk,
                "team_id": rng.choice(teams).pk,
                "company_name": company,
                "contact_name": contact,
                "email": f"contact{odoo_id}@example.com",
                "phone": f"+1 555 {odoo_id:07d}",
                "active": status in ("open", "won"),
                "status": status,
                "date_closed": write_date if status in ("won", "lost") else None,
                "create_date": write_date - timedelta(days=rng.randrange(1, 90)),
                "write_date": write_date,
                "deleted_in_odoo_at": now if rng.random() < DELETED_SHARE else None,
                "synced_at": now,
                "raw": {
                    "id": odoo_id,
                    "name": name,
                    "description": f"<p>Generated lead <b>{odoo_id}</b> for {contact}.</p>",
                    "write_date": write_date.strftime("%Y-%m-%d %H:%M:%S"),
                },
            }
        )
    _copy(Lead, leads)

    lead_ids = Lead.objects.filter(connection=connection, odoo_id__gt=last_odoo_id).values_list("pk", "odoo_id")
    _copy(
        Lead.tags.through,
        [
            {"lead_id": lead_id, "tag_id": tag.pk}
            for lead_id, odoo_id in lead_ids.iterator()
            if odoo_id % 3 == 0
            for tag in rng.sample(tags, 2)
        ],
    )


def _copy(model, rows: list[dict]) -> None:  # noqa: ANN001
    """Insert rows given by column attribute name with COPY, about three times faster than bulk_create here.

    Columns a row leaves out get the field's default, so a column added to the
    model later does not break the insert.
    """
    from django.db import connection as db
    from django.db.models import JSONField

    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    json_fields = [field for field in fields if isinstance(field, JSONField)]
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    table = db.ops.quote_name(model._meta.db_table)
    with db.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = {**defaults, **row}
            for field in json_fields:
                values[field.attname] = field.get_db_prep_save(values[field.attname], db)
            copy.write_row([values[field.attname] for field in fields])


def analyze(table: str) -> None:
    """Refresh PostgreSQL's statistics, so the planner and the row estimate see the new rows."""
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute(f"ANALYZE {db.ops.quote_name(table)}")


# --- benchmark ---------------------------------------------------------------


SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _prepare_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _measure(client, url: str, repeat: int) -> tuple[list[float], int]:  # noqa: ANN001
    """Return the wall times in ms of ``repeat`` GETs after one warm-up, and the query count of one."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    # Read now: every later request clears the connection's query log.
    query_count = len(queries)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings, query_count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000, help="number of leads to insert (default 100000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--database", default="odoo_crm_sync_bench", help="PostgreSQL database to use")
    parser.add_argument("--keep", action="store_true", help="keep the database for another run")
    arguments = parser.parse_args(argv)

    _prepare_database(arguments.database)
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{arguments.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection as db_connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from connections.models import OdooConnection
    from crm.admin import purge_leads
    from crm.models import Lead, Stage

    setup_test_environment()
    call_command("migrate", verbosity=0)
    connection = OdooConnection.objects.filter(name="Benchmark").first()
    if connection is None or Lead.objects.filter(connection=connection).count() != arguments.leads:
        if connection is not None:
            purge_leads(connection)
            connection.delete()
        connection = OdooConnection.objects.create(
            name="Benchmark", base_url="https://odoo.example.com", odoo_version="17.0"
        )
        started = time.perf_counter()
        insert_leads(connection, arguments.leads)
        print(f"inserted {arguments.leads} leads in {time.perf_counter() - started:.1f} s")
    analyze(Lead._meta.db_table)

    user = get_user_model().objects.filter(username="bench").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    changelist = reverse("admin:crm_lead_changelist")
    stage = Stage.objects.get(connection=connection, name="Qualified")
    pages = {
        "unfiltered": changelist,
        "filtered by stage": f"{changelist}?stage__id__exact={stage.pk}",
        "searched": f"{changelist}?q=contact12345",
    }
    with db_connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    print(f"Python {platform.python_version()}, PostgreSQL {server_version}, {os.cpu_count()} CPUs")
    print(f"{Lead.objects.count()} leads, {arguments.repeat} requests per page after one warm-up")
    print(f"{'page':<20} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for label, url in pages.items():
        timings, queries = _measure(client, url, arguments.repeat)
        p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
        print(f"{label:<20} {statistics.median(timings):>10.1f} {p95:>8.1f} {max(timings):>8.1f} {queries:>8}")

    if not arguments.keep:
        from django.db import connections

        connections.close_all()
        _drop_database(arguments.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
