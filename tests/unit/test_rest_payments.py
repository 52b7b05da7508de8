"""`net.payments` over HTTP: the route and filters it sends, a filter the server ignored never widens the list, a
record that cannot be read is left out and named (the listing goes on), and the write replies it expects."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from wpbridge.config import NetworkSettings
from wpbridge.errors import DataError
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8998"
ROOT = URL + "/wp-json"


def make() -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key="k", api_secret="s3cret-pay")
    return Network(settings, retry=RetryPolicy(deadline=1, backoff_initial=0.001, backoff_max=0.001))


def payment(pid: int, **kw: Any) -> dict[str, Any]:
    return {"id": pid, "customer_id": 3, "membership_id": 2, "status": "pending", "total": "30.6200",
            "currency": "USD", "line_items": [], "wpbridge": None, **kw}


@responses.activate
def test_list_sends_the_filters_and_checks_each_record_again() -> None:
    responses.get(ROOT + "/wpbridge/v1/payments", headers={"X-WP-Total": "3"}, json=[
        payment(1), payment(2, membership_id=9), payment(3, status="completed")])
    net = make()
    got = list(net.payments.list(membership_id=2, status="pending"))
    assert [p.id for p in got] == [1]  # the server ignored both filters: the records are checked here
    query = parse_qs(urlsplit(responses.calls[0].request.url or "").query)
    assert query["membership_id"] == ["2"] and query["status"] == ["pending"]


@responses.activate
def test_an_unreadable_payment_is_named_and_the_listing_goes_on() -> None:
    responses.get(ROOT + "/wpbridge/v1/payments", headers={"X-WP-Total": "3"}, json=[
        payment(1), payment(2, total="thirty"), payment(3)])
    net = make()
    assert [p.id for p in net.payments.list()] == [1, 3]
    [err] = net.unreadable
    assert "Payment 2" in str(err) and err.field == "total"


@responses.activate
def test_a_write_reply_without_a_payment_is_a_data_error() -> None:
    responses.post(ROOT + "/wpbridge/v1/payments/4/cancel", json={"cancelled": True})
    with pytest.raises(DataError, match="payment"):
        make().payments.cancel(4)
