"""Credentials travel only in the Authorization header, never in a URL (issue 20, "left to decide"): UM's own `wu/v2`
accepts `api_key` / `api_secret` in the query string, where proxies, access logs and browser histories keep them;
wpbridge never sends them there, whatever the call (reads, paged lists, writes, batches, locks, retries)."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
import responses

from wpbridge.config import NetworkSettings
from wpbridge.errors import WPBridgeError
from wpbridge.models import Limitations
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8999"
KEY = "KEY-query-sentinel-51e2"
SECRET = "S3CRET-query-sentinel-9a7c"
CREDENTIAL_PARAMS = {"api_key", "api_secret", "key", "secret", "consumer_key", "consumer_secret", "password",
                     "username", "user", "auth", "token", "_wpnonce"}


def net() -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key=KEY, api_secret=SECRET, source="test config")
    return Network(settings, retry=RetryPolicy(deadline=0.2, max_retries=1, backoff_initial=0.001, backoff_max=0.001))


def credentials_in_url(url: str) -> list[str]:
    """What of the credentials a URL carries (empty when none): the key or secret anywhere in it (raw or
    percent-encoded), a userinfo part, or a query parameter whose name is a credential's."""
    parts = urlsplit(url)
    found = [what for what, value in (("api key", KEY), ("api secret", SECRET)) if value in unquote(url)]
    if parts.username or parts.password:
        found.append("userinfo")
    found += [f"query {name}" for name, _ in parse_qsl(parts.query, keep_blank_values=True)
              if name.lower() in CREDENTIAL_PARAMS]
    return found


def test_the_check_itself_sees_credentials_in_a_url() -> None:
    assert credentials_in_url(f"{URL}/wp-json/wu/v2/auth?api_key={KEY}&api_secret={SECRET}") == [
        "api key", "api secret", "query api_key", "query api_secret"]
    assert credentials_in_url("http://u:p@127.0.0.1/wp-json/?x=1") == ["userinfo"]
    assert credentials_in_url(f"{URL}/wp-json/wu/v2/membership?per_page=100&page=2") == []


Call = Callable[[Network], Any]

CALLS: list[tuple[str, Call]] = [
    ("check_auth", lambda n: n.check_auth()),
    ("info", lambda n: n.info()),
    ("memberships.list", lambda n: list(n.memberships.list())),
    ("memberships.get", lambda n: n.memberships.get(7)),
    ("memberships.update", lambda n: n.memberships.update(7, {"plan_id": 2})),
    ("customers.list", lambda n: list(n.customers.list())),
    ("sites.list", lambda n: list(n.sites.list())),
    ("quotas.list", lambda n: list(n.quotas.list([2, 3]))),
    ("quotas.put", lambda n: n.quotas.put(2, Limitations.model_validate({"visits": {"enabled": True, "limit": 1}}))),
    ("quotas.put_many", lambda n: n.quotas.put_many({2: Limitations(), 3: Limitations()})),
    ("locks.acquire", lambda n: n.locks.acquire("sync", "owner", 60)),
    ("schedule.get", lambda n: n.schedule.get(7)),
    ("get with params", lambda n: n.transport.get("/wu/v2/membership", params={"customer_id": 3, "status": "active"})),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[c[0] for c in CALLS])
@pytest.mark.parametrize("status", [200, 401, 500])
def test_no_request_carries_credentials_in_its_url(name: str, call: Call, status: int) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add(method, re.compile(re.escape(URL) + r"/.*"), status=status, json={"code": "x", "message": "x"})
        with net() as network, contextlib.suppress(WPBridgeError, ValueError):  # only what was sent matters
            call(network)
        sent: list[requests.PreparedRequest] = [c.request for c in mock.calls]
    assert sent, f"{name} sent nothing"
    expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    for request in sent:
        assert request.url is not None
        assert credentials_in_url(request.url) == [], (name, request.url)
        assert request.headers.get("Authorization") == expected, (name, request.url)
