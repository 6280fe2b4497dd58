"""Odoo instances, their OAuth client registrations, credentials and pending authorizations."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .fields import SecretField
from .presets import PRESET_CHOICES, ProviderPreset, get_preset

# Data APIs an OAuth client can pair with; connections.odoo.dialects implements each.
DIALECT_CHOICES = [
    ("muk_rest", "MuK REST search_read"),
    ("oca_otherinfo", "OCA /oauth2/otherinfo snapshot"),
    ("synconics", "Synconics /restapi/1.0/object"),
    ("json2", "Odoo JSON-2 (19+)"),
    ("jsonrpc", "Odoo JSON-RPC (14-18)"),
]
from .urls_policy import validate_odoo_base_url, validate_provider_url


class OdooConnection(models.Model):
    """One Odoo database that this site reads leads from."""

    class AuthMethod(models.TextChoices):
        OAUTH = "oauth", "OAuth 2.0 add-on"
        API_KEY = "api_key", "API key (JSON-RPC or JSON-2)"

    class Status(models.TextChoices):
        NOT_LINKED = "not_linked", "Not linked"
        CONNECTED = "connected", "Connected"
        DEGRADED = "degraded", "Degraded"
        NEEDS_REAUTHORIZATION = "needs_reauthorization", "Needs re-authorization"
        CONFIGURATION_ERROR = "configuration_error", "Configuration error"
        KEY_MISMATCH = "key_mismatch", "Encryption key mismatch"
        CREDENTIALS_REJECTED = "credentials_rejected", "Credentials rejected"
        DISCONNECTED = "disconnected", "Disconnected"

    name = models.CharField(max_length=120, help_text="Label shown to staff, e.g. the customer's company name.")
    base_url = models.URLField(
        "Odoo URL",
        validators=[validate_odoo_base_url],
        help_text="Address of the Odoo server without /web or /odoo, e.g. https://mycompany.odoo.com. "
        "https is required (development settings allow http on 127.0.0.1).",
    )
    database = models.CharField(
        max_length=120,
        blank=True,
        help_text="Odoo database name (on Odoo Online, the subdomain). Required for API keys; for OAuth add-ons "
        "needed only when the server hosts several databases.",
    )
    odoo_version = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="Server version reported by Odoo, e.g. 17.0 or saas~18.4; read when the connection is tested.",
    )
    auth_method = models.CharField(
        max_length=20,
        choices=AuthMethod.choices,
        default=AuthMethod.OAUTH,
        help_text="How this site authenticates to Odoo.",
    )
    status = models.CharField(
        max_length=32,
        choices=Status.choices,
        default=Status.NOT_LINKED,
        editable=False,
        help_text="Health of the link, set by the authorization flow, token refreshes and syncs.",
    )
    last_error_kind = models.CharField(
        max_length=64, blank=True, editable=False, help_text="Class of the last error, e.g. invalid_grant."
    )
    last_error_message = models.TextField(
        blank=True, editable=False, help_text="Last error as shown to staff. Never contains a secret."
    )
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="When the last error happened.")
    sync_enabled = models.BooleanField(
        default=True, help_text="Untick to pause the scheduled syncs of this connection."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_linked(self) -> bool:
        return self.status in {self.Status.CONNECTED, self.Status.DEGRADED}

    def clean(self) -> None:
        # JSON-RPC sends the database name with every call; Odoo rejects an empty one.
        if self.auth_method == self.AuthMethod.API_KEY and not self.database:
            raise ValidationError(
                {"database": "Enter the Odoo database name (on Odoo Online, the subdomain): API keys need it."}
            )

    def set_status(
        self, status: str, *, error_kind: str = "", error_message: str = "", clear_error: bool = False
    ) -> None:
        """Store a new status; an error kind also records the error and its time.

        ``clear_error`` clears the last error after a fresh authorization or a
        passed connection test, so staff do not see a fixed error in red.
        """
        self.status = status
        fields = ["status", "updated_at"]
        if clear_error:
            self.last_error_kind = self.last_error_message = ""
            self.last_error_at = None
            fields += ["last_error_kind", "last_error_message", "last_error_at"]
        if error_kind:
            self.last_error_kind = error_kind
            self.last_error_message = error_message
            self.last_error_at = timezone.now()
            fields += ["last_error_kind", "last_error_message", "last_error_at"]
        self.save(update_fields=fields)


class OAuthClient(models.Model):
    """The OAuth 2.0 client that staff registered inside the customer's Odoo."""

    connection = models.OneToOneField(OdooConnection, on_delete=models.CASCADE, related_name="oauth_client")
    preset = models.CharField(
        max_length=32,
        choices=PRESET_CHOICES,
        default="muk",
        help_text="OAuth 2.0 add-on installed in this Odoo. It sets the endpoint paths and the token quirks.",
    )
    client_id = models.CharField(max_length=255, help_text="Client ID shown by the add-on in Odoo.")
    client_secret = SecretField(help_text="Client secret shown by the add-on. Stored encrypted; never displayed.")
    scopes = models.CharField(
        max_length=500,
        blank=True,
        help_text="Space-separated scopes to request. Leave empty for the add-on's default.",
    )
    authorize_url = models.URLField(
        blank=True,
        validators=[validate_provider_url],
        help_text="Leave empty to use the preset's path on the Odoo URL.",
    )
    token_url = models.URLField(
        blank=True,
        validators=[validate_provider_url],
        help_text="Leave empty to use the preset's path on the Odoo URL.",
    )
    revoke_url = models.URLField(
        blank=True,
        validators=[validate_provider_url],
        help_text="Leave empty to use the preset's path on the Odoo URL. Custom servers without revocation: leave empty.",
    )
    client_auth = models.CharField(
        "client authentication",
        max_length=8,
        blank=True,
        choices=[("basic", "HTTP Basic"), ("body", "In the form body")],
        help_text="How the client id and secret reach the token endpoint. Leave empty for the preset's way.",
    )
    dialect = models.CharField(
        "data API",
        max_length=32,
        blank=True,
        choices=DIALECT_CHOICES,
        help_text="API used to read leads. Leave empty for the preset's own; required for Custom.",
    )

    class Meta:
        verbose_name = "OAuth client"

    def clean(self) -> None:
        preset = self.provider
        errors = {}
        if preset.authorize_path is None and not self.authorize_url:
            errors["authorize_url"] = f"{preset.label} has no default path; enter the full authorize URL."
        if preset.token_path is None and not self.token_url:
            errors["token_url"] = f"{preset.label} has no default path; enter the full token URL."
        if preset.dialect is None and not self.dialect:
            errors["dialect"] = f"Choose the data API that the server behind {preset.label} exposes."
        if errors:
            raise ValidationError(errors)

    def __str__(self) -> str:
        return f"{self.get_preset_display()} client for {self.connection}"

    @property
    def provider(self) -> ProviderPreset:
        return get_preset(self.preset)

    def _endpoint(self, override: str, path: str | None) -> str:
        if override:
            return override
        if path is None:
            return ""
        return urljoin(self.connection.base_url.rstrip("/") + "/", path.lstrip("/"))

    @property
    def effective_client_auth(self) -> str:
        return self.client_auth or self.provider.client_auth

    @property
    def effective_dialect(self) -> str:
        return self.dialect or self.provider.dialect or ""

    @property
    def effective_authorize_url(self) -> str:
        return self._endpoint(self.authorize_url, self.provider.authorize_path)

    @property
    def effective_token_url(self) -> str:
        return self._endpoint(self.token_url, self.provider.token_path)

    @property
    def effective_revoke_url(self) -> str:
        return self._endpoint(self.revoke_url, self.provider.revoke_path)


# Data APIs an API key works with; connections.odoo.version chooses one from the server version.
API_KEY_DIALECT_CHOICES = [("jsonrpc", "Odoo JSON-RPC (14-18)"), ("json2", "Odoo JSON-2 (19+)")]


class ApiKeyCredential(models.Model):
    """The Odoo login and API key that a connection reads leads with."""

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Not tested yet"
        ACTIVE = "active", "Accepted by Odoo"
        REJECTED = "rejected", "Rejected by Odoo"

    connection = models.OneToOneField(OdooConnection, on_delete=models.CASCADE, related_name="api_key_credential")
    login = models.CharField(
        max_length=255, help_text="Login of the Odoo user who created the API key, usually an email address."
    )
    api_key = SecretField(
        "API key",
        help_text="Key created in Odoo under Preferences > Account Security > New API Key. Stored encrypted; never displayed.",
    )
    dialect_override = models.CharField(
        "data API",
        max_length=16,
        blank=True,
        choices=API_KEY_DIALECT_CHOICES,
        help_text="Leave empty to choose from the server version: JSON-2 from Odoo 19 (and Online saas~18.4), "
        "JSON-RPC before.",
    )
    dialect = models.CharField(
        "data API in use",
        max_length=16,
        blank=True,
        editable=False,
        choices=API_KEY_DIALECT_CHOICES,
        help_text="Chosen from the server version when the connection was last tested.",
    )
    uid = models.PositiveIntegerField(
        "Odoo user id",
        null=True,
        blank=True,
        editable=False,
        help_text="Returned by Odoo's authenticate for this login and key; read again after either changes.",
    )
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.UNVERIFIED,
        editable=False,
        help_text="Whether Odoo accepted the login and key the last time they were tried.",
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="When Odoo last accepted the key.")
    rejected_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When Odoo refused the key. A refused key is not sent again until staff enter a key.",
    )

    class Meta:
        verbose_name = "API key credential"

    def __str__(self) -> str:
        return f"API key of {self.login} for {self.connection}"

    @property
    def effective_dialect(self) -> str:
        return self.dialect_override or self.dialect

    def reset_verification(self) -> None:
        """Reset the verification state of the previous login or key; call before saving a new one."""
        self.uid = None
        self.status = self.Status.UNVERIFIED
        self.rejected_at = None


class OAuthToken(models.Model):
    """The access and refresh token that an Odoo OAuth add-on issued to a connection."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INVALID = "invalid", "Rejected by Odoo"

    connection = models.OneToOneField(OdooConnection, on_delete=models.CASCADE, related_name="oauth_token")
    access_token = SecretField()
    refresh_token = SecretField()
    token_type = models.CharField(max_length=40, default="Bearer")
    scope = models.CharField(max_length=500, blank=True, help_text="Scope that Odoo granted.")
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the access token expires; empty when Odoo did not say."
    )
    obtained_at = models.DateTimeField(help_text="When the authorization code was exchanged.")
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="When the token was last refreshed.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    refresh_failures = models.PositiveIntegerField(
        default=0, help_text="Transient refresh failures in a row (network errors, 5xx, 429, HTML answers)."
    )
    retry_not_before = models.DateTimeField(
        null=True, blank=True, help_text="No refresh is sent before this time after a transient failure."
    )

    class Meta:
        verbose_name = "OAuth token"

    def __str__(self) -> str:
        return f"Token of {self.connection}"

    def expires_within(self, seconds: float) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at <= timezone.now() + timedelta(seconds=seconds)


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


class AuthorizationRequest(models.Model):
    """A pending authorization-code flow: its state and PKCE verifier, bound to one user and client."""

    connection = models.ForeignKey(OdooConnection, on_delete=models.CASCADE, related_name="authorization_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Only a hash of the state is kept: the state is a bearer secret until used.
    state_hash = models.CharField(max_length=64, unique=True)
    code_verifier = SecretField()
    redirect_uri = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"Authorization of {self.connection} by {self.user}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
