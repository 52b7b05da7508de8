"""`wpbridge import FILE`: thin: options, the plan shown, the question asked, progress, report, exit code.

stdout carries only what was asked for (the plan and the summary line, or JSON/CSV with --output); questions,
bad rows, failures and the progress bar (on a terminal only) go to stderr.

Exit codes: 0 everything imported (or in place already); 1 partial: conflicts left alone, records that failed
or were skipped (--skip-invalid); 2 input: bad rows or records (nothing written), bad options, not confirmed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ..errors import InputError
from ..safe_files import config_file, refuse_inputs, remove_stale
from ..workflows.importer import (
    EXIT_INPUT,
    SCHEMA,
    ImportOptions,
    ImportResult,
    Prepared,
    execute,
    prepare,
    step_delay_from_env,
    write_report,
)
from ..workflows.importer_plan import KINDS, Plan, not_kept_summary
from ..workflows.importer_records import FORMATS
from ..workflows.importer_report import materialized
from ..workflows.sync.stop import StopNow
from .common import emit, handle_errors, interactive, network_options, open_network, output_fields
from .sync import StopSignals

SHOWN_LINES = 20
WRITE_COLUMNS = ("kind", "key", "action", "status", "id", "where", "error")
"""`-o csv`: a row per write of the report."""
REPORT_KEYS = ("schema", "file", "format", "network", "mode", "dry_run", "update", "skip_invalid", "finished_at",
               "summary", "plan", "writes", "conflicts", "not_kept", "not_kept_fields", "warnings", "errors",
               "interrupted")
"""`-o json`: the report's keys (`ImportResult.report`, and `interrupted`)."""


def _check_writable(path: str) -> None:
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise click.BadParameter(f"cannot write {path}: {folder} is not a writable directory", param_hint="--report")


def plan_line(prepared: Prepared) -> str:
    plan = prepared.plan
    if plan is None:
        return "plan: none"
    counts = plan.counts()
    parts = []
    for kind in KINDS:
        if kind in counts:
            c = counts[kind]
            text = ", ".join(f"{c[a]} {a}" for a in ("create", "update", "unchanged", "conflict") if c.get(a))
            name = kind.replace("_", " ")
            parts.append(f"{name if name.endswith('s') else name + 's'}: {text}")
    return "plan: " + ("; ".join(parts) if parts else "nothing to import")


def result_line(result: ImportResult, *, dry_run: bool) -> str:
    s = result.summary
    planned = s["planned"]
    head = "import (dry run)" if dry_run else "import"
    body = (f"{planned['create']} to create, {planned['update']} to update, {planned['unchanged']} unchanged,"
            f" {s['conflicts']} conflicts" if dry_run else
            f"{s['writes']} writes ({planned['create']} planned creates, {planned['update']} updates,"
            f" {s['found']} found from an earlier run), {planned['unchanged']} unchanged, {s['conflicts']} conflicts,"
            f" {s['failed']} failed, {s['skipped']} skipped")
    return f"{head}: {body}; {s['invalid']} invalid records ({s['requests']} requests, {s['elapsed_seconds']:.1f} s)"


def register(main: click.Group) -> None:
    @main.command("import")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--input-format", "fmt", type=click.Choice(FORMATS), default=None,
                  help="FILE's format (default: from the file's extension, else sniffed). --format is the output's,"
                       " as on every command.")
    @click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
    @click.option("--yes", "-y", is_flag=True, help="Import without asking (needed when stdin is not a terminal).")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
                  help="Write a JSON report: counts, the plan, every write, conflict and error.")
    @click.option("--update", is_flag=True, help="Overwrite records that exist with different values (default:"
                                                 " report them as conflicts and leave them alone).")
    @click.option("--skip-invalid", is_flag=True, help="Import the valid records and report the bad ones (default:"
                                                       " refuse the whole file when any record is bad).")
    @click.option("--allow-currency-mismatch", is_flag=True, help="Import memberships whose currency is not their"
                                                                  " plan's (default: refuse those rows).")
    @click.option("--site-concurrency", type=click.IntRange(1, 8), default=2, show_default=True, metavar="N",
                  help="Batches of new WordPress sites created at once (the slow part of an import).")
    @network_options
    @handle_errors
    @output_fields(WRITE_COLUMNS, REPORT_KEYS)
    def import_command(file: str, fmt: str | None, dry_run: bool, yes: bool, report_path: str | None, update: bool,
                       skip_invalid: bool, allow_currency_mismatch: bool, site_concurrency: int,
                       network_name: str | None, config_path: str | None, output: str) -> None:
        """Import a catalog, customers, memberships and sites from FILE: a `wpbridge export` (JSON) or a CSV with
        one row per membership (see README). Idempotent: a second run writes nothing.

        Exit 0 done, 1 partial (conflicts, failures, skipped rows), 2 bad input (nothing written).
        """
        if report_path is not None:
            _check_writable(report_path)
            refuse_inputs(report_path, [file, config_file(config_path)], option="--report")
            remove_stale(report_path)
        input_format = next((f for f in FORMATS if f == fmt), None)  # click has checked it is one of them
        options = ImportOptions(format=input_format, dry_run=dry_run, update=update, skip_invalid=skip_invalid,
                                step_delay=step_delay_from_env(), site_concurrency=site_concurrency,
                                allow_currency_mismatch=allow_currency_mismatch)
        net = open_network(network_name, config_path)
        with StopSignals("import") as signals, net:
            try:
                with signals.stop.read_only():  # planning only reads: a signal stops it at once
                    prepared = prepare(net, file, options)
            except StopNow:
                _stopped_before_writing(signals, report_path)
            mode = prepared.plan.target.flavor.name if prepared.plan is not None else None
            _say_issues(prepared, report_path)
            if prepared.refused:
                result = execute(net, prepared)
                _finish(result, report_path, net.settings.url, mode, output, dry_run)
                bad = result.summary["invalid"]
                click.echo(f"error: {bad} bad record{'s' if bad != 1 else ''} in {file}; nothing was written (fix"
                           " them, or pass --skip-invalid to import the others)", err=True)
                sys.exit(EXIT_INPUT)
            plan = prepared.plan
            assert plan is not None
            _show_plan(prepared, plan, output, dry_run)
            if not dry_run and plan.writes_planned and not yes:
                _confirm(plan, net.settings.url, signals, report_path)
            result = _run(net, prepared, dry_run, signals)
            _finish(result, report_path, net.settings.url, mode, output, dry_run, signals)
            _say_failures(result)
        sys.exit(_exit_code(result, signals))


def _say_issues(prepared: Prepared, report_path: str | None) -> None:
    """The file's bad records, then its warnings, on stderr (the first SHOWN_LINES; the report has them all)."""
    for issue in prepared.issues[:SHOWN_LINES]:
        click.echo(f"import: {issue}", err=True)
    if len(prepared.issues) > SHOWN_LINES:
        click.echo(f"import: ... and {len(prepared.issues) - SHOWN_LINES} more problems"
                   + (" (see the report)" if report_path else ""), err=True)
    warnings = prepared.source.warnings
    for warning in warnings[:SHOWN_LINES]:
        click.echo(f"import: {warning}", err=True)
    if len(warnings) > SHOWN_LINES:
        click.echo(f"import: ... and {len(warnings) - SHOWN_LINES} more warnings"
                   + (" (see the report)" if report_path else ""), err=True)


def _show_plan(prepared: Prepared, plan: Plan, output: str, dry_run: bool) -> None:
    """What the target cannot hold (never dropped silently), and, as a table, the plan's line and its steps (a dry
    run: every step that is not unchanged; else the conflicts)."""
    for line in not_kept_summary(plan):
        click.echo(f"import: {line}", err=True)
    if output != "table":
        return
    click.echo(plan_line(prepared))
    steps = [s for s in plan.steps if s.action != "unchanged"] if dry_run else plan.conflicts[:SHOWN_LINES]
    for step in steps:
        click.echo("  " + step.describe())


def _confirm(plan: Plan, url: str, signals: StopSignals, report_path: str | None) -> None:
    """Ask before writing (a person at a terminal); exit 2 when not confirmed, an InputError without a terminal.
    Ctrl-C or SIGTERM at the question stops at once, as while planning (nothing written; the report says so)."""
    if not interactive():
        raise InputError(f"import: {plan.writes_planned} writes planned but not confirmed: stdin is not"
                         " a terminal; pass --yes to import without asking (or --dry-run to only look)")
    try:
        with signals.stop.read_only():
            confirmed = click.confirm(f"Write {plan.writes_planned} records to {url}?", err=True)
    except StopNow:
        _stopped_before_writing(signals, report_path)
    if not confirmed:
        click.echo("import: not confirmed; nothing written", err=True)
        sys.exit(EXIT_INPUT)


def _say_failures(result: ImportResult) -> None:
    """The writes that failed or were skipped, on stderr (the first SHOWN_LINES)."""
    if result.applied is None:
        return
    failures = [w for w in result.applied.writes if w.status in ("failed", "skipped")]
    for w in failures[:SHOWN_LINES]:
        click.echo(f"import: {w.status}: {w.kind} {w.key}" + (f" ({w.where})" if w.where else "")
                   + f": {w.error}", err=True)
    if len(failures) > SHOWN_LINES:
        click.echo(f"import: ... and {len(failures) - SHOWN_LINES} more", err=True)


def _run(net: Any, prepared: Prepared, dry_run: bool, signals: StopSignals) -> ImportResult:
    plan = prepared.plan
    if dry_run or plan is None or not sys.stderr.isatty():
        return execute(net, prepared, should_stop=signals.stop)
    total = plan.writes_planned + sum(1 for s in plan.of("site", "create"))  # new sites get a quota too
    with click.progressbar(length=max(total, 1), label="import", file=sys.stderr, show_pos=True) as bar:
        return execute(net, prepared, progress=bar.update, should_stop=signals.stop)


def _stopped_before_writing(signals: StopSignals, report_path: str | None) -> NoReturn:
    """A signal while the import was still reading and planning: nothing was written; say so (and in the report)."""
    code = signals.exit_code or 143
    if report_path is not None:
        write_report(report_path, {"schema": SCHEMA, "interrupted": signals.stop.requested,
                                   "summary": {"writes": 0, "exit_code": code}, "writes": [], "errors": []})
    click.echo(f"import: interrupted ({signals.stop.requested or 'a signal'}) before any write; nothing was"
               " written", err=True)
    sys.exit(code)


def _cut_short(result: ImportResult, signals: StopSignals) -> bool:
    """A signal stopped the run before its last write (batches were not sent)."""
    return signals.exit_code is not None and result.applied is not None and result.applied.interrupted


def _exit_code(result: ImportResult, signals: StopSignals) -> int:
    """128 + the signal when it cut the run short; a signal after the last write cut nothing short: the run's own
    exit code (0 when everything is in place), and a line saying so."""
    if _cut_short(result, signals):
        return signals.exit_code or 143
    if signals.exit_code is not None:
        click.echo(f"import: {signals.stop.requested} came after the last write: nothing was cut short", err=True)
    return result.exit_code


def _finish(result: ImportResult, report_path: str | None, url: str, mode: str | None, output: str,
            dry_run: bool, signals: StopSignals | None = None) -> None:
    report = result.report(network_url=url, mode=mode, lazy=True)  # the plan's JSON made as it is written
    report["interrupted"] = None  # null, or the signal's name: as sync's report and -o json say it
    if signals is not None and _cut_short(result, signals):  # stopped at a safe point: the report says so
        report["interrupted"] = signals.stop.requested
        report["summary"] = {**report["summary"], "exit_code": signals.exit_code}
    if report_path is not None:
        write_report(report_path, report)
    if output == "table":
        if result.prepared.plan is not None:
            click.echo(result_line(result, dry_run=dry_run))
    elif output in ("json", "yaml"):
        emit(output, data=materialized(report))
    else:
        emit("csv", rows=list(report["writes"]), columns=WRITE_COLUMNS)
