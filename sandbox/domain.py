"""Translation of Odoo domains and order specifications to SQLite SQL."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from sandbox import timeutil
from sandbox.fields import Field
from sandbox.models import ModelSpec

COMPARISON_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
LIKE_OPERATORS = ("like", "not like", "ilike", "not ilike", "=like", "=ilike")
OPERATORS = frozenset(
    COMPARISON_OPERATORS
    + LIKE_OPERATORS
    + ("=?", "in", "not in", "child_of", "parent_of", "any", "not any")
)
DOMAIN_OPERATORS = ("&", "|", "!")

TRUE_SQL = "1"
FALSE_SQL = "0"

_ID_FIELD = Field("id", "integer", "ID")

_ORDER_TERM = re.compile(
    r'^\s*"?(?P<field>[a-z0-9_]+)"?(?:\s+(?P<direction>asc|desc))?(?:\s+nulls\s+(?P<nulls>first|last))?\s*$',
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Leaf:
    path: object
    operator: str
    value: object


def parse_domain(domain: object) -> list:
    """Turn a domain in prefix notation into a tree of ("&"|"|", a, b), ("!", a) and Leaf.

    Terms left over after a complete expression are joined with AND, as Odoo does.
    Returns a list of top-level trees (empty for an empty domain). Raises ValueError.
    """
    if domain is None or domain is False:
        return []
    if not isinstance(domain, (list, tuple)):
        raise ValueError(f"Invalid domain {domain!r}: expected a list of terms.")
    terms = list(domain)
    position = 0

    def parse_term():
        nonlocal position
        if position >= len(terms):
            raise ValueError(f"Invalid domain {domain!r}: an operator is missing an operand.")
        term = terms[position]
        position += 1
        if term in ("&", "|"):
            return (term, parse_term(), parse_term())
        if term == "!":
            return ("!", parse_term())
        if isinstance(term, (list, tuple)) and len(term) == 3:
            operator = term[1]
            if not isinstance(operator, str) or operator.lower() not in OPERATORS:
                raise ValueError(f"Invalid operator {operator!r} in domain term {term!r}.")
            return Leaf(term[0], operator.lower(), term[2])
        raise ValueError(f"Invalid domain term {term!r}: expected '&', '|', '!' or [field, operator, value].")

    trees = []
    while position < len(terms):
        trees.append(parse_term())
    return trees


def names_active(domain: object) -> bool:
    """Return whether any leaf of the domain is on the `active` field, which turns off active_test."""
    if not isinstance(domain, (list, tuple)):
        return False
    return any(isinstance(term, (list, tuple)) and len(term) == 3 and term[0] == "active" for term in domain)


def like_to_glob(pattern: str) -> str:
    """Translate a SQL LIKE pattern (`%`, `_`, backslash escapes) to a case-sensitive GLOB pattern."""
    parts = []
    characters = iter(pattern)
    for character in characters:
        if character == "\\":
            escaped = next(characters, "\\")
            parts.append(_glob_literal(escaped))
        elif character == "%":
            parts.append("*")
        elif character == "_":
            parts.append("?")
        else:
            parts.append(_glob_literal(character))
    return "".join(parts)


def _glob_literal(character: str) -> str:
    return f"[{character}]" if character in "*?[" else character


def _or(parts: list[str]) -> str:
    if not parts:
        return FALSE_SQL
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _is_null_value(value: object) -> bool:
    return value is False or value is None


class DomainCompiler:
    """Compile domains and orders of one registry into SQL WHERE and ORDER BY clauses.

    `datetime_precision` "microseconds" compares datetime columns at their stored precision,
    as PostgreSQL does; "seconds" compares them truncated to whole seconds.
    """

    def __init__(self, models: dict[str, ModelSpec], datetime_precision: str = "microseconds"):
        self.models = models
        self.datetime_precision = datetime_precision
        self._aliases = itertools.count(1)

    # Public entry points

    def where(self, spec: ModelSpec, domain: object, alias: str, active_test: bool = True) -> tuple[str, list]:
        """Return the SQL condition and parameters of a domain, with Odoo's active_test applied."""
        params: list = []
        parts = [self._node(spec, alias, tree, params) for tree in parse_domain(domain)]
        if active_test and spec.has_active and not names_active(domain):
            parts.append(f"{alias}.active = 1")
        if not parts:
            return TRUE_SQL, params
        return " AND ".join(parts), params

    def order_by(self, spec: ModelSpec, order: str | None, alias: str) -> str:
        """Return the ORDER BY clause body of an Odoo order string (the model's default if empty)."""
        order = order or spec.order
        if not isinstance(order, str):
            raise ValueError(f"Invalid order {order!r}: expected a string such as 'write_date asc, id asc'.")
        clauses = []
        for term in order.split(","):
            match = _ORDER_TERM.match(term)
            if not match:
                raise ValueError(
                    f'Invalid "order" specified ({order}). A valid "order" specification is a'
                    " comma-separated list of valid field names (optionally followed by asc/desc"
                    " for the direction)"
                )
            field = spec.field(match["field"])
            descending = (match["direction"] or "asc").lower() == "desc"
            nulls = match["nulls"].lower() if match["nulls"] else None
            clauses.extend(self._order_field(spec, alias, field, descending, nulls))
        return ", ".join(clauses)

    # Domain tree

    def _node(self, spec: ModelSpec, alias: str, node, params: list) -> str:
        if isinstance(node, Leaf):
            sql, leaf_params = self._leaf(spec, alias, node)
            params.extend(leaf_params)
            return sql
        if node[0] == "!":
            return f"(NOT {self._node(spec, alias, node[1], params)})"
        joiner = " AND " if node[0] == "&" else " OR "
        left = self._node(spec, alias, node[1], params)
        right = self._node(spec, alias, node[2], params)
        return f"({left}{joiner}{right})"

    def _subquery(self, comodel: ModelSpec, domain: object) -> tuple[str, list]:
        """Return `SELECT id FROM comodel WHERE domain`, archived records excluded like Odoo's _search."""
        alias = f"c{next(self._aliases)}"
        where, params = self.where(comodel, domain, alias, active_test=True)
        return f"SELECT {alias}.id FROM {comodel.table} {alias} WHERE {where}", params

    def _leaf(self, spec: ModelSpec, alias: str, leaf: Leaf) -> tuple[str, list]:
        path, operator, value = leaf.path, leaf.operator, leaf.value
        # Odoo's TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
        if path in (0, 1) and not isinstance(path, bool) and operator == "=" and value == 1:
            return (TRUE_SQL if path == 1 else FALSE_SQL), []
        if not isinstance(path, str):
            raise ValueError(f"Invalid leaf {[path, operator, value]!r}: the field must be a string.")

        name, _, rest = path.partition(".")
        field = spec.fields.get(name)
        if field is None:
            raise ValueError(f"Invalid field {spec.name}.{name} in leaf {(path, operator, value)!r}")
        if rest:
            return self._path_leaf(spec, alias, field, rest, operator, value)
        if operator == "=?":
            if _is_null_value(value):
                return TRUE_SQL, []
            operator = "in" if isinstance(value, (list, tuple)) else "="
        if operator in ("any", "not any"):
            return self._any_leaf(alias, field, operator, value)
        if operator in ("=", "!=") and isinstance(value, (list, tuple)):
            operator = "in" if operator == "=" else "not in"

        if field.name == "display_name":
            expression = spec.display_name_sql.format(t=alias)
            return self._scalar_leaf(expression, Field("display_name", "char", "Display Name"), operator, value)
        if not field.store:
            raise ValueError(f"Non-stored field {spec.name}.{name} cannot be searched.")
        if field.type == "many2many":
            return self._many2many_leaf(alias, field, operator, value)
        if field.type == "many2one":
            return self._many2one_leaf(alias, field, operator, value)
        if field.name == "id" and spec.parent_field and operator in ("child_of", "parent_of"):
            return self._hierarchy_leaf(f"{alias}.id", spec, operator, value)
        return self._scalar_leaf(f"{alias}.{field.sql_column}", field, operator, value)

    # Scalar columns

    def _scalar_leaf(self, column: str, field: Field, operator: str, value: object) -> tuple[str, list]:
        if operator in ("in", "not in"):
            return self._in_leaf(column, field, operator, value)
        if operator in ("=", "!="):
            return self._equality_leaf(column, field, operator, value)
        if operator in COMPARISON_OPERATORS:
            if _is_null_value(value) and field.type != "boolean":
                # PostgreSQL compares with NULL as unknown, which matches no row.
                return FALSE_SQL, []
            if field.type == "datetime" and self.datetime_precision == "seconds":
                return self._seconds_comparison(column, operator, timeutil.parse_datetime(value))
            return f"{column} {operator} ?", [self._normalize(field, value)]
        if operator in LIKE_OPERATORS:
            return self._like_leaf(column, operator, value)
        raise ValueError(f"Operator {operator!r} is not supported on field {field.name!r} of type {field.type}.")

    def _equality_leaf(self, column: str, field: Field, operator: str, value: object) -> tuple[str, list]:
        positive = operator == "="
        if field.type == "boolean":
            # Odoo treats a NULL boolean as False.
            wanted = bool(value) == positive
            return (f"{column} = 1" if wanted else f"({column} = 0 OR {column} IS NULL)"), []
        if _is_null_value(value):
            return f"{column} {'IS' if positive else 'IS NOT'} NULL", []
        if field.type == "datetime" and self.datetime_precision == "seconds":
            return self._seconds_comparison(column, operator, timeutil.parse_datetime(value))
        normalized = self._normalize(field, value)
        if positive:
            return f"{column} = ?", [normalized]
        # Odoo's `!=` also matches rows where the column is empty.
        return f"({column} != ? OR {column} IS NULL)", [normalized]

    def _in_leaf(self, column: str, field: Field, operator: str, value: object) -> tuple[str, list]:
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        if field.type == "boolean":
            wanted = {bool(item) for item in values}
            if operator == "not in":
                wanted = {True, False} - wanted
            parts = []
            if True in wanted:
                parts.append(f"{column} = 1")
            if False in wanted:
                parts.append(f"({column} = 0 OR {column} IS NULL)")
            return _or(parts), []

        has_null = any(_is_null_value(item) for item in values)
        present = [item for item in values if not _is_null_value(item)]
        params: list = []
        if field.type == "datetime" and self.datetime_precision == "seconds":
            parts = []
            for item in present:
                sql, item_params = self._seconds_comparison(column, "=", timeutil.parse_datetime(item))
                parts.append(sql)
                params.extend(item_params)
            match_sql = _or(parts) if parts else None
        elif present:
            params = [self._normalize(field, item) for item in present]
            match_sql = f"{column} IN ({', '.join('?' * len(params))})"
        else:
            match_sql = None

        if operator == "in":
            parts = [match_sql] if match_sql else []
            if has_null:
                parts.append(f"{column} IS NULL")
            return _or(parts), params
        # `not in` also matches empty columns unless the list contains False.
        if match_sql is None:
            return (f"{column} IS NOT NULL" if has_null else TRUE_SQL), params
        if has_null:
            return f"({column} IS NOT NULL AND NOT {match_sql})", params
        return f"({column} IS NULL OR NOT {match_sql})", params

    def _like_leaf(self, column: str, operator: str, value: object) -> tuple[str, list]:
        negative = operator.startswith("not ")
        base = operator.removeprefix("not ")
        if _is_null_value(value):
            return f"{column} {'IS NOT' if negative else 'IS'} NULL", []
        pattern = str(value)
        if not base.startswith("="):
            if pattern == "":
                # `ilike ''` matches every row, as in Odoo.
                return (FALSE_SQL if negative else TRUE_SQL), []
            pattern = f"%{pattern}%"
        expression = column
        if base.endswith("ilike"):
            expression = f"sandbox_lower({column})"
            pattern = pattern.lower()
        glob = like_to_glob(pattern)
        if negative:
            return f"({column} IS NULL OR NOT ({expression} GLOB ?))", [glob]
        return f"{expression} GLOB ?", [glob]

    def _seconds_comparison(self, column: str, operator: str, moment) -> tuple[str, list]:
        """Compare the column truncated to whole seconds, as index-friendly ranges on the stored value."""
        whole = moment.microsecond == 0
        low = timeutil.to_stored(timeutil.whole_second(moment))
        high = timeutil.to_stored(timeutil.next_second(moment))
        if operator == "=":
            return (f"({column} >= ? AND {column} < ?)", [low, high]) if whole else (FALSE_SQL, [])
        if operator == "!=":
            if not whole:
                return TRUE_SQL, []
            return f"({column} IS NULL OR {column} < ? OR {column} >= ?)", [low, high]
        if operator == ">":
            return f"{column} >= ?", [high]
        if operator == ">=":
            return f"{column} >= ?", [low if whole else high]
        if operator == "<":
            return f"{column} < ?", [low if whole else high]
        return f"{column} < ?", [high]

    def _normalize(self, field: Field, value: object) -> object:
        """Convert a domain value to the stored representation of the field's type."""
        if field.type == "datetime":
            return timeutil.normalize_datetime(value)
        if field.type == "date":
            return timeutil.normalize_date(value)
        if field.type == "boolean":
            return 1 if value else 0
        if field.type in ("integer", "many2one"):
            return self._number(field, value, int)
        if field.type in ("float", "monetary"):
            return self._number(field, value, float)
        if isinstance(value, (dict, list)):
            raise ValueError(f"Invalid value {value!r} for field {field.name!r} of type {field.type}.")
        return value if isinstance(value, str) else str(value)

    @staticmethod
    def _number(field: Field, value: object, kind):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"Invalid value {value!r} for field {field.name!r} of type {field.type}.")
        try:
            return kind(value)
        except ValueError:
            raise ValueError(f"Invalid value {value!r} for field {field.name!r} of type {field.type}.") from None

    # Relational fields

    def _name_search(self, comodel: ModelSpec, operator: str, value: object) -> tuple[str, list]:
        """Return a subquery of comodel ids whose display name matches, like Odoo's name_search."""
        return self._subquery(comodel, [("display_name", operator, value)])

    def _many2one_leaf(self, alias: str, field: Field, operator: str, value: object) -> tuple[str, list]:
        column = f"{alias}.{field.sql_column}"
        comodel = self.models[field.relation]
        if operator in ("child_of", "parent_of"):
            return self._hierarchy_leaf(column, comodel, operator, value)
        if operator in LIKE_OPERATORS:
            negative = operator.startswith("not ")
            subquery, params = self._name_search(comodel, operator.removeprefix("not "), value)
            if negative:
                return f"({column} IS NULL OR {column} NOT IN ({subquery}))", params
            return f"{column} IN ({subquery})", params
        values = value if isinstance(value, (list, tuple)) else [value]
        names = [item for item in values if isinstance(item, str)]
        if names and operator in ("=", "!=", "in", "not in"):
            return self._many2one_by_name(column, comodel, field, operator, values, names)
        return self._scalar_leaf(column, _ID_FIELD, operator, value)

    def _many2one_by_name(self, column, comodel, field, operator, values, names) -> tuple[str, list]:
        if len(names) != len(values):
            raise ValueError(f"Invalid value {values!r} for {field.name!r}: do not mix ids and names.")
        subquery, params = self._name_search(comodel, "in", names)
        if operator in ("=", "in"):
            return f"{column} IN ({subquery})", params
        return f"({column} IS NULL OR {column} NOT IN ({subquery}))", params

    def _many2many_leaf(self, alias: str, field: Field, operator: str, value: object) -> tuple[str, list]:
        comodel = self.models[field.relation]
        relation_alias = f"r{next(self._aliases)}"
        owner = f"{relation_alias}.{field.column1} = {alias}.id"
        target = f"{relation_alias}.{field.column2}"
        linked_any = f"EXISTS (SELECT 1 FROM {field.relation_table} {relation_alias} WHERE {owner})"

        def linked(condition: str) -> str:
            return f"EXISTS (SELECT 1 FROM {field.relation_table} {relation_alias} WHERE {owner} AND {condition})"

        if operator in LIKE_OPERATORS:
            subquery, params = self._name_search(comodel, operator.removeprefix("not "), value)
            sql = linked(f"{target} IN ({subquery})")
            return (f"NOT {sql}" if operator.startswith("not ") else sql), params
        if operator in ("child_of", "parent_of"):
            operator = "in"
        if operator not in ("=", "!=", "in", "not in"):
            raise ValueError(f"Operator {operator!r} is not supported on many2many field {field.name!r}.")

        values = list(value) if isinstance(value, (list, tuple)) else [value]
        has_null = any(_is_null_value(item) for item in values)
        present = [item for item in values if not _is_null_value(item)]
        names = [item for item in present if isinstance(item, str)]
        if names:
            if len(names) != len(present):
                raise ValueError(f"Invalid value {value!r} for {field.name!r}: do not mix ids and names.")
            subquery, params = self._name_search(comodel, "in", names)
            match_sql = linked(f"{target} IN ({subquery})")
        elif present:
            params = [self._number(field, item, int) for item in present]
            match_sql = linked(f"{target} IN ({', '.join('?' * len(params))})")
        else:
            params, match_sql = [], None

        parts = [match_sql] if match_sql else []
        if has_null:
            parts.append(f"NOT {linked_any}")
        positive_sql = _or(parts)
        if operator in ("=", "in"):
            return positive_sql, params
        return f"NOT {positive_sql}", params

    def _any_leaf(self, alias: str, field: Field, operator: str, value: object) -> tuple[str, list]:
        if field.type not in ("many2one", "many2many"):
            raise ValueError(f"Operator {operator!r} needs a relational field, not {field.name!r}.")
        comodel = self.models[field.relation]
        subquery, params = self._subquery(comodel, value)
        negative = operator == "not any"
        if field.type == "many2one":
            column = f"{alias}.{field.sql_column}"
            if negative:
                return f"({column} IS NULL OR {column} NOT IN ({subquery}))", params
            return f"{column} IN ({subquery})", params
        relation_alias = f"r{next(self._aliases)}"
        sql = (
            f"EXISTS (SELECT 1 FROM {field.relation_table} {relation_alias}"
            f" WHERE {relation_alias}.{field.column1} = {alias}.id"
            f" AND {relation_alias}.{field.column2} IN ({subquery}))"
        )
        return (f"NOT {sql}" if negative else sql), params

    def _path_leaf(self, spec, alias, field: Field, rest: str, operator: str, value) -> tuple[str, list]:
        """Compile a dotted path such as `stage_id.is_won` as a subquery on the comodel."""
        if field.type not in ("many2one", "many2many"):
            raise ValueError(f"Invalid field path {field.name}.{rest} on model {spec.name!r}: {field.name!r} is not relational.")
        return self._any_leaf(alias, field, "any", [(rest, operator, value)])

    def _hierarchy_leaf(self, column: str, comodel: ModelSpec, operator: str, value) -> tuple[str, list]:
        """Compile child_of / parent_of; on a model without a parent field they mean `in`."""
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(item, str) for item in values):
            start_sql, params = self._name_search(comodel, "in", [str(item) for item in values])
        else:
            params = [self._number(_ID_FIELD, item, int) for item in values if not _is_null_value(item)]
            if not params:
                return FALSE_SQL, []
            start_sql = " UNION ".join("SELECT ?" for _ in params)
        if not comodel.parent_field:
            return f"{column} IN ({start_sql})", params
        parent = comodel.parent_field
        name = f"h{next(self._aliases)}"
        if operator == "child_of":
            step = f"SELECT c.id FROM {comodel.table} c JOIN {name} ON c.{parent} = {name}.id"
        else:
            step = f"SELECT c.{parent} FROM {comodel.table} c JOIN {name} ON c.id = {name}.id WHERE c.{parent} IS NOT NULL"
        return (
            f"{column} IN (WITH RECURSIVE {name}(id) AS ({start_sql} UNION {step}) SELECT id FROM {name})",
            params,
        )

    # Order

    def _order_field(self, spec, alias, field: Field, descending: bool, nulls: str | None) -> list[str]:
        if not field.has_column:
            raise ValueError(f"Cannot order model {spec.name!r} by field {field.name!r}: it is not stored.")
        direction = "DESC" if descending else "ASC"
        column = f"{alias}.{field.sql_column}"
        if field.type != "many2one":
            return [self._order_clause(column, direction, nulls, field.required or field.type == "boolean")]
        # Odoo orders a many2one by the comodel's own order, e.g. stage_id by sequence, name, id.
        comodel = self.models[field.relation]
        clauses = []
        for term in comodel.order.split(","):
            match = _ORDER_TERM.match(term)
            comodel_field = comodel.fields[match["field"]]
            comodel_descending = (match["direction"] or "asc").lower() == "desc"
            comodel_direction = "DESC" if comodel_descending != descending else "ASC"
            value = (
                f"(SELECT o.{comodel_field.sql_column} FROM {comodel.table} o"
                f" WHERE o.id = {column})"
            )
            clauses.append(self._order_clause(value, comodel_direction, nulls, False))
        return clauses

    @staticmethod
    def _order_clause(expression: str, direction: str, nulls: str | None, never_null: bool) -> str:
        # PostgreSQL sorts NULL as the largest value; SQLite sorts it as the smallest.
        if nulls is None:
            if never_null:
                return f"{expression} {direction}"
            nulls = "last" if direction == "ASC" else "first"
        return f"{expression} {direction} NULLS {nulls.upper()}"
