"""No admin page renders a token, a client secret, an API key or a PKCE verifier."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.urls import NoReverseMatch, reverse

from connections.models import ApiKeyCredential, AuthorizationRequest, OAuthClient, OAuthToken, OdooConnection
from crm.models import SyncRun
from crm.sync import run_sync

pytestmark = pytest.mark.django_db

# Change, history and delete pages opened per model; enough to render every kind of row.
OBJECTS_PER_MODEL = 3


def stored_secrets() -> dict[str, str]:
    """Read every secret from the database, decrypted."""
    secrets = {}
    for token in OAuthToken.objects.all():
        secrets[f"access token {token.pk}"] = token.access_token
        secrets[f"refresh token {token.pk}"] = token.refresh_token
    for client in OAuthClient.objects.all():
        secrets[f"client secret {client.pk}"] = client.client_secret
    for request in AuthorizationRequest.objects.all():
        secrets[f"PKCE verifier {request.pk}"] = request.code_verifier
    for credential in ApiKeyCredential.objects.all():
        secrets[f"API key {credential.pk}"] = credential.api_key
    return secrets


def admin_urls(connection: OdooConnection) -> list[str]:
    """List every admin page: each registered model's list, add, change, history and delete pages, and the overview."""
    urls = [reverse("admin:index"), reverse("admin:crm_overview"), f"{reverse('admin:crm_overview')}?connection={connection.pk}"]
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        urls.append(reverse(f"{base}_add"))
        urls.append(reverse("admin:app_list", args=[opts.app_label]))
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:OBJECTS_PER_MODEL]:
            for page in ("change", "history", "delete"):
                try:
                    urls.append(reverse(f"{base}_{page}", args=[pk]))
                except NoReverseMatch:
                    continue
    return urls


def test_admin_pages_render_no_secret(linked, sandbox, admin_client):
    result = run_sync(linked.pk)
    assert result.run.status == SyncRun.Status.SUCCEEDED, result.run.error_message
    api_key_connection = OdooConnection.objects.create(
        name="By API key", base_url=sandbox.url, database="sandbox", auth_method=OdooConnection.AuthMethod.API_KEY
    )
    ApiKeyCredential.objects.create(connection=api_key_connection, login="admin", api_key="k" * 40)
    secrets = stored_secrets()
    assert len(secrets) == 5, sorted(secrets)
    for name, value in secrets.items():
        assert isinstance(value, str), name
        assert len(value) >= 8, name

    changelist = reverse("admin:connections_odooconnection_changelist")
    pages = {url: admin_client.get(url) for url in admin_urls(linked)}
    for action in ("disconnect_tokens", "purge"):
        selected = [linked.pk, api_key_connection.pk]
        pages[f"{action} confirmation"] = admin_client.post(
            changelist, {"action": action, helpers.ACTION_CHECKBOX_NAME: selected}
        )
    pages["invalid OAuth form"] = admin_client.post(
        reverse("admin:connections_odooconnection_change", args=[linked.pk]), {"name": ""}
    )

    assert len(pages) > 40
    for url, response in pages.items():
        assert response.status_code in (200, 403), (url, response.status_code)
        html = response.content.decode()
        for name, value in secrets.items():
            assert value not in html, f"{name} appears on {url}"
    rendered = [url for url, response in pages.items() if response.status_code == 200]
    assert reverse("admin:connections_odooconnection_change", args=[linked.pk]) in rendered
    assert "disconnect_tokens confirmation" in rendered
    assert "purge confirmation" in rendered
