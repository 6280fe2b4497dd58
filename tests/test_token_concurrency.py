"""Eight workers that need a refresh at once send one token request (PostgreSQL row lock, real sandbox)."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
import requests
from django.db import connection as db_connection
from django.utils import timezone

from connections.clients import build_data_client
from connections.models import OAuthToken, OdooConnection
from crm import tasks as crm_tasks
from tests.odoo_sandbox import TIMEOUT
from tests.odoo_sandbox_web import link_preset

WORKERS = 8
ROUNDS = 20
# Seconds a worker waits at the barrier or for its thread to end before the test fails.
WAIT_SECONDS = 30


def link(preset, sandbox, control, admin_client):
    # The first sync this queues is not under test, and a transactional test would send it to the broker.
    with mock.patch.object(crm_tasks.sync, "delay_on_commit"):
        return link_preset(preset, sandbox.url, control, admin_client)[1]


def one_data_request(connection_id: int, barrier: threading.Barrier, results: list, index: int) -> None:
    """Wait for every worker, then make one data request in this thread's own database connection."""
    try:
        connection = OdooConnection.objects.get(pk=connection_id)
        client = build_data_client(connection)
        barrier.wait(timeout=WAIT_SECONDS)
        results[index] = client.search_count("crm.lead", domain=[])
    except Exception as error:  # noqa: BLE001 (the main thread reports it)
        results[index] = error
    finally:
        db_connection.close()


@pytest.mark.parametrize("preset", ["muk", "oca", "custom"])
def test_simultaneous_refresh_sends_one_request(preset, transactional_db, sandbox, control, admin_client, settings):
    settings.ODOO_TOKEN_REFRESH_MARGIN = 60
    control.configure(refresh_token_reuse_detection=True)
    connection = link(preset, sandbox, control, admin_client)

    for round_number in range(ROUNDS):
        before = OAuthToken.objects.get(connection=connection)
        # The stored token now expires within the margin for every worker, but Odoo still accepts it.
        OAuthToken.objects.filter(pk=before.pk).update(expires_at=timezone.now() + timedelta(seconds=1))
        requests.post(f"{sandbox.url}/__sandbox__/stats/reset", timeout=TIMEOUT).raise_for_status()
        barrier = threading.Barrier(WORKERS)
        results: list = [None] * WORKERS
        threads = [
            threading.Thread(target=one_data_request, args=(connection.pk, barrier, results, index))
            for index in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)

        assert not any(thread.is_alive() for thread in threads), f"round {round_number}: a worker hung"
        errors = [result for result in results if isinstance(result, Exception)]
        assert errors == [], f"round {round_number}: {errors!r}"
        assert len(set(results)) == 1, f"round {round_number}: {results}"
        stats = control.stats()
        assert stats["token_requests"] == {"refresh_token": 1}, f"round {round_number}"
        assert stats["token_errors"] == {}, f"round {round_number}"
        assert stats["data_requests"] == WORKERS, f"round {round_number}"
        assert stats["data_401"] == 0, f"round {round_number}"
        after = OAuthToken.objects.get(connection=connection)
        assert after.access_token != before.access_token, f"round {round_number}"
        assert after.refresh_token != before.refresh_token, f"round {round_number}"
        assert after.status == OAuthToken.Status.ACTIVE
        connection.refresh_from_db()
        assert connection.status == OdooConnection.Status.CONNECTED, f"round {round_number}"
