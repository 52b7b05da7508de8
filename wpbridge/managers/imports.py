"""`net.imports`: plugin-stub's import routes (`wpbridge/v1/import/*`, both modes): where the network keeps its
sites, the rows an import compares with, and the writes an import makes (ensures by natural key, absolute
updates), sent through `/batch/v1`.

The write items are built here (`ensure`, `update`) so that an import never builds a route; `batch` sends them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from ..rest.batch import BatchItem, BatchResult, run_batch
from ..rest.transport import route
from .base import COMPANION, Context

ImportKind = Literal["products", "customers", "memberships", "sites", "payments"]


def ensure(key: Any, kind: ImportKind, body: Mapping[str, Any]) -> BatchItem:
    """The batch item that creates a record of `kind` unless the network has it by its natural key
    (`POST /wpbridge/v1/import/{kind}`); `key` is the caller's handle on the item's result."""
    return BatchItem(key, "POST", route(COMPANION, "import", kind), dict(body))


def update(key: Any, kind: ImportKind, record_id: int, body: Mapping[str, Any]) -> BatchItem:
    """The batch item that writes a record's absolute state (`PUT /wpbridge/v1/import/{kind}/{id}`)."""
    return BatchItem(key, "PUT", route(COMPANION, "import", kind, record_id), dict(body))


class ImportManager:
    """The import side of one network."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def _list(self, name: str, id_key: str) -> Iterator[dict[str, Any]]:
        for row in self._ctx.companion_rows("import", name, id_key=id_key, sorted_by_key=False):
            if isinstance(row, dict):
                yield row

    def network(self) -> dict[str, Any]:
        """Where the network keeps its sites: `domain`, `path`, `subdomain_install`, and the plugin's `mode`."""
        data = self._ctx.transport.get(route(COMPANION, "import", "network")).data
        return data if isinstance(data, dict) else {}

    def customers(self) -> Iterator[dict[str, Any]]:
        """Every customer with its WordPress user's email and username (`GET /wpbridge/v1/import/customers`)."""
        return self._list("customers", "id")

    def sites(self) -> Iterator[dict[str, Any]]:
        """Every site with domain, path, title and its membership/customer/type links, in both modes."""
        return self._list("sites", "blog_id")

    def membership_keys(self) -> Iterator[dict[str, Any]]:
        """The source keys earlier imports stored next to the memberships they created."""
        return self._list("keys", "source_key")

    def payment_keys(self) -> Iterator[dict[str, Any]]:
        """The source keys earlier imports stored next to the payments they created."""
        return self._list("payment-keys", "source_key")

    def batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult:
        """Import writes (`ensure`, `update`, `schedule.put_item`) through `/batch/v1` in chunks of the server's
        batch limit; resending is safe because every item is an ensure or an absolute PUT."""
        server = self._ctx.batch_limit()
        return run_batch(self._ctx.transport, items, limit=min(server, limit) if limit else server)
