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
    authorize_path: str
    token_path: str
    revoke_path: str | None
    # How the client authenticates at the token endpoint (RFC 6749 2.3.1).
    client_auth: ClientAuth
    # Key of the data dialect in connections.odoo.dialects.
    dialect: str
    # Where staff create the client in Odoo, shown beside the admin form.
    setup_hint: str


MUK = ProviderPreset(
    key="muk",
    label="MuK REST v2",
    authorize_path="/api/v2/authentication/oauth2/authorize",
    token_path="/api/v2/authentication/oauth2/token",
    revoke_path="/api/v2/authentication/oauth2/revoke",
    client_auth="basic",
    dialect="muk_rest",
    setup_hint=(
        "In Odoo open REST API > OAuth2 clients, create a client with the "
        "Authorization Code grant and paste the redirect URI below."
    ),
)

PRESETS: dict[str, ProviderPreset] = {preset.key: preset for preset in (MUK,)}

PRESET_CHOICES = [(preset.key, preset.label) for preset in PRESETS.values()]


def get_preset(key: str) -> ProviderPreset:
    try:
        return PRESETS[key]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"Unknown OAuth provider preset {key!r}; expected one of: {known}.") from None
