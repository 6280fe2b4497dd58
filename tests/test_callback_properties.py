"""Property-based tests of the OAuth callback view with arbitrary query strings, states and errors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings, strategies as st

from connections import authorization
from connections.models import AuthorizationRequest, OAuthToken, hash_state
from tests.factories import TOKEN_URL, make_connection

pytestmark = pytest.mark.django_db

CALLBACK = "/odoo/oauth/callback/"
REDIRECT_URI = "http://testserver/odoo/oauth/callback/"
TOKEN_BODY = {"access_token": "AT-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT-1"}
# Enough examples to mix every state kind with odd codes and errors, and still run in seconds.
EXAMPLES = 60

# Text that can be percent-encoded: any character but lone surrogates.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
error_codes = st.one_of(
    st.sampled_from(["access_denied", "invalid_scope", "server_error", "temporarily_unavailable", "invalid_request"]),
    text,
)
STATE_KINDS = ("valid", "foreign", "used", "expired", "random", "missing", "empty")


@st.composite
def callback_queries(draw):
    """Return (state kind, query pairs without the state, raw suffix) for one callback request."""
    pairs = []
    if draw(st.integers(0, 3)) > 0:
        pairs.append(("code", draw(text)))
    if draw(st.integers(0, 3)) == 0:
        pairs.append(("error", draw(error_codes)))
        if draw(st.booleans()):
            pairs.append(("error_description", draw(text)))
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(st.sampled_from(["iss", "next", "redirect", "scope", "session_state", "x"])), draw(text)))
    if draw(st.booleans()):
        # A duplicated parameter: Django reads the last value.
        pairs.append(("code", draw(text)))
    raw = ""
    if draw(st.integers(0, 3)) == 0:
        raw = draw(text.map(lambda value: quote(value, safe="=&")))
    return draw(st.sampled_from(STATE_KINDS)), pairs, raw


@pytest.fixture
def world(admin_user):
    """One connection, the logged-in admin and another staff user."""
    other = get_user_model().objects.create_user("other-staff", password="pw-other-123", is_staff=True)
    return make_connection(), admin_user, other


def state_of_kind(kind, connection, admin, other):
    if kind in ("missing", "empty"):
        return None if kind == "missing" else ""
    if kind == "random":
        return "state-that-was-never-issued"
    owner = other if kind == "foreign" else admin
    state, _challenge = authorization.start(connection, owner, REDIRECT_URI)
    pending = AuthorizationRequest.objects.get(state_hash=hash_state(state))
    if kind == "used":
        pending.used_at = timezone.now()
        pending.save(update_fields=["used_at"])
    elif kind == "expired":
        AuthorizationRequest.objects.filter(pk=pending.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return state


def assert_local_admin_location(response):
    location = response["Location"]
    parts = urlsplit(location)
    assert not parts.scheme, location
    assert not parts.netloc, location
    assert location.startswith("/admin/"), location
    assert "\\" not in location, location


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=callback_queries())
def test_callback_never_fails_or_leaks(query, world, admin_client):
    connection, admin, other = world
    kind, pairs, raw = query
    OAuthToken.objects.filter(connection=connection).delete()
    state = state_of_kind(kind, connection, admin, other)
    state_pairs = [] if state is None else [("state", state)]
    query_string = urlencode(state_pairs + pairs)
    if raw:
        query_string = f"{raw}&{query_string}" if query_string else raw
    seen = parse_qs(query_string, keep_blank_values=True)
    code = seen.get("code", [""])[-1]
    has_error = bool(seen.get("error", [""])[-1])
    # A raw suffix may carry its own state; only the issued one may lead to an exchange.
    exchange_allowed = kind == "valid" and seen.get("state", [""])[-1] == state and bool(code) and not has_error
    event(f"state {kind}, exchange {'allowed' if exchange_allowed else 'refused'}")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(TOKEN_URL, json=TOKEN_BODY)
        response = admin_client.get(f"{CALLBACK}?{query_string}")

        assert response.status_code == 302, response.content[:300]
        assert_local_admin_location(response)
        calls = [call.request for call in mocked.calls]
        if exchange_allowed:
            assert len(calls) == 1
            assert calls[0].url == TOKEN_URL
            assert parse_qs(calls[0].body)["code"] == [code]
            assert OAuthToken.objects.filter(connection=connection).exists()
        else:
            assert calls == []
            assert not OAuthToken.objects.filter(connection=connection).exists()


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=80))
def test_callback_survives_raw_bytes(raw, world, admin_client):
    connection, _admin, _other = world

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(TOKEN_URL, json=TOKEN_BODY)
        response = admin_client.get(CALLBACK, QUERY_STRING=quote(raw, safe=b"=&%+"))

        assert response.status_code == 302
        assert_local_admin_location(response)
        assert len(mocked.calls) == 0
    assert not OAuthToken.objects.filter(connection=connection).exists()
