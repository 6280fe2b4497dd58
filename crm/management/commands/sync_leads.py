"""Run a lead sync in the foreground with a progress bar."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from connections.models import OdooConnection
from crm.models import SyncRun
from crm.sync import run_sync


class Command(BaseCommand):
    help = "Sync crm.lead from Odoo now, in this process, for one or every linked connection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connection", type=int, help="Id of the connection to sync (default: every linked one).")
        parser.add_argument("--full", action="store_true", help="Re-read every lead instead of the changes since the cursor.")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        connections = OdooConnection.objects.all()
        if options["connection"] is not None:
            connections = connections.filter(pk=options["connection"])
            if not connections.exists():
                raise CommandError(f"No connection with id {options['connection']}; see the admin for the ids.")
        else:
            connections = connections.filter(status__in=[OdooConnection.Status.CONNECTED, OdooConnection.Status.DEGRADED])
        failed = 0
        for connection in connections:
            run = self._sync(connection, full=options["full"])
            if run is None or run.status not in (SyncRun.Status.SUCCEEDED,):
                failed += 1
        if failed:
            raise CommandError(f"{failed} connection(s) did not sync completely; see the messages above.")

    def _sync(self, connection: OdooConnection, *, full: bool) -> SyncRun | None:
        started = time.monotonic()
        bar = tqdm(desc=connection.name, unit=" leads", file=self.stderr._out, dynamic_ncols=True)

        def progress(run: SyncRun) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.n = run.fetched
            bar.set_postfix(pages=run.pages, rate=f"{run.fetched / elapsed:.0f}/s", refresh=False)
            bar.refresh()

        result = run_sync(connection.pk, full=full, progress=progress, sliced=False)
        bar.close()
        if result is None:
            self.stderr.write(f"{connection.name}: not linked ({connection.get_status_display()}); click Connect in the admin.")
            return None
        run = result.run
        summary = (
            f"{connection.name}: {run.get_status_display().lower()} - {run.fetched} fetched, {run.created} created, "
            f"{run.updated} updated, {run.archived} archived, {run.restored} restored in {run.pages} pages"
        )
        if run.status == SyncRun.Status.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(summary))
        else:
            self.stderr.write(self.style.ERROR(f"{summary}. {run.error_kind}: {run.error_message}"))
        return run
