"""`python -m sandbox` as a subprocess: ready line, serving, and a clean stop on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import requests

REPOSITORY = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"^Sandbox listening on (http://127\.0\.0\.1:(\d+))$")


def read_first_line(process: subprocess.Popen, timeout: float) -> str:
    """Return the first stdout line, or '' if none arrives within `timeout` seconds."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0].rstrip("\n") if lines else ""


def test_cli_prints_ready_line_and_stops_on_sigterm(tmp_path):
    command = [sys.executable, "-m", "sandbox", "--port", "0", "--db", str(tmp_path / "cli.sqlite3"), "--seed-leads", "10"]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = read_first_line(process, timeout=30)
        match = READY_LINE.match(line)
        assert match, f"unexpected first line {line!r}"
        url = match.group(1)

        version = requests.get(f"{url}/web/version", timeout=10)
        assert version.json()["version"] == "17.0"
        leads = requests.get(f"{url}/__sandbox__/leads", timeout=10).json()
        assert len(leads) >= 50

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


@contextmanager
def running_cli(arguments: list[str]):
    """Run `python -m sandbox` with the arguments, yield its URL, then stop it with SIGTERM."""
    command = [sys.executable, "-m", "sandbox", "--port", "0", *arguments]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = read_first_line(process, timeout=30)
        match = READY_LINE.match(line)
        assert match, f"unexpected first line {line!r}"
        yield match.group(1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def lead_names(url: str) -> list[str]:
    return [lead["name"] for lead in requests.get(f"{url}/__sandbox__/leads", timeout=10).json()]


def test_cli_keeps_data_until_reset(tmp_path):
    database = ["--db", str(tmp_path / "kept.sqlite3")]
    with running_cli(database) as url:
        requests.post(f"{url}/__sandbox__/leads", json={"name": "Kept lead"}, timeout=10)
    with running_cli(database) as url:
        assert "Kept lead" in lead_names(url)
    with running_cli(database + ["--reset"]) as url:
        assert "Kept lead" not in lead_names(url)
