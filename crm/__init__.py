"""Local copy of Odoo's CRM leads and the sync that keeps it current."""
