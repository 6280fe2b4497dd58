"""Field descriptions of the emulated Odoo models (type, label, relation, SQL column)."""

from __future__ import annotations

from dataclasses import dataclass

# Odoo field types the sandbox emulates, grouped by how their values are stored and shaped.
STRING_TYPES = frozenset({"char", "text", "html", "selection"})
NUMBER_TYPES = frozenset({"integer", "float", "monetary"})
RELATIONAL_TYPES = frozenset({"many2one", "many2many"})


@dataclass(frozen=True)
class Field:
    """One field of a model, as `fields_get` describes it, plus where the sandbox stores it."""

    name: str
    type: str
    string: str
    relation: str | None = None
    selection: tuple[tuple[str, str], ...] = ()
    # SQL column when it differs from the field name, e.g. a field renamed between versions.
    column: str | None = None
    store: bool = True
    required: bool = False
    readonly: bool = False
    # many2many only: the relation table and its columns pointing to this model and the comodel.
    relation_table: str | None = None
    column1: str | None = None
    column2: str | None = None

    @property
    def sql_column(self) -> str:
        return self.column or self.name

    @property
    def has_column(self) -> bool:
        """Whether the value lives in a column of the model's own table."""
        return self.store and self.type != "many2many"

    def describe(self) -> dict:
        """Return the `fields_get` description of the field."""
        description = {
            "type": self.type,
            "string": self.string,
            "required": self.required,
            "readonly": self.readonly,
            "store": self.store,
            "searchable": self.store or self.name == "display_name",
            "sortable": self.store and self.type != "many2many",
        }
        if self.relation:
            description["relation"] = self.relation
        if self.type == "selection":
            description["selection"] = [list(option) for option in self.selection]
        return description


def char(name: str, string: str, **options) -> Field:
    return Field(name, "char", string, **options)


def text(name: str, string: str, **options) -> Field:
    return Field(name, "text", string, **options)


def html(name: str, string: str, **options) -> Field:
    return Field(name, "html", string, **options)


def boolean(name: str, string: str, **options) -> Field:
    return Field(name, "boolean", string, **options)


def integer(name: str, string: str, **options) -> Field:
    return Field(name, "integer", string, **options)


def float_(name: str, string: str, **options) -> Field:
    return Field(name, "float", string, **options)


def monetary(name: str, string: str, **options) -> Field:
    return Field(name, "monetary", string, **options)


def date(name: str, string: str, **options) -> Field:
    return Field(name, "date", string, **options)


def datetime(name: str, string: str, **options) -> Field:
    return Field(name, "datetime", string, **options)


def selection(name: str, string: str, options: list[tuple[str, str]], **extra) -> Field:
    return Field(name, "selection", string, selection=tuple(options), **extra)


def many2one(name: str, relation: str, string: str, **options) -> Field:
    return Field(name, "many2one", string, relation=relation, **options)


def many2many(
    name: str, relation: str, string: str, table: str, column1: str, column2: str, **options
) -> Field:
    return Field(
        name,
        "many2many",
        string,
        relation=relation,
        relation_table=table,
        column1=column1,
        column2=column2,
        **options,
    )


def magic_fields() -> list[Field]:
    """Return the fields every Odoo model has: id, display_name and the log-access fields."""
    return [
        integer("id", "ID", readonly=True, required=True),
        char("display_name", "Display Name", store=False, readonly=True),
        datetime("create_date", "Created on", readonly=True, required=True),
        many2one("create_uid", "res.users", "Created by", readonly=True),
        datetime("write_date", "Last Updated on", readonly=True, required=True),
        many2one("write_uid", "res.users", "Last Updated by", readonly=True),
    ]
