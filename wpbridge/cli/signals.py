"""Ctrl-C (SIGINT) and SIGTERM, one way for every command (README, Interrupting a command).

- Any command: a signal ends it at once with one line on stderr, `wpbridge: interrupted (SIGTERM)...`, and the
  exit code 128 + the signal (130 for Ctrl-C, 143 for SIGTERM); never a traceback (`default_handlers`, installed by
  the top-level group). A command that only reads has nothing to leave half done.
- `sync` and `import` install their own handlers (a safe point between writes, a report marked interrupted).
- `change apply` (`ApplySignals`): before its first write a signal stops it at once (nothing written); once its
  writes have begun, the write in flight is finished and the run stops before the next one, saying which writes
  landed and which were not sent (a rerun writes only what is missing); a signal after the last write cuts
  nothing short, so the command finishes and exits as it would have (0 when the change is in place), saying the
  signal came too late to stop anything. A second signal stops at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(KeyboardInterrupt):
    """Raised from a signal handler: the command stops here. A KeyboardInterrupt (so a BaseException: no `except
    Exception` of a retry or an error handler takes it for a failed request), so that what cleans up after a Ctrl-C
    (the sandbox's start) does so for SIGTERM too; click turns it into an Abort, which the top-level group says as
    an interruption (`interrupted_by`)."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message or signal.Signals(signum).name)
        self.signum = signum
        self.message = message

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _key(write: Any) -> tuple[Any, ...]:
    return (write.kind, write.record_id, write.method, write.path)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def handlers(handler: Any) -> Iterator[None]:
    """`handler` for SIGTERM and SIGINT while the block runs (the previous ones restored after); nothing off the
    main thread, where Python cannot set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def default_handlers() -> contextlib.AbstractContextManager[None]:
    """Every command: a signal raises `Interrupted` (the top-level group says it in one line, exit 128 + n)."""
    return handlers(_raise)


class ApplySignals:
    """`change apply`'s handlers: stop at once before any write; between writes once they have begun; never in
    the middle of a write unless signalled twice. `planned` / `written` are what the CLI says on the way out."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.writing = False
        self.forced = False
        self.planned: list[Any] = []
        self.written: list[Any] = []

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None or not self.writing:
            self.forced = self.writing  # a second signal while writing: the write in flight is cut off
            self.received = signum
            raise Interrupted(signum)
        self.received = signum  # writes under way: the next safe point (after_write) stops

    def begin_writes(self, writes: list[Any]) -> None:
        """The writes are about to be made (after the confirmation, or announced with --yes)."""
        self.planned = list(writes)
        if self.received is not None:  # signalled while the question or the plan was shown: nothing written yet
            raise Interrupted(self.received)
        self.writing = True

    def after_write(self, write: Any) -> None:
        """A safe point: `write` landed; stop here when signalled and more writes would follow. (The site quotas
        go last, in one batch: told after it, they are never a point to stop at.)"""
        self.written.append(write)
        self.writing = True
        if self.received is not None and self.not_sent() and write.kind != "site_quota":
            raise Interrupted(self.received)

    def not_sent(self) -> list[Any]:
        done = {_key(w) for w in self.written}
        return [w for w in self.planned if _key(w) not in done]

    @property
    def late(self) -> bool:
        """Signalled after the last write: nothing was cut short."""
        return self.received is not None

    def __enter__(self) -> ApplySignals:
        self._context = handlers(self._handle)
        self._context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(None, None, None)


def interrupted_by(err: BaseException) -> Interrupted | None:
    """The signal behind `err` (click's Abort raised for it, or itself), else None."""
    for candidate in (err, err.__cause__, err.__context__):
        if isinstance(candidate, Interrupted):
            return candidate
    return None
