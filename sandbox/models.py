"""Model tables of the emulated Odoo versions: which models and fields each version has."""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from functools import cache

from sandbox import fields as f
from sandbox.fields import Field

SUPPORTED_VERSIONS = (16, 17, 18, 19)
DEFAULT_VERSION = 17

# Odoo's superuser (OdooBot); the control API writes as this user.
SUPERUSER_ID = 1


@dataclass(frozen=True)
class ModelSpec:
    """One Odoo model: its table, fields, default order and record rules."""

    name: str
    table: str
    fields: dict[str, Field]
    order: str = "id"
    # SQL expression of the display name; `{t}` is replaced by the table alias.
    display_name_sql: str = "{t}.name"
    # many2one field checked by the multi-company record rule, if the model has one.
    company_field: str | None = None
    # Field whose hierarchy `child_of` and `parent_of` follow.
    parent_field: str | None = None
    # Columns that exist in the table but are not Odoo fields, as (name, SQL declaration).
    extra_columns: tuple[tuple[str, str], ...] = dataclass_field(default=())

    @property
    def has_active(self) -> bool:
        return "active" in self.fields

    def field(self, name: str) -> Field:
        """Return the field or raise Odoo's ValueError for an unknown name."""
        try:
            return self.fields[name]
        except KeyError:
            raise ValueError(f"Invalid field {name!r} on model {self.name!r}") from None


def _model(name: str, table: str, own_fields: list[Field], **options) -> ModelSpec:
    magic = f.magic_fields()
    ordered = magic[:1] + own_fields + magic[1:]
    all_fields = {field.name: field for field in ordered}
    return ModelSpec(name=name, table=table, fields=all_fields, **options)


PRIORITIES = [("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High")]


def _lead_fields_17() -> list[Field]:
    """Return crm.lead's fields as Odoo 17 declares them."""
    return [
        f.char("name", "Opportunity", required=True),
        f.selection("type", "Type", [("lead", "Lead"), ("opportunity", "Opportunity")], required=True),
        f.boolean("active", "Active"),
        f.many2one("stage_id", "crm.stage", "Stage"),
        f.float_("probability", "Probability"),
        f.monetary("expected_revenue", "Expected Revenue"),
        f.monetary("prorated_revenue", "Prorated Revenue", readonly=True),
        f.monetary("recurring_revenue", "Recurring Revenues"),
        f.selection("priority", "Priority", PRIORITIES, required=True),
        f.many2one("partner_id", "res.partner", "Customer"),
        f.char("partner_name", "Company Name"),
        f.char("contact_name", "Contact Name"),
        f.char("function", "Job Position"),
        f.char("email_from", "Email"),
        f.char("phone", "Phone"),
        f.char("mobile", "Mobile"),
        f.many2one("title", "res.partner.title", "Title"),
        f.char("website", "Website"),
        f.char("street", "Street"),
        f.char("street2", "Street2"),
        f.char("zip", "Zip"),
        f.char("city", "City"),
        f.many2one("state_id", "res.country.state", "State"),
        f.many2one("country_id", "res.country", "Country"),
        f.many2one("lang_id", "res.lang", "Language"),
        f.many2one("user_id", "res.users", "Salesperson"),
        f.many2one("team_id", "crm.team", "Sales Team"),
        f.many2one("company_id", "res.company", "Company"),
        # Odoo computes it from the company and does not store it.
        f.many2one("company_currency", "res.currency", "Currency", store=False, readonly=True),
        f.many2many("tag_ids", "crm.tag", "Tags", "crm_tag_rel", "lead_id", "tag_id"),
        f.date("date_deadline", "Expected Closing"),
        f.datetime("date_closed", "Closed Date"),
        f.datetime("date_open", "Assignment Date"),
        f.datetime("date_last_stage_update", "Last Stage Update"),
        f.datetime("date_conversion", "Conversion Date"),
        f.datetime("date_automation_last", "Last Action"),
        f.many2one("lost_reason_id", "crm.lost.reason", "Lost Reason"),
        f.html("description", "Notes"),
        f.many2one("campaign_id", "utm.campaign", "Campaign"),
        f.many2one("medium_id", "utm.medium", "Medium"),
        f.many2one("source_id", "utm.source", "Source"),
    ]


WON_STATUS = f.selection(
    "won_status", "Is Won", [("won", "Won"), ("lost", "Lost"), ("pending", "Pending")], readonly=True
)


def _lead_fields(version: int) -> list[Field]:
    lead_fields = _lead_fields_17()
    if version <= 16:
        # Odoo 17 renamed date_action_last to date_automation_last; both use one column here.
        lead_fields = [
            f.datetime("date_action_last", "Last Action", column="date_automation_last")
            if field.name == "date_automation_last"
            else field
            for field in lead_fields
        ]
    if version >= 19:
        lead_fields = [field for field in lead_fields if field.name not in ("mobile", "title")]
        lead_fields.append(WON_STATUS)
    return lead_fields


def _stage_fields(version: int) -> list[Field]:
    stage_fields = [
        f.char("name", "Stage Name", required=True),
        f.integer("sequence", "Sequence"),
        f.boolean("is_won", "Is Won Stage?"),
        f.boolean("fold", "Folded in Pipeline"),
    ]
    if version >= 19:
        stage_fields.append(
            f.many2many("team_ids", "crm.team", "Sales Teams", "crm_stage_team_rel", "stage_id", "team_id")
        )
    else:
        stage_fields.append(f.many2one("team_id", "crm.team", "Sales Team"))
    return stage_fields


def _build_registry(version: int) -> dict[str, ModelSpec]:
    specs = [
        _model(
            "crm.lead",
            "crm_lead",
            _lead_fields(version),
            order="priority desc, id desc",
            company_field="company_id",
        ),
        _model("crm.stage", "crm_stage", _stage_fields(version), order="sequence, name, id"),
        _model(
            "crm.tag",
            "crm_tag",
            [f.char("name", "Tag Name", required=True), f.integer("color", "Color")],
            order="name, id",
        ),
        _model(
            "crm.team",
            "crm_team",
            [
                f.char("name", "Sales Team", required=True),
                f.integer("sequence", "Sequence"),
                f.boolean("active", "Active"),
                f.many2one("user_id", "res.users", "Team Leader"),
                f.many2one("company_id", "res.company", "Company"),
            ],
            order="sequence, id",
            company_field="company_id",
        ),
        _model(
            "crm.lost.reason",
            "crm_lost_reason",
            [f.char("name", "Description", required=True), f.boolean("active", "Active")],
            order="name, id",
        ),
        _model(
            "res.users",
            "res_users",
            [
                f.char("name", "Name", required=True),
                f.char("login", "Login", required=True),
                f.char("email", "Email"),
                f.boolean("active", "Active"),
                f.boolean("share", "Share User"),
                f.many2one("partner_id", "res.partner", "Related Partner"),
                f.many2one("company_id", "res.company", "Company"),
                f.many2many(
                    "company_ids", "res.company", "Companies", "res_company_users_rel", "user_id", "cid"
                ),
            ],
            order="name, login",
            # The password hash and the "own documents only" CRM access level are not readable.
            extra_columns=(("password_hash", "TEXT"), ("crm_access", "TEXT NOT NULL DEFAULT 'all'")),
        ),
        _model(
            "res.partner",
            "res_partner",
            [
                f.char("name", "Name"),
                f.boolean("is_company", "Is a Company"),
                f.many2one("parent_id", "res.partner", "Related Company"),
                f.char("email", "Email"),
                f.char("phone", "Phone"),
                f.char("city", "City"),
                f.many2one("country_id", "res.country", "Country"),
                f.many2one("company_id", "res.company", "Company"),
                f.boolean("active", "Active"),
            ],
            order="name, id",
            # Odoo shows a contact of a company as "Company, Contact".
            display_name_sql=(
                "COALESCE((SELECT parent.name || ', ' FROM res_partner parent"
                " WHERE parent.id = {t}.parent_id), '') || COALESCE({t}.name, '')"
            ),
            parent_field="parent_id",
        ),
        _model(
            "res.company",
            "res_company",
            [
                f.char("name", "Company Name", required=True),
                f.integer("sequence", "Sequence"),
                f.many2one("currency_id", "res.currency", "Currency"),
                f.many2one("partner_id", "res.partner", "Partner"),
            ],
            order="sequence, name",
        ),
        _model(
            "res.currency",
            "res_currency",
            [f.char("name", "Currency", required=True), f.char("symbol", "Symbol"), f.boolean("active", "Active")],
            order="name, id",
        ),
        _model(
            "res.country",
            "res_country",
            [f.char("name", "Country Name", required=True), f.char("code", "Country Code")],
            order="name, id",
        ),
        _model(
            "res.country.state",
            "res_country_state",
            [
                f.char("name", "State Name", required=True),
                f.char("code", "State Code"),
                f.many2one("country_id", "res.country", "Country"),
            ],
            order="name, id",
            # Odoo 17 shows a state as "Illinois (US)".
            display_name_sql=(
                "{t}.name || COALESCE(' (' || (SELECT country.code FROM res_country country"
                " WHERE country.id = {t}.country_id) || ')', '')"
            ),
        ),
        _model(
            "res.lang",
            "res_lang",
            [f.char("name", "Name", required=True), f.char("code", "Locale Code"), f.boolean("active", "Active")],
            order="name, id",
        ),
        _model(
            "res.partner.title",
            "res_partner_title",
            [f.char("name", "Title", required=True), f.char("shortcut", "Abbreviation")],
            order="name, id",
        ),
        _model("utm.campaign", "utm_campaign", [f.char("name", "Campaign Identifier", required=True)]),
        _model("utm.medium", "utm_medium", [f.char("name", "Medium Name", required=True)]),
        _model("utm.source", "utm_source", [f.char("name", "Source Name", required=True)]),
    ]
    return {spec.name: spec for spec in specs}


@cache
def registry(version: int) -> dict[str, ModelSpec]:
    """Return the models of one Odoo version, keyed by model name."""
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise ValueError(f"Unsupported Odoo version {version!r}: use one of {supported}.")
    return _build_registry(version)


def version_info(version: int) -> dict:
    """Return the body of `/web/version` for an Odoo version."""
    return {"version_info": [version, 0, 0, "final", 0, ""], "version": f"{version}.0"}
