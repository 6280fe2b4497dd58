"""Admin for Odoo connections: health at a glance, setup help, Connect and sync actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince, timeuntil

from crm.admin import SyncRunInline, purge_leads
from crm.models import Lead, SyncRun

from .apikey_admin import inlines_for_auth_method, test_connection
from .fields import is_undecryptable
from .models import OAuthClient, OAuthToken, OdooConnection
from .odoo.errors import OdooError
from .presets import PRESETS
from .tokens import disconnect
from .views import redirect_uri_for

Status = OdooConnection.Status
EXPIRING_SOON = "expiring_soon"

# Badge colour and tooltip of each health state; white text on every colour.
HEALTH_STYLES: dict[str, tuple[str, str]] = {
    Status.CONNECTED: ("#2e7d32", "Linked: the tokens are valid and syncs run."),
    EXPIRING_SOON: (
        "#8d5b00",
        "The access token expires within ODOO_TOKEN_REFRESH_MARGIN and was not refreshed yet.",
    ),
    Status.DEGRADED: ("#d84315", "A token refresh or sync failed with an error that may pass. It is retried."),
    Status.NEEDS_REAUTHORIZATION: ("#c62828", "Odoo no longer accepts the grant. Click Reconnect."),
    Status.CONFIGURATION_ERROR: (
        "#ad1457",
        "Odoo rejected the OAuth client, or a URL is not allowed. Check the client settings.",
    ),
    Status.KEY_MISMATCH: (
        "#6a1b9a",
        "The stored secrets cannot be decrypted with DJANGO_SECRET_KEY and DJANGO_SALT_KEY.",
    ),
    Status.CREDENTIALS_REJECTED: (
        "#c62828",
        "Odoo refused the login or API key. Enter a new key, then click Test connection.",
    ),
    Status.DISCONNECTED: ("#616161", "The tokens were deleted by Disconnect. Click Connect to link again."),
    Status.NOT_LINKED: ("#546e7a", "Not authorized yet. Click Connect."),
}
RUN_COLOURS = {
    SyncRun.Status.SUCCEEDED: "#2e7d32",
    SyncRun.Status.RUNNING: "#1565c0",
    SyncRun.Status.PARTIAL: "#d84315",
    SyncRun.Status.FAILED: "#c62828",
    SyncRun.Status.SKIPPED: "#616161",
}
# Connections named in one message before the rest are only counted.
NAMES_IN_MESSAGE = 5


@dataclass(frozen=True)
class Health:
    """Badge state of a connection: one of its statuses, or "expiring soon"."""

    key: str
    label: str


def with_health(queryset: QuerySet) -> QuerySet:
    """Annotate connections with their token expiry, last sync and lead count, in the same query."""
    runs = SyncRun.objects.filter(connection=OuterRef("pk"), kind=SyncRun.Kind.SYNC).order_by("-started_at", "-id")
    leads = Lead.objects.filter(connection=OuterRef("pk")).order_by().values("connection").annotate(total=Count("pk"))
    return queryset.annotate(
        token_expires_at=F("oauth_token__expires_at"),
        token_status=F("oauth_token__status"),
        last_sync_started_at=Subquery(runs.values("started_at")[:1]),
        last_sync_status=Subquery(runs.values("status")[:1]),
        last_sync_error_kind=Subquery(runs.values("error_kind")[:1]),
        lead_total=Coalesce(Subquery(leads.values("total")), 0),
    )


def connection_health(connection: OdooConnection) -> Health:
    """Return the badge state of a connection annotated by ``with_health``."""
    expires_at = getattr(connection, "token_expires_at", None)
    margin = timedelta(seconds=settings.ODOO_TOKEN_REFRESH_MARGIN)
    if (
        connection.status == Status.CONNECTED
        and getattr(connection, "token_status", None) == OAuthToken.Status.ACTIVE
        and expires_at is not None
        and expires_at <= timezone.now() + margin
    ):
        return Health(EXPIRING_SOON, "Expiring soon")
    return Health(connection.status, connection.get_status_display())


def health_badge(connection: OdooConnection) -> str:
    health = connection_health(connection)
    colour, explanation = HEALTH_STYLES.get(health.key, ("#616161", ""))
    return format_html(
        '<span class="health-badge" title="{}" style="display:inline-block;padding:2px 9px;border-radius:10px;'
        'background:{};color:#fff;font-size:11px;font-weight:600;white-space:nowrap;">{}</span>',
        explanation,
        colour,
        health.label,
    )


def exact_time(moment) -> str:  # noqa: ANN001
    return date_format(timezone.localtime(moment), "Y-m-d H:i:s T")


def last_sync_summary(connection: OdooConnection) -> str:
    """Render when the last sync started and how it ended, from ``with_health`` annotations."""
    started = getattr(connection, "last_sync_started_at", None)
    if started is None:
        return "Never"
    status = connection.last_sync_status
    label = SyncRun.Status(status).label if status in SyncRun.Status.values else status
    error = connection.last_sync_error_kind
    recent = timezone.now() - started < timedelta(minutes=1)
    return format_html(
        '<span title="{}">{}</span> · <span style="color:{};font-weight:600;">{}</span>{}',
        exact_time(started),
        "just now" if recent else f"{timesince(started)} ago",
        RUN_COLOURS.get(status, "#616161"),
        label,
        format_html(" ({})", error) if error else "",
    )


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
        fields = [
            "preset",
            "client_id",
            "client_secret",
            "scopes",
            "authorize_url",
            "token_url",
            "revoke_url",
            "client_auth",
            "dialect",
        ]

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


class OAuthClientInline(admin.StackedInline):
    model = OAuthClient
    form = OAuthClientForm
    # Shows where to create the client in each kind of Odoo, above the fields.
    template = "admin/connections/odooconnection/oauth_client_inline.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name = "OAuth client registered in Odoo"


MAIN_FIELDS = ["name", "base_url", "database", "sync_enabled"]
# auth_method is chosen on the add page and read-only afterwards.
HEALTH_FIELDS = ["status_badge", "auth_method", "odoo_version_label", "last_sync", "next_sync", "lead_count"]
# Facts about the stored token; its values are never among them.
TOKEN_FIELDS = ["token_expiry", "token_obtained", "token_refreshed", "token_scope", "token_refresh_state"]
ERROR_FIELDS = ["last_error_kind", "last_error_message", "last_error_at"]


@admin.register(OdooConnection)
class OdooConnectionAdmin(admin.ModelAdmin):
    inlines = [OAuthClientInline, SyncRunInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "name",
        "status_badge",
        "odoo_version_label",
        "auth_method",
        "last_sync",
        "lead_count",
        "next_sync",
        "connect_button",
    ]
    list_filter = ["status", "sync_enabled", "auth_method"]
    search_fields = ["name", "base_url", "database"]
    actions = ["connect", "sync_now", "full_resync", "check_deletions", "disconnect_tokens", "purge", test_connection]

    def get_fieldsets(self, request: HttpRequest, obj: OdooConnection | None = None) -> list:
        if obj is None:
            return [(None, {"fields": [*MAIN_FIELDS, "auth_method"]})]
        fieldsets = [(None, {"fields": MAIN_FIELDS}), ("Link health", {"fields": HEALTH_FIELDS})]
        if obj.auth_method == OdooConnection.AuthMethod.OAUTH:
            fieldsets.append(("Token", {"fields": TOKEN_FIELDS}))
        fieldsets.append(("Last error", {"fields": ERROR_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: OdooConnection | None = None) -> list[str]:
        if obj is None:
            return []
        return [*HEALTH_FIELDS, *TOKEN_FIELDS, *ERROR_FIELDS]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return with_health(super().get_queryset(request))

    def get_inlines(self, request: HttpRequest, obj: OdooConnection | None) -> list:
        inlines = inlines_for_auth_method(super().get_inlines(request, obj), request, obj)
        if obj is None or obj.pk is None:
            # A connection being added has no sync runs to list.
            inlines = [inline for inline in inlines if inline is not SyncRunInline]
        return inlines

    def _setup_context(self, request: HttpRequest, extra_context: dict | None) -> dict:
        return {
            **(extra_context or {}),
            "redirect_uri": redirect_uri_for(request),
            "odoo_presets": list(PRESETS.values()),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):  # noqa: ANN001, ANN201
        tools = [("test_connection", "Test connection", False)]
        tools += [("sync_now", "Sync now", False), ("full_resync", "Full resync", False)]
        tools.append(("check_deletions", "Check for deleted leads", False))
        tools.append(("disconnect_tokens", "Disconnect", True))
        if self.has_purge_permission(request):
            tools.append(("purge", "Purge leads", True))
        extra_context = {**self._setup_context(request, extra_context), "connection_tools": tools}
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):  # noqa: ANN001, ANN201
        return super().add_view(request, form_url, self._setup_context(request, extra_context))

    # --- columns and read-only fields ---------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: OdooConnection) -> str:
        return health_badge(obj)

    @admin.display(description="Odoo version", ordering="odoo_version")
    def odoo_version_label(self, obj: OdooConnection) -> str:
        return obj.odoo_version or "Unknown"

    @admin.display(description="Last sync", ordering="last_sync_started_at")
    def last_sync(self, obj: OdooConnection) -> str:
        return last_sync_summary(obj)

    @admin.display(description="Leads", ordering="lead_total")
    def lead_count(self, obj: OdooConnection) -> str:
        url = reverse("admin:crm_lead_changelist")
        return format_html('<a href="{}?connection__id__exact={}">{}</a>', url, obj.pk, f"{obj.lead_total:,}")

    @admin.display(description="Next sync")
    def next_sync(self, obj: OdooConnection) -> str:
        if not obj.sync_enabled:
            return "Paused"
        if not obj.is_linked:
            return "Not scheduled until connected"
        interval = timedelta(seconds=settings.ODOO_SYNC_INTERVAL)
        started = getattr(obj, "last_sync_started_at", None)
        # An estimate: the scheduler runs every ODOO_SYNC_INTERVAL on its own
        # clock, not counted from this connection's last run.
        if started is None or started + interval <= timezone.now():
            return "Due now"
        due = started + interval
        return format_html('<span title="{}">in {}</span>', f"About {exact_time(due)}", timeuntil(due))

    @admin.display(description="")
    def connect_button(self, obj: OdooConnection) -> str:
        if obj.auth_method != OdooConnection.AuthMethod.OAUTH:
            return ""
        label = "Reconnect" if getattr(obj, "token_status", None) else "Connect"
        url = reverse("connections:oauth-authorize", args=[obj.pk])
        return format_html('<a class="button connect-button" href="{}">{}</a>', url, label)

    def _token(self, obj: OdooConnection) -> OAuthToken | None:
        if not hasattr(obj, "_admin_token"):
            obj._admin_token = OAuthToken.objects.filter(connection=obj).first()
        return obj._admin_token

    @admin.display(description="Access token expires")
    def token_expiry(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        if token is None:
            return "No token"
        if is_undecryptable(token.access_token) or is_undecryptable(token.refresh_token):
            return "Cannot be read: encryption key mismatch"
        if token.expires_at is None:
            return "Expiry unknown (Odoo did not say)"
        if token.expires_at <= timezone.now():
            return f"Expired {exact_time(token.expires_at)}"
        return f"{exact_time(token.expires_at)} (in {timeuntil(token.expires_at)})"

    @admin.display(description="Authorized at")
    def token_obtained(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        return exact_time(token.obtained_at) if token else "-"

    @admin.display(description="Last refresh")
    def token_refreshed(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        if token is None:
            return "-"
        return exact_time(token.refreshed_at) if token.refreshed_at else "Not refreshed yet"

    @admin.display(description="Granted scope")
    def token_scope(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        if token is None:
            return "-"
        return token.scope or "(none reported)"

    @admin.display(description="Refresh failures")
    def token_refresh_state(self, obj: OdooConnection) -> str:
        token = self._token(obj)
        if token is None:
            return "-"
        if token.status == OAuthToken.Status.INVALID:
            return "Odoo rejected the refresh token; click Reconnect."
        if not token.refresh_failures:
            return "None"
        text = f"{token.refresh_failures} in a row"
        if token.retry_not_before and token.retry_not_before > timezone.now():
            text += f"; next attempt after {exact_time(token.retry_not_before)}"
        return text

    # --- actions ---------------------------------------------------------------

    @admin.action(description="Connect or reconnect in Odoo", permissions=["change"])
    def connect(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(
                request,
                "Select exactly one connection to connect: each opens its own authorization page in Odoo.",
                messages.WARNING,
            )
            return None
        connection = selected[0]
        self.message_user(request, f"Opening Odoo to authorize {connection.name}. Approve the request there.")
        return HttpResponseRedirect(reverse("connections:oauth-authorize", args=[connection.pk]))

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._queue_syncs(request, queryset, full=False)

    @admin.action(description="Full resync (read every lead again)", permissions=["change"])
    def full_resync(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._queue_syncs(request, queryset, full=True)

    @admin.action(description="Check for leads deleted in Odoo", permissions=["change"])
    def check_deletions(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        from crm.tasks import reconcile

        queued = [connection for connection in queryset if connection.is_linked]
        for connection in queued:
            reconcile.delay_on_commit(connection.pk)
        skipped = [connection.name for connection in queryset if not connection.is_linked]
        if queued:
            self.message_user(
                request,
                f"Queued a deletion check of {name_list([connection.name for connection in queued])}; "
                "see the sync runs for its result.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(request, f"Not linked, so not checked: {name_list(skipped)}.", messages.WARNING)
        return None

    def _queue_syncs(self, request: HttpRequest, queryset: QuerySet, *, full: bool) -> HttpResponse | None:
        from crm.tasks import sync

        queued, unlinked = [], []
        for connection in queryset:
            if connection.is_linked:
                if full:
                    sync.delay_on_commit(connection.pk, full=True)
                else:
                    sync.delay_on_commit(connection.pk)
                queued.append(connection.name)
            else:
                unlinked.append(f"{connection.name} ({connection.get_status_display()})")
        if unlinked:
            self.message_user(
                request,
                f"Not linked, so not synced: {name_list(unlinked)}. Click Connect (OAuth) or run Test connection "
                "(API key) first.",
                messages.WARNING,
            )
        if queued:
            what = "a full resync" if full else "a sync"
            self.message_user(request, f"Queued {what} of {name_list(queued)}.", messages.SUCCESS)
        return None

    @admin.action(description="Disconnect (revoke and delete the tokens)", permissions=["change"])
    def disconnect_tokens(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirmation(
                request,
                queryset,
                action="disconnect_tokens",
                title="Disconnect from Odoo",
                consequences=[
                    "The tokens are revoked in Odoo where the add-on allows it, then deleted here.",
                    "Scheduled syncs stop until you click Connect again.",
                    "The synced leads stay; purge them separately if they must go.",
                ],
                confirm_label="Yes, disconnect",
            )
        for connection in queryset:
            had_tokens = getattr(connection, "token_status", None) is not None
            try:
                revoked = disconnect(connection)
            except OAuthClient.DoesNotExist:
                self.message_user(
                    request,
                    f"{connection.name} was not disconnected: it has no OAuth client to revoke with. Add one first.",
                    messages.ERROR,
                )
                continue
            except OdooError as error:
                self.message_user(request, f"{connection.name} was not disconnected: {error.message}", messages.ERROR)
                continue
            if not had_tokens:
                self.message_user(
                    request, f"{connection.name} had no tokens; it is now marked disconnected.", messages.SUCCESS
                )
            elif revoked:
                self.message_user(
                    request,
                    f"Disconnected {connection.name}. Odoo confirmed the revocation; the leads stay.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"Disconnected {connection.name} here, but Odoo did not confirm the revocation. "
                    "Revoke this client's tokens in Odoo too. The leads stay.",
                    messages.WARNING,
                )
        return None

    @admin.action(description="Purge synced leads", permissions=["purge"])
    def purge(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirmation(
                request,
                queryset,
                action="purge",
                title="Purge synced leads",
                consequences=[
                    "Every lead synced from these connections is deleted here. Nothing changes in Odoo.",
                    "The sync cursor is reset, so the next sync reads every lead again.",
                    "Stages, tags, salespeople, teams and the sync history stay.",
                ],
                confirm_label="Yes, delete the leads",
            )
        for connection in queryset:
            deleted = purge_leads(connection)
            if deleted is None:
                self.message_user(
                    request,
                    f"A sync of {connection.name} is running, so its leads were kept. Purge again when it ends.",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"Deleted {deleted:,} leads of {connection.name}. The next sync reads every lead again.",
                    messages.SUCCESS,
                )
        return None

    def has_purge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connections.change_odooconnection") and request.user.has_perm("crm.delete_lead")

    def _confirmation(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        action: str,
        title: str,
        consequences: list[str],
        confirm_label: str,
    ) -> TemplateResponse:
        """Render the confirmation page of a destructive action; its form posts the action again with post=yes."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.model._meta,
            "selected_connections": list(queryset),
            "action_name": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "consequences": consequences,
            "confirm_label": confirm_label,
            "next_url": self._next_url(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/connections/odooconnection/action_confirmation.html", context)

    def _next_url(self, request: HttpRequest) -> str:
        candidate = request.POST.get("next", "")
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return ""

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Run an action; when it started from a change page button, return to that page instead of the list."""
        response = super().response_action(request, queryset)
        next_url = self._next_url(request)
        # The admin redirects to the list when an action returns nothing.
        back_to_list = isinstance(response, HttpResponseRedirect) and response.url == request.get_full_path()
        if next_url and back_to_list:
            return HttpResponseRedirect(next_url)
        return response

    # --- deleting a connection ------------------------------------------------

    def get_deleted_objects(self, objs, request: HttpRequest):  # noqa: ANN001, ANN201
        """Summarise what deleting connections removes, by count.

        The default lists every related row, which is a page of 100,000
        lines for a connection with that many leads, and requires a delete
        permission on the read-only lead admin.
        """
        connections = list(objs)
        deleted_objects, model_count = [], {}
        for connection in connections:
            url = reverse("admin:connections_odooconnection_change", args=[connection.pk])
            deleted_objects.append(format_html('Odoo connection: <a href="{}">{}</a>', url, connection))
        model_count[OdooConnection._meta.verbose_name_plural] = len(connections)
        for relation in OdooConnection._meta.get_fields(include_hidden=True):
            # Reverse relations only, hidden ones included: stages, tags,
            # salespeople and teams point here with related_name="+".
            if not relation.auto_created or relation.concrete or relation.many_to_many:
                continue
            related = relation.related_model
            count = related._default_manager.filter(**{f"{relation.field.name}__in": connections}).count()
            if count:
                model_count[related._meta.verbose_name_plural] = count
                deleted_objects.append(f"{count:,} {related._meta.verbose_name_plural}")
        perms_needed = set() if self.has_delete_permission(request) else {OdooConnection._meta.verbose_name}
        return deleted_objects, model_count, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: OdooConnection) -> None:
        purge_leads(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for connection in queryset:
            purge_leads(connection)
        super().delete_queryset(request, queryset)


def name_list(names: list[str]) -> str:
    """Join names for a message, counting those past the first few."""
    shown = ", ".join(names[:NAMES_IN_MESSAGE])
    rest = len(names) - NAMES_IN_MESSAGE
    return f"{shown} and {rest} more" if rest > 0 else shown
