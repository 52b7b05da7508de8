"""`--log-format text|json`: what a command says on stderr, for a person (text, the default) or for journald and
log shippers (json: one JSON object per line and per event).

A JSON event: `{"time": "2026-05-01T12:00:00.123Z", "level": "info"|"warning"|"error", "event": "sync.finished",
"network": "production"|null, "message": "the text line", "fields": {...}}`. The messages of wpbridge's own loggers
(`wpbridge.*`: retries, the lock, TLS off...) become events too (`event` "log", `fields.logger`), at the levels
text mode shows them (WARNING and up). Every string goes through the secret scrubber (`errors.scrub`), before and
after encoding, so no event carries a credential. Text mode prints the same lines as before this option existed
(prefixed `[NETWORK] ` when a command runs several networks).

The option is taken where `--output` is: after the command (`log_format_option`); before it too, once the group's
options keep a `log_format` (`common.GlobalOptions`); and `$WPBRIDGE_LOG_FORMAT` (units and manifests set it once).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import click

from ..encoding import to_jsonable
from ..errors import scrub
from .output import human

F = TypeVar("F", bound=Callable[..., Any])
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_FORMAT_ENV = "WPBRIDGE_LOG_FORMAT"
Level = Literal["debug", "info", "warning", "error"]

_NETWORK: ContextVar[str | None] = ContextVar("wpbridge_log_network", default=None)
_WRITE = threading.RLock()  # re-entered by a signal handler that says something mid-line


def _clean(value: Any) -> Any:
    """`value` as JSON-able data with every string scrubbed of the secrets."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def event_json(level: Level, event: str, message: str, network: str | None, fields: dict[str, Any],
               now: datetime | None = None) -> str:
    """One event as one line of JSON (no newline inside: JSON escapes every control character)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    record = {"time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z", "level": level,
              "event": event, "network": network, "message": message, "fields": to_jsonable(fields)}
    return scrub(json.dumps(_clean(record), ensure_ascii=False, separators=(",", ":"), default=str))


class EventLog:
    """A command's stderr: `event()` prints a text line or a JSON object, by the format. Thread-safe (one line is
    written at a time); the network of an event is the one `network()` set in this thread, unless given."""

    def __init__(self, log_format: str = "text", *, prefix_networks: bool = False) -> None:
        self.json = log_format == "json"
        self.prefix_networks = prefix_networks

    def event(self, level: Level, event: str, message: str, /, *, text: bool = True, network: str | None = None,
              **fields: Any) -> None:
        """Say `message` (text mode: only when `text`; json mode: always, with `fields`)."""
        name = network if network is not None else _NETWORK.get()
        if self.json:
            line = event_json(level, event, message, name, fields)
        elif text:
            prefix = f"[{name}] " if self.prefix_networks and name is not None else ""
            line = human(scrub(prefix + message), keep="")
        else:
            return
        with _WRITE:
            click.echo(line, err=True)

    @contextmanager
    def network(self, name: str | None) -> Iterator[None]:
        """The events said (and the log records written) in this block, in this thread, are `name`'s."""
        token = _NETWORK.set(name)
        try:
            yield
        finally:
            _NETWORK.reset(token)

    @contextmanager
    def capture_logging(self) -> Iterator[None]:
        """In json mode, the records of the `wpbridge` loggers become events while the block runs (text mode:
        they stay as they are, printed by Python's last-resort handler)."""
        if not self.json:
            yield
            return
        logger = logging.getLogger("wpbridge")
        handler = _EventHandler(self)
        previous = logger.propagate
        logger.addHandler(handler)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.propagate = previous


_LEVELS: dict[int, Level] = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning",
                             logging.ERROR: "error", logging.CRITICAL: "error"}


class _EventHandler(logging.Handler):
    def __init__(self, events: EventLog) -> None:
        super().__init__(level=logging.WARNING)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = _LEVELS.get(record.levelno, "error" if record.levelno > logging.ERROR else "info")
            self.events.event(level, "log", record.getMessage(), logger=record.name)
        except Exception:  # a log line must never end the run
            self.handleError(record)


def log_format_option(func: F) -> F:
    """Adds `--log-format text|json` to a command (also `$WPBRIDGE_LOG_FORMAT`, and the group's option when it
    keeps one); the command receives `log_format`, "text" unless asked."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("log_format") is None:
            ctx = click.get_current_context(silent=True)
            given = ctx.find_root().obj if ctx is not None else None
            kwargs["log_format"] = getattr(given, "log_format", None) or "text"
        return func(*args, **kwargs)

    out: Any = click.option(
        "--log-format", "log_format", type=click.Choice(LOG_FORMATS), default=None, envvar=LOG_FORMAT_ENV,
        help="What goes to stderr: text lines (default), or one JSON object per event (journald, log shippers);"
             f" also ${LOG_FORMAT_ENV}.")(wrapper)
    return out  # type: ignore[no-any-return]
