"""Admin for Odoo connections: OAuth client settings, Connect button, token health."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from crm.admin import SyncRunInline

from .apikey_admin import inlines_for_auth_method, test_connection
from .fields import is_undecryptable
from .models import OAuthClient, OAuthToken, OdooConnection
from .views import redirect_uri_for

STATUS_COLOURS = {
    OdooConnection.Status.CONNECTED: "#2e7d32",
    OdooConnection.Status.DEGRADED: "#ef6c00",
    OdooConnection.Status.NEEDS_REAUTHORIZATION: "#c62828",
    OdooConnection.Status.CONFIGURATION_ERROR: "#c62828",
    OdooConnection.Status.KEY_MISMATCH: "#c62828",
    OdooConnection.Status.DISCONNECTED: "#616161",
    OdooConnection.Status.NOT_LINKED: "#616161",
    OdooConnection.Status.CREDENTIALS_REJECTED: "#c62828",
}


def https_formfield(field: models.Field, **kwargs) -> forms.Field | None:  # noqa: ANN003
    """Build form fields that read a scheme-less URL as https."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class OAuthClientForm(forms.ModelForm):
    """The client secret is write-only: the form never renders it, and blank keeps it."""

    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Client secret shown by the add-on in Odoo. Stored encrypted and never displayed.",
    )

    class Meta:
        model = OAuthClient
        formfield_callback = https_formfield
        fields = ["preset", "client_id", "client_secret", "scopes", "authorize_url", "token_url", "revoke_url"]

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.initial.pop("client_secret", None)
        if self.instance.pk and self.instance.client_secret:
            self.fields["client_secret"].help_text = "A secret is stored. Leave blank to keep it, or type a new one."

    def clean_client_secret(self):  # noqa: ANN201
        value = self.cleaned_data["client_secret"]
        if value:
            return value
        stored = self.instance.client_secret if self.instance.pk else None
        if stored:
            return stored
        raise ValidationError("Enter the client secret shown by the add-on in Odoo.")

    def has_changed(self) -> bool:
        # The empty secret box alone must not count as a change.
        return bool(set(self.changed_data) - {"client_secret"}) or bool(self.data.get(self.add_prefix("client_secret")))


# Read-only facts about the link; token values are never among them.
HEALTH_FIELDS = [
    "status_badge",
    "token_expiry",
    "token_scope",
    "token_obtained",
    "token_refreshed",
    "last_error_kind",
    "last_error_message",
    "last_error_at",
]


class OAuthClientInline(admin.StackedInline):
    model = OAuthClient
    form = OAuthClientForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name = "OAuth client registered in Odoo"


@admin.register(OdooConnection)
class OdooConnectionAdmin(admin.ModelAdmin):
    inlines = [OAuthClientInline, SyncRunInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "base_url", "status_badge", "token_expiry", "lead_count", "sync_enabled"]
    list_filter = ["status", "sync_enabled"]
    search_fields = ["name", "base_url", "database"]
    actions = ["sync_now", test_connection]
    readonly_fields = HEALTH_FIELDS
    fieldsets = [
        (None, {"fields": ["name", "base_url", "database", "sync_enabled"]}),
        ("Link health", {"fields": HEALTH_FIELDS}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("oauth_token").annotate(lead_total=Count("leads"))

    def get_inlines(self, request: HttpRequest, obj: OdooConnection | None) -> list:
        return inlines_for_auth_method(super().get_inlines(request, obj), request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):  # noqa: ANN001, ANN201
        extra_context = {**(extra_context or {}), "redirect_uri": redirect_uri_for(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):  # noqa: ANN001, ANN201
        extra_context = {**(extra_context or {}), "redirect_uri": redirect_uri_for(request)}
        return super().add_view(request, form_url, extra_context)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: OdooConnection) -> str:
        colour = STATUS_COLOURS.get(obj.status, "#616161")
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;">{}</span>',
            colour,
            obj.get_status_display(),
        )

    def _token(self, obj: OdooConnection) -> OAuthToken | None:
        try:
            return obj.oauth_token
        except OAuthToken.DoesNotExist:
            return None

    @admin.display(description="Access token expires")
    def token_expiry(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        if token is None:
            return "No token"
        if is_undecryptable(token.access_token):
            return "Encryption key mismatch"
        if token.expires_at is None:
            return "Expiry unknown"
        if token.expires_at <= timezone.now():
            return f"Expired {token.expires_at:%Y-%m-%d %H:%M:%S %Z}"
        return f"{token.expires_at:%Y-%m-%d %H:%M:%S %Z}"

    @admin.display(description="Granted scope")
    def token_scope(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        return (token.scope or "(none reported)") if token else "-"

    @admin.display(description="Authorized at")
    def token_obtained(self, obj: OdooConnection):  # noqa: ANN201
        token = self._token(obj)
        return token.obtained_at if token else None

    @admin.display(description="Last refresh")
    def token_refreshed(self, obj: OdooConnection):  # noqa: ANN201
        token = self._token(obj)
        return token.refreshed_at if token else None

    @admin.display(description="Leads", ordering="lead_total")
    def lead_count(self, obj: OdooConnection) -> int:
        return obj.lead_total

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        from crm.tasks import sync

        queued = 0
        for connection in queryset:
            if connection.is_linked:
                sync.delay_on_commit(connection.pk)
                queued += 1
            else:
                self.message_user(
                    request,
                    f"{connection.name} is not linked ({connection.get_status_display()}); click Connect first.",
                    messages.WARNING,
                )
        if queued:
            self.message_user(request, f"Queued a sync for {queued} connection(s).", messages.SUCCESS)

