"""Admin pieces for API-key connections: the write-only key inline and the Test connection action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from .linking import ConnectionReport, check_connection
from .models import ApiKeyCredential, OAuthClient, OdooConnection
from .odoo.errors import OdooError

DIALECT_LABELS = {
    "jsonrpc": "JSON-RPC",
    "json2": "JSON-2",
    "muk_rest": "MuK REST",
    "oca_otherinfo": "OCA otherinfo",
    "synconics": "Synconics REST API",
}


class ApiKeyCredentialForm(forms.ModelForm):
    """The API key is write-only: the form never renders it, and blank keeps the stored one."""

    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Key created in Odoo under Preferences > Account Security > New API Key. Stored encrypted and "
        "never displayed.",
    )

    class Meta:
        model = ApiKeyCredential
        fields = ["login", "api_key", "dialect_override"]

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.initial.pop("api_key", None)
        if self.instance.pk and self.instance.api_key:
            self.fields["api_key"].help_text = "A key is stored. Leave blank to keep it, or type a new one."

    def clean_api_key(self):  # noqa: ANN201
        value = self.cleaned_data["api_key"]
        if value:
            return value
        stored = self.instance.api_key if self.instance.pk else None
        if stored:
            return stored
        raise ValidationError("Enter the API key created in Odoo.")

    def has_changed(self) -> bool:
        # The empty key box alone must not count as a change.
        return bool(set(self.changed_data) - {"api_key"}) or bool(self.data.get(self.add_prefix("api_key")))

    def save(self, commit: bool = True) -> ApiKeyCredential:
        credential = super().save(commit=False)
        new_key = bool(self.data.get(self.add_prefix("api_key")))
        if new_key or "login" in self.changed_data:
            # Odoo's earlier verdict was about another login or key, so the new one may be sent.
            credential.reset_verification()
            if credential.pk and credential.connection.status == OdooConnection.Status.CREDENTIALS_REJECTED:
                credential.connection.set_status(OdooConnection.Status.NOT_LINKED)
        if "dialect_override" in self.changed_data:
            credential.dialect = ""
        if commit:
            credential.save()
        return credential


class ApiKeyCredentialInline(admin.StackedInline):
    model = ApiKeyCredential
    form = ApiKeyCredentialForm
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name = "Odoo login and API key"
    readonly_fields = ["dialect", "uid", "status", "verified_at", "rejected_at"]


def inlines_for_auth_method(inlines: list, request: HttpRequest, obj: OdooConnection | None) -> list:
    """Show the API-key inline instead of the OAuth client for API-key connections.

    On the add page, before the form is posted, both are shown; the posted auth_method then
    decides which one is validated and saved.
    """
    method = request.POST.get("auth_method") or (obj.auth_method if obj is not None else "")
    oauth_inlines = [inline for inline in inlines if inline.model is OAuthClient]
    others = [inline for inline in inlines if inline not in oauth_inlines]
    if method == OdooConnection.AuthMethod.API_KEY:
        return [ApiKeyCredentialInline, *others]
    if method == OdooConnection.AuthMethod.OAUTH:
        return list(inlines)
    return [*oauth_inlines, ApiKeyCredentialInline, *others]


def describe_report(connection: OdooConnection, report: ConnectionReport) -> str:
    """Return the message staff see after a successful test; it never contains a secret."""
    from crm.sync import LEAD_FIELDS, OPTIONAL_LEAD_FIELDS

    version = f"Odoo {report.version}" + (f" {report.edition}" if report.edition else "")
    dialect = DIALECT_LABELS.get(report.dialect, report.dialect)
    if report.lead_fields:
        synced = [name for name in LEAD_FIELDS + OPTIONAL_LEAD_FIELDS if name in report.lead_fields]
        fields = f"lead fields that will sync: {', '.join(synced)}"
    else:
        fields = "this API cannot list fields, so the default lead fields will sync"
    user = f"{report.user_name or 'user'} ({report.user_login or 'login unknown'}, uid {report.uid})"
    companies = ", ".join(report.company_names) or "none"
    linked = " Linked; the first sync is queued." if report.newly_linked else ""
    return (
        f"{connection.name}: {version} through {dialect} as {user}; companies: {companies}; "
        f"{report.lead_count:,} leads visible (archived included); {fields}.{linked}"
    )


@admin.action(description="Test connection", permissions=["change"])
def test_connection(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    """Check each selected connection against its Odoo and report what a sync will read."""
    for connection in queryset:
        try:
            report = check_connection(connection)
        except (OdooError, ObjectDoesNotExist) as error:
            message = getattr(error, "message", None) or "it has no credentials yet; enter them first."
            modeladmin.message_user(request, f"{connection.name}: test failed. {message}", messages.ERROR)
            continue
        modeladmin.message_user(request, describe_report(connection, report), messages.SUCCESS)
