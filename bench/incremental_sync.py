"""Measure incremental syncs after an initial sync of N leads: nothing changed, and 1 % of leads changed.

For each lead count the script creates a scratch PostgreSQL database and
starts a sandbox seeded with that many generated leads (plus its demo
leads). It links a connection through the OAuth code flow and runs a full
sync. Then it runs, each in its own worker process:

1. ``--repeat`` incremental syncs with nothing changed in the sandbox;
2. one incremental sync after 1 % of the leads (every hundredth id) were
   written through the sandbox's control API, ``PATCH /__sandbox__/leads/<id>``;
3. one more incremental sync with nothing changed, right after that one:
   the changed leads are still inside ODOO_SYNC_OVERLAP, so it reads them again.

Usage: .venv/bin/python bench/incremental_sync.py --leads 10000 100000 [--analyze-sandbox]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

# Target from the project's performance goals.
UNCHANGED_DATA_REQUESTS = 1
# Every hundredth lead, so 1 % of them, spread over the whole id range.
CHANGE_STEP = 100


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_common_arguments(parser, "odoo_crm_bench_incremental")
    parser.add_argument("--repeat", type=int, default=3, help="incremental syncs with nothing changed (default 3)")
    arguments = parser.parse_args(argv)
    harness.check_lead_counts(parser, arguments)
    if arguments.repeat < 1:
        parser.error(f"Invalid --repeat {arguments.repeat}: it must be at least 1.")
    return arguments


def incremental(sandbox: harness.SandboxProcess, connection: int, env: dict[str, str]) -> dict[str, Any]:
    run = harness.measure(sandbox, "sync", ["--connection", str(connection)], env)
    if run["status"] != "succeeded":
        raise SystemExit(f"An incremental sync ended {run['status']}: {run['error']}")
    return run


def change_leads(sandbox: harness.SandboxProcess, lead_ids: list[int]) -> dict[str, Any]:
    """Write the description of every hundredth lead, which moves its write_date to now."""
    changed = lead_ids[::CHANGE_STEP]
    started = time.perf_counter()
    for lead_id in changed:
        sandbox.control("PATCH", f"/leads/{lead_id}", json={"description": f"Changed by the benchmark ({lead_id})"})
    return {"changed": len(changed), "seconds": time.perf_counter() - started}


def measure_lead_count(leads: int, arguments: argparse.Namespace) -> dict[str, Any]:
    print(f"--- {leads} generated leads", flush=True)
    with harness.scratch_database(arguments.database) as url, harness.SandboxProcess(leads, arguments.analyze_sandbox) as sandbox:
        env = harness.worker_env(url)
        connection = harness.link(sandbox, env, "incremental")
        lead_ids = sandbox.lead_ids()
        full = harness.measure(sandbox, "sync", ["--connection", str(connection), "--full"], env)
        if full["status"] != "succeeded" or full["fetched"] != len(lead_ids):
            raise SystemExit(f"The full sync ended {full['status']} with {full['fetched']} of {len(lead_ids)} leads.")
        print(f"full sync: {full['seconds']:.2f} s", flush=True)
        unchanged = [incremental(sandbox, connection, env) for _ in range(arguments.repeat)]
        change = change_leads(sandbox, lead_ids)
        print(f"changed {change['changed']} leads in {change['seconds']:.2f} s", flush=True)
        after_change = incremental(sandbox, connection, env)
        within_overlap = incremental(sandbox, connection, env)
    return {
        "generated": leads,
        "total": len(lead_ids),
        "full": full,
        "unchanged": unchanged,
        "change": change,
        "after_change": after_change,
        "unchanged_within_overlap": within_overlap,
    }


def print_lead_count(result: dict[str, Any]) -> None:
    print(f"\n{result['generated']} generated leads, {result['total']} leads in the sandbox")
    runs = [("full sync", result["full"])]
    runs += [(f"nothing changed #{number}", run) for number, run in enumerate(result["unchanged"], 1)]
    runs += [
        (f"{result['change']['changed']} leads changed (1 %)", result["after_change"]),
        ("nothing changed, within the overlap", result["unchanged_within_overlap"]),
    ]
    rows = [
        [
            label,
            f"{run['seconds']:.3f}",
            run["data_requests"],
            run["pages"],
            run["fetched"],
            run["created"],
            run["updated"],
            run["queries"],
            harness.megabytes(run["peak_rss_kb"]),
        ]
        for label, run in runs
    ]
    harness.print_table(
        ["run", "seconds", "data requests", "pages", "fetched", "created", "updated", "SQL statements", "peak RSS MB"],
        rows,
    )
    print(f"Writing the changes through the control API took {result['change']['seconds']:.2f} s (not part of any run).")


def print_targets(results: list[dict[str, Any]]) -> None:
    print("\nTargets")
    rows = []
    for result in results:
        requests_sent = sorted({run["data_requests"] for run in result["unchanged"]})
        met = requests_sent == [UNCHANGED_DATA_REQUESTS]
        rows.append(
            [
                f"nothing changed: exactly {UNCHANGED_DATA_REQUESTS} data request at {result['total']} leads",
                ", ".join(str(count) for count in requests_sent),
                "yes" if met else "NO",
            ]
        )
    harness.print_table(["target", "measured", "met"], rows)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    facts = harness.start_report(arguments)
    results = [measure_lead_count(leads, arguments) for leads in arguments.leads]
    for result in results:
        print_lead_count(result)
    print_targets(results)
    harness.finish_report(arguments, facts, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
