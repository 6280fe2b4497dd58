"""The sync engine against the sandbox: cursor edge cases, lifecycle, deletions, locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from crm.locks import acquire_lock
from crm.models import Lead, SyncCursor, SyncRun
from crm.paging import CursorStalled, Position, iter_pages
from crm.reconcile import reconcile
from crm.sync import run_sync
from crm.tasks import reap_stuck_runs

pytestmark = pytest.mark.django_db

BOUNDARY = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def only_leads(control, count, **values):
    """Empty the sandbox's CRM, then create ``count`` leads; return their ids in creation order."""
    for row in control.leads():
        control.delete_lead(row["id"])
    return [control.create_lead(name=f"Lead {index}", **values) for index in range(count)]


def synced_ids(connection):
    return set(Lead.objects.filter(connection=connection).values_list("odoo_id", flat=True))


def store_cursor(connection, write_date, last_id):
    SyncCursor.objects.update_or_create(
        connection=connection, defaults={"write_date": write_date, "last_id": last_id}
    )


@pytest.mark.parametrize("precision", ["microseconds", "seconds"])
def test_same_second_boundary_read_once(linked, control, settings, precision):
    settings.ODOO_SYNC_PAGE_SIZE = 2
    settings.ODOO_SYNC_OVERLAP = 0
    control.configure(write_date_precision=precision)
    ids = only_leads(control, 6)
    # Microsecond order differs from id order inside the second, as in a
    # database where later ids were written by earlier transactions.
    fractions = [".950000", ".120000", ".700000", ".300000", ".500000"]
    for lead_id, fraction in zip(ids[:5], fractions, strict=True):
        control.write_lead(lead_id, write_date=f"2024-05-01 10:00:00{fraction}")
    control.write_lead(ids[5], write_date="2024-05-01 10:00:01.000000")
    run_sync(linked.pk)  # learn the companies; the cursor is set below
    Lead.objects.filter(connection=linked).exclude(odoo_id__in=ids[:2]).delete()
    store_cursor(linked, BOUNDARY, ids[1])

    run = run_sync(linked.pk).run

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.fetched == 4, "each of the four leads after the cursor is read exactly once"
    assert run.created == 4
    assert synced_ids(linked) == set(ids)
    cursor = SyncCursor.objects.get(connection=linked)
    assert (cursor.write_date, cursor.last_id) == (BOUNDARY + timedelta(seconds=1), ids[5])


def test_page_that_does_not_advance_is_an_error():
    def stuck_server(domain, order, limit):
        return [{"id": 5, "write_date": "2024-05-01 10:00:00"}, {"id": 6, "write_date": "2024-05-01 10:00:00"}]

    pages = iter_pages(stuck_server, start=Position(BOUNDARY, 6), page_size=2)

    with pytest.raises(CursorStalled):
        list(pages)


def test_domain_ignoring_server_is_an_error():
    def ignores_domain(domain, order, limit):
        return [{"id": 1, "write_date": "2024-04-01 09:00:00"}]

    with pytest.raises(CursorStalled):
        list(iter_pages(ignores_domain, start=Position(BOUNDARY, 0), page_size=5))


def test_records_edited_while_paging(linked, control, settings):
    settings.ODOO_SYNC_PAGE_SIZE = 2
    settings.ODOO_SYNC_OVERLAP = 0
    ids = only_leads(control, 5)
    for minute, lead_id in enumerate(ids):
        control.write_lead(lead_id, write_date=f"2024-05-01 09:0{minute}:00.000000")
    run_sync(linked.pk)
    Lead.objects.filter(connection=linked).delete()
    store_cursor(linked, datetime(2024, 5, 1, tzinfo=UTC), 0)
    edited = []

    def edit_after_first_page(run):
        if run.pages == 1 and not edited:
            control.write_lead(ids[0], name="Lead 0 edited", write_date="2024-05-01 09:10:00.000000")
            edited.append(True)

    run = run_sync(linked.pk, progress=edit_after_first_page).run

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert synced_ids(linked) == set(ids)
    first = Lead.objects.get(connection=linked, odoo_id=ids[0])
    assert first.name == "Lead 0 edited"
    assert first.write_date == datetime(2024, 5, 1, 9, 10, tzinfo=UTC)


def test_lost_lead_then_restored(linked, control):
    run_sync(linked.pk)
    lead = next(row for row in control.leads() if row["active"] and row["type"] == "opportunity")

    control.lose_lead(lead["id"], lost_reason_id=1)
    lost_row = next(row for row in control.leads() if row["id"] == lead["id"])
    lost_run = run_sync(linked.pk).run
    lost = Lead.objects.get(connection=linked, odoo_id=lead["id"])

    assert lost_row["active"] is False
    assert lost_row["probability"] == 0
    assert lost_run.archived == 1
    assert lost.status == Lead.Status.LOST
    assert lost.active is False
    assert lost.probability == 0
    assert lost.lost_reason == lost_row["lost_reason_id"][1] == "Too expensive"

    control.restore_lead(lead["id"])
    restored_run = run_sync(linked.pk).run
    restored = Lead.objects.get(connection=linked, odoo_id=lead["id"])

    assert restored_run.restored == 1
    assert restored.status == Lead.Status.OPEN
    assert restored.active is True


def test_won_converted_and_reassigned(linked, control):
    run_sync(linked.pk)
    rows = control.leads()
    lead = next(row for row in rows if row["active"] and row["type"] == "lead")
    opportunity = next(row for row in rows if row["active"] and row["type"] == "opportunity" and row["probability"] < 100)

    control.write_lead(lead["id"], type="opportunity", user_id=6)
    control._call("POST", f"/leads/{opportunity['id']}/win", json={})  # noqa: SLF001
    run = run_sync(linked.pk).run

    assert run.updated == 2
    converted = Lead.objects.select_related("salesperson").get(connection=linked, odoo_id=lead["id"])
    won = Lead.objects.get(connection=linked, odoo_id=opportunity["id"])
    assert converted.type == Lead.Type.OPPORTUNITY
    assert converted.salesperson.odoo_id == 6
    assert converted.salesperson.name == "Marc Demo"
    assert won.status == Lead.Status.WON
    assert won.stage.is_won is True


def test_deletions_marked_and_restored(linked, control):
    run_sync(linked.pk)
    rows = [row for row in control.leads() if row["active"]]
    deleted = [row["id"] for row in rows[:10]]
    archived = [row["id"] for row in rows[10:20]]
    for lead_id in deleted:
        control.delete_lead(lead_id)
    for lead_id in archived:
        control.write_lead(lead_id, active=False)

    sync_run = run_sync(linked.pk).run
    check = reconcile(linked.pk)

    assert sync_run.archived == 10
    assert check.status == SyncRun.Status.SUCCEEDED, check.error_message
    assert check.deleted == 10
    gone = set(Lead.objects.filter(connection=linked, deleted_in_odoo_at__isnull=False).values_list("odoo_id", flat=True))
    assert gone == set(deleted)
    inactive = set(Lead.objects.filter(connection=linked, active=False, deleted_in_odoo_at__isnull=True).values_list("odoo_id", flat=True))
    assert set(archived) <= inactive
    assert Lead.objects.filter(connection=linked, odoo_id__in=deleted).count() == 10, "rows are kept"


def test_failed_listing_marks_nothing(linked, control):
    run_sync(linked.pk)
    for row in control.leads()[:10]:
        control.delete_lead(row["id"])
    control.configure(data_fail_rate=1.0, data_fail_kinds=["500"])

    check = reconcile(linked.pk)

    assert check.status == SyncRun.Status.FAILED
    assert check.deleted == 0
    assert not Lead.objects.filter(connection=linked, deleted_in_odoo_at__isnull=False).exists()


def test_reappearing_lead_restored(linked, control):
    run_sync(linked.pk)
    lead = Lead.objects.filter(connection=linked).first()
    Lead.objects.filter(pk=lead.pk).update(deleted_in_odoo_at=timezone.now())

    check = reconcile(linked.pk)

    assert check.restored == 1
    lead.refresh_from_db()
    assert lead.deleted_in_odoo_at is None


def test_second_run_skips_without_releasing_lock(linked):
    assert acquire_lock(linked, "owner-of-r1")

    skipped = run_sync(linked.pk).run

    assert skipped.status == SyncRun.Status.SKIPPED
    cursor = SyncCursor.objects.get(connection=linked)
    assert cursor.lock_owner == "owner-of-r1"
    assert cursor.lock_expires_at > timezone.now()


def test_lapsed_lock_resumes_from_saved_cursor(linked, control):
    run_sync(linked.pk)
    saved = SyncCursor.objects.get(connection=linked)
    assert acquire_lock(linked, "killed-worker")
    SyncCursor.objects.filter(pk=saved.pk).update(lock_expires_at=timezone.now() - timedelta(seconds=1))
    crashed = SyncRun.objects.create(connection=linked, heartbeat_at=timezone.now() - timedelta(hours=1))
    control.write_lead(control.leads()[0]["id"], name="Changed after the crash")

    result = run_sync(linked.pk)

    assert result.run.status == SyncRun.Status.SUCCEEDED
    assert result.run.cursor_before == str(Position(saved.write_date, saved.last_id))
    assert result.run.updated == 1
    assert Lead.objects.filter(connection=linked).count() == len(control.leads())
    assert SyncCursor.objects.get(connection=linked).lock_owner == ""
    assert reap_stuck_runs() == 1
    crashed.refresh_from_db()
    assert crashed.status == SyncRun.Status.FAILED
    assert crashed.error_kind == "worker_lost"


def test_slices_continue_the_same_run(linked, control, settings):
    settings.ODOO_SYNC_PAGE_SIZE = 10
    settings.ODOO_SYNC_SLICE_PAGES = 2
    first = run_sync(linked.pk, full=True)

    assert first.more is True
    assert first.run.status == SyncRun.Status.RUNNING
    owner = SyncCursor.objects.get(connection=linked).lock_owner
    assert owner, "the lock stays with the run for its continuation"
    assert run_sync(linked.pk).run.status == SyncRun.Status.SKIPPED

    result = first
    while result.more:
        result = run_sync(linked.pk, run_id=first.run.pk, owner=owner)

    assert result.run.pk == first.run.pk
    assert result.run.status == SyncRun.Status.SUCCEEDED
    assert result.run.slices >= 3
    assert Lead.objects.filter(connection=linked).count() == len(control.leads())
    assert SyncCursor.objects.get(connection=linked).lock_owner == ""


def test_duplicate_runs_create_no_duplicate_rows(linked, control):
    run_sync(linked.pk)
    run_sync(linked.pk, full=True)
    run_sync(linked.pk, full=True)

    odoo_ids = list(Lead.objects.filter(connection=linked).values_list("odoo_id", flat=True))
    assert len(odoo_ids) == len(set(odoo_ids)) == len(control.leads())


def test_unchanged_incremental_makes_one_data_request(linked, control):
    run_sync(linked.pk)
    before = control.stats()

    run = run_sync(linked.pk).run

    after = control.stats()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.created == run.updated == 0
    assert data_requests(after) - data_requests(before) == 1


def data_requests(stats):
    value = stats.get("data_requests")
    if isinstance(value, dict):
        return sum(value.values())
    return value


@pytest.mark.parametrize("precision", ["microseconds", "seconds"])
def test_pages_ending_inside_a_second(linked, control, settings, precision):
    settings.ODOO_SYNC_PAGE_SIZE = 3
    control.configure(write_date_precision=precision)
    ids = only_leads(control, 8)
    # Seconds 10:00:00 (3 leads), 10:00:01 (4 leads, microsecond order
    # unlike id order), 10:00:02 (1 lead): pages of 3 end inside a second.
    stamps = [
        "10:00:00.100000", "10:00:00.200000", "10:00:00.300000",
        "10:00:01.900000", "10:00:01.100000", "10:00:01.500000", "10:00:01.300000",
        "10:00:02.000000",
    ]
    for lead_id, stamp in zip(ids, stamps, strict=True):
        control.write_lead(lead_id, write_date=f"2024-05-01 {stamp}")
    before = data_requests(control.stats())

    run = run_sync(linked.pk, full=True).run

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert synced_ids(linked) == set(ids)
    assert run.fetched == 8, "every lead is read once"
    # Pages: the first second, then 10:00:01 twice (a full page of one
    # second switches to reading it by id), then 10:00:02. The window on
    # 10:00:00 finds nothing, so five lead requests in all; current_user,
    # fields_get and the stage reads come on top.
    assert run.pages == 4
    assert data_requests(control.stats()) - before <= 5 + 4


def test_retry_waits_at_least_retry_after(monkeypatch):
    from connections.odoo.errors import OdooServerError
    from crm import sync as sync_module

    waits = []
    monkeypatch.setattr(sync_module.time, "sleep", waits.append)
    engine = sync_module.LeadSync.__new__(sync_module.LeadSync)
    engine.connection = type("Connection", (), {"pk": 1})()
    engine.run_record = type("Run", (), {"pk": 1})()
    answers = iter([OdooServerError("503 with an HTML body", status=503, retry_after=30.0), ["page"]])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert engine._fetch_with_retry(call) == ["page"]
    assert waits == [30.0]


def test_retry_after_beyond_limit_ends_run(monkeypatch, settings):
    from connections.odoo.errors import OdooRateLimited
    from crm import sync as sync_module

    settings.ODOO_SYNC_MAX_BACKOFF = 60.0
    monkeypatch.setattr(sync_module.time, "sleep", lambda seconds: pytest.fail("must not wait"))
    engine = sync_module.LeadSync.__new__(sync_module.LeadSync)
    engine.connection = type("Connection", (), {"pk": 1})()
    engine.run_record = type("Run", (), {"pk": 1})()

    def call():
        raise OdooRateLimited("429", status=429, retry_after=3600.0)

    with pytest.raises(OdooRateLimited):
        engine._fetch_with_retry(call)
