"""Model-free HTTP clients for Odoo: OAuth 2.0 token endpoints and data dialects."""
