"""Connection refused is said at once (issue 21 item 8): no 6-8 s of silent retries before the first answer."""

from __future__ import annotations

import re
import socket
import time

import pytest
import requests
import responses
import urllib3
from click.testing import CliRunner

from wpbridge.cli import main
from wpbridge.config import NetworkSettings
from wpbridge.errors import NetworkConnectionError
from wpbridge.rest.transport import RetryPolicy, Transport

SLOW = RetryPolicy(deadline=8, max_retries=6, backoff_initial=0.5, backoff_max=4)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def transport(url: str, retry: RetryPolicy = SLOW) -> Transport:
    return Transport(NetworkSettings(name="t", url=url, api_key="k", api_secret="s", source="test config"),
                     retry=retry)


def test_a_refused_first_connection_is_said_at_once() -> None:
    port = free_port()
    t = transport(f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(NetworkConnectionError) as err:
        t.get("/wp/v2/x")
    assert time.monotonic() - started < 1.0
    assert t.stats.requests == 1 and t.stats.retries == 0
    assert str(err.value).startswith(f"connection refused by 127.0.0.1:{port}: is the server running?")


def refused() -> requests.exceptions.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111]"  # type: ignore[arg-type]
                                                   " Connection refused")
    reason.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


@responses.activate
def test_after_an_answer_a_refused_connection_is_retried_as_a_restart() -> None:
    url = "http://127.0.0.1:8999"
    responses.get(url + "/wp-json/x", json={"ok": 1})
    responses.get(url + "/wp-json/x", body=refused())
    responses.get(url + "/wp-json/x", json={"ok": 2})
    t = transport(url, RetryPolicy(deadline=5, max_retries=3, backoff_initial=0.001, backoff_max=0.001))
    assert t.get("/x").data == {"ok": 1}
    assert t.get("/x").data == {"ok": 2} and t.stats.retries == 1


def test_cli_says_is_the_server_running_at_once(tmp_path: object) -> None:
    port = free_port()
    started = time.monotonic()
    res = CliRunner().invoke(main, ["products", "list"], env={
        "WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": f"http://127.0.0.1:{port}", "WPBRIDGE_API_KEY": "k",
        "WPBRIDGE_API_SECRET": "s"})
    assert time.monotonic() - started < 2.0
    assert res.exit_code == 1 and res.stdout == "" and res.stderr.count("\n") == 1
    assert res.stderr.startswith(f"error: connection refused by 127.0.0.1:{port}: is the server running?")


@responses.activate
def test_a_wrong_secret_is_an_error_line() -> None:
    responses.get(re.compile(r"http://127\.0\.0\.1:8999/.*"), status=401,
                  json={"code": "rest_forbidden", "message": "Sorry, you are not allowed to do that.",
                        "data": {"status": 401}})
    res = CliRunner().invoke(main, ["products", "list"], env={
        "WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": "http://127.0.0.1:8999", "WPBRIDGE_API_KEY": "k",
        "WPBRIDGE_API_SECRET": "wrong-secret-value"})
    assert res.exit_code == 1 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("error: authentication failed: ") and "wrong-secret-value" not in res.stderr
