"""The one interface the sync engine uses to read Odoo, whatever the dialect."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from ..errors import OdooUnauthorized
from ..transport import host_of, new_session, send

Domain = list[Any]


class CredentialProvider(Protocol):
    """Supplies the Authorization header and renews it when Odoo rejects it."""

    def authorization_header(self) -> str:
        """Return a header value valid for at least the configured margin."""

    def renew_after_rejection(self, rejected_header: str) -> bool:
        """Try once to replace a rejected credential; return True when a new one is ready."""


@dataclass(frozen=True)
class Capabilities:
    """What a dialect can do, so the sync engine need not special-case it.

    A dialect without ``domain`` and ``paging`` returns every record on each
    call (a snapshot), so the engine diffs it against the local copy instead
    of reading changes from a cursor.
    """

    domain: bool = True
    paging: bool = True
    order: bool = True
    fields_get: bool = True


class OdooDataClient(abc.ABC):
    """Reads records from one Odoo database through one API dialect."""

    key: str = ""
    capabilities = Capabilities()

    def __init__(
        self,
        base_url: str,
        *,
        database: str,
        credentials: CredentialProvider,
        timeout: float,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.database = database
        self.credentials = credentials
        self.timeout = timeout
        self.session = session or new_session()
        self.host = host_of(self.base_url)

    @abc.abstractmethod
    def search_read(
        self,
        model: str,
        *,
        domain: Domain,
        fields: list[str],
        order: str,
        limit: int,
        offset: int = 0,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Return the records matching ``domain`` in Odoo's value shapes."""

    @abc.abstractmethod
    def search_ids(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> list[int]:
        """Return the ids of every record matching ``domain``."""

    @abc.abstractmethod
    def search_count(self, model: str, *, domain: Domain, context: dict[str, Any] | None = None) -> int:
        """Return how many records match ``domain``."""

    @abc.abstractmethod
    def current_user(self) -> dict[str, Any]:
        """Return the linked Odoo user: ``uid`` and ``company_ids`` (the companies the user may use)."""

    def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        """Return the fields of ``model`` with their ``string``, ``type`` and ``relation``."""
        raise NotImplementedError(f"The {self.key} dialect cannot list fields; check capabilities.fields_get.")

    def _authorized_request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send with the current credential; on a rejection renew it once and retry once."""
        header = self.credentials.authorization_header()
        response = self._send(method, url, header, **kwargs)
        if not self._is_rejection(response):
            return response
        if not self.credentials.renew_after_rejection(header):
            raise OdooUnauthorized(
                f"Odoo at {self.host} rejected the credential (HTTP {response.status_code}).",
                status=response.status_code,
            )
        response = self._send(method, url, self.credentials.authorization_header(), **kwargs)
        if self._is_rejection(response):
            raise OdooUnauthorized(
                f"Odoo at {self.host} rejected a freshly renewed credential (HTTP {response.status_code}).",
                status=response.status_code,
            )
        return response

    def _send(self, method: str, url: str, header: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": header, **kwargs.pop("headers", {})}
        return send(self.session, method, url, timeout=self.timeout, headers=headers, **kwargs)

    def _is_rejection(self, response: requests.Response) -> bool:
        return response.status_code == 401
