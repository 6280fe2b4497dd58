"""Data API dialects (REST add-ons and Odoo's own APIs) over the shared ORM layer."""
