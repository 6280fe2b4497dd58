"""Provider presets: how each Odoo OAuth 2.0 add-on is reached."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ClientAuth = Literal["basic", "body"]


@dataclass(frozen=True)
class ProviderPreset:
    """Endpoints and quirks of one OAuth 2.0 server add-on for Odoo."""

    key: str
    label: str
    # Paths on the Odoo URL; None means staff must type the full URL.
    authorize_path: str | None
    token_path: str | None
    revoke_path: str | None
    # Client authentication method at the token endpoint (RFC 6749 2.3.1).
    client_auth: ClientAuth
    # Send client_id in the form body even with HTTP Basic, for servers that
    # look for it only there.
    client_id_in_body: bool
    # Key of the data dialect in connections.odoo.dialects; None means staff choose.
    dialect: str | None
    # Instructions for creating the client in Odoo, shown beside the admin form.
    setup_hint: str


OCA = ProviderPreset(
    key="oca",
    label="OCA oauth_provider",
    authorize_path="/oauth2/authorize",
    token_path="/oauth2/token",
    # The route keeps Odoo's CSRF check, so revocation may fail; the
    # connection is then revoked locally only.
    revoke_path="/oauth2/revoke_token",
    client_auth="basic",
    # Older ports read client_id from the body even when Basic is sent.
    client_id_in_body=True,
    dialect="oca_otherinfo",
    setup_hint=(
        "In Odoo open Settings > Users & Companies > OAuth Provider Clients, create a client with the "
        "Authorization Code grant, a scope on crm.lead with the fields to sync, and paste the redirect URI."
    ),
)

MUK = ProviderPreset(
    key="muk",
    label="MuK REST v2",
    authorize_path="/api/v2/authentication/oauth2/authorize",
    token_path="/api/v2/authentication/oauth2/token",
    revoke_path="/api/v2/authentication/oauth2/revoke",
    client_auth="basic",
    client_id_in_body=False,
    dialect="muk_rest",
    setup_hint=(
        "In Odoo open REST API > OAuth2 clients, create a client with the "
        "Authorization Code grant and paste the redirect URI."
    ),
)

SYNCONICS = ProviderPreset(
    key="synconics",
    label="Synconics REST API",
    authorize_path="/restapi/1.0/common/oauth2/authorize",
    token_path="/restapi/1.0/common/oauth2/access_token",
    revoke_path=None,
    # The add-on ignores HTTP Basic and reads credentials from the body only.
    client_auth="body",
    client_id_in_body=True,
    dialect="synconics",
    setup_hint=(
        "Log in to Odoo as the user whose leads should sync, open REST API > Consumers, create a consumer "
        "and paste the redirect URI. The consumer belongs to that user."
    ),
)

CUSTOM = ProviderPreset(
    key="custom",
    label="Custom (any RFC 6749 server)",
    authorize_path=None,
    token_path=None,
    revoke_path=None,
    client_auth="basic",
    client_id_in_body=False,
    dialect=None,
    setup_hint=(
        "Enter the authorize, token and (optional) revoke URLs of the OAuth 2.0 server in front of Odoo, "
        "and choose the data API that server exposes."
    ),
)

PRESETS: dict[str, ProviderPreset] = {preset.key: preset for preset in (OCA, MUK, SYNCONICS, CUSTOM)}

PRESET_CHOICES = [(preset.key, preset.label) for preset in PRESETS.values()]


def get_preset(key: str) -> ProviderPreset:
    try:
        return PRESETS[key]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"Unknown OAuth provider preset {key!r}; expected one of: {known}.") from None
