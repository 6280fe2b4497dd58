"""Stand-in for an Odoo CRM server: its data model, OAuth add-ons and data APIs."""
