"""``make demo``: run the project against the Odoo sandbox on this machine.

Migrates and creates a demo superuser. Starts the sandbox, a Celery
worker, beat and the Django server on 127.0.0.1. Links the sandbox through
the real OAuth flow with the requests a browser would make, waits for the
first sync and prints the admin URL. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
LOGS = VAR / "log"
DJANGO_PORT = int(os.environ.get("DEMO_DJANGO_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("DEMO_SANDBOX_PORT", "8069"))
SITE = f"http://127.0.0.1:{DJANGO_PORT}"
SANDBOX = f"http://127.0.0.1:{SANDBOX_PORT}"
REDIRECT_URI = f"{SITE}/odoo/oauth/callback/"
SANDBOX_CLIENT_ID = "sandbox-muk"
SANDBOX_CLIENT_SECRET = "sandbox-muk-secret"
SANDBOX_LOGIN = ("admin", "admin")
ADMIN_USER = "admin"

# The demo's own settings, passed to every process it starts.
DEMO_ENV = {
    # The demo always runs on SQLite and the file broker, even when a .env
    # file points the project at PostgreSQL and Redis.
    "DATABASE_URL": f"sqlite:///{VAR / 'db.sqlite3'}",
    "CELERY_BROKER_URL": "filesystem://",
    "DJANGO_DEBUG": "true",
    "ODOO_ALLOW_HTTP_LOOPBACK": "true",
    "ODOO_OAUTH_REDIRECT_URI": REDIRECT_URI,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "PYTHONUNBUFFERED": "1",
}


class FormReader(HTMLParser):
    """Collects the action and inputs of the first form on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and not self._done:
            self._in_form = True
            self.action = values.get("action", "")
        elif tag == "input" and self._in_form and values.get("name") and values.get("type") != "submit":
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


class Demo:
    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.env = {**os.environ, **DEMO_ENV}

    # --- processes ---------------------------------------------------------

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def start(self, name: str, *command: str) -> subprocess.Popen:
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{name}.log", "w")  # noqa: SIM115 (kept open while the process runs)
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE if name == "sandbox" else log, stderr=log, text=True
        )
        self.processes.append((name, process))
        return process

    def stop_all(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within 10 s; killing it.")
                process.kill()

    def check_running(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with status {process.returncode}; see {LOGS / (name + '.log')}.")

    def wait_for_http(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            try:
                requests.get(url, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise SystemExit(f"{name} did not respond at {url} within {timeout:.0f} s; see {LOGS}.")

    # --- steps -------------------------------------------------------------

    def prepare_database(self) -> str:
        VAR.mkdir(exist_ok=True)
        self.manage("migrate", "--no-input", "--verbosity", "0")
        password = secrets.token_urlsafe(12)
        self.setup_django()
        from django.contrib.auth import get_user_model

        User = get_user_model()
        user, _ = User.objects.get_or_create(username=ADMIN_USER, defaults={"email": "admin@example.com"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return password

    def setup_django(self) -> None:
        os.environ.update(DEMO_ENV)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

    def start_services(self) -> None:
        sandbox = self.start(
            "sandbox",
            sys.executable, "-m", "sandbox", "--port", str(SANDBOX_PORT),
            "--db", str(VAR / "sandbox.sqlite3"), "--redirect-uri", REDIRECT_URI,
        )
        ready = sandbox.stdout.readline()
        if "listening on" not in ready:
            self.check_running()
            raise SystemExit(f"The sandbox did not start; see {LOGS / 'sandbox.log'}.")
        self.start("worker", sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO")
        self.start(
            "beat", sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
            "--schedule", str(VAR / "celerybeat-schedule"),
        )
        self.start("web", sys.executable, "manage.py", "runserver", f"127.0.0.1:{DJANGO_PORT}", "--noreload")
        self.wait_for_http(f"{SITE}/admin/login/", "The Django server")

    def ensure_connection(self) -> int:
        from connections.models import OAuthClient, OdooConnection

        connection, _ = OdooConnection.objects.get_or_create(
            name="Odoo sandbox", defaults={"base_url": SANDBOX, "database": "sandbox"}
        )
        OAuthClient.objects.update_or_create(
            connection=connection,
            defaults={"preset": "muk", "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET},
        )
        return connection.pk

    def link(self, connection_id: int, password: str) -> None:
        """Do what a staff member's browser does: log in, Connect, approve at the sandbox."""
        browser = requests.Session()
        login_page = browser.get(f"{SITE}/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
        browser.post(
            f"{SITE}/admin/login/",
            data={"username": ADMIN_USER, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"},
            headers={"Referer": f"{SITE}/admin/login/"},
            timeout=10,
        )
        to_odoo = browser.get(f"{SITE}/odoo/connections/{connection_id}/authorize/", allow_redirects=False, timeout=10)
        if to_odoo.status_code != 302:
            raise SystemExit(f"Connect did not redirect to Odoo (HTTP {to_odoo.status_code}).")
        consent = browser.get(to_odoo.headers["Location"], timeout=10)
        form = FormReader()
        form.feed(consent.text)
        fields = {**form.fields, "login": SANDBOX_LOGIN[0], "password": SANDBOX_LOGIN[1], "authorize": "1"}
        approved = browser.post(urljoin(consent.url, form.action or ""), data=fields, allow_redirects=False, timeout=10)
        callback = approved.headers.get("Location", "")
        if not callback.startswith(REDIRECT_URI):
            raise SystemExit(f"The sandbox did not send the browser back to {REDIRECT_URI} (HTTP {approved.status_code}).")
        landed = browser.get(callback, timeout=30)
        if "Connected to" not in landed.text:
            raise SystemExit("The callback did not report 'Connected'; see var/log/web.log.")

    def wait_for_first_sync(self, connection_id: int, linked_at, timeout: float = 120) -> int:  # noqa: ANN001
        from crm.models import Lead, SyncRun

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            runs = SyncRun.objects.filter(connection_id=connection_id, kind="sync", started_at__gte=linked_at)
            run = runs.exclude(status__in=["running", "skipped"]).first()
            if run is not None and run.status == "succeeded":
                # Leads deleted in Odoo since an earlier demo stay as rows.
                return Lead.objects.filter(connection_id=connection_id, deleted_in_odoo_at__isnull=True).count()
            if run is not None and run.status in ("failed", "partial"):
                raise SystemExit(f"The first sync ended {run.status}: {run.error_kind} {run.error_message}")
            time.sleep(0.5)
        raise SystemExit(f"The first sync did not finish within {timeout:.0f} s; see var/log/worker.log.")

    def run(self) -> None:
        print("Preparing the database (SQLite under var/) ...")
        password = self.prepare_database()
        connection_id = self.ensure_connection()
        print("Starting the Odoo sandbox, a Celery worker, beat and the Django server ...")
        self.start_services()
        print("Linking the sandbox through the OAuth authorization-code flow ...")
        from django.utils import timezone

        linked_at = timezone.now()
        self.link(connection_id, password)
        synced = self.wait_for_first_sync(connection_id, linked_at)
        truth = len(requests.get(f"{SANDBOX}/__sandbox__/leads", timeout=10).json())
        print()
        print(f"Synced {synced} leads (the sandbox holds {truth}, archived ones included).")
        print(f"Admin:   {SITE}/admin/   user {ADMIN_USER!r}, password {password!r}")
        print(f"Sandbox: {SANDBOX}/   Odoo login {SANDBOX_LOGIN[0]!r} / {SANDBOX_LOGIN[1]!r}")
        print(f"Logs:    {LOGS}/")
        print("Press Ctrl-C to stop everything.")
        while True:
            self.check_running()
            time.sleep(1)


def main() -> None:
    demo = Demo()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.run()
    except KeyboardInterrupt:
        print("\nStopping ...")
    finally:
        demo.stop_all()


if __name__ == "__main__":
    main()
