"""Data dialects: the ways an Odoo server lets a client read records."""

from __future__ import annotations

from .base import Capabilities, CredentialProvider, OdooDataClient
from .json2 import Json2Client
from .jsonrpc import JsonRpcClient
from .muk_rest import MukRestClient
from .oca_otherinfo import OcaOtherinfoClient
from .synconics import SynconicsClient

DIALECTS: dict[str, type[OdooDataClient]] = {
    MukRestClient.key: MukRestClient,
    OcaOtherinfoClient.key: OcaOtherinfoClient,
    SynconicsClient.key: SynconicsClient,
}
# Odoo's own APIs, used with an API key.
DIALECTS.update({JsonRpcClient.key: JsonRpcClient, Json2Client.key: Json2Client})


def get_dialect(key: str) -> type[OdooDataClient]:
    try:
        return DIALECTS[key]
    except KeyError:
        known = ", ".join(sorted(DIALECTS))
        raise ValueError(f"Unknown Odoo data dialect {key!r}; expected one of: {known}.") from None


__all__ = ["Capabilities", "CredentialProvider", "OdooDataClient", "get_dialect", "DIALECTS"]
