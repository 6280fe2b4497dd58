"""Shared plumbing of the benchmark scripts: scratch database, sandbox process, worker runs, machine facts.

The scripts run every measured workload in a separate worker process
(``bench/worker.py``) so that each one starts from a fresh interpreter and
reports its own peak RSS. This module runs in the parent process and never
imports Django.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "bench" / "worker.py"
PYTHON = sys.executable

# Server of the scratch databases; it must accept connections to its
# "postgres" maintenance database to create and drop them.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

# The worker never follows this redirect: it reads the code from the Location header.
CALLBACK_URL = "http://127.0.0.1:9/odoo/oauth/callback/"
# Login of the sandbox's Odoo demo administrator.
SANDBOX_LOGIN = ("admin", "admin")
HTTP_TIMEOUT = 30


def process_cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time that process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of proc(5); this split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- scratch PostgreSQL database ------------------------------------------


def database_url(name: str) -> str:
    return f"{POSTGRES_URL.rstrip('/')}/{name}"


def _maintenance(statement: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create the database ``name`` (dropping a leftover one), migrate it, yield its URL, drop it."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"Invalid database name {name!r}: use lower-case letters, digits and underscores.")
    _maintenance(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _maintenance(f"CREATE DATABASE {name}")
    url = database_url(name)
    try:
        migrate = subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
            cwd=ROOT,
            env=worker_env(url),
            capture_output=True,
            text=True,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"manage.py migrate failed on {name}:\n{migrate.stderr[-3000:]}")
        yield url
    finally:
        _maintenance(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def worker_env(url: str, page_size: int | None = None) -> dict[str, str]:
    """Return the environment of a worker: the scratch database and the settings the sync reads."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="false",
        # WARNING keeps the two INFO lines per sync run out of the captured output.
        LOG_LEVEL="WARNING",
        ODOO_ALLOW_HTTP_LOOPBACK="true",
        PYTHONPATH=str(ROOT),
    )
    if page_size is not None:
        env["ODOO_SYNC_PAGE_SIZE"] = str(page_size)
    return env


# --- sandbox process ------------------------------------------------------


class SandboxProcess:
    """``python -m sandbox`` on 127.0.0.1 with a temporary SQLite file, and its control API.

    With ``analyze`` the file is seeded first and SQLite's ANALYZE run on it,
    so the query planner has statistics when the server starts. Without
    them SQLite reads crm.lead pages through the company_id index that the
    multi-company record rule offers, and sorts every visible lead for each
    page.
    """

    def __init__(self, seed_leads: int, analyze: bool = False) -> None:
        self.seed_leads = seed_leads
        self.analyze = analyze
        self.folder = Path(tempfile.mkdtemp(prefix="odoo-crm-bench-"))
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.http = requests.Session()

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        database = self.folder / "sandbox.sqlite3"
        if self.analyze:
            # Imported here because the workers import this module, and the
            # sandbox's code would add to their measured memory.
            from sandbox.app import Sandbox

            # The server then finds the file seeded and starts without seeding it again.
            Sandbox(database, seed_leads=self.seed_leads, redirect_uris=[CALLBACK_URL]).close()
            with closing(sqlite3.connect(database)) as connection:
                connection.execute("ANALYZE")
        command = [
            PYTHON,
            "-m",
            "sandbox",
            "--port",
            "0",
            "--db",
            str(database),
            "--seed-leads",
            str(self.seed_leads),
            "--redirect-uri",
            CALLBACK_URL,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=open(self.folder / "sandbox.log", "wb"),  # noqa: SIM115 (the child owns it)
            text=True,
        )
        # Seeding runs before the server listens, so this line can take a few
        # seconds; it is empty when the process exited instead.
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match is None:
            log = (self.folder / "sandbox.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"The sandbox did not start (first line {line!r}):\n{log}")
        self.url = match.group(1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.http.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox__{path}", timeout=HTTP_TIMEOUT, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def lead_ids(self) -> list[int]:
        return [row["id"] for row in self.control("GET", "/leads", params={"fields": "id"})]

    def register_client(self, client_id: str, client_secret: str) -> None:
        self.control(
            "POST",
            "/oauth-clients",
            json={"client_id": client_id, "client_secret": client_secret, "redirect_uris": [CALLBACK_URL]},
        )


class _FormReader(HTMLParser):
    """The action and hidden inputs of the first form on the sandbox's authorize page."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and not self.action:
            self._inside, self.action = True, values.get("action", "")
        elif tag == "input" and self._inside and values.get("type") == "hidden":
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def authorize(authorize_url: str) -> str:
    """Log in as the demo admin on the sandbox's authorize page, approve, and return the code."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=HTTP_TIMEOUT)
    page.raise_for_status()
    form = _FormReader()
    form.feed(page.text)
    login, password = SANDBOX_LOGIN
    answer = browser.post(
        urljoin(page.url, form.action),
        data={**form.fields, "login": login, "password": password, "authorize": "1"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"The sandbox did not approve the authorization (HTTP {answer.status_code}).")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    if "code" not in query:
        raise RuntimeError(f"The sandbox redirected without a code: error {query.get('error')}.")
    return query["code"][0]


def pkce_pair() -> tuple[str, str]:
    """Return a PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- worker runs ----------------------------------------------------------


def run_worker(mode: str, arguments: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``bench/worker.py MODE ARGUMENTS`` and return the JSON object it prints last."""
    completed = subprocess.run(
        [PYTHON, str(WORKER), mode, *arguments], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench/worker.py {mode} failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    lines = completed.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"bench/worker.py {mode} printed no result:\n{completed.stderr[-4000:]}")
    return json.loads(lines[-1])


def measure(sandbox: SandboxProcess, mode: str, arguments: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one worker that reads the sandbox's request counters and CPU time around its timed part."""
    return run_worker(mode, [*arguments, "--sandbox-pid", str(sandbox.process.pid)], env)


def link(sandbox: SandboxProcess, env: dict[str, str], name: str) -> int:
    """Create a connection through the OAuth code flow against the sandbox; return its id."""
    client_id = f"bench-{name}"
    client_secret = secrets.token_urlsafe(24)
    sandbox.register_client(client_id, client_secret)
    # The secret reaches the worker through its environment, never its command line.
    result = run_worker(
        "link",
        ["--sandbox", sandbox.url, "--name", name, "--client-id", client_id, "--redirect-uri", CALLBACK_URL],
        {**env, "BENCH_CLIENT_SECRET": client_secret},
    )
    return result["connection_id"]


# --- command line and reporting ---------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser, database: str) -> None:
    """Add the options every benchmark script has: lead counts, quick run, sandbox, database, JSON output."""
    parser.add_argument(
        "--leads", type=int, nargs="+", default=[10_000, 100_000], help="generated leads per run (default 10000 100000)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller run: 1000 and 10000 leads")
    parser.add_argument(
        "--analyze-sandbox",
        action="store_true",
        help="run SQLite ANALYZE on the seeded sandbox file before serving (see SandboxProcess in bench/harness.py)",
    )
    parser.add_argument("--database", default=database, help=f"scratch database name (default {database})")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")


def check_lead_counts(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> None:
    """Apply --quick to the lead counts, reject counts below 1 and sort them."""
    if arguments.quick:
        arguments.leads = [1_000, 10_000]
    if min(arguments.leads) < 1:
        parser.error(f"Invalid --leads {arguments.leads}: every count must be at least 1.")
    arguments.leads = sorted(set(arguments.leads))


def start_report(arguments: argparse.Namespace) -> dict[str, str]:
    """Print and return the machine facts and the sandbox variant before the first run."""
    facts = machine_facts()
    print(
        f"Machine: {facts['cpus']} CPUs ({facts['cpu_model']}), {facts['memory']} memory, "
        f"PostgreSQL {facts['postgresql']}, Python {facts['python']}, commit {facts['commit']}"
    )
    print(f"Sandbox file analyzed: {'yes' if arguments.analyze_sandbox else 'no'}", flush=True)
    return facts


def finish_report(arguments: argparse.Namespace, facts: dict[str, str], results: list[dict[str, Any]]) -> None:
    """Print the load averages and write the JSON file when --json was given."""
    facts["load_after"] = load_average()
    print(f"Load average before: {facts['load_before']}, after: {facts['load_after']}")
    if arguments.json:
        data = {"machine": facts, "arguments": vars(arguments), "results": results}
        Path(arguments.json).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        print(f"Results written to {arguments.json}")


def machine_facts() -> dict[str, str]:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    total_memory = memory[1].split()[1] if len(memory) > 1 else "unknown"
    with psycopg.connect(database_url("postgres")) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": cpu_model,
        "memory": total_memory,
        "postgresql": postgres,
        "python": platform.python_version(),
        "commit": _commit(),
        "load_before": load_average(),
    }


def _commit() -> str:
    """Return the checked-out commit, marked "-dirty" when the product code has uncommitted changes."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if not commit:
        return "unknown (not a git checkout)"
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "config", "connections", "crm", "sandbox"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{commit}-dirty" if changed else commit


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a Markdown table, so a result can be pasted into docs/benchmarks.md as it is."""
    cells = [[str(cell) for cell in row] for row in rows]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join(" --- " for _ in headers) + "|")
    for row in cells:
        print("| " + " | ".join(row) + " |")
    print()


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator > 0 else "n/a"


def megabytes(kilobytes: float) -> str:
    return f"{kilobytes / 1024:.1f}"
