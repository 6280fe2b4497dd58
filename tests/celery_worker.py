"""Run a real Celery worker process against the test database and a Redis broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.db import connection as db_connection

ROOT = Path(__file__).resolve().parent.parent


def redis_url_for_this_process() -> str:
    """A Redis database of its own for each pytest-xdist worker, so queues never mix."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0) if worker.startswith("gw") else 0
    return f"redis://127.0.0.1:6379/{10 - index % 8}"


def test_database_url() -> str:
    settings = db_connection.settings_dict
    return f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


class WorkerProcess:
    """A ``celery -A config worker`` subprocess with its own settings."""

    def __init__(
        self, broker_url: str, log_path: Path, *, queue: str, pool: str = "solo", concurrency: int = 1, **settings: str
    ) -> None:
        self.broker_url = broker_url
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url,
            # A queue of its own, so no other test run's worker takes these tasks.
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "ODOO_ALLOW_HTTP_LOOPBACK": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Log lines must reach the file before a SIGKILL.
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
        self.command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            f"--pool={pool}", f"--concurrency={concurrency}",
            "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=INFO",
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        log = open(self.log_path, "a")  # noqa: SIM115 (closed when the process ends)
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and every child it forked, as an out-of-memory kill would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        return self.log_path.read_text()[-4000:] if self.log_path.exists() else ""


def drop_queue(broker_url: str, queue: str) -> None:
    """Delete one test queue's messages; other test runs may share the Redis database."""
    redis.Redis.from_url(broker_url).delete(queue)


def wait_until(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    detail = message() if callable(message) else message
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {detail}.")


def database_activity() -> list[tuple]:
    """Sessions on the test database other than this one, for failure messages."""
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()
