"""ORM-like layer over SQLite: search, read with Odoo value shapes, create, write, unlink.

Every data API dialect and the control API go through `Env` so that domains, record rules
and value shapes behave the same everywhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field as dataclass_field

from sandbox import timeutil
from sandbox.domain import DomainCompiler
from sandbox.exceptions import AccessError, MissingError
from sandbox.fields import Field
from sandbox.models import SUPERUSER_ID, ModelSpec

# SQLite's default limit on bound parameters is 32766; chunks stay well below it.
ID_CHUNK_SIZE = 900

# Non-stored fields computed in SQL; `{t}` is the table alias and `{company}` the current company.
COMPUTED_SQL = {
    ("crm.lead", "company_currency"): (
        "(SELECT company.currency_id FROM res_company company"
        " WHERE company.id = COALESCE({t}.company_id, {company}))"
    ),
}

# Model-specific behaviour on create and write (crm.lead's computed dates, won_status, ...),
# registered by the modules that define it.
MODEL_HOOKS: dict[str, object] = {}


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), ID_CHUNK_SIZE):
        yield ids[start : start + ID_CHUNK_SIZE]


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


@dataclass
class Env:
    """An ORM environment: one connection, one user and one context, like Odoo's `env`.

    With `su` true (the control API) record rules are skipped; otherwise the multi-company
    rule and, for "own documents" users, the crm.lead ownership rule apply.
    """

    connection: sqlite3.Connection
    models: dict[str, ModelSpec]
    uid: int = SUPERUSER_ID
    context: dict = dataclass_field(default_factory=dict)
    su: bool = True
    datetime_precision: str = "microseconds"
    # Companies the context allows, the first one being the current company.
    company_ids: list[int] = dataclass_field(default_factory=lambda: [1])
    crm_access: str = "all"

    def __getitem__(self, model_name: str) -> "Model":
        spec = self.models.get(model_name)
        if spec is None:
            raise MissingError(f"Model {model_name!r} does not exist.")
        return Model(self, spec)

    @property
    def company_id(self) -> int:
        return self.company_ids[0]

    @property
    def active_test(self) -> bool:
        return self.context.get("active_test", True) is not False

    def compiler(self) -> DomainCompiler:
        return DomainCompiler(self.models, self.datetime_precision)


def user_env(
    connection: sqlite3.Connection,
    models: dict[str, ModelSpec],
    uid: int,
    context: dict | None = None,
    with_company: int | None = None,
    datetime_precision: str = "microseconds",
) -> Env:
    """Build the environment of a logged-in user, resolving allowed companies as Odoo 17 does.

    Without `allowed_company_ids` in the context only the user's current company is
    visible. Asking for a company the user does not belong to raises AccessError.
    """
    context = dict(context or {})
    row = connection.execute(
        "SELECT company_id, crm_access, active FROM res_users WHERE id = ?", (uid,)
    ).fetchone()
    if row is None or not row[2]:
        raise AccessError(f"User {uid} does not exist or is archived.")
    default_company, crm_access, _active = row
    user_companies = [
        cid for (cid,) in connection.execute("SELECT cid FROM res_company_users_rel WHERE user_id = ?", (uid,))
    ]
    allowed = context.get("allowed_company_ids")
    if allowed:
        if not isinstance(allowed, list) or not all(isinstance(cid, int) for cid in allowed):
            raise ValueError(f"Invalid allowed_company_ids {allowed!r}: expected a list of company ids.")
        if any(cid not in user_companies for cid in allowed):
            raise AccessError("Access to unauthorized or invalid companies.")
        company_ids = list(allowed)
    else:
        company_ids = [default_company]
    if with_company is not None:
        if with_company not in user_companies:
            raise AccessError("Access to unauthorized or invalid companies.")
        company_ids = [with_company] + [cid for cid in company_ids if cid != with_company]
    return Env(
        connection=connection,
        models=models,
        uid=uid,
        context=context,
        su=False,
        datetime_precision=datetime_precision,
        company_ids=company_ids,
        crm_access=crm_access,
    )


class Model:
    """Operations on one model, in the environment's user and context."""

    def __init__(self, env: Env, spec: ModelSpec):
        self.env = env
        self.spec = spec

    # Searching

    def _where(self, domain: object, alias: str, compiler: DomainCompiler) -> tuple[str, list]:
        where, params = compiler.where(self.spec, domain, alias, active_test=self.env.active_test)
        rule_sql = self._record_rules(alias)
        if rule_sql:
            where = f"({where}) AND {rule_sql}"
        return where, params

    def _record_rules(self, alias: str) -> str | None:
        if self.env.su:
            return None
        companies = ", ".join(str(int(cid)) for cid in self.env.company_ids)
        rules = []
        if self.spec.company_field:
            column = f"{alias}.{self.spec.fields[self.spec.company_field].sql_column}"
            rules.append(f"({column} IS NULL OR {column} IN ({companies}))")
        if self.spec.name == "res.company":
            rules.append(f"{alias}.id IN ({companies})")
        if self.spec.name == "crm.lead" and self.env.crm_access == "own":
            # Odoo's "Sales / User: Own Documents Only" group can read its own and unassigned leads.
            rules.append(f"({alias}.user_id = {int(self.env.uid)} OR {alias}.user_id IS NULL)")
        return " AND ".join(rules) if rules else None

    def _select(
        self, columns_sql: str, domain: object, offset: int, limit: int | None, order: str | None
    ) -> list[tuple]:
        compiler = self.env.compiler()
        where, params = self._where(domain, "t", compiler)
        order_sql = compiler.order_by(self.spec, order, "t")
        sql = f"SELECT {columns_sql} FROM {self.spec.table} t WHERE {where} ORDER BY {order_sql}"
        if limit or offset:
            # Odoo treats limit 0 / None as "no limit"; SQLite spells that LIMIT -1.
            sql += " LIMIT ? OFFSET ?"
            params = params + [int(limit) if limit else -1, int(offset or 0)]
        return self.env.connection.execute(sql, params).fetchall()

    def search(self, domain: object = (), offset: int = 0, limit: int | None = None, order: str | None = None) -> list[int]:
        """Return the ids matching the domain, in the requested order."""
        return [row[0] for row in self._select("t.id", domain, offset, limit, order)]

    def search_count(self, domain: object = ()) -> int:
        compiler = self.env.compiler()
        where, params = self._where(domain, "t", compiler)
        sql = f"SELECT COUNT(*) FROM {self.spec.table} t WHERE {where}"
        return self.env.connection.execute(sql, params).fetchone()[0]

    def search_read(
        self,
        domain: object = (),
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict]:
        """Search and read in one query, returning records in Odoo value shapes."""
        selected = self._check_fields(fields)
        columns_sql = self._columns_sql(selected)
        rows = self._select(columns_sql, domain, offset, limit, order)
        return self._shape_rows(rows, selected)

    # Reading

    def _check_fields(self, fields: list[str] | None) -> list[Field]:
        """Validate requested field names; no list means every field, as in Odoo."""
        if not fields:
            return list(self.spec.fields.values())
        if isinstance(fields, str) or not isinstance(fields, (list, tuple)):
            raise ValueError(f"Invalid fields {fields!r}: expected a list of field names.")
        selected = {}
        for name in fields:
            if not isinstance(name, str):
                raise ValueError(f"Invalid field {name!r} on model {self.spec.name!r}")
            selected[name] = self.spec.field(name)
        return list(selected.values())

    def _columns_sql(self, selected: list[Field]) -> str:
        expressions = ["t.id"]
        for field in selected:
            expressions.append(self._field_sql(field))
        return ", ".join(expressions)

    def _field_sql(self, field: Field) -> str:
        if field.name == "display_name":
            return self.spec.display_name_sql.format(t="t")
        computed = COMPUTED_SQL.get((self.spec.name, field.name))
        if computed:
            return computed.format(t="t", company=int(self.env.company_id))
        if field.type == "many2many":
            return "NULL"
        return f"t.{field.sql_column}"

    def read(self, ids: Iterable[int], fields: list[str] | None = None) -> list[dict]:
        """Read records by id; ids that do not exist are left out, as Odoo does.

        Existing ids hidden by a record rule raise AccessError.
        """
        ids = [int(record_id) for record_id in ids]
        selected = self._check_fields(fields)
        columns_sql = self._columns_sql(selected)
        rows_by_id = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            sql = f"SELECT {columns_sql} FROM {self.spec.table} t WHERE t.id IN ({_placeholders(len(chunk))})"
            for row in self.env.connection.execute(sql, chunk):
                rows_by_id[row[0]] = row
        if not self.env.su and rows_by_id:
            self._check_rules(list(rows_by_id))
        rows = [rows_by_id[record_id] for record_id in ids if record_id in rows_by_id]
        return self._shape_rows(rows, selected)

    def _check_rules(self, ids: list[int]) -> None:
        visible = set()
        for chunk in _chunks(ids):
            where = self._record_rules("t") or "1"
            sql = f"SELECT t.id FROM {self.spec.table} t WHERE t.id IN ({_placeholders(len(chunk))}) AND {where}"
            visible.update(row[0] for row in self.env.connection.execute(sql, chunk))
        forbidden = sorted(set(ids) - visible)
        if forbidden:
            raise AccessError(
                f"You are not allowed to access '{self.spec.name}' records"
                f" (Records: {forbidden[:6]}, User: {self.env.uid})."
            )

    def exists(self, ids: Iterable[int]) -> list[int]:
        ids = [int(record_id) for record_id in ids]
        found = set()
        for chunk in _chunks(ids):
            sql = f"SELECT id FROM {self.spec.table} WHERE id IN ({_placeholders(len(chunk))})"
            found.update(row[0] for row in self.env.connection.execute(sql, chunk))
        return [record_id for record_id in ids if record_id in found]

    # Value shapes

    def _shape_rows(self, rows: list[tuple], selected: list[Field]) -> list[dict]:
        """Turn SQL rows into dicts with Odoo's read() value shapes."""
        ids = [row[0] for row in rows]
        names_by_relation: dict[str, dict[int, str]] = {}
        relation_ids: dict[str, set[int]] = {}
        for position, field in enumerate(selected, start=1):
            if field.type == "many2one":
                relation_ids.setdefault(field.relation, set()).update(row[position] for row in rows if row[position])
        for relation, wanted in relation_ids.items():
            names_by_relation[relation] = self._display_names(relation, wanted)
        links = {field.name: self._many2many_ids(field, ids) for field in selected if field.type == "many2many"}

        records = []
        for row in rows:
            record = {"id": row[0]}
            for position, field in enumerate(selected, start=1):
                raw = row[position]
                if field.type == "many2one":
                    name = names_by_relation[field.relation].get(raw) if raw else None
                    record[field.name] = [raw, name] if name is not None else False
                elif field.type == "many2many":
                    record[field.name] = links[field.name].get(row[0], [])
                else:
                    record[field.name] = shape_value(field, raw)
            records.append(record)
        return records

    def _display_names(self, relation: str, ids: set[int]) -> dict[int, str]:
        spec = self.env.models[relation]
        expression = spec.display_name_sql.format(t="d")
        names = {}
        wanted = sorted(ids)
        for chunk in _chunks(wanted):
            sql = f"SELECT d.id, {expression} FROM {spec.table} d WHERE d.id IN ({_placeholders(len(chunk))})"
            names.update(self.env.connection.execute(sql, chunk).fetchall())
        return names

    def _many2many_ids(self, field: Field, ids: list[int]) -> dict[int, list[int]]:
        """Return linked ids per record, in the comodel's order as Odoo returns them."""
        comodel = self.env.models[field.relation]
        order_sql = self.env.compiler().order_by(comodel, None, "c")
        links: dict[int, list[int]] = {}
        for chunk in _chunks(ids):
            sql = (
                f"SELECT r.{field.column1}, r.{field.column2} FROM {field.relation_table} r"
                f" JOIN {comodel.table} c ON c.id = r.{field.column2}"
                f" WHERE r.{field.column1} IN ({_placeholders(len(chunk))}) ORDER BY {order_sql}"
            )
            for owner, target in self.env.connection.execute(sql, chunk):
                links.setdefault(owner, []).append(target)
        return links

    # Writing

    def create(self, values: dict) -> int:
        """Insert a record and return its id; values use write() conventions (many2one as ids)."""
        from sandbox.writes import prepare_create, insert_record

        columns, relations = prepare_create(self, values)
        return insert_record(self, columns, relations)

    def write(self, ids: Iterable[int], values: dict) -> None:
        """Update records; every write sets write_date to now unless the values give one."""
        from sandbox.writes import write_records

        write_records(self, [int(record_id) for record_id in ids], values)

    def unlink(self, ids: Iterable[int]) -> None:
        """Delete records and their many2many links; raises MissingError for unknown ids."""
        ids = [int(record_id) for record_id in ids]
        missing = sorted(set(ids) - set(self.exists(ids)))
        if missing:
            raise MissingError(
                f"Record does not exist or has been deleted. (Records: {self.spec.name}({missing[0]},))"
            )
        for field in self.spec.fields.values():
            if field.type == "many2many":
                for chunk in _chunks(ids):
                    self.env.connection.execute(
                        f"DELETE FROM {field.relation_table} WHERE {field.column1} IN ({_placeholders(len(chunk))})",
                        chunk,
                    )
        for chunk in _chunks(ids):
            self.env.connection.execute(
                f"DELETE FROM {self.spec.table} WHERE id IN ({_placeholders(len(chunk))})", chunk
            )

    def fields_get(self, attributes: list[str] | None = None) -> dict:
        """Return the field descriptions, optionally limited to some attributes."""
        descriptions = {}
        for name, field in self.spec.fields.items():
            description = field.describe()
            if attributes:
                description = {key: value for key, value in description.items() if key in attributes}
            descriptions[name] = description
        return descriptions


def shape_value(field: Field, raw: object) -> object:
    """Return a stored scalar value in Odoo's read() shape (False for empty)."""
    field_type = field.type
    if field_type in ("char", "text", "html", "selection", "date"):
        return raw if raw not in (None, "") else False
    if field_type == "datetime":
        return timeutil.shape_datetime(raw)
    if field_type == "boolean":
        return bool(raw)
    if field_type == "integer":
        return int(raw or 0)
    if field_type in ("float", "monetary"):
        return float(raw or 0.0)
    return raw if raw is not None else False
