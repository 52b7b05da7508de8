"""`wpbridge sync` run on one network, or on every network of the config (`--all-networks [--parallel N]`).

Each network's run is a run of its own: its own `Network` (its own settings and secret), its own server-side lock,
its own `[sync.networks.NAME]` settings, its own report (`--report` with `{network}` in the path) and its own
section of the output. A network that cannot run (a mistake in its table, a server that does not answer, its lock
held elsewhere) is reported and the others go on; the exit code is the worst of them (the highest: 143/130 a
signal, 2 a configuration mistake, 1 failed items or a run that could not start or finish, 0 clean).

In turn (the default) every read ends at once on SIGTERM / Ctrl-C, as for one network; with `--parallel N` the runs
are N threads and a signal stops each at its next safe point, once the request in flight is answered (bounded by
`request_deadline`; the systemd unit's TimeoutStopSec is set above it). Networks not started yet are not started.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from ..config import SyncSettings, load_sync_settings
from ..errors import WPBridgeError
from ..network import Network
from ..workflows.sync import INACTIVE_POLICIES, SyncOptions, SyncOutcome, run_sync
from ..workflows.sync.metrics import NetworkRun
from ..workflows.sync.report import NullSink, ReportSink, ReportSpool
from .common import emit, error_line, exit_code_for, open_network
from .logs import EventLog
from .sync_console import SHOWN_LINES, ConsoleSink, StopSignals, choice, site_total

NETWORK_FIELD = "{network}"
"""In `--report` with `--all-networks`: replaced by each network's name (one report per network)."""


@dataclass(frozen=True)
class SyncRequest:
    """What the command line asks of every network's run."""

    now: datetime
    dry_run: bool = False
    only: tuple[int, ...] = ()
    inactive_policy: str | None = None
    lock_ttl: int | None = None
    payment_grace_days: int | None = None
    batch_size: int | None = None
    step_delay: float = 0.0
    config_path: str | None = None
    report: str | None = None
    progress: bool = False
    """Draw a progress bar on stderr (one network, stderr a terminal, text logs)."""

    def report_path(self, network: str) -> str | None:
        return self.report.replace(NETWORK_FIELD, network) if self.report else None

    def options(self, settings: SyncSettings) -> SyncOptions:
        policy = settings.inactive_policy if self.inactive_policy is None else choice(INACTIVE_POLICIES,
                                                                                      self.inactive_policy)
        grace = settings.payment_grace_days if self.payment_grace_days is None else self.payment_grace_days
        return SyncOptions(now=self.now, dry_run=self.dry_run, only_memberships=tuple(sorted(set(self.only))),
                           inactive_policy=policy, lock_ttl=self.lock_ttl or settings.lock_ttl,
                           payment_grace_days=grace, step_delay=self.step_delay, batch_size=self.batch_size)


@dataclass
class NetworkResult:
    """How one network's run ended: its outcome, or the error that kept it from running."""

    network: str
    exit_code: int
    finished_at: datetime
    dry_run: bool = False
    outcome: SyncOutcome | None = None
    error: str | None = None
    pending_payments: list[dict[str, Any]] = field(default_factory=list)

    def metrics(self) -> NetworkRun:
        summary = self.outcome.summary if self.outcome is not None else None
        return NetworkRun(self.network, self.finished_at, summary, self.exit_code, dry_run=self.dry_run)

    def to_json(self) -> dict[str, Any]:
        outcome = self.outcome
        return {"network": self.network, "exit_code": self.exit_code,
                "summary": outcome.summary.to_json() if outcome is not None else None,
                "fatal": outcome.fatal if outcome is not None else self.error,
                "interrupted": outcome.interrupted_by if outcome is not None else None,
                "pending_payments": self.pending_payments}


def _failed(name: str, err: WPBridgeError, events: EventLog, dry_run: bool) -> NetworkResult:
    line = error_line(err)
    events.event("error", "sync.error", line, network=name, exit_code=exit_code_for(err))
    return NetworkResult(name, exit_code_for(err), datetime.now(UTC), dry_run, error=line.removeprefix("error: "))


Opener = Callable[[str | None, str | None], Network]
"""Opens a network by name and config path (`common.open_network`; tests give a fake)."""


def run_network(name: str | None, request: SyncRequest, events: EventLog, signals: StopSignals, *,
                read_stops: bool = True, opener: Opener = open_network) -> NetworkResult:
    """One network's run, from opening it to its report; never raises a WPBridgeError (it is the result).
    `read_stops`: a signal ends a read at once (the run is in the main thread), else at the next safe point."""
    try:
        network = opener(name, request.config_path)
    except WPBridgeError as err:
        return _failed(name or "default", err, events, request.dry_run)
    label = network.settings.name
    with events.network(label), network:
        try:
            options = request.options(load_sync_settings(label, request.config_path))
            return _run(network, options, request, events, signals, read_stops)
        except WPBridgeError as err:  # a bad [sync] key, an unknown --only-membership id
            return _failed(label, err, events, request.dry_run)


def _run(network: Network, options: SyncOptions, request: SyncRequest, events: EventLog, signals: StopSignals,
         read_stops: bool) -> NetworkResult:
    label = network.settings.name
    report = request.report_path(label)
    spool = ReportSpool() if report else None
    sink = ConsoleSink(spool or NullSink(), dry_run=options.dry_run, events=events)
    should_stop: Callable[[], bool] = signals.stop if read_stops else signals.stop_requested
    events.event("info", "sync.started", f"sync of {label} started", text=False, dry_run=options.dry_run,
                 at=options.now)
    try:
        outcome = _with_progress(network, options, sink, should_stop, request.progress)
        if outcome.interrupted and signals.exit_code is not None:
            outcome.summary.exit_code = signals.exit_code  # the report says how the run ended: 143 / 130
            outcome.signal = signals.received.name if signals.received else None
        if spool is not None and report is not None:
            spool.write(report, outcome.header, outcome.summary, outcome.finished_at,
                        interrupted=outcome.interrupted_by, fatal=outcome.fatal)
    finally:
        if spool is not None:
            spool.close()
    _say_rest(sink, outcome, report, events)
    summary = outcome.summary
    events.event("error" if summary.exit_code else "info", "sync.finished", summary.line(dry_run=options.dry_run),
                 text=False, exit_code=summary.exit_code, interrupted=outcome.interrupted_by, fatal=outcome.fatal,
                 summary=summary.to_json())
    return NetworkResult(label, summary.exit_code, datetime.now(UTC), options.dry_run, outcome,
                         pending_payments=[e.model_dump(mode="json") for e in sink.pending_payments])


def _with_progress(network: Network, options: SyncOptions, sink: ReportSink, should_stop: Callable[[], bool],
                   progress: bool) -> SyncOutcome:
    if options.only_memberships or not progress:
        return run_sync(network, options, sink=sink, should_stop=should_stop)
    total = site_total(network)
    if not total:
        return run_sync(network, options, sink=sink, should_stop=should_stop)
    with click.progressbar(length=total, label="sync", file=sys.stderr, show_pos=True) as bar:
        return run_sync(network, options, sink=sink, progress=bar.update, should_stop=should_stop)


def _say_rest(sink: ConsoleSink, outcome: SyncOutcome, report_path: str | None, events: EventLog) -> None:
    """After the run, on stderr: how many errors and pending payments were not shown, and why it stopped."""
    hidden = sink.errors_seen - SHOWN_LINES
    if hidden > 0:
        events.event("warning", "sync.more_errors", f"sync: ... and {hidden} more errors"
                     + (" (see the report)" if report_path else ""), count=hidden)
    hidden = len(sink.pending_payments) - SHOWN_LINES
    if hidden > 0:
        events.event("warning", "sync.more_pending_payments", f"sync: ... and {hidden} more pending payments",
                     count=hidden)
    if outcome.fatal:
        events.event("error", "sync.fatal", f"error: {outcome.fatal}", interrupted=outcome.interrupted_by)


def run_networks(names: Sequence[str | None], request: SyncRequest, events: EventLog, signals: StopSignals,
                 parallel: int = 1, *, opener: Opener = open_network) -> list[NetworkResult]:
    """Every network of `names` in turn, or `parallel` at a time; the results in the order of `names`."""
    if parallel <= 1 or len(names) <= 1:
        return [_unless_stopped(name, request, events, signals, True, opener) for name in names]
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="wpbridge-sync") as pool:
        futures = [pool.submit(_unless_stopped, name, request, events, signals, False, opener) for name in names]
        return [future.result() for future in futures]


def _unless_stopped(name: str | None, request: SyncRequest, events: EventLog, signals: StopSignals,
                    read_stops: bool, opener: Opener) -> NetworkResult:
    if signals.received is None:
        return run_network(name, request, events, signals, read_stops=read_stops, opener=opener)
    label = name or "default"
    message = f"not started: stopped by {signals.received.name}"
    events.event("warning", "sync.not_started", f"sync: {message}", network=label)
    return NetworkResult(label, signals.exit_code or 1, datetime.now(UTC), request.dry_run, error=message)


def worst(results: Sequence[NetworkResult]) -> int:
    """The exit code of the whole: the highest (signal > configuration > failed > clean)."""
    return max((r.exit_code for r in results), default=0)


def render_all(output: str, results: Sequence[NetworkResult], dry_run: bool) -> None:
    """stdout of `--all-networks`: a section (one line) per network, then the whole; or the data (json, yaml: every
    network's result and the exit code; csv: one row per network)."""
    rows: list[dict[str, Any]] = [{"network": r.network, "exit_code": r.exit_code, "error": r.error or "",
                                   **(r.outcome.summary.to_json() if r.outcome else {})} for r in results]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    lines = [f"[{r.network}] {_section(r, dry_run)}" for r in results]
    failed = sum(1 for r in results if r.exit_code)
    lines.append(f"sync: {len(results)} networks, {failed} not clean (exit {worst(results)})")
    emit(output, rows=rows, columns=columns, text="\n".join(lines),
         data={"networks": [r.to_json() for r in results], "exit_code": worst(results)})


def _section(result: NetworkResult, dry_run: bool) -> str:
    outcome = result.outcome
    if outcome is None:
        return f"sync: not run: {result.error}"
    line = outcome.summary.line(dry_run=dry_run)
    if outcome.fatal is not None:
        return line.replace("sync:", "sync (interrupted):" if outcome.interrupted else "sync (incomplete):", 1)
    return line

