"""Stream a collection page by page, in id order, with flat memory and without trusting the server too much.

Each page is requested with `page`/`per_page` (UM 2.4.13+, plugin-stub) **and** `number`/`offset` (what UM
2.4.12 and older honour), ordered `orderby=id&order=ASC` so that pages are stable and duplicates detectable.

When to stop: at an empty page (even if `X-WP-Total` promised more), at a short page, after the pages
`X-WP-Total` announces (unless the server visibly under-counted), and at a page that brings nothing new (a server
that ignores `page` would otherwise loop forever). Ids already yielded are dropped: with ascending ids that is
"id <= the last id", which costs O(1) memory; only a server that does not sort falls back to a set of ids.

With the total known and `concurrency > 1`, pages 2..N are fetched by a thread pool but yielded in order, at most
`2 * concurrency` pages in flight, so memory stays bounded by a few pages whatever the size of the collection.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..errors import DataError
from .transport import Reply, Transport

log = logging.getLogger("wpbridge.rest")

ItemsOf = Callable[[Any], list[Any]]


def _as_list(data: Any) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list, got {type(data).__name__}")
    return data


class _Dedup:
    """Drops records already yielded, by `key`; O(1) memory while the server keeps ids ascending."""

    def __init__(self, key: str | None, sorted_by_key: bool) -> None:
        self.key = key
        self.last: int | str | None = None
        self.seen: set[Any] | None = None if sorted_by_key else set()
        self.first_page = sorted_by_key

    def _id(self, item: Any) -> Any:
        if self.key is None or not isinstance(item, Mapping):
            return None
        value = item.get(self.key)
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    def filter(self, items: list[Any]) -> list[Any]:
        ids = [self._id(item) for item in items]
        if self.first_page:
            self.first_page = False
            known = [i for i in ids if i is not None]
            try:
                ascending = all(a < b for a, b in pairwise(known))
            except TypeError:
                ascending = False
            if not ascending:
                log.debug("the server does not sort by id; de-duplicating with a set of ids")
                self.seen = set()
        out = []
        for item, ident in zip(items, ids, strict=True):
            if ident is None:
                out.append(item)
            elif self.seen is not None:
                if ident not in self.seen:
                    self.seen.add(ident)
                    out.append(item)
            elif self.last is None or ident > self.last:
                self.last = ident
                out.append(item)
        return out


def iter_pages(
    transport: Transport,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    per_page: int = 100,
    concurrency: int = 1,
    legacy: bool = True,
    order_by_id: bool = True,
    id_key: str | None = "id",
    sorted_by_key: bool | None = None,
    items_of: ItemsOf = _as_list,
    wanted_ids: frozenset[int] | None = None,
) -> Iterator[list[Any]]:
    """Yield the records of a list route one page (a list) at a time. See the module docstring for the rules.

    `legacy` adds `number`/`offset` (UM's `wu/v2`; the companion routes take only `page`/`per_page`);
    `id_key` names the field used to drop duplicates (None: no de-duplication); `sorted_by_key` says the server
    returns records in ascending `id_key` order (default: when `order_by_id`), which allows O(1) de-duplication.
    `wanted_ids`: the list is a lookup of these ids (`id__in[]`); when its first page holds every one of them
    there is nothing more to read (UM 2.4.12 sends no X-WP-Total, which cost an empty second page per lookup).
    """
    fetch = _Fetch(transport, path, dict(params or {}), per_page, legacy, order_by_id, items_of)
    dedup = _Dedup(id_key, order_by_id if sorted_by_key is None else sorted_by_key)
    reply, items = fetch(1)
    fresh = dedup.filter(items)
    if fresh:
        yield fresh
    if len(items) < per_page or _holds_all(items, id_key, wanted_ids):
        return
    walk = _Walk(fetch, dedup, per_page, total=reply.total, yielded=len(fresh))
    yield from walk.announced(concurrency)
    if walk.under_counted():
        log.warning("GET %s: X-WP-Total said %d but more records came; reading on", reply.path, walk.total)
        yield from walk.beyond()


def _holds_all(items: list[Any], id_key: str | None, wanted_ids: frozenset[int] | None) -> bool:
    """Every id of a lookup is among these records (ids compared as numbers, as `_Dedup` does)."""
    if not wanted_ids or id_key is None:
        return False
    got: set[int] = set()
    for item in items:
        value = item.get(id_key) if isinstance(item, dict) else None
        if isinstance(value, int | str) and str(value).isdigit():
            got.add(int(value))
    return wanted_ids <= got


@dataclass
class _Fetch:
    """One page of the list: the query (both paging dialects, id order), the request, the records."""

    transport: Transport
    path: str
    base: dict[str, Any]
    per_page: int
    legacy: bool
    order_by_id: bool
    items_of: ItemsOf

    def __call__(self, page: int) -> tuple[Reply, list[Any]]:
        query = {**self.base, "page": page, "per_page": self.per_page}
        if self.legacy:
            query.update(number=self.per_page, offset=(page - 1) * self.per_page)
        if self.order_by_id:
            query.setdefault("orderby", "id")
            query.setdefault("order", "ASC")
        reply = self.transport.get(self.path, query)
        try:
            return reply, self.items_of(reply.data)
        except (ValueError, TypeError, KeyError) as exc:
            raise DataError(f"the list reply does not fit: {exc}", method="GET", path=reply.path,
                            status=reply.status) from None


@dataclass
class _Walk:
    """Pages 2.. of a list whose first page was full: when to stop (module docstring), what was yielded."""

    fetch: Callable[[int], tuple[Reply, list[Any]]]
    dedup: _Dedup
    per_page: int
    total: int | None
    yielded: int
    last_page: int = 1
    finished_plan: bool = False
    stopped: bool = False
    """The walk ended early (an empty, repeated or short page): nothing more to read."""

    @property
    def planned(self) -> int | None:
        return math.ceil(self.total / self.per_page) if self.total is not None else None

    def announced(self, concurrency: int) -> Iterator[list[Any]]:
        """The pages X-WP-Total announces (concurrently when it is known), or pages until one is short."""
        planned = self.planned
        pages: Iterator[tuple[int, tuple[Reply, list[Any]]]]
        if planned is not None and planned >= 2 and concurrency > 1:
            pages = _concurrent(self.fetch, range(2, planned + 1), concurrency)
        else:
            pages = ((n, self.fetch(n)) for n in _count_from(2, planned))
        self.finished_plan = planned is not None and planned < 2
        for page, (reply, items) in pages:
            if not items:
                if self.total is not None and self.yielded < self.total:
                    log.warning("GET %s: page %d is empty although X-WP-Total said %d; stopping at %d records",
                                reply.path, page, self.total, self.yielded)
                self.stopped = True
                return
            fresh = self.dedup.filter(items)
            if not fresh:
                log.warning("GET %s: page %d repeats earlier records (is `page` ignored?); stopping", reply.path,
                            page)
                self.stopped = True
                return
            self.yielded += len(fresh)
            self.last_page = page
            yield fresh
            if len(items) < self.per_page:
                self.stopped = True
                return
            self.finished_plan = planned is not None and page >= planned

    def under_counted(self) -> bool:
        """The last announced page was full and more records than X-WP-Total came already: read on."""
        return not self.stopped and self.finished_plan and self.total is not None and self.yielded > self.total

    def beyond(self) -> Iterator[list[Any]]:
        for page in _count_from(self.last_page + 1, None):
            _, items = self.fetch(page)
            fresh = self.dedup.filter(items)
            if not fresh:
                return
            yield fresh
            if len(items) < self.per_page:
                return


def iter_items(transport: Transport, path: str, params: Mapping[str, Any] | None = None,
               **options: Any) -> Iterator[Any]:
    """`iter_pages`, flattened to one record at a time."""
    for page in iter_pages(transport, path, params, **options):
        yield from page


def _count_from(start: int, stop: int | None) -> Iterator[int]:
    n = start
    while stop is None or n <= stop:
        yield n
        n += 1


def _concurrent(fetch: Callable[[int], tuple[Reply, list[Any]]], numbers: range,
                concurrency: int) -> Iterator[tuple[int, tuple[Reply, list[Any]]]]:
    """Fetch pages with a pool, yield them in order, never more than `2 * concurrency` pages in flight."""
    window = 2 * concurrency
    todo = iter(numbers)
    pending: deque[tuple[int, Future[tuple[Reply, list[Any]]]]] = deque()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wpbridge-page")
    try:
        for n in todo:
            pending.append((n, pool.submit(fetch, n)))
            if len(pending) >= window:
                break
        while pending:
            n, future = pending.popleft()
            result = future.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(fetch, nxt)))
            yield n, result
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
