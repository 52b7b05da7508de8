"""Batched quota writes: chunking by the server's limit, per-item results, held-back items, fallbacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses
from requests import PreparedRequest

from wpbridge.config import NetworkSettings
from wpbridge.errors import AuthError, InvalidRequestError, ServerError
from wpbridge.models import Limitations
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
BATCH = ROOT + "/batch/v1"
INFO = {"plugin_version": "0.1.0", "mode": "stub", "server_time": "2026-11-26T06:38:31Z", "batch_limit": 25}
Reply = tuple[int, dict[str, str], str]


def make() -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key="k", api_secret="s3cret-batch")
    return Network(settings, retry=RetryPolicy(deadline=1, backoff_initial=0.001, backoff_max=0.001))


def quota(mb: int) -> Limitations:
    return Limitations.model_validate({"disk_space": {"enabled": True, "limit": mb}})


def item_reply(status: int, body: Any) -> dict[str, Any]:
    return {"status": status, "body": body, "headers": {}}


def blog_of(path: str) -> int:
    return int(path.split("/")[4])


def batch_server(fail: Callable[[int], dict[str, Any] | None] = lambda blog: None,
                 invalid: Callable[[int], dict[str, Any] | None] = lambda blog: None) -> Callable[[PreparedRequest],
                                                                                              Reply]:
    """Emulates WordPress's batch route: require-all-validate, then run every item."""

    def callback(req: PreparedRequest) -> Reply:
        body = json.loads(req.body or b"")
        assert body["validation"] == "require-all-validate"
        items = body["requests"]
        errors = [invalid(blog_of(i["path"])) for i in items]
        if any(errors):
            out = [None if e is None else item_reply(400, e) for e in errors]
            return 207, {}, json.dumps({"failed": "validation", "responses": out})
        out = []
        for i in items:
            err = fail(blog_of(i["path"]))
            out.append(item_reply(err["data"]["status"], err) if err else item_reply(200, i["body"]))
        return 207, {}, json.dumps({"responses": out})

    return callback


def sizes() -> list[int]:
    return [len(json.loads(c.request.body or b"")["requests"]) for c in responses.calls if c.request.url == BATCH]


@responses.activate
def test_chunks_by_the_servers_batch_limit_and_reports_every_item() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json={**INFO, "batch_limit": 20})
    responses.add_callback(responses.POST, BATCH, callback=batch_server())
    quotas = {blog: quota(blog) for blog in range(2, 52)}
    result = make().quotas.put_many(quotas)
    assert result.ok and len(result) == 50 and sizes() == [20, 20, 10]
    assert [r.blog_id for r in result] == list(range(2, 52))
    assert result.items[0].data == {"disk_space": {"enabled": True, "limit": 2}} and result.batches == 3
    first = json.loads(responses.calls[1].request.body or b"")["requests"][0]
    assert first == {"method": "PUT", "path": "/wpbridge/v1/sites/2/quota",
                     "body": {"disk_space": {"enabled": True, "limit": 2}}}


@responses.activate
def test_per_item_errors_are_reported_per_item() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO)
    failing = {"code": "wpbridge_fault", "message": "injected", "data": {"status": 500}}
    server = batch_server(fail=lambda b: failing if b in (3, 5) else None)
    responses.add_callback(responses.POST, BATCH, callback=server)
    result = make().quotas.put_many({b: quota(10) for b in range(1, 7)})
    assert not result.ok
    assert [(r.blog_id, r.ok, r.status) for r in result.failed] == [(3, False, 500), (5, False, 500)]
    err = result.failed[0].error
    assert isinstance(err, ServerError) and err.path == "/wp-json/wpbridge/v1/sites/3/quota" and err.method == "PUT"


@responses.activate
def test_an_invalid_item_does_not_block_the_valid_ones() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO)
    bad = {"code": "rest_invalid_param", "message": "Invalid parameter(s): disk_space", "data": {
        "status": 400, "params": {"disk_space": "not an object"}}}
    responses.add_callback(responses.POST, BATCH, callback=batch_server(invalid=lambda b: bad if b == 4 else None))
    result = make().quotas.put_many({b: quota(10) for b in range(1, 7)})
    assert [r.blog_id for r in result.failed] == [4]
    err = result.failed[0].error
    assert isinstance(err, InvalidRequestError) and err.field == "disk_space"
    assert sizes() == [6, 5] and result.batches == 2


@responses.activate
def test_routes_not_allowed_in_a_batch_fall_back_to_single_puts() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json={**INFO, "batch_limit": 2})
    not_allowed = {"code": "rest_batch_not_allowed", "message": "no batch", "data": {"status": 400}}
    responses.add_callback(responses.POST, BATCH, callback=batch_server(invalid=lambda b: not_allowed))
    for blog in (1, 2, 3):
        responses.put(ROOT + f"/wpbridge/v1/sites/{blog}/quota", json={"disk_space": {"enabled": True, "limit": 1}})
    result = make().quotas.put_many({b: quota(1) for b in (1, 2, 3)})
    assert result.ok and result.fallback and result.singles == 3
    assert sizes() == [2]  # the next chunk went straight to single writes


@responses.activate
def test_no_batch_route_falls_back_to_single_puts() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO)
    responses.post(BATCH, status=404, json={"code": "rest_no_route", "message": "No route", "data": {"status": 404}})
    responses.put(ROOT + "/wpbridge/v1/sites/1/quota", json={})
    responses.put(ROOT + "/wpbridge/v1/sites/2/quota", status=400,
                  json={"code": "bad", "message": "bad module", "data": {"status": 400, "field": "users"}})
    result = make().quotas.put_many({1: quota(1), 2: quota(2)})
    assert result.fallback and [r.ok for r in result] == [True, False]
    assert isinstance(result.items[1].error, InvalidRequestError) and result.items[1].error.field == "users"


@responses.activate
def test_a_batch_that_gets_503_is_resent_whole() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO)
    responses.post(BATCH, status=503)
    responses.add_callback(responses.POST, BATCH, callback=batch_server())
    result = make().quotas.put_many({1: quota(1)})
    assert result.ok and sizes() == [1, 1]


@responses.activate
def test_a_batch_refused_for_auth_raises() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO)
    responses.post(BATCH, status=401, json={"code": "rest_forbidden", "message": "no", "data": {"status": 401}})
    with pytest.raises(AuthError):
        make().quotas.put_many({1: quota(1)})


@responses.activate
def test_batch_limit_defaults_to_25_without_an_info_route() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", status=404, json={"code": "rest_no_route", "message": "x",
                                                                 "data": {"status": 404}})
    responses.add_callback(responses.POST, BATCH, callback=batch_server())
    assert make().quotas.put_many({b: quota(1) for b in range(30)}).ok and sizes() == [25, 5]


@responses.activate
def test_info_is_read_once_per_network() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO)
    responses.add_callback(responses.POST, BATCH, callback=batch_server())
    net = make()
    net.quotas.put_many({1: quota(1)})
    net.quotas.put_many({2: quota(1)})
    assert sum(c.request.url == ROOT + "/wpbridge/v1/info" for c in responses.calls) == 1
