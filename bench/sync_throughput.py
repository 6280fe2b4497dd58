"""Measure the initial sync of N leads against its limits and a naive baseline, and print the ratios.

For each lead count the script creates a scratch PostgreSQL database and
starts a sandbox seeded with that many generated leads (plus its demo
leads). It links two connections through the OAuth code flow and runs the
following, each in its own worker process and in this order:

1. fetch only: the product's keyset pages with plain requests and JSON
   decoding, no database; then the same requests again reading only the
   bytes, which is the sandbox's own serving rate;
2. fetch + copy: the same pages, each loaded with PostgreSQL COPY;
3. the product: ``crm.sync.run_sync(connection, full=True, sliced=False)``;
4. naive: the same pages saved with one ``update_or_create`` per lead, on
   the first ``--naive-limit`` leads, extrapolated per lead to all of them.

At the smallest lead count it also syncs with several ODOO_SYNC_PAGE_SIZE
values to show how SQL statements per page depend on the page size.

Usage: .venv/bin/python bench/sync_throughput.py --leads 10000 100000 [--analyze-sandbox]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

# Targets from the project's performance goals, checked at the largest lead count.
MAX_RATIO_TO_FETCH_COPY = 1.5
MIN_SPEEDUP_OVER_NAIVE = 10.0
MAX_RSS_GROWTH_MB = 30.0
MAX_QUERIES_PER_PAGE = 6


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_common_arguments(parser, "odoo_crm_bench_sync")
    parser.add_argument(
        "--naive-limit",
        type=int,
        default=10_000,
        help="leads saved by the naive baseline before it stops; its time is extrapolated per lead (default 10000)",
    )
    parser.add_argument(
        "--page-sizes",
        type=int,
        nargs="+",
        default=[100, 500, 2000],
        help="ODOO_SYNC_PAGE_SIZE values synced at the smallest lead count (default 100 500 2000)",
    )
    arguments = parser.parse_args(argv)
    harness.check_lead_counts(parser, arguments)
    if arguments.quick:
        # --quick also shortens the naive run and the page size sweep.
        arguments.naive_limit, arguments.page_sizes = 1_000, [100, 1000]
    if arguments.naive_limit < 1 or min(arguments.page_sizes) < 1:
        parser.error("Invalid --naive-limit or --page-sizes: each must be at least 1.")
    return arguments


def measure_lead_count(leads: int, arguments: argparse.Namespace, sweep: bool) -> dict[str, Any]:
    """Run every workload against one sandbox seeded with ``leads`` generated leads."""
    print(f"--- {leads} generated leads", flush=True)
    with harness.scratch_database(arguments.database) as url, harness.SandboxProcess(leads, arguments.analyze_sandbox) as sandbox:
        env = harness.worker_env(url)
        product_connection = harness.link(sandbox, env, "product")
        naive_connection = harness.link(sandbox, env, "naive")
        total = len(sandbox.lead_ids())
        result: dict[str, Any] = {"generated": leads, "total": total}
        steps = [
            ("fetch_only", "fetch-only", ["--connection", str(product_connection)]),
            ("fetch_copy", "fetch-copy", ["--connection", str(product_connection)]),
            ("product", "sync", ["--connection", str(product_connection), "--full"]),
            ("naive", "naive", ["--connection", str(naive_connection), "--limit", str(arguments.naive_limit)]),
        ]
        for key, mode, worker_arguments in steps:
            result[key] = harness.measure(sandbox, mode, worker_arguments, env)
            print(f"{key}: {result[key]['seconds']:.2f} s", flush=True)
        if sweep:
            result["page_sizes"] = {}
            for size in arguments.page_sizes:
                connection = harness.link(sandbox, env, f"pages-{size}")
                run = harness.measure(
                    sandbox, "sync", ["--connection", str(connection), "--full"], harness.worker_env(url, size)
                )
                result["page_sizes"][str(size)] = run
                print(f"page size {size}: {run['seconds']:.2f} s", flush=True)
    return result


def check_runs(result: dict[str, Any]) -> None:
    """Stop when a run did not read every lead, so no figure compares unequal work."""
    total = result["total"]
    runs = [result["product"], *result.get("page_sizes", {}).values()]
    for run in runs:
        if run["status"] != "succeeded" or run["fetched"] != total:
            raise SystemExit(f"A product sync ended {run['status']} with {run['fetched']} of {total} leads: {run['error']}")
    for key in ("fetch_only", "fetch_copy"):
        if result[key]["fetched"] != total:
            raise SystemExit(f"The {key} baseline read {result[key]['fetched']} of {total} leads.")


def cpu_seconds(run: dict[str, Any]) -> float:
    """Return the CPU time of a run in the worker, its PostgreSQL backends and the sandbox."""
    return run["worker_cpu_seconds"] + run["database_cpu_seconds"] + run["sandbox_cpu_seconds"]


def naive_seconds(result: dict[str, Any]) -> float:
    """Return the naive baseline's time for every lead, extrapolated per lead from its subset."""
    naive = result["naive"]
    return naive["seconds"] / naive["fetched"] * result["total"]


def print_lead_count(result: dict[str, Any]) -> None:
    print(f"\n{result['generated']} generated leads, {result['total']} leads in the sandbox")
    print_runs(result)
    print_details(result)
    print_ratios(result)


def print_runs(result: dict[str, Any]) -> None:
    runs = (
        ("fetch only", result["fetch_only"]),
        ("fetch + copy", result["fetch_copy"]),
        ("product", result["product"]),
        ("naive", result["naive"]),
    )
    rows = []
    for label, run in runs:
        rows.append(
            [
                label,
                run["fetched"],
                run["pages"],
                run["data_requests"],
                f"{run['seconds']:.2f}",
                f"{run['fetched'] / run['seconds']:.0f}",
                f"{run['worker_cpu_seconds']:.2f}",
                f"{run['database_cpu_seconds']:.2f}",
                f"{run['sandbox_cpu_seconds']:.2f}",
                harness.megabytes(run["peak_rss_kb"]),
            ]
        )
    harness.print_table(
        [
            "run",
            "leads",
            "pages",
            "data requests",
            "seconds",
            "leads/s",
            "worker CPU s",
            "PostgreSQL CPU s",
            "sandbox CPU s",
            "peak RSS MB",
        ],
        rows,
    )


def print_details(result: dict[str, Any]) -> None:
    total, product, naive = result["total"], result["product"], result["naive"]
    serve = result["fetch_only"]["serve"]
    print(
        f"Sandbox serving only: the fetch-only requests sent again, reading only the bytes: "
        f"{serve['data_requests']} requests in {serve['seconds']:.2f} s = {serve['data_requests'] / serve['seconds']:.0f}"
        f" requests/s, {total / serve['seconds']:.0f} leads/s, {serve['bytes'] / serve['seconds'] / 2**20:.1f} MiB/s,"
        f" sandbox CPU {serve['sandbox_cpu_seconds']:.2f} s. The product sent "
        f"{product['data_requests'] / product['seconds']:.0f} requests/s."
    )
    print(
        f"Product SQL statements: {product['queries']} in {product['pages']} pages = "
        f"{product['queries'] / product['pages']:.1f} per page; per page after the first: "
        f"{product['queries_per_page_min']} to {product['queries_per_page_max']}; "
        f"first page (with run setup) {product['queries_first_page']}."
    )
    print(
        f"Product worker RSS: {harness.megabytes(product['rss_before_kb'])} MB before the run, "
        f"peak {harness.megabytes(product['peak_rss_kb'])} MB."
    )
    print(
        f"Naive baseline: {naive['fetched']} leads in {naive['seconds']:.2f} s, "
        f"{naive['queries'] / naive['fetched']:.1f} SQL statements per lead; "
        f"{naive_seconds(result):.1f} s for {total} leads{extrapolation_note(result)}."
    )


def extrapolation_note(result: dict[str, Any]) -> str:
    return " (extrapolated per lead)" if result["naive"]["fetched"] < result["total"] else ""


def print_ratios(result: dict[str, Any]) -> None:
    total = result["total"]
    product, fetch_only, fetch_copy, naive = (result[key] for key in ("product", "fetch_only", "fetch_copy", "naive"))
    extrapolated = extrapolation_note(result)
    saving = (product["seconds"] - fetch_only["seconds"]) / total * 1000
    copying = (fetch_copy["seconds"] - fetch_only["seconds"]) / total * 1000
    print(f"Time beyond fetch only, per lead: product {saving:.3f} ms, copy {copying:.3f} ms.")
    print(f"Ratio product / fetch only: {harness.ratio(product['seconds'], fetch_only['seconds'])}")
    print(f"Ratio product / fetch + copy: {harness.ratio(product['seconds'], fetch_copy['seconds'])}")
    print(f"Ratio naive / product: {harness.ratio(naive_seconds(result), product['seconds'])}{extrapolated}")
    naive_cpu = cpu_seconds(naive) / naive["fetched"] * total
    print(
        "Ratios of CPU seconds (worker + PostgreSQL + sandbox), which other work on the machine does not stretch: "
        f"product / fetch only {harness.ratio(cpu_seconds(product), cpu_seconds(fetch_only))}, "
        f"product / fetch + copy {harness.ratio(cpu_seconds(product), cpu_seconds(fetch_copy))}, "
        f"naive / product {harness.ratio(naive_cpu, cpu_seconds(product))}{extrapolated}."
    )


def print_page_sizes(result: dict[str, Any]) -> None:
    # These runs add leads to a table that already contains other connections'
    # leads, so only their counts are printed, not their times.
    print(f"\nSQL statements per page by ODOO_SYNC_PAGE_SIZE, {result['total']} leads")
    rows = []
    for size, run in result["page_sizes"].items():
        rows.append(
            [
                size,
                run["pages"],
                run["data_requests"],
                run["queries"],
                f"{run['queries'] / run['pages']:.1f}",
                f"{run['queries_per_page_min']}-{run['queries_per_page_max']}",
                run["queries_first_page"],
            ]
        )
    harness.print_table(
        ["page size", "pages", "data requests", "statements", "per page", "per later page", "first page"],
        rows,
    )


def print_growth(results: list[dict[str, Any]]) -> None:
    print("\nGrowth with the lead count (product)")
    rows = []
    for result in results:
        product = result["product"]
        rows.append(
            [
                result["total"],
                f"{product['seconds']:.2f}",
                f"{product['seconds'] / result['total'] * 1000:.3f}",
                product["data_requests"],
                f"{product['queries'] / product['pages']:.1f}",
                harness.megabytes(product["peak_rss_kb"]),
            ]
        )
    harness.print_table(["leads", "seconds", "ms per lead", "data requests", "statements per page", "peak RSS MB"], rows)


def print_targets(results: list[dict[str, Any]]) -> None:
    smallest, largest = results[0], results[-1]
    product = largest["product"]
    copy_ratio = product["seconds"] / largest["fetch_copy"]["seconds"]
    speedup = naive_seconds(largest) / product["seconds"]
    growth_mb = (product["peak_rss_kb"] - smallest["product"]["peak_rss_kb"]) / 1024
    worst_page = max(
        run["queries_per_page_max"]
        for result in results
        for run in [result["product"], *result.get("page_sizes", {}).values()]
    )
    checks = [
        (f"product <= {MAX_RATIO_TO_FETCH_COPY}x fetch + copy at {largest['total']} leads", f"{copy_ratio:.2f}x", copy_ratio <= MAX_RATIO_TO_FETCH_COPY),
        (f"product >= {MIN_SPEEDUP_OVER_NAIVE:.0f}x faster than naive at {largest['total']} leads", f"{speedup:.1f}x", speedup >= MIN_SPEEDUP_OVER_NAIVE),
        (
            f"peak RSS growth {smallest['total']} -> {largest['total']} leads <= {MAX_RSS_GROWTH_MB:.0f} MB",
            f"{growth_mb:.1f} MB",
            growth_mb <= MAX_RSS_GROWTH_MB if len(results) > 1 else None,
        ),
        (f"<= {MAX_QUERIES_PER_PAGE} SQL statements per page after the first", str(worst_page), worst_page <= MAX_QUERIES_PER_PAGE),
    ]
    print("\nTargets")
    harness.print_table(["target", "measured", "met"], [[name, value, verdict(met)] for name, value, met in checks])


def verdict(met: bool | None) -> str:
    """Return how a target reads in the table; None means it could not be measured in this run."""
    if met is None:
        return "n/a"
    return "yes" if met else "NO"


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    facts = harness.start_report(arguments)
    results = []
    for leads in arguments.leads:
        result = measure_lead_count(leads, arguments, sweep=leads == arguments.leads[0])
        check_runs(result)
        results.append(result)
    for result in results:
        print_lead_count(result)
    print_page_sizes(results[0])
    print_growth(results)
    print_targets(results)
    harness.finish_report(arguments, facts, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
