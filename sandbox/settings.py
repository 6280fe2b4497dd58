"""Run-time switches of the sandbox, changed live through `/__sandbox__/config`."""

from __future__ import annotations

import copy
import threading
from dataclasses import asdict, dataclass, field, fields

from sandbox.models import DEFAULT_VERSION, SUPPORTED_VERSIONS

DATA_FAILURE_KINDS = ("500", "503_html", "429", "timeout")
TOKEN_FAILURE_KINDS = ("invalid_grant", "invalid_client", "503_html", "429", "html_login_page", "timeout")
PRECISIONS = ("microseconds", "seconds")
# Failures the next JSON-RPC object calls or JSON-2 calls answer with, one each (sandbox/README.md).
JSONRPC_FAILURE_KINDS = (
    "session_expired", "access_error", "access_denied", "validation_error", "user_error", "missing_error",
    "server_error", "503_html", "429",
)
JSON2_FAILURE_KINDS = (
    "invalid_apikey", "missing_bearer_403", "access_error", "missing_error", "not_found", "lock_error",
    "validation_error", "user_error", "unprocessable", "bare_string", "server_error", "503_retry_after", "429",
)


@dataclass
class Switches:
    """Values of the switches; see sandbox/README.md for what each one changes."""

    odoo_version: int = DEFAULT_VERSION
    # Seconds an access token stays valid (MuK's muk_rest.oauth2_bearer_expires_in_seconds).
    access_token_lifetime: int = 3600
    # Seconds a refresh token keeps working after its access token expired (about 7 days in MuK).
    refresh_token_grace_seconds: int = 7 * 24 * 3600
    refresh_token_reuse_detection: bool = False
    write_date_precision: str = "microseconds"
    data_fail_rate: float = 0.0
    data_fail_kinds: list[str] = field(default_factory=lambda: ["500", "503_html", "429"])
    # Seconds a "timeout" failure waits before it responds with 504.
    timeout_seconds: float = 5.0
    token_fail_next: list[str] = field(default_factory=list)
    seed: int = 0
    # Added to the clock that decides code and token expiry, to expire tokens without waiting.
    clock_offset_seconds: float = 0.0
    # Odoo's base.login_cooldown_after (0 turns the cooldown off) and base.login_cooldown_duration (seconds).
    login_cooldown_after: int = 10
    login_cooldown_duration: int = 60
    jsonrpc_fail_next: list[str] = field(default_factory=list)
    json2_fail_next: list[str] = field(default_factory=list)
    # Status of a JSON-2 request without a bearer key: 401, or 403 as early 19.0 builds answered.
    json2_missing_bearer_status: int = 401


def _check_kinds(name: str, value: object, allowed: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(kind, str) for kind in value):
        raise ValueError(f"Invalid {name} {value!r}: expected a list of strings from {list(allowed)}.")
    unknown = [kind for kind in value if kind not in allowed]
    if unknown:
        raise ValueError(f"Invalid {name}: unknown failure kinds {unknown}; use kinds from {list(allowed)}.")
    return list(value)


def _check_number(name: str, value: object, minimum: float, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Invalid {name} {value!r}: expected a number.")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValueError(f"Invalid {name} {value!r}: must be {bounds}.")
    return value


def validate_switch(name: str, value: object) -> object:
    """Return the validated value of one switch; raises ValueError naming the switch."""
    if name == "odoo_version":
        if value not in SUPPORTED_VERSIONS or isinstance(value, bool):
            raise ValueError(f"Invalid odoo_version {value!r}: use one of {list(SUPPORTED_VERSIONS)}.")
        return value

    integers = ("access_token_lifetime", "refresh_token_grace_seconds", "seed")
    if name in integers + ("login_cooldown_after", "login_cooldown_duration"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Invalid {name} {value!r}: expected an integer.")
        return int(_check_number(name, value, 0 if name != "access_token_lifetime" else 1))

    if name == "refresh_token_reuse_detection":
        if not isinstance(value, bool):
            raise ValueError(f"Invalid {name} {value!r}: expected true or false.")
        return value

    if name == "write_date_precision":
        if value not in PRECISIONS:
            raise ValueError(f"Invalid write_date_precision {value!r}: use one of {list(PRECISIONS)}.")
        return value

    if name == "data_fail_rate":
        return float(_check_number(name, value, 0.0, 1.0))

    if name == "timeout_seconds":
        return float(_check_number(name, value, 0.0, 600.0))

    if name == "clock_offset_seconds":
        return float(_check_number(name, value, -10 * 365 * 86400.0, 10 * 365 * 86400.0))

    if name == "data_fail_kinds":
        kinds = _check_kinds(name, value, DATA_FAILURE_KINDS)
        if not kinds:
            raise ValueError("Invalid data_fail_kinds []: give at least one kind.")
        return kinds

    if name == "token_fail_next":
        return _check_kinds(name, value, TOKEN_FAILURE_KINDS)

    if name == "jsonrpc_fail_next":
        return _check_kinds(name, value, JSONRPC_FAILURE_KINDS)

    if name == "json2_fail_next":
        return _check_kinds(name, value, JSON2_FAILURE_KINDS)

    if name == "json2_missing_bearer_status":
        if value not in (401, 403) or isinstance(value, bool):
            raise ValueError(f"Invalid json2_missing_bearer_status {value!r}: use 401 or 403.")
        return value

    known = ", ".join(item.name for item in fields(Switches))
    raise ValueError(f"Unknown switch {name!r}: known switches are {known}.")


class Settings:
    """Thread-safe holder of the switches."""

    def __init__(self, **initial):
        self._lock = threading.Lock()
        self._initial = Switches(**{name: validate_switch(name, value) for name, value in initial.items()})
        self._switches = copy.deepcopy(self._initial)
        self._seed_generation = 0

    def __getattr__(self, name: str):
        # Only called for names that are not attributes of Settings itself.
        if name.startswith("_"):
            raise AttributeError(name)
        with self._lock:
            return copy.deepcopy(getattr(self._switches, name))

    def as_dict(self) -> dict:
        with self._lock:
            return copy.deepcopy(asdict(self._switches))

    def update(self, changes: dict) -> dict:
        """Validate every change first, then apply them all; returns the new switch values."""
        if not isinstance(changes, dict):
            raise ValueError(f"Invalid configuration {changes!r}: expected an object of switches.")
        validated = {name: validate_switch(name, value) for name, value in changes.items()}
        with self._lock:
            for name, value in validated.items():
                setattr(self._switches, name, value)
            if "seed" in validated:
                self._seed_generation += 1
            return copy.deepcopy(asdict(self._switches))

    def reset(self) -> None:
        with self._lock:
            self._switches = copy.deepcopy(self._initial)
            self._seed_generation += 1

    @property
    def seed_generation(self) -> int:
        """Counter bumped whenever `seed` is set, even to its current value, to restart random sequences."""
        with self._lock:
            return self._seed_generation

    def pop_next(self, name: str) -> str | None:
        """Take the first entry of a queue switch such as `json2_fail_next`, if any."""
        with self._lock:
            queue = getattr(self._switches, name)
            return queue.pop(0) if queue else None

    def pop_token_failure(self) -> str | None:
        """Take the next queued token endpoint failure, if any."""
        with self._lock:
            if not self._switches.token_fail_next:
                return None
            return self._switches.token_fail_next.pop(0)
