"""Seeding: Odoo's CRM demo data and bulk-generated leads, deterministic for a given seed."""

from __future__ import annotations

import hashlib
import random
import secrets
import sqlite3
from datetime import datetime, timedelta

from sandbox import timeutil
from sandbox.crm import compute_prorated_revenue, compute_won_status
from sandbox.demo_data import ADMIN_ID, DEMO_ID, DEMO_LEADS, PASSWORDS, REFERENCE_ROWS, WON, DemoLead

LEAD_COLUMNS = (
    "name", "type", "active", "stage_id", "probability", "expected_revenue", "prorated_revenue",
    "recurring_revenue", "priority", "partner_id", "partner_name", "contact_name", "function", "email_from",
    "phone", "mobile", "title", "website", "street", "street2", "zip", "city", "state_id", "country_id",
    "lang_id", "user_id", "team_id", "company_id", "date_deadline", "date_closed", "date_open",
    "date_last_stage_update", "date_conversion", "date_automation_last", "lost_reason_id", "description",
    "campaign_id", "medium_id", "source_id", "won_status", "create_date", "write_date", "create_uid",
    "write_uid",
)
_INSERT_LEAD = f"INSERT INTO crm_lead ({', '.join(LEAD_COLUMNS)}) VALUES ({', '.join('?' * len(LEAD_COLUMNS))})"
_INSERT_LEAD_WITH_ID = (
    f"INSERT INTO crm_lead (id, {', '.join(LEAD_COLUMNS)}) VALUES (?, {', '.join('?' * len(LEAD_COLUMNS))})"
)

# Stage ids whose is_won flag is set in the demo data.
_WON_STAGES = {WON}
_LANG_BY_COUNTRY = {1: 2, 2: 2, 5: 3}


def hash_password(password: str) -> str:
    """Return a salted PBKDF2 hash, so the database never contains a password in clear."""
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()
    return f"pbkdf2_sha256${salt}${digest}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored or not isinstance(password, str):
        return False
    _scheme, salt, digest = stored.split("$")
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex() == digest


def clear_data(connection: sqlite3.Connection, tables: list[str]) -> None:
    """Delete every row of the given tables and restart their id sequences."""
    for table in tables:
        connection.execute(f"DELETE FROM {table}")
    connection.execute("DELETE FROM sqlite_sequence")


def seed_reference_data(connection: sqlite3.Connection, now: str) -> None:
    """Insert companies, users, stages, tags, teams, lost reasons and the other related records."""
    for table, (columns, rows) in REFERENCE_ROWS.items():
        with_dates = table != "res_company_users_rel"
        names = list(columns) + (["create_date", "write_date", "create_uid", "write_uid"] if with_dates else [])
        extra = (now, now, 1, 1) if with_dates else ()
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [tuple(row) + extra for row in rows],
        )
    for user_id, password in PASSWORDS.items():
        connection.execute("UPDATE res_users SET password_hash = ? WHERE id = ?", (hash_password(password), user_id))


def _demo_lead_row(lead: DemoLead, rng: random.Random, now: datetime) -> tuple:
    created = now - timedelta(days=lead.created_days_ago, seconds=rng.randrange(0, 8 * 3600))
    created = created.replace(microsecond=rng.randrange(1_000_000))
    written = created + (now - created) * rng.uniform(0.1, 0.6)
    written = written.replace(microsecond=rng.randrange(1_000_000))

    lost = lead.lost_reason is not None
    active = 0 if lost else 1
    probability = 0.0 if lost else float(lead.probability)
    stage_is_won = lead.stage in _WON_STAGES
    if stage_is_won:
        probability = 100.0
    city, country_id, state_id = lead.place
    closed = written if (lost or stage_is_won) else None
    deadline = None
    if lead.deadline_in_days is not None:
        deadline = (now + timedelta(days=lead.deadline_in_days)).date().isoformat()

    values = {
        "name": lead.name,
        "type": lead.type,
        "active": active,
        "stage_id": lead.stage,
        "probability": probability,
        "expected_revenue": float(lead.revenue),
        "prorated_revenue": compute_prorated_revenue(lead.revenue, probability),
        "recurring_revenue": 0.0,
        "priority": lead.priority,
        "partner_id": lead.partner,
        "partner_name": lead.partner_name,
        "contact_name": lead.contact_name,
        "function": lead.function,
        "email_from": lead.email,
        "phone": lead.phone,
        "mobile": lead.mobile,
        "title": lead.title,
        "website": lead.website,
        "street": lead.street,
        "street2": None,
        "zip": lead.zip,
        "city": city,
        "state_id": state_id,
        "country_id": country_id,
        "lang_id": _LANG_BY_COUNTRY.get(country_id, 1),
        "user_id": lead.user,
        "team_id": lead.team,
        "company_id": lead.company,
        "date_deadline": deadline,
        "date_closed": timeutil.to_stored(closed) if closed else None,
        "date_open": timeutil.to_stored(created) if lead.user else None,
        "date_last_stage_update": timeutil.to_stored(created if lead.stage == 1 else written),
        "date_conversion": timeutil.to_stored(created) if lead.type == "opportunity" else None,
        "date_automation_last": None,
        "lost_reason_id": lead.lost_reason,
        "description": lead.description,
        "campaign_id": lead.campaign,
        "medium_id": lead.medium,
        "source_id": lead.source,
        "won_status": compute_won_status(active, probability, stage_is_won),
        "create_date": timeutil.to_stored(created),
        "write_date": timeutil.to_stored(written),
        "create_uid": ADMIN_ID,
        "write_uid": ADMIN_ID,
    }
    return tuple(values[column] for column in LEAD_COLUMNS)


def seed_demo_leads(connection: sqlite3.Connection, seed: int, now: datetime) -> None:
    """Insert the demo leads with dates relative to `now`; `seed` fixes the random jitter."""
    rng = random.Random(f"demo-{seed}")
    rows = [_demo_lead_row(lead, rng, now) for lead in DEMO_LEADS]
    connection.executemany(_INSERT_LEAD, rows)
    ids = [row[0] for row in connection.execute("SELECT id FROM crm_lead ORDER BY id")]
    links = [(lead_id, tag) for lead_id, lead in zip(ids, DEMO_LEADS) for tag in lead.tags]
    connection.executemany("INSERT INTO crm_tag_rel (lead_id, tag_id) VALUES (?, ?)", links)


_PRODUCTS = ("Desks", "Chairs", "Software licences", "Consulting", "Training", "Lamps", "Cabinets", "Support")
_COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Stark Trading", "Wayne Supplies", "Hooli", "Vandelay")
_CITIES = (
    ("Paris", 2, None), ("Bordeaux", 2, 3), ("Manchester", 3, None), ("Oxford", 3, None),
    ("Melbourne", 4, 2), ("Wavre", 1, None), ("Liverpool", 3, None), ("Caracas", 5, None), ("Chicago", 6, 1),
)
_OPEN_STAGES = (1, 1, 1, 2, 2, 3)


def _generated_lead_row(number: int, rng: random.Random, now: datetime) -> tuple:
    company_name = _COMPANIES[number % len(_COMPANIES)]
    product = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
    city, country_id, state_id = _CITIES[number % len(_CITIES)]
    created = now - timedelta(seconds=rng.uniform(3600, 90 * 86400))
    written = created + (now - created) * rng.random()
    created_stored = timeutil.to_stored(created)
    written_stored = timeutil.to_stored(written)

    roll = rng.random()
    lost = roll < 0.05
    won = 0.05 <= roll < 0.10
    lead_type = "lead" if rng.random() < 0.4 else "opportunity"
    if won:
        stage_id, probability = WON, 100.0
    else:
        stage_id = _OPEN_STAGES[rng.randrange(len(_OPEN_STAGES))]
        probability = 0.0 if lost else float(rng.randrange(10, 91))
    revenue = 0.0
    deadline = None
    if lead_type == "opportunity":
        revenue = float(rng.randrange(1_000, 60_001, 50))
        deadline = (now + timedelta(days=rng.randrange(-30, 60))).date().isoformat()
    user_id = (ADMIN_ID, DEMO_ID, None)[rng.randrange(3)]
    team_id = None
    if user_id is not None:
        team_id = 1 if user_id == ADMIN_ID else 2
    active = 0 if lost else 1

    values = dict.fromkeys(LEAD_COLUMNS)
    values.update({
        "name": f"{product} for {company_name} #{number}",
        "type": lead_type,
        "active": active,
        "stage_id": stage_id,
        "probability": probability,
        "expected_revenue": revenue,
        "prorated_revenue": compute_prorated_revenue(revenue, probability),
        "recurring_revenue": 0.0,
        "priority": str(rng.randrange(4)),
        "partner_name": f"{company_name} {city}",
        "contact_name": f"Contact {number}",
        "email_from": f"contact{number}@example.com",
        "phone": f"+33 1 {number % 100:02d} {number // 100 % 100:02d} {rng.randrange(100):02d} {rng.randrange(100):02d}",
        "city": city,
        "state_id": state_id,
        "country_id": country_id,
        "lang_id": _LANG_BY_COUNTRY.get(country_id, 1),
        "user_id": user_id,
        "team_id": team_id,
        "company_id": 2 if rng.random() < 0.1 else 1,
        "date_deadline": deadline,
        "date_closed": written_stored if (lost or won) else None,
        "date_open": created_stored if user_id else None,
        "date_last_stage_update": created_stored,
        "date_conversion": created_stored if lead_type == "opportunity" else None,
        "lost_reason_id": rng.randrange(1, 4) if lost else None,
        "won_status": compute_won_status(active, probability, won),
        "create_date": created_stored,
        "write_date": written_stored,
        "create_uid": ADMIN_ID,
        "write_uid": ADMIN_ID,
    })
    return (number, *values.values())


def add_generated_leads(connection: sqlite3.Connection, count: int, seed: int, now: datetime) -> tuple[int, int]:
    """Insert `count` generated leads in one executemany and return the first and last new id.

    Leads are spread over the last 90 days. About 5 % are lost, 5 % won and 10 % belong to
    the second company; a third have one or two tags.
    """
    if count <= 0:
        return (0, 0)
    # Continue after the highest id ever used, so ids of deleted leads are never reused.
    start = connection.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'crm_lead'), 0),"
        " COALESCE((SELECT MAX(id) FROM crm_lead), 0))"
    ).fetchone()[0]
    rng = random.Random(f"generated-{seed}-{start}")
    rows = []
    tag_links = []
    for number in range(start + 1, start + count + 1):
        rows.append(_generated_lead_row(number, rng, now))
        if rng.random() < 0.33:
            tag_links.append((number, rng.randrange(1, 9)))
            if rng.random() < 0.5:
                tag_links.append((number, rng.randrange(1, 9)))
    connection.executemany(_INSERT_LEAD_WITH_ID, rows)
    connection.executemany("INSERT OR IGNORE INTO crm_tag_rel (lead_id, tag_id) VALUES (?, ?)", tag_links)
    return (start + 1, start + count)
