"""Command line entry point: `python -m sandbox --port 8069 --db var/sandbox.sqlite3`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from sandbox.app import Sandbox
from sandbox.models import DEFAULT_VERSION, SUPPORTED_VERSIONS
from sandbox.oauth.store import DEFAULT_REDIRECT_URI
from sandbox.server import HOST, build_server

logger = logging.getLogger("sandbox")


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Run the Odoo CRM sandbox (MuK REST OAuth and data API) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8069, help="TCP port on 127.0.0.1; 0 picks a free port (default 8069)")
    parser.add_argument("--db", default="var/sandbox.sqlite3", help="SQLite file, created if missing (default var/sandbox.sqlite3)")
    parser.add_argument("--seed-leads", type=int, default=0, metavar="N", help="generated leads to add when seeding (default 0)")
    parser.add_argument("--reset", action="store_true", help="drop all data and seed again on start")
    parser.add_argument(
        "--odoo-version",
        type=int,
        default=DEFAULT_VERSION,
        choices=SUPPORTED_VERSIONS,
        help=f"Odoo major version to emulate (default {DEFAULT_VERSION})",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        metavar="URL",
        help=f"redirect URI of the default OAuth client, repeatable (default {DEFAULT_REDIRECT_URI})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for demo data and failure injection (default 0)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    return parser.parse_args(argv)


def _stop_on_sigterm(signum, frame) -> None:
    # Raising here unwinds serve_forever() in the main thread, like Ctrl-C does.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if arguments.seed_leads < 0:
        logger.error("Invalid --seed-leads %d: use 0 or more.", arguments.seed_leads)
        return 2
    sandbox = Sandbox(
        arguments.db,
        seed_value=arguments.seed,
        seed_leads=arguments.seed_leads,
        reset=arguments.reset,
        odoo_version=arguments.odoo_version,
        redirect_uris=arguments.redirect_uris,
    )
    try:
        server = build_server(sandbox, arguments.port, arguments.verbose)
    except OSError as error:
        logger.error("Cannot listen on %s:%d: %s", HOST, arguments.port, error)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"Sandbox listening on http://{HOST}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stopping.set()
        server.server_close()
        sandbox.close()
        print("Sandbox stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
