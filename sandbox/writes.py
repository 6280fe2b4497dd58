"""Create and write support for the ORM: value conversion, defaults and many2many commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox import timeutil
from sandbox.exceptions import MissingError
from sandbox.fields import Field

if TYPE_CHECKING:
    from sandbox.orm import Model

# Log-access fields a caller may set explicitly (tests set write_date to the microsecond).
WRITABLE_MAGIC_FIELDS = frozenset({"create_date", "write_date", "create_uid", "write_uid"})


def _convert_scalar(field: Field, value: object) -> object:
    """Convert one write value to its stored form; raises ValueError naming the field."""
    if value is None or value is False:
        if field.type == "boolean":
            return 0
        if field.type in ("integer", "float", "monetary") and value is False:
            return 0
        return None
    kind = field.type
    if kind in ("char", "text", "html"):
        if not isinstance(value, str):
            raise ValueError(f"Invalid value {value!r} for field {field.name!r}: expected a string.")
        return value or None
    if kind == "selection":
        keys = [key for key, _label in field.selection]
        if value not in keys:
            raise ValueError(f"Invalid value {value!r} for selection field {field.name!r}: use one of {keys}.")
        return value
    if kind == "boolean":
        return 1 if value else 0
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Invalid value {value!r} for integer field {field.name!r}.")
        return value
    if kind in ("float", "monetary"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"Invalid value {value!r} for numeric field {field.name!r}.")
        return float(value)
    if kind == "date":
        return timeutil.normalize_date(value)
    if kind == "datetime":
        return timeutil.normalize_datetime(value)
    raise ValueError(f"Field {field.name!r} of type {kind} cannot be written.")


def _convert_many2one(model: "Model", field: Field, value: object) -> int | None:
    if value is None or value is False:
        return None
    # Accept the [id, "name"] read shape as well as a bare id.
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], int):
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Invalid value {value!r} for many2one field {field.name!r}: expected an id.")
    if not model.env[field.relation].exists([value]):
        raise ValueError(f"Invalid value {value} for field {field.name!r}: {field.relation} record {value} does not exist.")
    return value


def _convert_many2many(model: "Model", field: Field, value: object) -> list[tuple]:
    """Return many2many commands as ("set", ids) / ("add", id) / ("remove", id) / ("clear",).

    Accepts a plain list of ids (replaces the links) or Odoo's command triples
    (6, 0, ids), (4, id), (3, id) and (5,).
    """
    if value is None or value is False:
        return [("clear",)]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"Invalid value {value!r} for many2many field {field.name!r}: expected a list.")
    if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        commands = [("set", list(value))]
    else:
        commands = []
        for command in value:
            if not isinstance(command, (list, tuple)) or not command:
                raise ValueError(f"Invalid command {command!r} for many2many field {field.name!r}.")
            code = command[0]
            if code == 6 and len(command) == 3:
                commands.append(("set", list(command[2] or [])))
            elif code == 4 and len(command) >= 2:
                commands.append(("add", command[1]))
            elif code == 3 and len(command) >= 2:
                commands.append(("remove", command[1]))
            elif code == 5:
                commands.append(("clear",))
            else:
                raise ValueError(f"Unsupported command {command!r} for many2many field {field.name!r}: use 3, 4, 5 or 6.")
    wanted = {target for command in commands for target in (command[1] if command[0] == "set" else command[1:])}
    missing = sorted(set(wanted) - set(model.env[field.relation].exists(wanted)))
    if missing:
        raise ValueError(f"Invalid value for field {field.name!r}: {field.relation} records {missing} do not exist.")
    return commands


def convert_values(model: "Model", values: dict) -> tuple[dict, dict]:
    """Split write values into stored columns and many2many commands, validating each field."""
    if not isinstance(values, dict):
        raise ValueError(f"Invalid values {values!r}: expected an object of field values.")
    columns: dict[str, object] = {}
    relations: dict[str, list[tuple]] = {}
    for name, value in values.items():
        field = model.spec.field(name)
        if field.readonly and name not in WRITABLE_MAGIC_FIELDS:
            raise ValueError(f"Field {name!r} on model {model.spec.name!r} is computed and cannot be written.")
        if field.type == "many2many":
            relations[field.name] = _convert_many2many(model, field, value)
        elif field.type == "many2one":
            columns[field.sql_column] = _convert_many2one(model, field, value)
        else:
            columns[field.sql_column] = _convert_scalar(field, value)
    return columns, relations


def prepare_create(model: "Model", values: dict) -> tuple[dict, dict]:
    """Return the columns and links of a new record, with defaults and model hooks applied."""
    from sandbox.orm import MODEL_HOOKS

    columns, relations = convert_values(model, values)
    now = timeutil.now_stored()
    columns.setdefault("create_date", now)
    columns.setdefault("write_date", columns["create_date"])
    columns.setdefault("create_uid", model.env.uid)
    columns.setdefault("write_uid", model.env.uid)
    for field in model.spec.fields.values():
        if field.type == "boolean" and field.has_column:
            columns.setdefault(field.sql_column, 1 if field.name == "active" else 0)

    hooks = MODEL_HOOKS.get(model.spec.name)
    if hooks is not None:
        hooks.before_create(model.env, columns, now)

    for field in model.spec.fields.values():
        if field.required and field.has_column and field.name != "id" and columns.get(field.sql_column) is None:
            raise ValueError(f"Field {field.name!r} on model {model.spec.name!r} is required.")
    return columns, relations


def insert_record(model: "Model", columns: dict, relations: dict) -> int:
    names = list(columns)
    sql = (
        f"INSERT INTO {model.spec.table} ({', '.join(names)})"
        f" VALUES ({', '.join('?' * len(names))})"
    )
    record_id = model.env.connection.execute(sql, [columns[name] for name in names]).lastrowid
    _apply_relations(model, record_id, relations)
    return record_id


def write_records(model: "Model", ids: list[int], values: dict) -> None:
    from sandbox.orm import MODEL_HOOKS

    missing = sorted(set(ids) - set(model.exists(ids)))
    if missing:
        raise MissingError(f"Record does not exist or has been deleted. (Records: {model.spec.name}({missing[0]},))")
    changes, relations = convert_values(model, values)
    now = timeutil.now_stored()
    changes.setdefault("write_date", now)
    changes.setdefault("write_uid", model.env.uid)
    hooks = MODEL_HOOKS.get(model.spec.name)

    for record_id in ids:
        record_changes = dict(changes)
        if hooks is not None:
            current = _current_row(model, record_id)
            hooks.before_write(model.env, current, record_changes, now)
        assignments = ", ".join(f"{name} = ?" for name in record_changes)
        model.env.connection.execute(
            f"UPDATE {model.spec.table} SET {assignments} WHERE id = ?",
            [*record_changes.values(), record_id],
        )
        _apply_relations(model, record_id, relations)


def _current_row(model: "Model", record_id: int) -> dict:
    cursor = model.env.connection.execute(f"SELECT * FROM {model.spec.table} WHERE id = ?", (record_id,))
    names = [description[0] for description in cursor.description]
    return dict(zip(names, cursor.fetchone()))


def _apply_relations(model: "Model", record_id: int, relations: dict) -> None:
    connection = model.env.connection
    for name, commands in relations.items():
        field = model.spec.fields[name]
        table, column1, column2 = field.relation_table, field.column1, field.column2
        for command in commands:
            if command[0] in ("set", "clear"):
                connection.execute(f"DELETE FROM {table} WHERE {column1} = ?", (record_id,))
            if command[0] == "set":
                connection.executemany(
                    f"INSERT OR IGNORE INTO {table} ({column1}, {column2}) VALUES (?, ?)",
                    [(record_id, target) for target in command[1]],
                )
            elif command[0] == "add":
                connection.execute(
                    f"INSERT OR IGNORE INTO {table} ({column1}, {column2}) VALUES (?, ?)", (record_id, command[1])
                )
            elif command[0] == "remove":
                connection.execute(
                    f"DELETE FROM {table} WHERE {column1} = ? AND {column2} = ?", (record_id, command[1])
                )
