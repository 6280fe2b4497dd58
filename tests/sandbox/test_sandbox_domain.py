"""Domain, order and paging semantics of the sandbox ORM, checked against hand-made leads."""

from __future__ import annotations

import pytest

from sandbox.domain import like_to_glob, parse_domain

# Every lead made here has this name prefix, so domains can be scoped to them.
PREFIX = "T-"


def make_leads(sandbox, rows: list[dict]) -> list[int]:
    with sandbox.db.transaction() as connection:
        env = sandbox.env(connection)
        return [env["crm.lead"].create({"name": PREFIX + row.pop("name"), **row}) for row in rows]


def search(sandbox, domain, context=None, **options) -> list[int]:
    scoped = [("name", "=like", PREFIX + "%")] + list(domain)
    with sandbox.db.snapshot() as connection:
        env = sandbox.env(connection, context=context)
        return env["crm.lead"].search(scoped, order=options.pop("order", "id asc"), **options)


@pytest.fixture
def leads(sandbox) -> dict[str, int]:
    rows = [
        {"name": "alpha", "email_from": "Alpha@Example.com", "expected_revenue": 1000.0, "probability": 20.0,
         "priority": "1", "stage_id": 1, "user_id": 2, "tag_ids": [1, 2], "date_deadline": "2024-06-01",
         "write_date": "2024-05-01 10:00:00.120000"},
        {"name": "beta", "email_from": "beta@example.org", "expected_revenue": 5000.0, "probability": 50.0,
         "priority": "2", "stage_id": 2, "user_id": 6, "tag_ids": [3], "date_deadline": "2024-06-15",
         "write_date": "2024-05-01 10:00:00.000000"},
        {"name": "gamma", "email_from": False, "expected_revenue": 0.0, "probability": 0.0,
         "priority": "0", "stage_id": 3, "user_id": False, "partner_id": 21,
         "write_date": "2024-05-01 10:00:01.000000"},
        {"name": "delta_x", "email_from": "d%x@example.com", "expected_revenue": 60000.0, "probability": 90.0,
         "priority": "3", "stage_id": 4, "user_id": 2, "tag_ids": [1], "active": False, "lost_reason_id": 1,
         "write_date": "2024-05-02 08:30:00.999999"},
    ]
    names = [row["name"] for row in rows]
    return dict(zip(names, make_leads(sandbox, rows)))


def test_comparison_operators(sandbox, leads):
    assert search(sandbox, [("expected_revenue", "=", 5000)]) == [leads["beta"]]
    assert search(sandbox, [("expected_revenue", "!=", 5000)]) == [leads["alpha"], leads["gamma"]]
    assert search(sandbox, [("expected_revenue", ">", 1000)]) == [leads["beta"]]
    assert search(sandbox, [("expected_revenue", ">=", 1000)]) == [leads["alpha"], leads["beta"]]
    assert search(sandbox, [("probability", "<", 20)]) == [leads["gamma"]]
    assert search(sandbox, [("probability", "<=", 20)]) == [leads["alpha"], leads["gamma"]]
    assert search(sandbox, [("priority", "=", "2")]) == [leads["beta"]]
    assert search(sandbox, [("date_deadline", "<", "2024-06-10")]) == [leads["alpha"]]


def test_equality_with_false_matches_empty(sandbox, leads):
    assert search(sandbox, [("email_from", "=", False)]) == [leads["gamma"]]
    assert search(sandbox, [("user_id", "=", False)]) == [leads["gamma"]]
    assert search(sandbox, [("email_from", "!=", False)]) == [leads["alpha"], leads["beta"]]


def test_not_equal_includes_empty_values(sandbox, leads):
    # Odoo's `!=` and `not in` also match rows whose column is NULL.
    assert search(sandbox, [("user_id", "!=", 6)]) == [leads["alpha"], leads["gamma"]]
    assert search(sandbox, [("user_id", "not in", [6])]) == [leads["alpha"], leads["gamma"]]
    assert search(sandbox, [("user_id", "not in", [6, False])]) == [leads["alpha"]]


def test_optional_equality_operator(sandbox, leads):
    assert search(sandbox, [("user_id", "=?", False)]) == [leads["alpha"], leads["beta"], leads["gamma"]]
    assert search(sandbox, [("user_id", "=?", 6)]) == [leads["beta"]]


def test_like_operators(sandbox, leads):
    assert search(sandbox, [("email_from", "ilike", "EXAMPLE.COM")]) == [leads["alpha"]]
    assert search(sandbox, [("email_from", "like", "Example")]) == [leads["alpha"]]
    assert search(sandbox, [("email_from", "like", "example.org")]) == [leads["beta"]]
    assert search(sandbox, [("email_from", "not ilike", "example.com")]) == [leads["beta"], leads["gamma"]]
    assert search(sandbox, [("email_from", "not like", "Example")]) == [leads["beta"], leads["gamma"]]
    assert search(sandbox, [("email_from", "=like", "beta@%")]) == [leads["beta"]]
    assert search(sandbox, [("email_from", "=like", "BETA@%")]) == []
    assert search(sandbox, [("email_from", "=ilike", "BETA@%")]) == [leads["beta"]]
    assert search(sandbox, [("email_from", "ilike", "")]) == [leads["alpha"], leads["beta"], leads["gamma"]]


def test_like_escapes_and_wildcards(sandbox, leads):
    assert search(sandbox, [("name", "=like", PREFIX + "delta\\_x")], context={"active_test": False}) == [leads["delta_x"]]
    assert search(sandbox, [("name", "=like", PREFIX + "bet_")]) == [leads["beta"]]
    assert like_to_glob("a%b_c\\%*") == "a*b?c%[*]"


def test_in_operators(sandbox, leads):
    assert search(sandbox, [("stage_id", "in", [1, 3])]) == [leads["alpha"], leads["gamma"]]
    assert search(sandbox, [("stage_id", "not in", [1, 3])]) == [leads["beta"]]
    assert search(sandbox, [("stage_id", "in", [])]) == []
    assert search(sandbox, [("stage_id", "not in", [])]) == [leads["alpha"], leads["beta"], leads["gamma"]]
    assert search(sandbox, [("user_id", "in", [6, False])]) == [leads["beta"], leads["gamma"]]
    assert search(sandbox, [("id", "in", [leads["beta"]])]) == [leads["beta"]]


def test_many2one_by_name(sandbox, leads):
    assert search(sandbox, [("stage_id", "=", "Qualified")]) == [leads["beta"]]
    assert search(sandbox, [("stage_id", "ilike", "prop")]) == [leads["gamma"]]
    assert search(sandbox, [("user_id", "in", ["Marc Demo"])]) == [leads["beta"]]
    assert search(sandbox, [("partner_id", "ilike", "Azure")]) == [leads["gamma"]]


def test_many2many_tags(sandbox, leads):
    assert search(sandbox, [("tag_ids", "in", [2, 3])]) == [leads["alpha"], leads["beta"]]
    assert search(sandbox, [("tag_ids", "=", 1)]) == [leads["alpha"]]
    assert search(sandbox, [("tag_ids", "not in", [1])]) == [leads["beta"], leads["gamma"]]
    assert search(sandbox, [("tag_ids", "=", False)]) == [leads["gamma"]]
    assert search(sandbox, [("tag_ids", "!=", False)]) == [leads["alpha"], leads["beta"]]
    assert search(sandbox, [("tag_ids", "ilike", "soft")]) == [leads["alpha"]]
    assert search(sandbox, [("tag_ids", "in", ["Services"])]) == [leads["beta"]]


def test_dotted_paths_and_any(sandbox, leads):
    assert search(sandbox, [("user_id.login", "=", "demo")]) == [leads["beta"]]
    assert search(sandbox, [("stage_id.sequence", ">=", 2)]) == [leads["beta"], leads["gamma"]]
    assert search(sandbox, [("tag_ids.name", "=", "Product")]) == [leads["alpha"]]
    assert search(sandbox, [("stage_id", "any", [("name", "=", "New")])]) == [leads["alpha"]]
    assert search(sandbox, [("tag_ids", "not any", [("name", "=", "Product")])]) == [leads["beta"], leads["gamma"]]


def test_child_of_follows_partner_hierarchy(sandbox, leads):
    # Partner 21 (Brandon Freeman) is a contact of partner 11 (Azure Interior).
    assert search(sandbox, [("partner_id", "child_of", 11)]) == [leads["gamma"]]
    assert search(sandbox, [("partner_id", "child_of", 10)]) == []
    assert search(sandbox, [("stage_id", "child_of", [2])]) == [leads["beta"]]


def test_prefix_operators(sandbox, leads):
    assert search(sandbox, ["|", ("stage_id", "=", 1), ("stage_id", "=", 2)]) == [leads["alpha"], leads["beta"]]
    assert search(sandbox, ["&", ("user_id", "=", 2), ("stage_id", "=", 1)]) == [leads["alpha"]]
    assert search(sandbox, ["!", ("stage_id", "=", 1)]) == [leads["beta"], leads["gamma"]]
    # Terms left after a complete expression are joined with AND.
    domain = ["|", ("stage_id", "=", 1), ("stage_id", "=", 2), ("user_id", "=", 6)]
    assert search(sandbox, domain) == [leads["beta"]]
    assert search(sandbox, ["!", "|", ("stage_id", "=", 1), ("stage_id", "=", 2)]) == [leads["gamma"]]


def test_true_and_false_leaves(sandbox, leads):
    assert search(sandbox, [(1, "=", 1)]) == [leads["alpha"], leads["beta"], leads["gamma"]]
    assert search(sandbox, [(0, "=", 1)]) == []


def test_active_test_hides_archived(sandbox, leads):
    assert leads["delta_x"] not in search(sandbox, [])
    assert leads["delta_x"] in search(sandbox, [], context={"active_test": False})
    assert search(sandbox, [("active", "=", False)]) == [leads["delta_x"]]
    assert len(search(sandbox, [("active", "in", [True, False])])) == 4


def test_write_date_compares_stored_microseconds(sandbox, leads):
    after = search(sandbox, [("write_date", ">", "2024-05-01 10:00:00")])
    assert after == [leads["alpha"], leads["gamma"]]
    assert search(sandbox, [("write_date", "=", "2024-05-01 10:00:00")]) == [leads["beta"]]
    assert search(sandbox, [("write_date", "<=", "2024-05-01 10:00:00")]) == [leads["beta"]]
    assert search(sandbox, [("write_date", ">=", "2024-05-01")]) == [leads["alpha"], leads["beta"], leads["gamma"]]


def test_write_date_seconds_switch(sandbox, leads):
    sandbox.settings.update({"write_date_precision": "seconds"})
    assert search(sandbox, [("write_date", ">", "2024-05-01 10:00:00")]) == [leads["gamma"]]
    assert search(sandbox, [("write_date", "=", "2024-05-01 10:00:00")]) == [leads["alpha"], leads["beta"]]
    assert search(sandbox, [("write_date", ">=", "2024-05-01 10:00:01")]) == [leads["gamma"]]
    assert search(sandbox, [("write_date", "<", "2024-05-01 10:00:01")]) == [leads["alpha"], leads["beta"]]
    assert search(sandbox, [("write_date", "!=", "2024-05-01 10:00:00")]) == [leads["gamma"]]
    assert search(sandbox, [("write_date", "in", ["2024-05-01 10:00:01"])]) == [leads["gamma"]]


def test_order_and_paging(sandbox, leads):
    ids = [leads["alpha"], leads["beta"], leads["gamma"]]
    assert search(sandbox, [], order="write_date asc, id asc") == [leads["beta"], leads["alpha"], leads["gamma"]]
    assert search(sandbox, [], order="id desc") == ids[::-1]
    assert search(sandbox, [], order="expected_revenue desc") == [leads["beta"], leads["alpha"], leads["gamma"]]
    assert search(sandbox, [], order="id asc", limit=2) == ids[:2]
    assert search(sandbox, [], order="id asc", limit=2, offset=2) == ids[2:]
    assert search(sandbox, [], order="id asc", offset=1) == ids[1:]
    # Ordering by a many2one follows the comodel's order (stage sequence).
    assert search(sandbox, [], order="stage_id desc, id") == [leads["gamma"], leads["beta"], leads["alpha"]]
    # NULLs sort last in ascending order, as in PostgreSQL.
    assert search(sandbox, [], order="user_id, id")[-1] == leads["gamma"]


def test_default_order_is_priority_then_id(sandbox, leads):
    assert search(sandbox, [], order=None) == [leads["beta"], leads["alpha"], leads["gamma"]]


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([("nope", "=", 1)], "Invalid field crm.lead.nope"),
        ([("name", "~", "x")], "Invalid operator"),
        (["|", ("name", "=", "x")], "missing an operand"),
        (["bogus"], "Invalid domain term"),
        ([("write_date", ">", "yesterday")], "Invalid datetime"),
        ([("company_currency", "=", 1)], "cannot be searched"),
    ],
)
def test_invalid_domains_raise(sandbox, domain, message):
    with pytest.raises(ValueError, match=message):
        search(sandbox, domain)


@pytest.mark.parametrize(
    ("order", "message"),
    [("nope asc", "Invalid field 'nope'"), ("id sideways", 'Invalid "order"'), ("tag_ids", "not stored")],
)
def test_invalid_orders_raise(sandbox, order, message):
    with pytest.raises(ValueError, match=message):
        search(sandbox, [], order=order)


def test_parse_domain_builds_tree():
    tree = parse_domain(["|", ("a", "=", 1), "!", ("b", "in", [2])])
    assert tree[0][0] == "|"
    assert tree[0][2][0] == "!"
    assert parse_domain([]) == []
