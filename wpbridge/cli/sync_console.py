"""What `wpbridge sync` says on stderr while it runs, and how it stops on a signal.

`ConsoleSink` passes the run's entries on to the report and tells the user about failures, findings and (in a dry
run) the changes, at most SHOWN_LINES lines each, as events of an `EventLog` (`--log-format`: a text line, or a
JSON object with the entry's fields). `StopSignals` turns SIGTERM / SIGINT into a stop at the next safe point.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any, TypeVar

from ..errors import WPBridgeError
from ..limits import differing_modules
from ..network import Network
from ..workflows.sync.report import (
    ChangeEntry,
    ErrorEntry,
    PendingPaymentEntry,
    ReportSink,
    ScheduledEntry,
)
from ..workflows.sync.stop import StopRequest
from .logs import EventLog

SHOWN_LINES = 20
T = TypeVar("T", bound=str)


class ConsoleSink:
    """Passes entries on to the report sink and tells the user about failures (and, in a dry run, the changes),
    at most SHOWN_LINES lines each."""

    def __init__(self, inner: ReportSink, *, dry_run: bool, events: EventLog | None = None) -> None:
        self.inner = inner
        self.dry_run = dry_run
        self.events = events or EventLog()
        self.errors_seen = 0
        self.changes_seen = 0
        self.pending_payments: list[PendingPaymentEntry] = []
        """Kept for `-o json` (a handful: the payments still owed, not one per site)."""

    def change(self, entry: ChangeEntry) -> None:
        self.inner.change(entry)
        if entry.status == "differs":  # UM mode: reported on every run, never written
            self.changes_seen += 1
            if self.changes_seen <= SHOWN_LINES:
                self.events.event("warning", "sync.differs", f"site {entry.blog_id} (membership"
                                  f" {entry.membership_id}): {um_difference(entry)}", blog_id=entry.blog_id,
                                  membership_id=entry.membership_id, um=entry.before, wpbridge=entry.after)
            return
        if self.dry_run:
            self.changes_seen += 1
            if self.changes_seen <= SHOWN_LINES:
                from ..models import Limitations

                before = Limitations.model_validate(entry.before) if entry.before is not None else None
                modules = ", ".join(differing_modules(before, Limitations.model_validate(entry.after)))
                self.events.event("info", "sync.would_write", f"would write site {entry.blog_id} (membership"
                                  f" {entry.membership_id}, {entry.reason}): {modules}", blog_id=entry.blog_id,
                                  membership_id=entry.membership_id, reason=entry.reason, modules=modules)

    def scheduled(self, entry: ScheduledEntry) -> None:
        self.inner.scheduled(entry)
        if self.dry_run:
            self.events.event("info", "sync.would_apply", f"would apply the scheduled change of membership"
                              f" {entry.membership_id} (due {entry.scheduled_for}): {', '.join(sorted(entry.after))}",
                              membership_id=entry.membership_id, scheduled_for=entry.scheduled_for,
                              fields=sorted(entry.after))

    def payment(self, entry: PendingPaymentEntry) -> None:
        self.inner.payment(entry)
        self.pending_payments.append(entry)
        if len(self.pending_payments) <= SHOWN_LINES:
            self.events.event("warning", "sync.pending_payment", pending_payment_line(entry),
                              **entry.model_dump(mode="json"))

    def error(self, entry: ErrorEntry) -> None:
        self.inner.error(entry)
        if entry.stage in ("lock", "read"):
            return  # the run stopped: the command prints it once as "error: ..."
        self.errors_seen += 1
        if self.errors_seen <= SHOWN_LINES:
            where = f"site {entry.blog_id}: " if entry.blog_id else ""
            self.events.event("error", "sync.item_failed", f"sync error ({entry.stage}): {where}{entry.message}",
                              **entry.model_dump(mode="json"))


def pending_payment_line(entry: PendingPaymentEntry) -> str:
    """One finding of the human report: which payment, for whom, how much, for how long, where it is paid."""
    member = f" of membership {entry.membership_id}" if entry.membership_id is not None else ""
    day = "day" if entry.days_pending == 1 else "days"
    pay = f"; pay link {entry.url}" if entry.url else ""
    return (f"payment {entry.id}{member} (customer {entry.customer_id}): {entry.total} {entry.currency} pending for"
            f" {entry.days_pending} {day} (since {entry.date_created}){pay}")


def um_difference(entry: ChangeEntry) -> str:
    """The two values of a `differs` entry (before = UM's computed limits, after = wpbridge's)."""
    from ..models import Limitations
    from ..workflows.change_view import um_difference as describe

    um = Limitations.model_validate(entry.before) if entry.before is not None else None
    return describe(um, Limitations.model_validate(entry.after))


def site_total(network: Network) -> int | None:
    """How many sites the network has (one tiny request), for the progress bar's length; None when unknown."""
    try:
        return network.sites.count()
    except WPBridgeError:  # the bar is a nicety; the run itself will report a real problem
        return None


class StopSignals:
    """SIGTERM (systemd stop, timeout) and SIGINT (Ctrl-C) during a run: the first asks the run to stop at its next
    safe point (the lock is released, the report written and marked interrupted, exit 128 + the signal: 143 or
    130); a second one stops at once (the lock is still released on the way out)."""

    def __init__(self, label: str = "sync", events: EventLog | None = None) -> None:
        self.label = label
        self.events = events or EventLog()
        self.received: signal.Signals | None = None
        self.stop = StopRequest()  # the run's should_stop: while it only reads, a signal ends the read at once
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> StopSignals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise SystemExit(128 + signum)
        self.received = signal.Signals(signum)
        self.events.event("warning", f"{self.label}.signal", f"{self.label}: {self.received.name} received; stopping at"
                          " the next safe point (send it again to stop at once)", signal=self.received.name)
        self.stop.request(self.received.name)

    def stop_requested(self) -> bool:
        return self.received is not None

    @property
    def exit_code(self) -> int | None:
        return 128 + int(self.received) if self.received is not None else None


def choice(choices: tuple[T, ...], value: str) -> T:
    """`value` as the one of `choices` it is (click has checked that it is one)."""
    return next(choice for choice in choices if choice == value)
