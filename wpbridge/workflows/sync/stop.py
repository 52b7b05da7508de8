"""Stopping a run on SIGTERM / SIGINT within a second, at a safe point (sync and import).

The signal handler calls `StopRequest.request()`. Between writes the run asks `stop_requested()` at its safe
points and stops there. While the run only reads (`read_only()`: listing, waiting for a reply or a retry), nothing
can be left half written, so the request ends the read at once: `StopNow` is raised from the handler (a
BaseException, so that no `except Exception` of the HTTP layer or its retries takes it for a failed request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

STOPPED = "interrupted: stopped at a safe point (what was written is reported; the rest was not sent); run it again"


class StopNow(BaseException):
    """Raised by the signal handler inside a read-only stretch of a run: give the read up and stop."""


class StopRequest:
    """Callable as `should_stop`: True once a stop was requested."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self.reading = 0

    def __call__(self) -> bool:
        return self.requested is not None

    def request(self, name: str) -> None:
        """From the signal handler: stop at the next safe point, or now when the run is only reading."""
        self.requested = name
        if self.reading:
            self.reading = 0
            raise StopNow(STOPPED)

    @contextmanager
    def read_only(self) -> Iterator[None]:
        if self.requested is not None:
            raise StopNow(STOPPED)
        self.reading += 1
        try:
            yield
        finally:
            self.reading = max(0, self.reading - 1)


def read_only(should_stop: Callable[[], bool] | None) -> AbstractContextManager[None]:
    """A read-only stretch of a run whose `should_stop` is a StopRequest (else nothing special)."""
    return should_stop.read_only() if isinstance(should_stop, StopRequest) else nullcontext()
