"""Streaming pagination: request shape, every way to stop, lying servers, concurrency in order."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from requests import PreparedRequest

from wpbridge.config import NetworkSettings
from wpbridge.rest.pagination import iter_items, iter_pages
from wpbridge.rest.transport import RetryPolicy, Transport

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
LIST = ROOT + "/wu/v2/membership"


def make() -> Transport:
    settings = NetworkSettings(name="t", url=URL, api_key="k", api_secret="s3cret-pages", concurrency=4)
    return Transport(settings, retry=RetryPolicy(deadline=1, backoff_initial=0.001, backoff_max=0.001))


def query(req: PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(req.url or "").query).items()}


Reply = tuple[int, dict[str, str], str]


def server(n: int, *, total: Callable[[int], int | None] = lambda n: n, delay: float = 0.0,
           page_of: Callable[[int], int] | None = None, descending: bool = False) -> Callable[[PreparedRequest], Reply]:
    """A list route over ids 1..n honouring page/per_page (or what `page_of` makes of the page asked)."""
    import json

    ids = list(range(1, n + 1))
    if descending:
        ids.reverse()

    def callback(req: PreparedRequest) -> Reply:
        q = query(req)
        page, per_page = int(q["page"]), int(q["per_page"])
        if page_of:
            page = page_of(page)
        if delay:
            time.sleep(delay / 2 + random.uniform(0, delay / 2))  # out-of-order completion, always overlapping
        rows = [{"id": i} for i in ids[(page - 1) * per_page : page * per_page]]
        headers = {} if total(n) is None else {"X-WP-Total": str(total(n))}
        return 200, headers, json.dumps(rows)

    return callback


def ids_of(items: list[Any]) -> list[int]:
    return [item["id"] for item in items]


@responses.activate
def test_sends_page_per_page_number_offset_and_id_order() -> None:
    responses.add_callback(responses.GET, LIST, callback=server(150))
    assert ids_of(list(iter_items(make(), "/wu/v2/membership", {"status": "active"}, per_page=100))) == list(
        range(1, 151)
    )
    qs = [query(c.request) for c in responses.calls]
    assert qs[1] == {"status": "active", "page": "2", "per_page": "100", "number": "100", "offset": "100",
                     "orderby": "id", "order": "ASC"}
    assert len(qs) == 2


@pytest.mark.parametrize(
    ("n", "with_total", "requests"),
    [(200, True, 2), (200, False, 3), (250, False, 3), (250, True, 3), (0, True, 1), (0, False, 1), (99, False, 1)],
)
@responses.activate
def test_request_counts_at_the_edges(n: int, with_total: bool, requests: int) -> None:
    responses.add_callback(responses.GET, LIST, callback=server(n, total=(lambda n: n) if with_total else
                                                                  (lambda n: None)))
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100)))
    assert got == list(range(1, n + 1)) and len(responses.calls) == requests


@responses.activate
def test_streams_lazily_one_page_at_a_time() -> None:
    responses.add_callback(responses.GET, LIST, callback=server(1000, total=lambda n: None))
    pages = iter_pages(make(), "/wu/v2/membership", per_page=100)
    assert len(next(pages)) == 100 and len(responses.calls) == 1
    assert len(next(pages)) == 100 and len(responses.calls) == 2


@responses.activate
def test_a_total_that_promises_more_than_exists_stops_at_the_empty_page(caplog: pytest.LogCaptureFixture) -> None:
    responses.add_callback(responses.GET, LIST, callback=server(200, total=lambda n: 10_000))
    assert len(list(iter_items(make(), "/wu/v2/membership", per_page=100))) == 200
    assert len(responses.calls) == 3 and "X-WP-Total said 10000" in caplog.text


@responses.activate
def test_a_server_ignoring_page_does_not_loop_or_duplicate() -> None:
    responses.add_callback(responses.GET, LIST, callback=server(500, total=lambda n: None, page_of=lambda p: 1))
    assert ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100))) == list(range(1, 101))
    assert len(responses.calls) == 2


@responses.activate
def test_overlapping_pages_yield_no_duplicates() -> None:
    # page 2 starts 10 records early (records were deleted between the two requests)
    import json

    def overlap(req: PreparedRequest) -> Reply:
        page = int(query(req)["page"])
        start = (page - 1) * 100 - (10 if page > 1 else 0)
        rows = [{"id": i} for i in range(start + 1, min(start + 101, 291))]
        return 200, {}, json.dumps(rows)

    responses.add_callback(responses.GET, LIST, callback=overlap)
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100)))
    assert got == list(range(1, 291)) and len(got) == len(set(got))


@responses.activate
def test_a_total_that_under_counts_reads_on() -> None:
    # page 1 alone already holds more than the announced 50 records, so the total cannot be trusted
    responses.add_callback(responses.GET, LIST, callback=server(230, total=lambda n: 50))
    assert ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100))) == list(range(1, 231))


@responses.activate
def test_a_server_that_does_not_sort_is_deduplicated_by_a_set() -> None:
    responses.add_callback(responses.GET, LIST, callback=server(250, total=lambda n: None, descending=True))
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100)))
    assert sorted(got) == list(range(1, 251)) and len(got) == 250


@responses.activate
def test_string_ids_compare_as_numbers() -> None:
    import json

    rows = [{"id": str(i)} for i in (9, 10, 11)]
    responses.get(LIST, body=json.dumps(rows))
    assert [r["id"] for r in iter_items(make(), "/wu/v2/membership", per_page=100)] == ["9", "10", "11"]


@responses.activate
def test_concurrent_fetch_yields_in_order_each_page_once() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    inner = server(1000, delay=0.02)

    def counting(req: PreparedRequest) -> Reply:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return inner(req)
        finally:
            with lock:
                in_flight -= 1

    responses.add_callback(responses.GET, LIST, callback=counting)
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=50, concurrency=4)))
    assert got == list(range(1, 1001))
    pages = sorted(int(query(c.request)["page"]) for c in responses.calls)
    assert pages == list(range(1, 21))
    assert 1 < peak <= 4


@responses.activate
def test_concurrent_fetch_keeps_a_bounded_window() -> None:
    responses.add_callback(responses.GET, LIST, callback=server(10_000))
    pages = iter_pages(make(), "/wu/v2/membership", per_page=100, concurrency=3)
    next(pages)
    next(pages)
    time.sleep(0.05)
    pages.close()
    # page 1, then at most 2 * concurrency pages in flight plus the one refill after page 2 was taken
    assert len(responses.calls) <= 1 + 2 * 3 + 1


@responses.activate
def test_concurrent_fetch_stops_at_an_early_empty_page() -> None:
    responses.add_callback(responses.GET, LIST, callback=server(300, total=lambda n: 2000))
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100, concurrency=4)))
    assert got == list(range(1, 301))


@responses.activate
def test_companion_lists_send_only_page_and_per_page() -> None:
    responses.get(ROOT + "/wpbridge/v1/quotas", json=[{"blog_id": 1, "quota": None}], headers={"X-WP-Total": "1"})
    rows = list(iter_items(make(), "/wpbridge/v1/quotas", per_page=100, legacy=False, order_by_id=False,
                           id_key="blog_id"))
    assert rows == [{"blog_id": 1, "quota": None}]
    assert query(responses.calls[0].request) == {"page": "1", "per_page": "100"}


@responses.activate
def test_a_reply_that_is_not_a_list_is_a_data_error() -> None:
    from wpbridge.errors import DataError

    responses.get(LIST, json={"oops": 1})
    with pytest.raises(DataError, match="expected a JSON list"):
        list(iter_items(make(), "/wu/v2/membership"))


@responses.activate
def test_a_lookup_of_ids_that_all_arrived_on_the_first_page_reads_no_more() -> None:
    """UM 2.4.12 sends no X-WP-Total: a lookup of 100 ids (`id__in[]`) whose first page holds all of them needs no
    empty second page to see its end (issue 22: one request per 100 memberships, not two)."""
    responses.add_callback(responses.GET, LIST, callback=server(100, total=lambda n: None))
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", {"id__in[]": list(range(1, 101))}, per_page=100,
                                 wanted_ids=frozenset(range(1, 101)))))
    assert got == list(range(1, 101)) and len(responses.calls) == 1


@responses.activate
def test_a_lookup_whose_first_page_lacks_some_ids_reads_on() -> None:
    """A server that ignored the filter (other ids on the first page) is read to its end, as before."""
    responses.add_callback(responses.GET, LIST, callback=server(150, total=lambda n: None))
    got = ids_of(list(iter_items(make(), "/wu/v2/membership", per_page=100, wanted_ids=frozenset({120, 3}))))
    assert len(got) == 150 and len(responses.calls) == 2
