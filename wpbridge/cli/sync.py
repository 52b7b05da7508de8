"""`wpbridge sync`: the scheduled job (cron, systemd timer). Thin: options, config, progress, report, exit code.

Quiet by design: one summary line on stdout ("... 0 changes ..." on a clean rerun), failed items on stderr (the
first 20; all of them in `--report`), a progress bar only when stderr is a terminal.

Findings are printed on stderr and put in `--report` but do not change the exit code (a finding is something
for the owner to look at, not a failure of the run, and a cron job must not alert on it every night): UM mode's
sites whose limits differ from wpbridge's, and the payments of plan changes pending for longer than
`payment_grace_days` ("payment 12 of membership 2 (customer 3): 30.62 USD pending for 9 days ...").

Exit codes: 0 clean (findings included); 1 some items failed (the others were applied), or the run could not start
or finish (another sync holds the lock: "another sync is running on this network (owner ..., lock held until
...)"; a list could not be read; the pending payments could not be read); 2 configuration or usage mistakes
(bad --at, unknown --only-membership id, bad [sync] key);
143 / 130 stopped by SIGTERM / Ctrl-C at a safe point (lock released, report marked interrupted).

Settings, highest first: the command line, `[sync.networks.NAME]`, `[sync]` in the config file:
    [sync]
    inactive_policy = "keep"     # or "suspend": sites of expired/cancelled memberships get the suspended quota
    lock_ttl = 300               # seconds; a killed run's lock lapses after this
    payment_grace_days = 7       # a change's payment pending for longer is reported (never acted on)
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click

from ..config import DEFAULT_LOCK_TTL, InactivePolicy, SyncSettings, load_sync_settings
from ..errors import ConfigError, WPBridgeError
from ..limits import differing_modules
from ..network import Network
from ..safe_files import config_file, refuse_inputs
from ..workflows.sync import (
    INACTIVE_POLICIES,
    SyncOptions,
    SyncOutcome,
    run_sync,
)
from ..workflows.sync.report import (
    ChangeEntry,
    ErrorEntry,
    NullSink,
    PendingPaymentEntry,
    ReportSink,
    ReportSpool,
    ScheduledEntry,
)
from ..workflows.sync.stop import StopRequest
from .common import at_option, emit, handle_errors, network_options, open_network

STEP_DELAY_ENV = "WPBRIDGE_SYNC_STEP_DELAY"
"""Seconds to pause after each write step (tests and demos use it to kill a run mid-way); unset in production."""
SHOWN_LINES = 20
T = TypeVar("T", bound=str)


def _step_delay() -> float:
    raw = os.environ.get(STEP_DELAY_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        raise ConfigError(f"environment variable {STEP_DELAY_ENV}: not a number of seconds ({raw!r})") from None


class ConsoleSink:
    """Passes entries on to the report sink and tells the user about failures (and, in a dry run, the changes),
    at most SHOWN_LINES lines each."""

    def __init__(self, inner: ReportSink, *, dry_run: bool) -> None:
        self.inner = inner
        self.dry_run = dry_run
        self.errors_seen = 0
        self.changes_seen = 0
        self.pending_payments: list[PendingPaymentEntry] = []
        """Kept for `-o json` (a handful: the payments still owed, not one per site)."""

    def change(self, entry: ChangeEntry) -> None:
        self.inner.change(entry)
        if entry.status == "differs":  # UM mode: reported on every run, never written
            self.changes_seen += 1
            if self.changes_seen <= SHOWN_LINES:
                click.echo(f"site {entry.blog_id} (membership {entry.membership_id}): {um_difference(entry)}",
                           err=True)
            return
        if self.dry_run:
            self.changes_seen += 1
            if self.changes_seen <= SHOWN_LINES:
                from ..models import Limitations

                before = Limitations.model_validate(entry.before) if entry.before is not None else None
                modules = ", ".join(differing_modules(before, Limitations.model_validate(entry.after)))
                click.echo(f"would write site {entry.blog_id} (membership {entry.membership_id}, {entry.reason}):"
                           f" {modules}", err=True)

    def scheduled(self, entry: ScheduledEntry) -> None:
        self.inner.scheduled(entry)
        if self.dry_run:
            click.echo(f"would apply the scheduled change of membership {entry.membership_id}"
                       f" (due {entry.scheduled_for}): {', '.join(sorted(entry.after))}", err=True)

    def payment(self, entry: PendingPaymentEntry) -> None:
        self.inner.payment(entry)
        self.pending_payments.append(entry)
        if len(self.pending_payments) <= SHOWN_LINES:
            click.echo(pending_payment_line(entry), err=True)

    def error(self, entry: ErrorEntry) -> None:
        self.inner.error(entry)
        if entry.stage in ("lock", "read"):
            return  # the run stopped: the command prints it once as "error: ..."
        self.errors_seen += 1
        if self.errors_seen <= SHOWN_LINES:
            where = f"site {entry.blog_id}: " if entry.blog_id else ""
            click.echo(f"sync error ({entry.stage}): {where}{entry.message}", err=True)


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


def _check_writable(path: str) -> None:
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise click.BadParameter(f"cannot write {path}: {folder} is not a writable directory", param_hint="--report")


class StopSignals:
    """SIGTERM (systemd stop, timeout) and SIGINT (Ctrl-C) during a run: the first asks the run to stop at its next
    safe point (the lock is released, the report written and marked interrupted, exit 128 + the signal: 143 or
    130); a second one stops at once (the lock is still released on the way out)."""

    def __init__(self, label: str = "sync") -> None:
        self.label = label
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
        click.echo(f"{self.label}: {self.received.name} received; stopping at the next safe point (send it again"
                   " to stop at once)", err=True)
        self.stop.request(self.received.name)

    def stop_requested(self) -> bool:
        return self.received is not None

    @property
    def exit_code(self) -> int | None:
        return 128 + int(self.received) if self.received is not None else None


def _remove_stale(path: str) -> None:
    """A report left by an earlier run must never pass for this run's: it goes before the run starts."""
    try:
        Path(path).expanduser().unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise click.BadParameter(f"cannot remove the earlier report {path}: {exc.strerror}",
                                 param_hint="--report") from None


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""

    @main.command("sync")
    @click.option("--dry-run", is_flag=True, help="Compute and report the changes; write nothing, take no lock.")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
                  help="Write a JSON report: counts, every change with before and after, every error.")
    @click.option("--only-membership", "only", type=click.IntRange(min=1), multiple=True, metavar="ID",
                  help="Limit the run to these memberships (repeatable).")
    @at_option("The moment the run acts at (default: now, UTC); scheduled changes due by then are applied.")
    @click.option("--inactive-policy", type=click.Choice(INACTIVE_POLICIES), default=None,
                  help="Sites of expired/cancelled memberships: keep their quota, or suspend them"
                       " (default: [sync] inactive_policy, else keep).")
    @click.option("--lock-ttl", type=click.IntRange(min=5), default=None, metavar="SECONDS",
                  help=f"Expiry of the run's lock, refreshed while it runs (default {DEFAULT_LOCK_TTL}).")
    @click.option("--payment-grace-days", type=click.IntRange(min=0), default=None, metavar="DAYS",
                  help="Report a change's payment pending for longer than this (default: [sync] payment_grace_days,"
                       " else 7).")
    @click.option("--batch-size", type=click.IntRange(min=1), default=None, metavar="N",
                  help="Quota writes per batch request (default and maximum: the server's batch limit).")
    @network_options
    @handle_errors
    def sync_command(dry_run: bool, report_path: str | None, only: tuple[int, ...], at: datetime | None,
                     inactive_policy: str | None, lock_ttl: int | None, payment_grace_days: int | None,
                     batch_size: int | None,
                     network_name: str | None, config_path: str | None, output: str) -> None:
        """Apply due scheduled changes and reconcile every site's quota with its membership.

        Safe to re-run and to kill; a second run right after a clean one writes nothing. Also reports the payments
        of plan changes pending past [sync] payment_grace_days (never acted on). Exit 0 clean (findings such as
        those payments included), 1 some items failed (or another sync is running), 2 configuration/usage,
        143/130 stopped by SIGTERM/Ctrl-C.
        """
        now = at or datetime.now(UTC)
        if report_path is not None:
            _check_writable(report_path)
            refuse_inputs(report_path, [config_file(config_path)], option="--report")
            _remove_stale(report_path)
        step_delay = _step_delay()
        network = open_network(network_name, config_path)
        settings = load_sync_settings(network.settings.name, config_path)
        policy, ttl, grace = _configured(settings, inactive_policy, lock_ttl, payment_grace_days)
        options = SyncOptions(now=now, dry_run=dry_run, only_memberships=tuple(sorted(set(only))),
                              inactive_policy=policy, lock_ttl=ttl, payment_grace_days=grace, step_delay=step_delay,
                              batch_size=batch_size)
        spool = ReportSpool() if report_path else None
        sink = ConsoleSink(spool or NullSink(), dry_run=dry_run)
        try:
            with StopSignals() as signals, network:
                outcome = _run_with_progress(network, options, sink, signals.stop)
                if outcome.interrupted and signals.exit_code is not None:
                    outcome.summary.exit_code = signals.exit_code  # the report says how the run ended: 143 / 130
                if spool is not None and report_path is not None:
                    interrupted = signals.received.name if signals.received and outcome.interrupted else None
                    spool.write(report_path, outcome.header, outcome.summary, outcome.finished_at,
                                interrupted=interrupted, fatal=outcome.fatal)
        finally:
            if spool is not None:
                spool.close()
        summary = outcome.summary
        _say_rest(sink, outcome, report_path)
        _render(output, summary.to_json(), summary.line(dry_run=dry_run), outcome.fatal, outcome.interrupted,
                [e.model_dump(mode="json") for e in sink.pending_payments])
        if outcome.interrupted and signals.exit_code is not None:
            sys.exit(signals.exit_code)
        sys.exit(outcome.exit_code)


def _configured(settings: SyncSettings, inactive_policy: str | None, lock_ttl: int | None,
                payment_grace_days: int | None) -> tuple[InactivePolicy, int, int]:
    """The inactive policy, lock ttl and payment grace given on the command line, else the config's [sync] ones."""
    policy = settings.inactive_policy if inactive_policy is None else _choice(INACTIVE_POLICIES, inactive_policy)
    grace = settings.payment_grace_days if payment_grace_days is None else payment_grace_days
    return policy, lock_ttl or settings.lock_ttl, grace


def _say_rest(sink: ConsoleSink, outcome: SyncOutcome, report_path: str | None) -> None:
    """After the run, on stderr: how many errors and pending payments were not shown, and why it stopped."""
    hidden = sink.errors_seen - SHOWN_LINES
    if hidden > 0:
        click.echo(f"sync: ... and {hidden} more errors" + (" (see the report)" if report_path else ""), err=True)
    hidden = len(sink.pending_payments) - SHOWN_LINES
    if hidden > 0:
        click.echo(f"sync: ... and {hidden} more pending payments", err=True)
    if outcome.fatal:
        click.echo(f"error: {outcome.fatal}", err=True)


def _choice(choices: tuple[T, ...], value: str) -> T:
    """`value` as the one of `choices` it is (click has checked that it is one)."""
    return next(choice for choice in choices if choice == value)


def _run_with_progress(network: Network, options: SyncOptions, sink: ReportSink,
                       should_stop: Callable[[], bool]) -> SyncOutcome:
    if options.only_memberships or not sys.stderr.isatty():
        return run_sync(network, options, sink=sink, should_stop=should_stop)
    total = site_total(network)
    if not total:
        return run_sync(network, options, sink=sink, should_stop=should_stop)
    with click.progressbar(length=total, label="sync", file=sys.stderr, show_pos=True) as bar:
        return run_sync(network, options, sink=sink, progress=bar.update, should_stop=should_stop)


def _render(output: str, summary: Mapping[str, Any], line: str, fatal: str | None, interrupted: bool,
            pending_payments: list[dict[str, Any]]) -> None:
    """The summary line; for a run that stopped, marked incomplete (or interrupted), and left out when nothing was
    done at all (refused by the lock): a "0 changes" line must only ever mean that the network is in sync."""
    if output == "table":
        if fatal is None:
            click.echo(line)
        elif summary.get("sites_checked") or summary.get("writes") or summary.get("scheduled_changes_due"):
            click.echo(line.replace("sync:", "sync (interrupted):" if interrupted else "sync (incomplete):", 1))
    else:
        emit(output, rows=[dict(summary)], data={"summary": dict(summary), "fatal": fatal,
                                                 "interrupted": interrupted, "pending_payments": pending_payments})

