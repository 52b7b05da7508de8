"""What the managers of one network share: its transport and paging settings, the records a listing skipped, the
two API namespaces, and the small helpers every listing uses. No manager builds another's routes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import DataError
from ..models import parse
from ..rest.pagination import iter_items
from ..rest.transport import Transport, route

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

UM = "wu/v2"
"""Ultimate Multisite's own REST namespace (plugin-stub serves the same subset in stub mode)."""
COMPANION = "wpbridge/v1"
"""plugin-stub's companion routes (both modes)."""
CHUNK = 100
"""Ids per request for the companion routes that take a list of ids (their documented maximum)."""
DEFAULT_BATCH_LIMIT = 25
NATURAL_KEYS = {"product": "slug", "discount_code": "code"}
"""The field that identifies a record before it has an id: how `create()` finds out whether a create landed."""


@dataclass
class Context:
    """One network's connection as its managers use it (built by `Network`; a manager never makes a request on
    attribute access, only when one of its methods is called)."""

    transport: Transport
    per_page: int = 100
    concurrency: int = 1
    unreadable: list[DataError] = field(default_factory=list)
    """Records of a listing that could not be read (each names its id and field); the listing went on."""
    batch_limit: Callable[[], int] = lambda: DEFAULT_BATCH_LIMIT
    """The server's `/batch/v1` limit (`Network.info()`, read once)."""

    def tolerant(self, model: type[M], item: Any) -> M | None:
        """One record of a listing; one that cannot be read is remembered in `unreadable` and skipped (the
        listing goes on; callers report it and exit 1; nothing is ever written to it)."""
        try:
            return parse(model, item)
        except DataError as err:
            self.unreadable.append(err)
            return None

    def um_list(self, slug: str, model: type[M], filters: Mapping[str, Any], id_key: str = "id") -> Iterator[M]:
        """`GET /wu/v2/{slug}`, every page, each record read tolerantly. A lookup by ids (`id=[...]`) ends with the
        first page that holds every one of them."""
        ids = filters.get(id_key if id_key in filters else "id")
        wanted = (frozenset(int(i) for i in ids) if isinstance(ids, list | tuple | set | frozenset)
                  and all(isinstance(i, int) for i in ids) else None)
        for item in iter_items(self.transport, route(UM, slug), um_filters(filters), per_page=self.per_page,
                               concurrency=self.concurrency, id_key=id_key, wanted_ids=wanted):
            record = self.tolerant(model, item)
            if record is not None:
                yield record

    def um_one(self, slug: str, record_id: int, model: type[M]) -> M:
        return parse(model, self.transport.get(route(UM, slug, record_id)).data)

    def create(self, slug: str, body: Mapping[str, Any], *, natural_key: str | None = None) -> dict[str, Any]:
        """POST /wu/v2/{slug}, never twice blindly: after a try with an unknown outcome, the record is looked up by
        its natural key (`natural_key`, or the slug's default: product -> slug, discount_code -> code) first."""
        key = natural_key or NATURAL_KEYS.get(slug)
        value = body.get(key) if key else None
        lookup = None
        if key and value not in (None, ""):
            def lookup() -> dict[str, Any] | None:
                return self._find(slug, key, value)
        return as_dict(self.transport.create(route(UM, slug), dict(body), lookup=lookup))

    def _find(self, slug: str, key: str, value: Any) -> dict[str, Any] | None:
        reply = self.transport.get(route(UM, slug), {key: value, "per_page": 100, "number": 100})
        rows = reply.data if isinstance(reply.data, list) else []
        for row in rows:
            if isinstance(row, dict) and str(row.get(key)) == str(value):
                return row
        return None

    def companion_rows(self, *parts: object, params: Mapping[str, Any] | None = None, id_key: str = "id",
                       sorted_by_key: bool = True, concurrency: int | None = None) -> Iterator[Any]:
        """The rows of a paged companion listing (`wpbridge/v1/...`), in the server's order."""
        return iter_items(self.transport, route(COMPANION, *parts), dict(params or {}), per_page=self.per_page,
                          concurrency=self.concurrency if concurrency is None else concurrency, legacy=False,
                          order_by_id=False, id_key=id_key, sorted_by_key=sorted_by_key)


def um_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Column filters for UM's lists: None dropped, a list of values becomes `{column}__in[]`."""
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            out[f"{key}__in[]"] = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        else:
            out[key] = value
    return out


def as_dict(data: Any) -> dict[str, Any]:
    """A reply's body as a dict (`{"result": data}` when the server sent something else)."""
    return data if isinstance(data, dict) else {"result": data}


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    chunk: list[int] = []
    for record_id in ids:
        chunk.append(int(record_id))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def joined(ids: Iterable[int]) -> str:
    return ",".join(map(str, ids))


def batches(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def take(items: Iterable[T], n: int) -> Iterator[T]:
    for i, item in enumerate(items):
        if i >= n:
            return
        yield item
