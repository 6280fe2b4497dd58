"""crm.lead behaviour on create and write, and the won / lost / restore actions."""

from __future__ import annotations

from sandbox.orm import MODEL_HOOKS, Env

# NOTE: Odoo 17 computes a lead's probability with predictive lead scoring. The sandbox
# uses this fixed value instead, for new and restored leads outside a won stage.
DEFAULT_PROBABILITY = 10.0


def compute_won_status(active: int, probability: float | None, stage_is_won: bool) -> str:
    """Return Odoo 19's won_status: won in a won stage at 100 %, lost when archived at 0 %."""
    probability = probability or 0.0
    if stage_is_won and probability >= 100:
        return "won"
    if not active and probability == 0:
        return "lost"
    return "pending"


def compute_prorated_revenue(expected_revenue: float | None, probability: float | None) -> float:
    return round((expected_revenue or 0.0) * (probability or 0.0) / 100.0, 2)


def _stage_is_won(env: Env, stage_id: int | None) -> bool:
    if not stage_id:
        return False
    row = env.connection.execute("SELECT is_won FROM crm_stage WHERE id = ?", (stage_id,)).fetchone()
    return bool(row and row[0])


def first_stage_id(env: Env) -> int | None:
    row = env.connection.execute(
        "SELECT id FROM crm_stage WHERE COALESCE(fold, 0) = 0 ORDER BY sequence, name, id LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def won_stage_id(env: Env) -> int:
    row = env.connection.execute(
        "SELECT id FROM crm_stage WHERE is_won = 1 ORDER BY sequence, name, id LIMIT 1"
    ).fetchone()
    if row is None:
        raise ValueError("No won stage exists: create a crm.stage with is_won set first.")
    return row[0]


def _set_closing_date(changes: dict, now: str) -> None:
    # Odoo 17's crm.lead.write: reaching 100 % or archiving closes the lead, a positive
    # probability below 100 % reopens it.
    if "date_closed" in changes:
        return
    if (changes.get("probability") or 0) >= 100 or not changes.get("active", 1):
        changes["date_closed"] = now
    elif (changes.get("probability") or 0) > 0:
        changes["date_closed"] = None


class LeadHooks:
    """Computed and dependent crm.lead columns, kept up to date on every create and write."""

    @staticmethod
    def before_create(env: Env, columns: dict, now: str) -> None:
        columns.setdefault("type", "lead")
        columns.setdefault("priority", "0")
        columns.setdefault("company_id", env.company_id)
        if "stage_id" not in columns:
            columns["stage_id"] = first_stage_id(env)
        stage_is_won = _stage_is_won(env, columns["stage_id"])
        if stage_is_won:
            columns["probability"] = 100.0
        columns.setdefault("probability", DEFAULT_PROBABILITY if columns.get("active", 1) else 0.0)
        columns.setdefault("date_last_stage_update", now)
        if columns.get("user_id"):
            columns.setdefault("date_open", now)
        if columns["type"] == "opportunity":
            columns.setdefault("date_conversion", now)
        if "date_closed" not in columns and (columns["probability"] >= 100 or not columns.get("active", 1)):
            columns["date_closed"] = now
        columns["prorated_revenue"] = compute_prorated_revenue(columns.get("expected_revenue"), columns["probability"])
        columns["won_status"] = compute_won_status(columns.get("active", 1), columns["probability"], stage_is_won)

    @staticmethod
    def before_write(env: Env, current: dict, changes: dict, now: str) -> None:
        stage_changed = "stage_id" in changes and changes["stage_id"] != current["stage_id"]
        if stage_changed:
            changes.setdefault("date_last_stage_update", now)
            if _stage_is_won(env, changes["stage_id"]):
                changes["probability"] = 100.0
        if changes.get("user_id") and changes["user_id"] != current["user_id"]:
            changes.setdefault("date_open", now)
        if changes.get("type") == "opportunity" and current["type"] == "lead":
            changes.setdefault("date_conversion", now)
        _set_closing_date(changes, now)

        merged = {**current, **changes}
        changes["prorated_revenue"] = compute_prorated_revenue(merged["expected_revenue"], merged["probability"])
        changes["won_status"] = compute_won_status(
            merged["active"], merged["probability"], _stage_is_won(env, merged["stage_id"])
        )


MODEL_HOOKS["crm.lead"] = LeadHooks


def mark_lost(env: Env, lead_id: int, lost_reason_id: int | None = None, write_date: str | None = None) -> None:
    """Mark a lead lost the way Odoo's action_set_lost does: archived, 0 %, with a reason."""
    values = {"active": False, "probability": 0.0, "lost_reason_id": lost_reason_id or False}
    if write_date:
        values["write_date"] = write_date
    env["crm.lead"].write([lead_id], values)


def restore(env: Env, lead_id: int, write_date: str | None = None) -> None:
    """Un-archive a lost lead: active again, lost reason cleared, probability reset."""
    row = env.connection.execute("SELECT stage_id FROM crm_lead WHERE id = ?", (lead_id,)).fetchone()
    probability = 100.0 if row and _stage_is_won(env, row[0]) else DEFAULT_PROBABILITY
    values = {"active": True, "lost_reason_id": False, "probability": probability}
    if write_date:
        values["write_date"] = write_date
    env["crm.lead"].write([lead_id], values)


def mark_won(env: Env, lead_id: int, write_date: str | None = None) -> None:
    """Mark a lead won like action_set_won: active, in the first won stage, at 100 %."""
    values = {
        "active": True,
        "lost_reason_id": False,
        "stage_id": won_stage_id(env),
        "probability": 100.0,
    }
    if write_date:
        values["write_date"] = write_date
    env["crm.lead"].write([lead_id], values)
