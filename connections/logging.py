"""Log filter that masks credentials a third-party library might log."""

from __future__ import annotations

import logging
import re

# Key/value pairs as they appear in form bodies, query strings, JSON and
# Python reprs, plus Authorization header values.
_SECRET_PAIR = re.compile(
    r"""(?P<key>["']?(?:access_token|refresh_token|id_token|code|code_verifier|client_secret|"""
    r"""api_key|password|token|state)["']?\s*[=:]\s*["']?)(?P<value>[^"'&,\s}]+)""",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(r"(?P<key>\b(?:Bearer|Basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE)
MASK = "[redacted]"


def redact(text: str) -> str:
    text = _SECRET_PAIR.sub(lambda match: match.group("key") + MASK, text)
    return _AUTH_HEADER.sub(lambda match: match.group("key") + MASK, text)


class RedactSecretsFilter(logging.Filter):
    """Defence in depth: the project itself never logs secrets, but libraries may."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
