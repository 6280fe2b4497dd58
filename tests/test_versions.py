"""Server version parsing, dialect choice and version reading over real HTTP."""

from __future__ import annotations

import pytest
import responses

from connections.odoo.errors import OdooBadResponse, OdooUnsupportedVersion
from connections.odoo.transport import new_session
from connections.odoo.version import choose_dialect, fetch_version, parse_version

ODOO = "https://odoo.example.test"


@pytest.mark.parametrize(
    ("label", "info", "major", "minor", "saas", "edition", "dialect"),
    [
        ("14.0", [14, 0, 0, "final", 0, ""], 14, 0, False, "Community", "jsonrpc"),
        ("16.0+e", None, 16, 0, False, "Enterprise", "jsonrpc"),
        ("17.0", [17, 0, 0, "final", 0, "e"], 17, 0, False, "Enterprise", "jsonrpc"),
        ("saas~17.4", ["saas~17", 4, 0, "final", 0, ""], 17, 4, True, "Community", "jsonrpc"),
        ("18.0", None, 18, 0, False, "", "jsonrpc"),
        ("saas~18.3", None, 18, 3, True, "", "jsonrpc"),
        ("saas~18.4", None, 18, 4, True, "", "json2"),
        ("19.0", [19, 0, 0, "final", 0, ""], 19, 0, False, "Community", "json2"),
        ("saas~19.1+e", None, 19, 1, True, "Enterprise", "json2"),
    ],
)
def test_parse_and_choose(label, info, major, minor, saas, edition, dialect):
    version = parse_version(label, info)
    assert (version.major, version.minor, version.saas, version.edition) == (major, minor, saas, edition)
    assert str(version) == label
    assert choose_dialect(version) == dialect


def test_before_api_keys_unsupported():
    with pytest.raises(OdooUnsupportedVersion):
        choose_dialect(parse_version("13.0"))


@pytest.mark.parametrize("label", [None, "", "nineteen", 19])
def test_unreadable_version(label):
    with pytest.raises(OdooBadResponse):
        parse_version(label)


@pytest.mark.parametrize("version", [16, 17, 18, 19])
def test_fetch_from_sandbox(sandbox, control, version):
    control.configure(odoo_version=version)
    assert fetch_version(new_session(), sandbox.url, timeout=5).label == f"{version}.0"


@responses.activate
def test_falls_back_to_jsonrpc():
    responses.get(f"{ODOO}/web/version", body="<html>Not Found</html>", status=404, content_type="text/html")
    result = {"server_version": "saas~18.4", "server_version_info": ["saas~18", 4, 0, "final", 0, ""]}
    responses.post(f"{ODOO}/jsonrpc", json={"jsonrpc": "2.0", "id": 1, "result": result})

    version = fetch_version(new_session(), ODOO, timeout=5)

    assert version.label == "saas~18.4"
    assert choose_dialect(version) == "json2"
    assert b'"common"' in responses.calls[1].request.body
