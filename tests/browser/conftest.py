"""Fixtures for browser tests: Chromium, a live server on 127.0.0.1, a Celery worker, screenshots on failure."""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from config.celery import app as celery_app
from tests.celery_worker import WorkerProcess, drop_queue, redis_url_for_this_process

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Milliseconds Playwright waits for a page, a selector or a navigation.
PAGE_TIMEOUT = 20_000


def pytest_configure(config: pytest.Config) -> None:
    # pytest-django binds the live server to "localhost" unless --liveserver names an address.
    if not config.getoption("liveserver", default=None) and not os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS"):
        config.option.liveserver = "127.0.0.1"


@pytest.fixture
def browser(transactional_db, live_server):
    """Chromium, started after the database and the live server and stopped before them.

    Playwright's sync API keeps an asyncio loop running in this thread, and
    Django refuses database calls while one runs. So the browser lives only
    inside the test, which reads everything through pages and HTTP.
    """
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install -y chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; the screenshot hook below reads it by this name."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """Save a full-page screenshot of a failed browser test to test-artifacts/."""
    report = yield
    tab = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and tab is not None and not tab.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid) + ".png")
        tab.screenshot(path=str(path), full_page=True)
        report.sections.append(("screenshot", f"saved to {path}"))
    return report


@contextmanager
def producer_broker(url: str, queue: str):
    """Send this process's Celery tasks, those the live server queues included, to ``queue`` on ``url``."""
    # Celery reads CELERY_BROKER_URL from the environment before its own
    # configuration, and the test command sets it for the whole run.
    previous_url = os.environ.get("CELERY_BROKER_URL")
    previous_queue = celery_app.conf.task_default_queue
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.task_default_queue = queue
    _drop_producer_pools()
    try:
        yield
    finally:
        if previous_url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_url
        celery_app.conf.task_default_queue = previous_queue
        _drop_producer_pools()


def _drop_producer_pools() -> None:
    # Celery keeps the connection and producer pools of the broker it first
    # sent to, and it has no public call to switch brokers. Once they are
    # dropped, the next task builds new ones for the current broker URL.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real ``celery worker --pool=solo`` on the test database, a Redis database of this process and a queue of its own.

    The queue name keeps a worker of another test run that shares the
    Redis database from taking these tasks.
    """
    broker_url = redis_url_for_this_process()
    queue = f"browser-{uuid.uuid4().hex}"
    worker = WorkerProcess(broker_url, tmp_path / "worker.log", queue=queue).start()
    try:
        with producer_broker(broker_url, queue):
            yield worker
    finally:
        worker.stop()
        drop_queue(broker_url, queue)
