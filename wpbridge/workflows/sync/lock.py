"""The network's sync lock, held for a run: one run at a time, and a killed run's lock lapses by itself."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable
from types import TracebackType

from ...errors import Conflict, WPBridgeError
from .. import LocksAPI

log = logging.getLogger("wpbridge.sync")

LOCK_NAME = "sync"

Clock = Callable[[], float]
"""Seconds on a monotonic clock (`time.monotonic`; a test passes its own)."""


class SyncLocked(WPBridgeError):
    """Another sync holds the network's lock."""


class LockLost(WPBridgeError):
    """This run's lock expired and another run took it: stop before writing anything more."""


class LockKeeper:
    """Holds the server-side lock (`net.locks`: `POST`/`DELETE /wpbridge/v1/locks/sync`) for the run and refreshes
    it from a background thread every ttl/3 seconds, as long as the run makes progress.

    A run stalled on a slow server (no `check()` for `stall_after` seconds, default the ttl) stops renewing, so
    its lock lapses and other runs are not refused for ever (issue 11); when it gets going again, `check()` takes
    the lock back before anything more is written, or stops the run if another one took it meanwhile.

    `clock` is read for progress and stalls; with `background=False` no thread is started and the caller calls
    `renew()` where the thread would (every `refresh_every` seconds): a test drives a run's lock that way, with a
    clock of its own, without waiting.
    """

    def __init__(self, locks: LocksAPI, ttl: int, owner: str | None = None, *,
                 refresh_every: float | None = None, stall_after: float | None = None,
                 clock: Clock = time.monotonic, background: bool = True) -> None:
        self.locks = locks
        self.ttl = ttl
        self.owner = owner or f"wpbridge-sync-{uuid.uuid4()}"
        self.refresh_every = refresh_every if refresh_every is not None else max(1.0, ttl / 3)
        self.stall_after = stall_after if stall_after is not None else float(ttl)
        self.clock = clock
        self.background = background
        self._stop = threading.Event()
        self._lost: str | None = None
        self._stalled = False
        self._progress = clock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LockKeeper:
        self._take()
        self._progress = self.clock()
        if self.background:
            # in the run's context: what it logs is the run's (the network of `--log-format json`'s events)
            context = contextvars.copy_context()
            self._thread = threading.Thread(target=context.run, args=(self._refresh,), name="wpbridge-sync-lock",
                                            daemon=True)
            self._thread.start()
        return self

    def _take(self) -> None:
        try:
            self.locks.acquire(LOCK_NAME, self.owner, self.ttl)
        except Conflict as exc:
            holder, until = exc.data.get("owner", "?"), exc.data.get("expires_at", "?")
            raise SyncLocked(f"another sync is running on this network (owner {holder}, lock held until {until});"
                             " not starting") from None

    def _refresh(self) -> None:
        while not self._stop.wait(self.refresh_every) and self.renew():
            pass

    def renew(self) -> bool:
        """One turn of the refresher: renew the lock unless the run stalled. False once the lock is lost (another
        run took it): nothing more to renew."""
        if self.clock() - self._progress > self.stall_after:
            if not self._stalled:
                self._stalled = True
                log.warning("sync: no progress for %.0f s; no longer renewing the lock (it lapses in %d s)",
                            self.stall_after, self.ttl)
            return True
        try:
            self.locks.acquire(LOCK_NAME, self.owner, self.ttl)
        except Conflict as exc:
            self._lost = f"the sync lock expired and was taken by {exc.data.get('owner', 'another run')}"
            return False
        except WPBridgeError as exc:  # a blip: the lock still has up to 2/3 of its ttl; try again
            log.warning("could not refresh the sync lock: %s", exc)
        return True

    def check(self) -> None:
        """A safe point of the run: it made progress. Raises LockLost when the lock is no longer this run's."""
        self._progress = self.clock()
        if self._lost:
            raise LockLost(f"{self._lost}; stopping")
        if self._stalled:
            try:
                self.locks.acquire(LOCK_NAME, self.owner, self.ttl)
            except Conflict as exc:
                self._lost = f"the sync lock lapsed while the run stalled and was taken by {exc.data.get('owner')}"
                raise LockLost(f"{self._lost}; stopping") from None
            self._stalled = False

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._lost is None:
            try:
                self.locks.release(LOCK_NAME, self.owner)
            except WPBridgeError as err:
                log.warning("could not release the sync lock (it lapses by itself): %s", err)


class NoLock:
    """A dry run's lock: takes nothing, and every safe point passes."""

    def check(self) -> None:
        pass
