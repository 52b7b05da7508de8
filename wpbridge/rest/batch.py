"""Many absolute writes in few requests: WordPress's `POST /wp-json/batch/v1` (core since 5.6).

Why resending a whole batch is safe: every item wpbridge batches is a PUT of a record's absolute state (a site's
whole quota). Running an item twice leaves the server exactly as running it once, so when a batch times out or
gets a 502/503/504 half-way, sending the same batch again cannot double anything; that is why the batch POST is
marked idempotent for the transport's retries, unlike a create.

`require-all-validate` makes WordPress check every item's arguments before running any: a chunk is either refused
whole (`"failed": "validation"`, nothing written) or run. Items that were valid but held back by another item's
error are then sent again in a batch of their own, so one bad record does not block its neighbours.

Where batching is not possible (WordPress < 5.6: the batch route is missing; a route without `allow_batch`:
`rest_batch_not_allowed`) the same items go as single requests; the result says so (`fallback`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import DataError, InvalidRequestError, NetworkConnectionError, NotFound, ServerError, WPBridgeError
from .mapping import error_from
from .transport import Reply, Transport

log = logging.getLogger("wpbridge.rest")

BATCH_ROUTE = "/batch/v1"
NOT_ALLOWED = "rest_batch_not_allowed"


@dataclass(frozen=True)
class BatchItem:
    key: int
    """What the caller knows the item by (a blog_id)."""
    method: str
    path: str
    """The route, without `/wp-json` (e.g. `/wpbridge/v1/sites/2/quota`)."""
    body: Any = None


@dataclass(frozen=True)
class BatchItemResult:
    key: int
    ok: bool
    status: int | None
    error: WPBridgeError | None = None
    data: Any = None

    @property
    def blog_id(self) -> int:
        return self.key


@dataclass
class BatchResult:
    """Per-item outcome of a batched write, in the order of the items given."""

    items: list[BatchItemResult] = field(default_factory=list)
    batches: int = 0
    """Batch requests sent (resends of held-back items included)."""
    singles: int = 0
    """Items sent one by one because batching was not possible."""
    fallback: bool = False

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def failed(self) -> list[BatchItemResult]:
        return [item for item in self.items if not item.ok]

    def __iter__(self) -> Iterator[BatchItemResult]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def run_batch(transport: Transport, items: Sequence[BatchItem], *, limit: int) -> BatchResult:
    """Send `items` in chunks of `limit` (the server's batch limit) and report every item."""
    result = BatchResult()
    by_key: dict[int, BatchItemResult] = {}
    for start in range(0, len(items), max(1, limit)):
        chunk = list(items[start : start + max(1, limit)])
        if result.fallback:
            _singles(transport, chunk, by_key, result)
        else:
            _batch(transport, chunk, by_key, result)
    result.items = [by_key[item.key] for item in items]
    return result


def _batch(transport: Transport, chunk: list[BatchItem], out: dict[int, BatchItemResult],
           result: BatchResult) -> None:
    """One batch request for `chunk`: every item's outcome lands in `out` (valid items held back by another item's
    refusal are sent again in a batch of their own)."""
    result.batches += 1
    reply = _post(transport, chunk, out, result)
    if reply is None:
        return
    data = reply.data if isinstance(reply.data, dict) else {}
    responses = data.get("responses")
    if not isinstance(responses, list) or len(responses) != len(chunk):
        raise DataError(
            f"the batch reply has no per-item list of {len(chunk)} responses", method="POST", path=reply.path,
            status=reply.status,
        )
    errors = [_item_error(transport, item, resp) for item, resp in zip(chunk, responses, strict=True)]
    if data.get("failed") == "validation":
        _refused(transport, chunk, errors, reply, out, result)
        return
    for item, resp, err in zip(chunk, responses, errors, strict=True):
        if err is None:
            resp = resp if isinstance(resp, dict) else {}
            out[item.key] = BatchItemResult(item.key, True, resp.get("status"), None, resp.get("body"))
        else:
            out[item.key] = BatchItemResult(item.key, False, err.status, err)


def _post(transport: Transport, chunk: list[BatchItem], out: dict[int, BatchItemResult],
          result: BatchResult) -> Reply | None:
    """The batch request; None when it was dealt with otherwise (no batch route or refused whole: the items went
    one by one; a server error: every item failed with it)."""
    body = {
        "validation": "require-all-validate",
        "requests": [{"method": item.method, "path": item.path, "body": item.body} for item in chunk],
    }
    try:
        return transport.request("POST", BATCH_ROUTE, json_body=body, idempotent=True)
    except NotFound:
        log.warning("network %s has no batch route (WordPress < 5.6?); writing one by one", transport.settings.name)
    except InvalidRequestError as exc:
        log.warning("the server refused the batch as a whole (%s); writing one by one", exc)
    except ServerError as exc:
        for item in chunk:
            out[item.key] = BatchItemResult(item.key, False, exc.status, exc)
        return None
    result.fallback = True
    _singles(transport, chunk, out, result)
    return None


def _refused(transport: Transport, chunk: list[BatchItem], errors: list[WPBridgeError | None], reply: Reply,
             out: dict[int, BatchItemResult], result: BatchResult) -> None:
    """A chunk refused by `require-all-validate`: record the refused items, resend the valid ones held back."""
    if any(err is not None and err.code == NOT_ALLOWED for err in errors):
        log.warning("network %s does not allow these routes in a batch; writing one by one", transport.settings.name)
        result.fallback = True
        _singles(transport, chunk, out, result)
        return
    held_back = [item for item, err in zip(chunk, errors, strict=True) if err is None]
    if len(held_back) == len(chunk):
        raise DataError("the batch failed validation but no item says why", method="POST", path=reply.path,
                        status=reply.status)
    for item, err in zip(chunk, errors, strict=True):
        if err is not None:
            out[item.key] = BatchItemResult(item.key, False, err.status, err)
    if held_back:
        _batch(transport, held_back, out, result)


def _item_error(transport: Transport, item: BatchItem, resp: Any) -> WPBridgeError | None:
    """None for a successful (or, in a refused batch, a valid but held-back) item; the mapped error otherwise."""
    if resp is None:
        return None
    if not isinstance(resp, dict) or not isinstance(resp.get("status"), int):
        return DataError("a batch item reply has no status", method=item.method, path=_url_path(transport, item))
    status = resp["status"]
    if status < 300:
        return None
    raw = resp.get("body")
    body: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return error_from(item.method, _url_path(transport, item), status, body, resp.get("headers") or {},
                      scrub=transport.scrub, source=transport.settings.source)


def _singles(transport: Transport, chunk: list[BatchItem], out: dict[int, BatchItemResult],
             result: BatchResult) -> None:
    for item in chunk:
        result.singles += 1
        try:
            reply = transport.request(item.method, item.path, json_body=item.body)
        except NetworkConnectionError:
            raise
        except WPBridgeError as exc:
            out[item.key] = BatchItemResult(item.key, False, exc.status, exc)
        else:
            out[item.key] = BatchItemResult(item.key, True, reply.status, None, reply.data)


def _url_path(transport: Transport, item: BatchItem) -> str:
    return urlsplit(transport.url_for(item.path)).path
