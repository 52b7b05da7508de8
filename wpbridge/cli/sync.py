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

Run as a service (README "Running sync as a service", deploy/): `--metrics FILE` writes the run's gauges for
node_exporter (workflows/sync/metrics.py); `--log-format json` makes stderr one JSON object per event (logs.py);
`--all-networks [--parallel N]` runs every network of the config, each on its own (sync_networks.py), exit code
the worst of theirs.

Settings, highest first: the command line, `[sync.networks.NAME]`, `[sync]` in the config file:
    [sync]
    inactive_policy = "keep"     # or "suspend": sites of expired/cancelled memberships get the suspended quota
    lock_ttl = 300               # seconds; a killed run's lock lapses after this
    payment_grace_days = 7       # a change's payment pending for longer is reported (never acted on)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from ..config import DEFAULT_LOCK_TTL, ENV_VALUES, network_names
from ..errors import ConfigError, InputError, WPBridgeError
from ..safe_files import config_file, refuse_inputs
from ..workflows.sync import INACTIVE_POLICIES
from ..workflows.sync.metrics import write_metrics
from ..workflows.sync.report import Summary
from .common import (
    at_option,
    check_fields_first,
    emit,
    error_line,
    exit_code_for,
    handle_errors,
    model_fields,
    network_options,
    open_network,
)
from .logs import EventLog, log_format_option
from .sync_console import ConsoleSink, StopSignals, pending_payment_line, um_difference
from .sync_networks import NETWORK_FIELD, NetworkResult, SyncRequest, render_all, run_networks, worst

__all__ = ["STEP_DELAY_ENV", "ConsoleSink", "StopSignals", "pending_payment_line", "register", "um_difference"]
"""ConsoleSink, StopSignals... live in sync_console; other commands and tests import them from here."""

STEP_DELAY_ENV = "WPBRIDGE_SYNC_STEP_DELAY"
"""Seconds to pause after each write step (tests and demos use it to kill a run mid-way); unset in production."""


def _step_delay() -> float:
    raw = os.environ.get(STEP_DELAY_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        raise ConfigError(f"environment variable {STEP_DELAY_ENV}: not a number of seconds ({raw!r})") from None


def _check_writable(path: str, option: str = "--report") -> None:
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise click.BadParameter(f"cannot write {path}: {folder} is not a writable directory", param_hint=option)


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
                  help="Write a JSON report: counts, every change with before and after, every error (with"
                       " --all-networks, one per network: put {network} in the path).")
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
    @click.option("--all-networks", is_flag=True,
                  help="Every network of the config, each with its own lock, report and section; exit code the"
                       " worst of them.")
    @click.option("--parallel", type=click.IntRange(min=1, max=32), default=1, metavar="N",
                  help="With --all-networks: run N networks at once (default 1: in turn).")
    @click.option("--metrics", "metrics_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                  help="Write the run's figures in Prometheus' text format (node_exporter's textfile collector),"
                       " atomically.")
    @log_format_option
    @network_options
    @handle_errors
    def sync_command(dry_run: bool, report_path: str | None, only: tuple[int, ...], at: datetime | None,
                     inactive_policy: str | None, lock_ttl: int | None, payment_grace_days: int | None,
                     batch_size: int | None, all_networks: bool, parallel: int, metrics_path: str | None,
                     log_format: str, network_name: str | None, config_path: str | None, output: str) -> None:
        """Apply due scheduled changes and reconcile every site's quota with its membership.

        Safe to re-run and to kill; a second run right after a clean one writes nothing. Also reports the payments
        of plan changes pending past [sync] payment_grace_days (never acted on). Exit 0 clean (findings such as
        those payments included), 1 some items failed (or another sync is running), 2 configuration/usage,
        143/130 stopped by SIGTERM/Ctrl-C; with --all-networks the worst of the networks'.
        """
        events = EventLog(log_format, prefix_networks=all_networks)
        request = SyncRequest(now=at or datetime.now(UTC), dry_run=dry_run, only=only,
                              inactive_policy=inactive_policy, lock_ttl=lock_ttl,
                              payment_grace_days=payment_grace_days, batch_size=batch_size,
                              config_path=config_path, report=report_path,
                              progress=not all_networks and log_format == "text" and sys.stderr.isatty())
        with events.capture_logging():
            try:
                code = _sync(request, events, network_name, all_networks, parallel, metrics_path, output)
            except (WPBridgeError, click.ClickException) as err:
                if not events.json:
                    raise
                _say_error(events, err)
        sys.exit(code)


def _sync(request: SyncRequest, events: EventLog, network_name: str | None, all_networks: bool, parallel: int,
          metrics_path: str | None, output: str) -> int:
    """The command: the networks to run, their outputs checked, the runs, stdout, the metrics; the exit code."""
    check_fields_first(output_fields(output, all_networks))  # before the config is read: --fields is a usage error
    names = _networks(network_name, all_networks, parallel, request.config_path)
    _check_outputs(request.report, metrics_path, names, request.config_path)
    request = _with_step_delay(request)
    with StopSignals(events=events) as signals:
        results = run_networks(names, request, events, signals, parallel,
                               opener=lambda name, path: open_network(name, path))
    if all_networks:
        render_all(output, results, request.dry_run)
    else:
        _render_one(output, results[0], request.dry_run)
    code = worst(results)
    if metrics_path is not None:
        code = max(code, _write_metrics(metrics_path, results, events))
    return code


def output_fields(output: str, all_networks: bool) -> tuple[str, ...]:
    """The fields of sync's output: a network's summary (table/csv; with --all-networks led by network, exit_code
    and error), or the json keys (`_render_one`, `render_all`)."""
    if output in ("json", "yaml"):
        return ("networks", "exit_code") if all_networks else ("summary", "fatal", "interrupted", "pending_payments")
    return tuple(dict.fromkeys((("network", "exit_code", "error") if all_networks else ()) + model_fields(Summary)))


def _with_step_delay(request: SyncRequest) -> SyncRequest:
    from dataclasses import replace

    return replace(request, step_delay=_step_delay())


def _networks(network_name: str | None, all_networks: bool, parallel: int,
              config_path: str | None) -> Sequence[str | None]:
    if not all_networks:
        if parallel != 1:
            raise click.BadParameter("only with --all-networks", param_hint="--parallel")
        return [network_name]
    if network_name is not None:
        raise click.BadParameter("--network and --all-networks exclude each other; give one",
                                 param_hint="--all-networks")
    overriding = [var for var in ENV_VALUES.values() if os.environ.get(var)]
    if overriding:  # they override every profile's value: each "network" would be the same one
        raise click.BadParameter(f"{', '.join(overriding)} set in the environment would apply to every network;"
                                 " unset it, or run one network at a time", param_hint="--all-networks")
    return list(network_names(config_path))


def _check_outputs(report: str | None, metrics_path: str | None, names: Sequence[str | None],
                   config_path: str | None) -> None:
    """Before any run: every report and the metrics file can be written and are no input; stale reports go."""
    if report is not None:
        if len(names) > 1 and NETWORK_FIELD not in report:
            raise click.BadParameter(f"with --all-networks, put {NETWORK_FIELD} in the path (one report per"
                                     " network)", param_hint="--report")
        if NETWORK_FIELD in report and names == [None]:
            raise click.BadParameter(f"{NETWORK_FIELD} in the path needs --network NAME (or --all-networks)",
                                     param_hint="--report")
        paths = sorted({report.replace(NETWORK_FIELD, name or "default") for name in names})
        for path in paths:
            _check_writable(path)
            refuse_inputs(path, [config_file(config_path)], option="--report")
        if metrics_path is not None and metrics_path in paths:
            raise InputError(f"--metrics {metrics_path}: is also the --report file; choose another file")
        for path in paths:
            _remove_stale(path)
    if metrics_path is not None:
        _check_writable(metrics_path, "--metrics")
        refuse_inputs(metrics_path, [config_file(config_path)], option="--metrics")


def _write_metrics(path: str, results: Sequence[NetworkResult], events: EventLog) -> int:
    try:
        write_metrics(path, [result.metrics() for result in results])
    except OSError as exc:
        events.event("error", "sync.metrics_failed", f"error: --metrics {path}: cannot write it: {exc.strerror}",
                     network=None)
        return 1
    return 0


def _say_error(events: EventLog, err: WPBridgeError | click.ClickException) -> NoReturn:
    """A mistake that stops the command before any run, as a JSON event (json logs), with its exit code."""
    if isinstance(err, WPBridgeError):
        line, code = error_line(err), exit_code_for(err)
    else:
        line, code = f"error: {err.format_message()}", err.exit_code
    events.event("error", "sync.error", line, exit_code=code)
    sys.exit(code)


def _render_one(output: str, result: NetworkResult, dry_run: bool) -> None:
    """The summary line of one network; for a run that stopped, marked incomplete (or interrupted), and left out
    when nothing was done at all (refused by the lock): a "0 changes" line must only ever mean that the network
    is in sync. Nothing when the run could not start (its error was said on stderr)."""
    outcome = result.outcome
    if outcome is None:
        return
    summary: Mapping[str, Any] = outcome.summary.to_json()
    line = outcome.summary.line(dry_run=dry_run)
    fatal, interrupted = outcome.fatal, outcome.interrupted
    if output == "table":
        if fatal is None:
            click.echo(line)
        elif summary.get("sites_checked") or summary.get("writes") or summary.get("scheduled_changes_due"):
            click.echo(line.replace("sync:", "sync (interrupted):" if interrupted else "sync (incomplete):", 1))
    else:
        emit(output, rows=[dict(summary)], data={"summary": dict(summary), "fatal": fatal,
                                                 "interrupted": outcome.interrupted_by,
                                                 "pending_payments": result.pending_payments})

