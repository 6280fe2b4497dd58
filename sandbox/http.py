"""Response helpers shared by the route modules: JSON bodies, HTML pages and Odoo error bodies."""

from __future__ import annotations

import html
import json

from werkzeug.wrappers import Request, Response


def json_response(data: object, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False)
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


def html_response(body: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status=status, headers=headers, content_type="text/html; charset=utf-8")


def error_body(name: str, message: str, arguments: list | None = None) -> dict:
    """Return Odoo's JSON error object: the exception's dotted name and its message."""
    return {"name": name, "message": message, "arguments": arguments if arguments is not None else [message]}


def html_page(title: str, body_html: str) -> str:
    """Wrap trusted body HTML in a minimal page; callers escape every value they insert."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        "<style>body{font-family:sans-serif;background:#f2f2f2;margin:0}"
        ".card{max-width:420px;margin:60px auto;background:#fff;padding:24px 32px;border-radius:6px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.15)}label{display:block;margin-top:12px}"
        "input[type=text],input[type=password]{width:100%;padding:6px;box-sizing:border-box}"
        ".buttons{margin-top:18px;display:flex;gap:8px}.error{color:#a00}</style>\n"
        f"</head>\n<body>\n<div class=\"card\">\n{body_html}\n</div>\n</body>\n</html>\n"
    )


def request_json(request: Request) -> object:
    """Return the parsed JSON body, or None when the body is empty; raises ValueError when invalid."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise ValueError(f"Invalid JSON body: {error}.") from None
