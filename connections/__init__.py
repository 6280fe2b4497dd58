"""Odoo connections: instances, OAuth client registrations and their credentials."""
