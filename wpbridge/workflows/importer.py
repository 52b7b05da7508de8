"""`wpbridge import`: move a catalog and its customers into a network, idempotently.

Three steps, each in its own module:
1. `importer_input`: read the file (an export's JSON, or a CSV with one row per membership) and check every
   record; every problem names its line or JSON path and field.
2. `importer_plan`: read the target once and decide, record by record, create / update / unchanged / conflict.
3. `importer_apply`: write in dependency order, in batches, through create-or-find routes (safe to resend and to
   run again after a kill).

From Python:

    from wpbridge.network import Network
    from wpbridge.workflows.importer import ImportOptions, prepare, execute

    with Network.from_config("production") as net:
        prepared = prepare(net, "customers.csv", ImportOptions(update=False))
        if prepared.refused:                    # bad rows, nothing written: prepared.issues
            ...
        result = execute(net, prepared)         # or ImportOptions(dry_run=True): prepared.plan only
        print(result.summary["writes"], result.exit_code)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..encoding import iso_utc
from ..errors import ConfigError
from ..network import Network
from ..safe_files import write_private
from .importer_apply import Applier, ApplyOutcome, Progress
from .importer_codes import read_target_codes
from .importer_domains import read_target_domains
from .importer_input import Format, Issue, Source, check_references, in_line_order, read_source
from .importer_plan import KINDS, Plan, TargetState, build_plan, not_kept_summary, read_target, read_target_payments
from .importer_report import Lazy, materialized, write_json
from .importer_taxes import not_kept_fields, read_target_taxes

SCHEMA = "wpbridge.import.report/1"
STEP_DELAY_ENV = "WPBRIDGE_IMPORT_STEP_DELAY"
"""Seconds to pause after each write batch (tests kill a run mid-way with it); unset in production."""

EXIT_OK, EXIT_PARTIAL, EXIT_INPUT = 0, 1, 2


@dataclass(frozen=True)
class ImportOptions:
    format: Format | None = None
    dry_run: bool = False
    update: bool = False
    skip_invalid: bool = False
    step_delay: float = 0.0
    site_concurrency: int = 2
    """Batches of site creates in flight at once (sites are independent; the server locks each address)."""
    allow_currency_mismatch: bool = False
    """Import a membership whose currency is not its plan's (a warning instead of a refusal)."""


@dataclass
class Prepared:
    """The file read and checked, the target read, and the plan (None when the input was refused)."""

    path: str
    options: ImportOptions
    source: Source
    plan: Plan | None
    issues: list[Issue]
    requests: int = 0
    """Requests made to read the target and plan."""
    started: float = field(default_factory=time.monotonic)
    plan_seconds: float = 0.0

    @property
    def refused(self) -> bool:
        """Bad records and no --skip-invalid: nothing may be written."""
        return bool(self.issues) and not self.options.skip_invalid


@dataclass
class ImportResult:
    prepared: Prepared
    applied: ApplyOutcome | None
    summary: dict[str, Any]
    exit_code: int

    def report(self, *, network_url: str | None = None, mode: str | None = None, lazy: bool = False
               ) -> dict[str, Any]:
        """The report; `lazy`: its plan, writes and conflicts are `Lazy` sequences, made into JSON an item at a time
        when written (`write_report`; `importer_report.materialized` makes them lists)."""
        p = self.prepared
        plan = p.plan
        applied = self.applied
        writes: Iterable[dict[str, Any]]
        if applied is not None:
            writes = Lazy(lambda: (w.to_json() for w in applied.writes))
        elif plan is not None:
            writes = Lazy(lambda: ({**s.to_json(), "status": "would"} for s in plan.steps
                                   if s.action in ("create", "update")))
        else:
            writes = Lazy(list)
        errors = [{"where": i.where, "field": i.field, "message": i.message, "stage": "input"} for i in p.issues]
        if self.applied is not None:
            errors += [{**e, "stage": "write"} for e in self.applied.errors]
        out = {
            "schema": SCHEMA,
            "file": p.path,
            "format": p.source.format,
            "network": network_url,
            "mode": mode,
            "dry_run": p.options.dry_run,
            "update": p.options.update,
            "skip_invalid": p.options.skip_invalid,
            "finished_at": iso_utc(datetime.now(UTC)),
            "summary": self.summary,
            **_plan_sections(plan, writes),
            "warnings": [w.to_json() for w in p.source.warnings],
            "errors": errors,
        }
        return out if lazy else materialized(out)


def _plan_sections(plan: Plan | None, writes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The report's sections read from the plan (empty without one: the input was refused); the long ones Lazy."""
    if plan is None:
        return {"plan": [], "writes": writes, "conflicts": [], "not_kept": [], "not_kept_fields": []}
    return {"plan": Lazy(lambda: (s.to_json() for s in plan.steps)), "writes": writes,
            "conflicts": Lazy(lambda: (s.to_json() for s in plan.steps if s.action == "conflict")),
            "not_kept": not_kept_summary(plan), "not_kept_fields": not_kept_fields(plan)}


def step_delay_from_env() -> float:
    raw = os.environ.get(STEP_DELAY_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        raise ConfigError(f"environment variable {STEP_DELAY_ENV}: not a number of seconds ({raw!r})") from None


def _read_what_the_file_carries(net: Network, source: Source, target: TargetState) -> None:
    """The target's codes, taxes and mapped domains, each read only when the file carries them."""
    if source.discount_codes is not None:
        read_target_codes(net.discount_codes, target)
    if source.taxes is not None:
        read_target_taxes(net.taxes, target)
    if source.domains is not None:
        read_target_domains(net.domains, target)


def prepare(net: Network, path: str | Path, options: ImportOptions) -> Prepared:
    """Read and check the file, read the target, and plan. Writes nothing."""
    started = time.monotonic()
    source = read_source(path, options.format)
    target = read_target(net)
    same_network = bool(source.source_url and _same_url(source.source_url, net.settings.url))
    if same_network:
        # an export imported into the network it came from: its memberships are these ones, by id
        for membership_id in target.memberships:
            target.keys.setdefault(f"{str(source.source_url).rstrip('/')}/membership/{membership_id}", membership_id)
    if source.payments:
        _read_payments(net, source, target, same_network)
    _read_what_the_file_carries(net, source, target)
    check_references(source, target.catalog, allow_currency_mismatch=options.allow_currency_mismatch)
    for site in source.sites:
        problem = target.address_problem(site)
        if problem is not None:
            source.issues.append(Issue(site.where, "site_domain", problem))
            site.valid = False
            for m in source.memberships:  # a CSV row is one record: its membership goes with its site
                if source.format == "csv" and m.key == site.membership:
                    m.valid = False
    issues = source.issues[:] = in_line_order(source.issues)  # the address problems among the others
    prepared = Prepared(str(path), options, source, None, issues, started=started)
    if issues and not options.skip_invalid:
        prepared.requests = net.stats.requests
        return prepared
    source.drop_invalid()
    quota_reader = None if target.flavor.computes_limits else net.quotas.list
    prepared.plan = build_plan(source, target, update=options.update, quota_reader=quota_reader)
    prepared.requests = net.stats.requests
    prepared.plan_seconds = round(time.monotonic() - started, 3)
    return prepared


def _read_payments(net: Network, source: Source, target: TargetState, same_network: bool) -> None:
    """The target's payments the file's name: by the keys of earlier imports, and (an export imported into the
    network it came from) by the file's own ids, when the network still has them."""
    keys: list[dict[str, Any]] = list(net.imports.payment_keys())
    if same_network:
        known = {str(k["source_key"]) for k in keys}
        keys += [{"source_key": p.key, "payment_id": p.source_id} for p in source.payments if p.key not in known]
    read_target_payments(target, keys, lambda ids: net.payments.list(payment_ids=ids))
    for key, pid in list(target.payment_keys.items()):
        if pid not in target.payments:  # a key whose payment is gone (or an id this network never had)
            del target.payment_keys[key]


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def execute(net: Network, prepared: Prepared, *, progress: Progress | None = None,
            should_stop: Callable[[], bool] | None = None) -> ImportResult:
    """Carry out the plan (nothing when refused or a dry run); the summary and exit code. `should_stop` is asked
    before each batch (a safe point): once True, the rest is skipped and the outcome marked interrupted."""
    applied: ApplyOutcome | None = None
    if prepared.plan is not None and not prepared.refused and not prepared.options.dry_run:
        applied = Applier(net, prepared.plan, progress=progress, step_delay=prepared.options.step_delay,
                          requests=lambda: net.stats.requests, site_concurrency=prepared.options.site_concurrency,
                          should_stop=should_stop).run()
    summary = summarize(prepared, applied, requests=net.stats.requests)
    return ImportResult(prepared, applied, summary, summary["exit_code"])


def summarize(prepared: Prepared, applied: ApplyOutcome | None, *, requests: int) -> dict[str, Any]:
    plan = prepared.plan
    counts = plan.counts() if plan is not None else {}
    total = {a: sum(c.get(a, 0) for c in counts.values()) for a in ("create", "update", "unchanged", "conflict")}
    writes = _write_counts(applied)
    invalid = len({i.where for i in prepared.issues})
    return {
        "records": prepared.source.records,
        "invalid": invalid,
        "planned": total,
        "by_kind": {k: counts.get(k, {}) for k in KINDS if k in counts},
        "writes": writes["done"],
        "found": writes["found"],
        "failed": writes["failed"],
        "skipped": writes["skipped"],
        "conflicts": total["conflict"],
        "errors": len(prepared.issues) + writes["failed"] + writes["skipped"],
        "requests": requests,
        "read_requests": prepared.requests,
        "plan_seconds": prepared.plan_seconds,
        "elapsed_seconds": round(time.monotonic() - prepared.started, 3),
        "phases": applied.phases if applied is not None else {},
        "exit_code": _exit_code(prepared, writes, total["conflict"], invalid),
    }


def _write_counts(applied: ApplyOutcome | None) -> dict[str, int]:
    """How many writes ended each way: done, found (an earlier run had written it), failed, skipped."""
    counts = dict.fromkeys(("done", "found", "failed", "skipped"), 0)
    for w in applied.writes if applied is not None else []:
        if w.status in counts:
            counts[w.status] += 1
    return counts


def _exit_code(prepared: Prepared, writes: dict[str, int], conflicts: int, invalid: int) -> int:
    if prepared.refused:
        return EXIT_INPUT
    if writes["failed"] or writes["skipped"] or conflicts or invalid:
        return EXIT_PARTIAL
    return EXIT_OK


def write_report(path: str | Path, report: dict[str, Any]) -> None:
    """The report file, written complete or not at all, 0600, never through a planted symlink (safe_files); its
    Lazy sections (`report(lazy=True)`) turned into JSON an item at a time (importer_report.write_json)."""
    def write(fh: IO[str]) -> None:
        write_json(fh, report)
        fh.write("\n")

    write_private(path, write)
