"""Errors raised by the emulated ORM, named like the Odoo exceptions they stand for."""

from __future__ import annotations


class OdooError(Exception):
    """Base of the ORM errors; `odoo_name` is the dotted class name Odoo reports to clients."""

    odoo_name = "odoo.exceptions.UserError"

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class AccessError(OdooError):
    odoo_name = "odoo.exceptions.AccessError"


class MissingError(OdooError):
    odoo_name = "odoo.exceptions.MissingError"


class UserError(OdooError):
    odoo_name = "odoo.exceptions.UserError"


class ValidationError(OdooError):
    odoo_name = "odoo.exceptions.ValidationError"


def odoo_name_of(error: Exception) -> str:
    """Return the name Odoo puts in an error body for this exception, e.g. builtins.ValueError."""
    if isinstance(error, OdooError):
        return error.odoo_name
    return f"builtins.{type(error).__name__}"
