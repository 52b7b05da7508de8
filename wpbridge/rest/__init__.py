"""The HTTP edge of wpbridge: transport (session, auth, retries, errors), pagination and batch writes.

`wpbridge.network.Network` is the typed facade the rest of the package codes against; these modules are its
building blocks and are importable for tests and benchmarks.
"""

from .batch import BatchItem, BatchItemResult, BatchResult, run_batch
from .pagination import iter_items, iter_pages
from .transport import Reply, RetryPolicy, Transport, TransportStats, route

__all__ = [
    "BatchItem",
    "BatchItemResult",
    "BatchResult",
    "Reply",
    "RetryPolicy",
    "Transport",
    "TransportStats",
    "iter_items",
    "iter_pages",
    "route",
    "run_batch",
]
