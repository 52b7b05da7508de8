"""The transport: retries only where safe, error mapping, redirects, logging, counters."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
import requests
import responses

from wpbridge import __version__
from wpbridge.config import NetworkSettings
from wpbridge.errors import (
    AuthError,
    ConfigError,
    Conflict,
    InvalidRequestError,
    NetworkConnectionError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RedirectError,
    ServerError,
)
from wpbridge.rest.transport import RetryPolicy, Transport

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
SECRET = "S3CRET-sentinel-7d1f0a9b"
FAST = RetryPolicy(deadline=0.5, max_retries=100, backoff_initial=0.001, backoff_max=0.01, retry_after_cap=5)


def make(retry: RetryPolicy = FAST, **kw: Any) -> Transport:
    settings = NetworkSettings(name="t", url=URL, api_key="key-sentinel", api_secret=SECRET, source="test config", **kw)
    return Transport(settings, retry=retry)


def wp_error(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}


@responses.activate
def test_503_then_200_is_retried_and_counted() -> None:
    responses.get(ROOT + "/wu/v2/membership/1", status=503, json=wp_error("x", "busy", 503))
    responses.get(ROOT + "/wu/v2/membership/1", json={"id": 1})
    t = make()
    assert t.get("/wu/v2/membership/1").data == {"id": 1}
    assert len(responses.calls) == 2
    assert (t.stats.requests, t.stats.retries) == (2, 1) and t.stats.bytes > 0


class FakeClock:
    """Stands in for the clock tenacity reads (its `time` module) and for `Transport(sleep=)`: no wall time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@responses.activate
def test_503_forever_gives_up_by_the_deadline_with_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(ROOT + "/wu/v2/site", status=503, body="<html>maintenance</html>")
    clock = FakeClock()
    monkeypatch.setattr("tenacity.time", clock)
    settings = make().settings
    t = Transport(settings, retry=RetryPolicy(deadline=3.0, max_retries=10_000, backoff_initial=0.1, backoff_max=0.5),
                  sleep=clock.sleep)
    with pytest.raises(ServerError) as err:
        t.get("/wu/v2/site", {"page": 1})
    assert sum(clock.sleeps) <= 3.0, "no pause may end past the deadline"
    assert sum(clock.sleeps) > 3.0 - 0.5, "it kept trying until the next pause would pass the deadline"
    assert err.value.status == 503 and err.value.path == "/wp-json/wu/v2/site" and err.value.method == "GET"
    assert "not WordPress JSON" in str(err.value)
    assert len(responses.calls) == len(clock.sleeps) + 1 and t.stats.retries == len(clock.sleeps)


@responses.activate
def test_max_retries_bounds_the_attempts() -> None:
    responses.get(ROOT + "/x", status=502)
    t = make(RetryPolicy(deadline=30, max_retries=3, backoff_initial=0.001, backoff_max=0.001))
    with pytest.raises(ServerError):
        t.get("/x")
    assert len(responses.calls) == 4  # the first try and 3 retries


@responses.activate
def test_429_honours_retry_after_capped() -> None:
    slept: list[float] = []
    responses.get(ROOT + "/x", status=429, headers={"Retry-After": "2"}, json=wp_error("too_many", "slow down", 429))
    responses.get(ROOT + "/x", status=429, headers={"Retry-After": "3600"})
    responses.get(ROOT + "/x", json=[])
    t = Transport(make().settings, retry=RetryPolicy(deadline=60, retry_after_cap=7), sleep=slept.append)
    assert t.get("/x").data == []
    assert slept == [2.0, 7.0]


@responses.activate
def test_429_past_the_deadline_raises_rate_limited_with_the_advice() -> None:
    responses.get(ROOT + "/x", status=429, headers={"Retry-After": "30"}, json=wp_error("too_many", "slow", 429))
    t = Transport(make().settings, retry=RetryPolicy(deadline=5, retry_after_cap=60), sleep=lambda s: None)
    with pytest.raises(RateLimited) as err:
        t.get("/x")
    assert err.value.retry_after == 30 and len(responses.calls) == 1
    assert "retry after 30 s" in str(err.value)


@responses.activate
def test_500_is_not_retried() -> None:
    responses.get(ROOT + "/x", status=500, json=wp_error("internal_server_error", "fatal", 500))
    with pytest.raises(ServerError) as err:
        make().get("/x")
    assert len(responses.calls) == 1 and err.value.code == "internal_server_error"


@responses.activate
def test_put_and_delete_are_retried_but_a_plain_post_is_not() -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        responses.add(method, ROOT + "/r", status=504)
        responses.add(method, ROOT + "/r", json={"ok": method})
    responses.post(ROOT + "/r", status=503)
    t = make()
    for method in ("PUT", "DELETE", "PATCH"):
        assert t.request(method, "/r", json_body={"a": 1}).data == {"ok": method}
    with pytest.raises(ServerError):
        t.request("POST", "/r", json_body={"a": 1})
    assert [c.request.method for c in responses.calls][-1] == "POST"
    assert sum(c.request.method == "POST" for c in responses.calls) == 1


@responses.activate
def test_connection_errors_are_retried_then_raised() -> None:
    responses.get(ROOT + "/x", body=requests.exceptions.ConnectionError("refused"))
    t = make(RetryPolicy(deadline=30, max_retries=3, backoff_initial=0.001, backoff_max=0.001))
    with pytest.raises(NetworkConnectionError) as err:
        t.get("/x")
    assert len(responses.calls) == 4 and "cannot reach 127.0.0.1:8999" in str(err.value)


@responses.activate
def test_tls_failure_is_not_retried() -> None:
    responses.get(ROOT + "/x", body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(NetworkConnectionError, match=r"TLS verification of 127\.0\.0\.1:8999 failed"):
        make().get("/x")
    assert len(responses.calls) == 1


# --------------------------------------------------------------------------- creates


@responses.activate
def test_post_that_times_out_is_looked_up_not_resent() -> None:
    responses.post(ROOT + "/wu/v2/product", body=requests.exceptions.ReadTimeout("read timed out"))
    lookups: list[int] = []

    def lookup() -> dict[str, Any] | None:
        lookups.append(1)
        return {"id": 9, "slug": "gold"}

    assert make().create("/wu/v2/product", {"slug": "gold"}, lookup=lookup) == {"id": 9, "slug": "gold"}
    assert sum(c.request.method == "POST" for c in responses.calls) == 1 and lookups == [1]


@responses.activate
def test_post_that_did_not_land_is_sent_again_after_the_lookup() -> None:
    responses.post(ROOT + "/wu/v2/product", body=requests.exceptions.ReadTimeout("read timed out"))
    responses.post(ROOT + "/wu/v2/product", json={"id": 10, "slug": "gold"}, status=201)
    order: list[str] = []
    responses.calls.reset()

    def lookup() -> dict[str, Any] | None:
        order.append(f"lookup after {len(responses.calls)} POST(s)")
        return None

    assert make().create("/wu/v2/product", {"slug": "gold"}, lookup=lookup) == {"id": 10, "slug": "gold"}
    assert order == ["lookup after 1 POST(s)"] and len(responses.calls) == 2


@responses.activate
def test_post_with_unknown_outcome_and_no_natural_key_is_not_resent() -> None:
    responses.post(ROOT + "/wu/v2/membership", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(OutcomeUnknown) as err:
        make().create("/wu/v2/membership", {"customer_id": 1})
    assert len(responses.calls) == 1
    assert "may or may not have been created" in str(err.value) and err.value.path == "/wp-json/wu/v2/membership"


@responses.activate
def test_post_after_429_is_resent_without_a_lookup() -> None:
    responses.post(ROOT + "/wu/v2/membership", status=429, headers={"Retry-After": "0"})
    responses.post(ROOT + "/wu/v2/membership", json={"id": 3}, status=201)
    assert make().create("/wu/v2/membership", {"customer_id": 1}) == {"id": 3}


@responses.activate
def test_post_still_failing_gets_a_last_lookup_before_giving_up() -> None:
    responses.post(ROOT + "/wu/v2/product", status=504)
    found = iter([None, None, {"id": 4, "slug": "s"}])
    t = make(RetryPolicy(deadline=30, max_retries=2, backoff_initial=0.001, backoff_max=0.001))
    assert t.create("/wu/v2/product", {"slug": "s"}, lookup=lambda: next(found)) == {"id": 4, "slug": "s"}
    assert len(responses.calls) == 3  # each resend came after a lookup that found nothing


# --------------------------------------------------------------------------- error mapping


@responses.activate
def test_401_is_an_auth_error_naming_where_the_credentials_came_from() -> None:
    responses.get(ROOT + "/wu/v2/auth", status=401,
                  json=wp_error("rest_forbidden", "Sorry, you are not allowed to do that.", 401))
    with pytest.raises(AuthError) as err:
        make().get("/wu/v2/auth")
    e = err.value
    assert (e.method, e.path, e.status, e.code) == ("GET", "/wp-json/wu/v2/auth", 401, "rest_forbidden")
    assert e.wp_message == "Sorry, you are not allowed to do that."
    assert "test config" in str(e) and len(responses.calls) == 1


@responses.activate
def test_403_is_an_auth_error_too() -> None:
    responses.get(ROOT + "/x", status=403, json=wp_error("rest_cannot_view", "no", 403))
    with pytest.raises(AuthError, match="does not allow"):
        make().get("/x")


@responses.activate
def test_404_is_not_found_with_code_and_path_without_query() -> None:
    responses.get(ROOT + "/wu/v2/membership/999", status=404,
                  json=wp_error("wu_rest_membership_invalid_id", "Item not found.", 404))
    with pytest.raises(NotFound) as err:
        make().get("/wu/v2/membership/999", {"context": "edit"})
    assert err.value.code == "wu_rest_membership_invalid_id" and err.value.path == "/wp-json/wu/v2/membership/999"
    assert str(err.value) == ("not found: Item not found. [wu_rest_membership_invalid_id] "
                              "(GET /wp-json/wu/v2/membership/999 -> 404)")


@pytest.mark.parametrize(
    ("status", "body", "field"),
    [
        (400, wp_error("wpbridge_invalid", "bad module", 400, field="disk_space.limit"), "disk_space.limit"),
        (400, wp_error("rest_invalid_param", "Invalid parameter(s): per_page", 400,
                       params={"per_page": "per_page must be between 1 and 100"}), "per_page"),
        (400, wp_error("rest_missing_callback_param", "Missing parameter(s): owner", 400, params=["owner"]), "owner"),
        (400, wp_error("wu_rest_membership_invalid_set_method",
                       "The WP_Ultimo\\Models\\Membership object does not have a set_colour method", 400), "colour"),
        (500, {"code": "plan_id", "message": "The Plan Id is required", "data": None}, "plan_id"),
    ],
)
@responses.activate
def test_validation_errors_carry_the_field(status: int, body: dict[str, Any], field: str) -> None:
    responses.put(ROOT + "/wu/v2/membership/5", status=status, json=body)
    with pytest.raises(InvalidRequestError) as err:
        make().request("PUT", "/wu/v2/membership/5", json_body={"plan_id": None})
    assert err.value.field == field and f"field '{field}'" in str(err.value)
    assert err.value.status == status and len(responses.calls) == 1


@responses.activate
def test_409_is_a_conflict_with_the_data() -> None:
    responses.post(ROOT + "/wpbridge/v1/locks/sync", status=409,
                   json=wp_error("wpbridge_locked", "held", 409, owner="o2", expires_at="2026-01-01T00:00:00Z"))
    with pytest.raises(Conflict) as err:
        make().request("POST", "/wpbridge/v1/locks/sync", json_body={"owner": "o1"}, idempotent=True)
    assert err.value.data == {"owner": "o2", "expires_at": "2026-01-01T00:00:00Z"}


@responses.activate
def test_malformed_json_is_a_server_error_naming_the_path() -> None:
    responses.get(ROOT + "/wu/v2/product", body="<br /><b>Notice</b>: Undefined index\n[{\"id\":1}]",
                  content_type="application/json")
    with pytest.raises(ServerError) as err:
        make().get("/wu/v2/product", {"page": 1})
    assert "GET /wp-json/wu/v2/product is not JSON" in str(err.value) and err.value.status == 200


@responses.activate
def test_a_bom_before_the_json_is_tolerated() -> None:
    responses.get(ROOT + "/x", body="\ufeff{\"a\": 1}".encode(), content_type="application/json")
    assert make().get("/x").data == {"a": 1}


@responses.activate
def test_301_on_a_write_is_refused_with_the_url_to_configure() -> None:
    responses.put(ROOT + "/wpbridge/v1/sites/2/quota", status=301,
                  headers={"Location": "https://www.example.com/wp-json/wpbridge/v1/sites/2/quota?x=1"})
    with pytest.raises(RedirectError) as err:
        make().request("PUT", "/wpbridge/v1/sites/2/quota", json_body={})
    e = err.value
    assert isinstance(e, ConfigError) and e.status == 301
    assert e.suggested_url == "https://www.example.com"
    assert 'set url = "https://www.example.com" in test config' in str(e)
    assert len(responses.calls) == 1 and "?x=1" not in str(e)


@responses.activate
@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
def test_a_redirect_on_any_request_is_refused_naming_the_url(method: str) -> None:
    responses.add(method, ROOT + "/x", status=302, headers={"Location": "https://evil.example.net/wp-json/x"})
    responses.add(method, "https://evil.example.net/wp-json/x", json={"ok": True})
    with pytest.raises(RedirectError) as err:
        make().request(method, "/x", idempotent=True)
    assert 'set url = "https://evil.example.net" in test config' in str(err.value)
    assert len(responses.calls) == 1, "the other host must never be asked"


@responses.activate
def test_localhost_instead_of_127_0_0_1_is_a_redirect_error_not_an_empty_list() -> None:
    responses.get(ROOT + "/wu/v2/membership", status=301,
                  headers={"Location": "http://localhost:8999/wp-json/wu/v2/membership?page=1"})
    with pytest.raises(RedirectError) as err:
        make().get("/wu/v2/membership", {"page": 1})
    assert err.value.suggested_url == "http://localhost:8999" and isinstance(err.value, ConfigError)


# --------------------------------------------------------------------------- request shape, logging


@responses.activate
def test_request_shape_auth_user_agent_timeouts_and_json_body() -> None:
    from decimal import Decimal

    responses.put(ROOT + "/wu/v2/membership/5", json={"id": 5})
    t = make(timeout=[3, 20], user_agent="acme")
    t.request("PUT", "/wu/v2/membership/5", json_body={"amount": Decimal("19.90")})
    req = responses.calls[0].request
    assert req.headers["User-Agent"] == f"acme wpbridge/{__version__}"
    token = base64.b64encode(f"key-sentinel:{SECRET}".encode()).decode()
    assert req.headers["Authorization"] == f"Basic {token}"
    assert SECRET not in (req.url or "")
    assert json.loads(req.body or b"") == {"amount": "19.90"}
    kwargs = req.req_kwargs  # type: ignore[attr-defined]
    assert kwargs["timeout"] == (3.0, 20.0) and kwargs["verify"] not in (False, None)


@responses.activate
def test_one_debug_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    responses.get(ROOT + "/wu/v2/site", status=502)
    responses.get(ROOT + "/wu/v2/site", json=[])
    with caplog.at_level(logging.DEBUG, logger="wpbridge.rest"):
        make().get("/wu/v2/site", {"page": 1, "per_page": 100})
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("GET ")]
    assert len(lines) == 2
    assert lines[0].startswith("GET /wp-json/wu/v2/site 502 ") and lines[0].endswith("ms")
    assert lines[1].startswith("GET /wp-json/wu/v2/site 200 ") and "page" not in lines[1]


@responses.activate
def test_list_params_repeat_keys_and_encode_bools() -> None:
    responses.get(ROOT + "/x", json=[])
    make().get("/x", {"status__in[]": ["active", "trialing"], "vip": True, "skip": None})
    assert responses.calls[0].request.url == ROOT + "/x?status__in%5B%5D=active&status__in%5B%5D=trialing&vip=1"


# --------------------------------------------------------------------------- deadline and size cap (real sockets)


class SlowServer:
    """A raw TCP server on 127.0.0.1 that answers every connection with `script(conn)`; counts bytes sent."""

    def __init__(self, script: Any) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.recv(65536)
                self.script(self, conn)
            except OSError:
                pass
            finally:
                conn.close()

    def send(self, conn: Any, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.sock.close()

    def transport(self, **kw: Any) -> Transport:
        settings = NetworkSettings(name="t", url=f"http://127.0.0.1:{self.port}", api_key="k", api_secret=SECRET,
                                   source="test config", timeout=[2, 5])
        return Transport(settings, retry=FAST, **kw)


def _trickle_body(server: SlowServer, conn: Any) -> None:
    server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
    for _ in range(100):
        server.send(conn, b" ")
        time.sleep(0.1)


def _trickle_headers(server: SlowServer, conn: Any) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
        server.send(conn, bytes([byte]))
        time.sleep(0.1)


@pytest.mark.parametrize("script", [_trickle_body, _trickle_headers], ids=["body", "headers"])
def test_a_server_trickling_bytes_is_cut_at_the_request_deadline(script: Any) -> None:
    from wpbridge.errors import DeadlineExceeded

    server = SlowServer(script)
    try:
        t = server.transport(request_deadline=0.8)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as err:
            t.get("/wu/v2/membership")
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert elapsed < 3.0, f"took {elapsed:.1f} s although every byte came within the read timeout"
    assert "no complete reply within 0.8 s (request_deadline in test config)" in str(err.value)
    assert t.stats.requests == 1, "a deadline is not retried"


def _endless_chunked(server: SlowServer, conn: Any) -> None:
    server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" + b"1," * 32767 + b"1"
    while server.sent < 50_000_000:
        server.send(conn, f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")


def test_a_huge_reply_is_refused_while_it_streams_in() -> None:
    server = SlowServer(_endless_chunked)
    try:
        t = server.transport(max_reply_bytes=1_000_000)
        with pytest.raises(ServerError) as err:
            t.get("/wu/v2/site")
    finally:
        server.close()
    assert "larger than 1000000 bytes" in str(err.value) and "max_reply_mb in test config" in str(err.value)
    assert server.sent < 10_000_000, "the reply was read far past the cap"


@responses.activate
def test_a_declared_size_over_the_cap_is_refused_unread() -> None:
    responses.get(ROOT + "/x", body=b"[" + b"0," * 100_000 + b"0]")
    t = Transport(make().settings, retry=FAST, max_reply_bytes=1000)
    with pytest.raises(ServerError, match="larger than 1000 bytes"):
        t.get("/x")


@responses.activate
def test_cli_a_redirected_list_is_exit_2_naming_the_url_not_an_empty_table(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from wpbridge.cli import main

    responses.get(ROOT + "/wpbridge/v1/catalog", status=301,
                  headers={"Location": "http://localhost:8999/wp-json/wpbridge/v1/catalog"})
    env = {"HOME": str(tmp_path), "WPBRIDGE_URL": URL, "WPBRIDGE_API_KEY": "k", "WPBRIDGE_API_SECRET": SECRET,
           "WPBRIDGE_CONFIG": "", "WPBRIDGE_NETWORK": ""}
    result = CliRunner().invoke(main, ["memberships", "list"], env=env)
    assert result.exit_code == 2 and result.stdout == ""
    assert 'set url = "http://localhost:8999" in environment' in result.stderr
    assert result.stderr.count("\n") == 1


@responses.activate
@pytest.mark.parametrize("redirected", ["/wu/v2/auth", "/wpbridge/v1/info"])
def test_cli_check_of_a_redirecting_network_names_the_url_and_does_not_blame_plugin_stub(
        tmp_path: Any, redirected: str) -> None:
    from click.testing import CliRunner

    from wpbridge.cli import main

    if redirected != "/wu/v2/auth":
        responses.get(ROOT + "/wu/v2/auth", json={"success": True})
    responses.get(ROOT + redirected, status=302, headers={"Location": "https://www.example.org/wp-json" + redirected})
    env = {"HOME": str(tmp_path), "WPBRIDGE_URL": URL, "WPBRIDGE_API_KEY": "k", "WPBRIDGE_API_SECRET": SECRET,
           "WPBRIDGE_CONFIG": "", "WPBRIDGE_NETWORK": ""}
    result = CliRunner().invoke(main, ["check"], env=env)
    assert result.exit_code == 2 and result.stdout == ""
    assert 'set url = "https://www.example.org" in environment' in result.stderr
    assert "plugin-stub" not in result.stderr and result.stderr.count("\n") == 1


def test_connections_through_an_http_proxy_can_be_cut_too() -> None:
    from wpbridge.rest.deadline import WATCHED_POOLS, watched_adapter

    adapter = watched_adapter(4)
    assert adapter.poolmanager.pool_classes_by_scheme == WATCHED_POOLS
    assert adapter.proxy_manager_for("http://proxy.example:3128").pool_classes_by_scheme == WATCHED_POOLS
