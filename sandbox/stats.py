"""Request counters exposed at `/__sandbox__/stats`, so tests can assert what a client sent."""

from __future__ import annotations

import copy
import threading


def _empty() -> dict:
    return {
        "authorize_requests": 0,
        "authorizations_granted": 0,
        "authorizations_denied": 0,
        # Token endpoint requests by grant_type, failed ones included.
        "token_requests": {},
        "token_errors": {},
        "refresh_requests": 0,
        "data_requests": 0,
        "data_401": 0,
        "revocations": 0,
        "failures_injected": {},
        # Odoo's native APIs: JSON-RPC calls by "service.method", JSON-2 calls by "model/method".
        "jsonrpc_calls": {},
        "json2_calls": {},
        "native_errors": {},
        "login_failures": 0,
        "login_cooldown_refusals": 0,
        "requests_with_cookies": 0,
    }


class Stats:
    """Thread-safe counters; nested dicts count by a key such as the grant type."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters = _empty()

    def increment(self, name: str, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._counters[name] += 1
            else:
                bucket = self._counters[name]
                bucket[key] = bucket.get(key, 0) + 1

    def snapshot(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._counters)

    def reset(self) -> None:
        with self._lock:
            self._counters = _empty()
