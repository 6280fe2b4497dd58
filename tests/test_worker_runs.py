"""Sync runs in real Celery workers: SIGKILL mid-sync, injected faults, overlapping runs, on-commit queueing."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from connections import signals
from connections.models import OdooConnection
from connections.odoo.oauth import TokenSet
from connections.tokens import store_authorization
from crm.models import Lead, SyncCursor, SyncRun
from crm.sync import run_sync
from crm.tasks import sync
from tests.celery_worker import (
    WorkerProcess,
    database_activity,
    drop_queue,
    redis_url_for_this_process,
    wait_until,
)
from tests.odoo_sandbox import assert_matches_truth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def broker_url():
    return redis_url_for_this_process()


@pytest.fixture
def queue(broker_url):
    name = f"test-{uuid.uuid4().hex}"
    yield name
    drop_queue(broker_url, name)


def enqueue_sync(broker_url, queue, connection_id, **kwargs):
    with celery_app.connection_for_write(broker_url) as connection:
        sync.apply_async(args=[connection_id], kwargs=kwargs, connection=connection, queue=queue)


def latest_run(connection):
    return SyncRun.objects.filter(connection=connection, kind=SyncRun.Kind.SYNC).order_by("-pk").first()


def test_sigkill_at_random_pages_loses_nothing(linked, control, broker_url, queue, tmp_path):
    control.seed(20_000 - len(control.leads()))
    rng = random.Random(20_000)
    # Short limits so a killed worker's lock lapses quickly; the lock still
    # outlives the hard time limit, as in production.
    lock_ttl = 10
    worker_settings = {
        "ODOO_SYNC_PAGE_SIZE": "200",
        "ODOO_SYNC_SLICE_PAGES": "5",
        "ODOO_SYNC_OVERLAP": "5",
        "ODOO_SYNC_SOFT_TIME_LIMIT": "8",
        "ODOO_SYNC_TIME_LIMIT": "9",
        "ODOO_SYNC_LOCK_TTL": str(lock_ttl),
    }
    log = tmp_path / "worker.log"
    kills = 0
    full = True
    deleted: list[int] = []
    while kills < 10:
        worker = WorkerProcess(broker_url, log, queue=queue, **worker_settings).start()
        try:
            before = SyncRun.objects.filter(connection=linked).count()
            enqueue_sync(broker_url, queue, linked.pk, full=full)
            target = rng.randint(1, 4)

            def reached_target():
                run = SyncRun.objects.filter(connection=linked).order_by("-pk").first()
                if run is None or SyncRun.objects.filter(connection=linked).count() == before:
                    return None
                if run.status == SyncRun.Status.RUNNING:
                    return "page" if run.pages >= target else None
                # Skipped (the lock had not lapsed yet) or finished before the
                # chosen page: no kill this round.
                return run.status

            outcome = wait_until(
                reached_target,
                timeout=120,
                interval=0.05,
                message=lambda: f"a run to reach page {target}; runs: "
                f"{list(SyncRun.objects.filter(connection=linked).values_list('pk', 'status', 'pages', 'error_kind'))}"
                f"\ndatabase sessions: {database_activity()}\nworker log:\n{worker.log_tail()}",
            )
        finally:
            worker.kill()
        if outcome == "page":
            kills += 1
            full = False
            # Odoo keeps changing between crashes.
            changed = rng.sample(control.leads(), 3)
            control.write_lead(changed[0]["id"], name=f"Edited after kill {kills}")
            control.lose_lead(changed[1]["id"])
            control.delete_lead(changed[2]["id"])
            deleted.append(changed[2]["id"])
        # The killed worker's lock lapses by itself.
        time.sleep(lock_ttl + 0.5)

    worker = WorkerProcess(broker_url, log, queue=queue, **worker_settings).start()
    try:
        enqueue_sync(broker_url, queue, linked.pk)

        def finished():
            run = latest_run(linked)
            if run and run.status == SyncRun.Status.SKIPPED:
                time.sleep(lock_ttl)
                enqueue_sync(broker_url, queue, linked.pk)
                return None
            return run if run and run.status == SyncRun.Status.SUCCEEDED else None

        wait_until(finished, timeout=240, interval=0.5, message=f"a successful run; worker log:\n{worker.log_tail()}")
    finally:
        worker.stop()

    from crm.reconcile import reconcile

    assert reconcile(linked.pk).status == SyncRun.Status.SUCCEEDED
    truth = control.leads()
    assert_matches_truth(linked, [row for row in truth])
    truth_ids = {row["id"] for row in truth}
    live = set(Lead.objects.filter(connection=linked, deleted_in_odoo_at__isnull=True).values_list("odoo_id", flat=True))
    gone = set(Lead.objects.filter(connection=linked, deleted_in_odoo_at__isnull=False).values_list("odoo_id", flat=True))
    assert live == truth_ids
    assert gone.isdisjoint(truth_ids)
    assert gone <= set(deleted), "only leads deleted in Odoo are marked gone"
    odoo_ids = list(Lead.objects.filter(connection=linked).values_list("odoo_id", flat=True))
    assert len(odoo_ids) == len(set(odoo_ids)), "no duplicated leads"


def test_full_sync_with_injected_faults(linked, control, settings):
    control.seed(5_000 - len(control.leads()))
    settings.ODOO_HTTP_TIMEOUT = 1.0
    settings.ODOO_SYNC_PAGE_SIZE = 250
    settings.ODOO_SYNC_PAGE_ATTEMPTS = 8
    settings.ODOO_SYNC_MAX_BACKOFF = 4.0
    control.configure(
        data_fail_rate=0.2, data_fail_kinds=["500", "503_html", "429", "timeout"], timeout_seconds=2, seed=7
    )

    run = run_sync(linked.pk, full=True, sliced=False).run

    stats = control.stats()
    control.configure(data_fail_rate=0.0)
    assert run.status == SyncRun.Status.SUCCEEDED, f"{run.error_kind}: {run.error_message}"
    assert_matches_truth(linked, control.leads())
    injected = stats.get("failures_injected") or stats.get("injected_failures")
    assert injected, f"the sandbox must have injected failures: {stats}"


def test_overlapping_syncs_run_once(linked, control, broker_url, queue, tmp_path):
    control.seed(5_000 - len(control.leads()))
    worker = WorkerProcess(
        broker_url,
        tmp_path / "worker.log",
        queue=queue,
        pool="prefork",
        concurrency=4,
        ODOO_SYNC_PAGE_SIZE="100",
        ODOO_SYNC_SLICE_PAGES="1000",
    ).start()
    try:
        time.sleep(3)  # let the four pool processes start
        for _ in range(4):
            enqueue_sync(broker_url, queue, linked.pk, full=True)

        def all_recorded():
            runs = list(SyncRun.objects.filter(connection=linked))
            done = [run for run in runs if run.status != SyncRun.Status.RUNNING]
            return runs if len(done) == 4 else None

        runs = wait_until(all_recorded, timeout=180, interval=0.5, message=f"four recorded runs; log:\n{worker.log_tail()}")
    finally:
        worker.stop()

    statuses = sorted(run.status for run in runs)
    assert statuses == ["skipped", "skipped", "skipped", "succeeded"]
    odoo_ids = list(Lead.objects.filter(connection=linked).values_list("odoo_id", flat=True))
    assert len(odoo_ids) == len(set(odoo_ids)) == len(control.leads())
    assert SyncCursor.objects.get(connection=linked).lock_owner == ""


def queued_syncs(client, connection_id):
    messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    return [m for m in messages if m["headers"].get("task") == "crm.sync" and m["headers"].get("argsrepr") == f"({connection_id},)"]


def test_first_sync_queued_only_after_commit(settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run the tests with CELERY_BROKER_URL=redis://..."
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    connection = OdooConnection.objects.create(pk=random.randint(10**8, 10**9), name="C13", base_url="https://odoo.example.test")
    token_set = TokenSet("AT-1", "Bearer", "RT-1", "", 3600, timezone.now())
    try:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                store_authorization(connection, token_set)
                signals.connection_authorized.send(sender=OdooConnection, connection=connection)
                raise RuntimeError("the callback failed after storing the tokens")
        assert queued_syncs(client, connection.pk) == [], "a rolled-back authorization queues nothing"

        with transaction.atomic():
            store_authorization(connection, token_set)
            signals.connection_authorized.send(sender=OdooConnection, connection=connection)
            assert queued_syncs(client, connection.pk) == [], "nothing may be queued before the commit"
        assert len(queued_syncs(client, connection.pk)) == 1
    finally:
        for message in client.lrange("celery", 0, -1):
            if str(connection.pk) in message.decode(errors="replace"):
                client.lrem("celery", 0, message)


def test_lock_outlives_hard_time_limit(settings):
    assert settings.ODOO_SYNC_LOCK_TTL > settings.ODOO_SYNC_TIME_LIMIT
    assert timedelta(seconds=settings.ODOO_SYNC_LOCK_TTL) > timedelta(seconds=settings.ODOO_SYNC_TIME_LIMIT)
