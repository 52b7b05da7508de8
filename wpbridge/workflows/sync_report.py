"""The record of one `wpbridge sync` run: counts, every change (before and after), every error.

Why a module of its own: a sync of 10,000 sites must keep flat memory, so the entries of a run are not held in
lists by the workflow. They go to a *sink*: `ReportCollector` keeps them (the Python API and tests, where runs are
small), `ReportSpool` spools them to temporary files and assembles the JSON report at the end (the CLI's
`--report FILE`; written to a temporary file beside FILE then renamed, so a killed run never leaves a half-written
report), and
`NullSink` keeps nothing (no report asked for: only the counts survive).

Findings are reported, never acted on, and do not make a run fail (exit 0; only `errors` give exit 1): UM mode's
sites whose limits differ from wpbridge's (`changes` with status `differs`), and the payments of plan changes that
are still pending after `[sync] payment_grace_days` (`pending_payments`; the money is for the owner to chase, and
a change is never reverted by sync).

Report layout (`SCHEMA`, version 1; the model `SyncReport` and its `model_json_schema()` say it exactly):

    {"schema": "wpbridge.sync.report/1", "network": str, "dry_run": bool, "now": ISO8601, "started_at": ISO8601,
     "finished_at": ISO8601, "inactive_policy": "keep"|"suspend", "only_memberships": [int],
     "payment_grace_days": int,
     "interrupted": null|"SIGINT"|"SIGTERM"|"yes", "fatal": null|str (why the run stopped before the end),
     "summary": {"sites_checked", "sites_skipped", "changes", "writes", "quota_writes", "memberships_updated",
                 "scheduled_changes_due", "scheduled_changes_applied", "scheduled_changes_cleared",
                 "verified", "differences", "pending_payments", "errors", "requests": int,
                 "elapsed_seconds": float, "exit_code": int},
     "scheduled_changes": [{"membership_id", "scheduled_for", "before", "after", "status"}],
     "changes": [{"blog_id", "membership_id", "reason", "before", "after", "status"}],
     "errors": [{"stage", "blog_id", "membership_id", "message", "status", "code"}],
     "pending_payments": [{"id", "membership_id", "customer_id", "total": str, "currency", "date_created": ISO8601,
                           "days_pending": int, "url": str|null}]}

`pending_payments` lists the payments wpbridge made for a plan change (their `wpbridge` meta is set) that are
still `pending` and were created more than `payment_grace_days` days before `now`; a report without the key
(written before it existed) reads as an empty list.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import DEFAULT_PAYMENT_GRACE_DAYS

SCHEMA = "wpbridge.sync.report/1"
LISTS = ("scheduled_changes", "changes", "errors", "pending_payments")
"""The report's lists, in the order the file gives them."""

ChangeStatus = Literal["written", "failed", "would-write", "differs"]
"""`differs` (UM mode): a site whose limits computed by Ultimate Multisite (`before`) differ from wpbridge's
computation (`after`); reported, never written (UM is the system of record)."""
ScheduledStatus = Literal["applied", "failed", "would-apply"]
ErrorStage = Literal["scheduled_change", "membership", "quota_write", "verify", "lock", "read", "payments"]
"""`payments`: the list of pending payments could not be read (the rest of the run is complete)."""


@dataclass
class Summary:
    """The counts of a run. `writes` (pinned) = quota writes + membership updates that the server accepted."""

    sites_checked: int = 0
    sites_skipped: int = 0
    changes: int = 0
    quota_writes: int = 0
    memberships_updated: int = 0
    scheduled_changes_due: int = 0
    scheduled_changes_applied: int = 0
    scheduled_changes_cleared: int = 0
    verified: int = 0
    differences: int = 0
    """UM mode: sites whose UM-computed limits differ from wpbridge's computation (reported, not written)."""
    pending_payments: int = 0
    """Change payments pending for longer than the grace (a finding, reported, never acted on)."""
    errors: int = 0
    requests: int = 0
    elapsed_seconds: float = 0.0
    exit_code: int = 0

    @property
    def writes(self) -> int:
        return self.quota_writes + self.memberships_updated

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["writes"] = self.writes
        return data

    def line(self, *, dry_run: bool) -> str:
        """The one summary line the CLI prints; "0 changes" is what a clean second run says."""
        tail = f"{self.errors} errors ({self.requests} requests, {self.elapsed_seconds:.1f} s)"
        if self.pending_payments:
            tail = f"{self.pending_payments} change payments pending past the grace, " + tail
        if self.differences:
            tail = f"{self.differences} sites whose UM limits differ from wpbridge's, " + tail
        if dry_run:
            return (f"sync (dry run): {self.changes} changes; {self.sites_checked} sites checked,"
                    f" {self.scheduled_changes_due} due scheduled changes, nothing written, {tail}")
        return (f"sync: {self.changes} changes; {self.sites_checked} sites checked, {self.quota_writes} quotas"
                f" written, {self.scheduled_changes_applied} of {self.scheduled_changes_due} due scheduled changes"
                f" applied, {tail}")


@dataclass
class ChangeEntry:
    blog_id: int
    membership_id: int | None
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    status: ChangeStatus


@dataclass
class ScheduledEntry:
    membership_id: int
    scheduled_for: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    status: ScheduledStatus


@dataclass
class ErrorEntry:
    stage: ErrorStage
    message: str
    blog_id: int | None = None
    membership_id: int | None = None
    status: int | None = None
    code: str | None = None


@dataclass
class PendingPaymentEntry:
    """A change's payment still pending after the grace: the owner has not been paid for a change in effect."""

    id: int
    membership_id: int | None
    customer_id: int
    total: str
    currency: str
    date_created: str
    days_pending: int
    url: str | None


@dataclass
class ReportHeader:
    network: str
    dry_run: bool
    now: str
    started_at: str
    inactive_policy: str
    only_memberships: list[int] = field(default_factory=list)
    payment_grace_days: int = DEFAULT_PAYMENT_GRACE_DAYS


class ReportSink(Protocol):
    """Where the workflow sends each entry as it happens (so it never holds them itself)."""

    def change(self, entry: ChangeEntry) -> None: ...

    def scheduled(self, entry: ScheduledEntry) -> None: ...

    def error(self, entry: ErrorEntry) -> None: ...

    def payment(self, entry: PendingPaymentEntry) -> None: ...


class NullSink:
    """Keeps nothing: for runs without a report file (the counts are in the Summary)."""

    def change(self, entry: ChangeEntry) -> None:
        pass

    def scheduled(self, entry: ScheduledEntry) -> None:
        pass

    def error(self, entry: ErrorEntry) -> None:
        pass

    def payment(self, entry: PendingPaymentEntry) -> None:
        pass


class ReportCollector:
    """Keeps every entry in memory: for the Python API and tests (small runs)."""

    def __init__(self) -> None:
        self.changes: list[ChangeEntry] = []
        self.scheduled_changes: list[ScheduledEntry] = []
        self.errors: list[ErrorEntry] = []
        self.pending_payments: list[PendingPaymentEntry] = []

    def change(self, entry: ChangeEntry) -> None:
        self.changes.append(entry)

    def scheduled(self, entry: ScheduledEntry) -> None:
        self.scheduled_changes.append(entry)

    def error(self, entry: ErrorEntry) -> None:
        self.errors.append(entry)

    def payment(self, entry: PendingPaymentEntry) -> None:
        self.pending_payments.append(entry)

    def report(self, header: ReportHeader, summary: Summary, finished_at: str, *, interrupted: str | None = None,
               fatal: str | None = None) -> dict[str, Any]:
        return {
            **_head(header, summary, finished_at, interrupted, fatal),
            "scheduled_changes": [asdict(e) for e in self.scheduled_changes],
            "changes": [asdict(e) for e in self.changes],
            "errors": [asdict(e) for e in self.errors],
            "pending_payments": [asdict(e) for e in self.pending_payments],
        }


class ReportSpool:
    """Spools entries as JSON lines to temporary files; `write()` assembles the report file at the end.

    Memory stays flat however many sites change; the final file is renamed into place only when complete.
    """

    def __init__(self) -> None:
        self._files: dict[str, IO[str]] = {
            key: tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed by close())
            for key in LISTS
        }

    def _put(self, key: str, entry: Any) -> None:
        self._files[key].write(json.dumps(asdict(entry), separators=(",", ":")) + "\n")

    def change(self, entry: ChangeEntry) -> None:
        self._put("changes", entry)

    def scheduled(self, entry: ScheduledEntry) -> None:
        self._put("scheduled_changes", entry)

    def error(self, entry: ErrorEntry) -> None:
        self._put("errors", entry)

    def payment(self, entry: PendingPaymentEntry) -> None:
        self._put("pending_payments", entry)

    def _lines(self, key: str) -> Iterator[str]:
        spool = self._files[key]
        spool.flush()
        spool.seek(0)
        for line in spool:
            if line.strip():
                yield line.rstrip("\n")

    def write(self, path: str | os.PathLike[str], header: ReportHeader, summary: Summary, finished_at: str, *,
              interrupted: str | None = None, fatal: str | None = None) -> None:
        """Assemble the report in a temporary file next to `path` (unique, so two runs never share one) and rename
        it into place only when complete."""
        target = Path(path)
        head = _head(header, summary, finished_at, interrupted, fatal)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(head, indent=2)[:-2])  # drop the closing "\n}" to append the lists
                for key in LISTS:
                    out.write(f',\n  "{key}": [')
                    count = 0
                    for count, line in enumerate(self._lines(key), start=1):
                        out.write(("\n    " if count == 1 else ",\n    ") + line)
                    out.write("\n  ]" if count else "]")
                out.write("\n}\n")
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        for spool in self._files.values():
            spool.close()


def _head(header: ReportHeader, summary: Summary, finished_at: str, interrupted: str | None,
          fatal: str | None) -> dict[str, Any]:
    return {"schema": SCHEMA, **asdict(header), "finished_at": finished_at, "interrupted": interrupted,
            "fatal": fatal, "summary": summary.to_json()}


# --------------------------------------------------------------------------- schema (tests, consumers)

Count = Annotated[int, Field(ge=0, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class SummaryModel(_Strict):
    sites_checked: Count
    sites_skipped: Count
    changes: Count
    writes: Count
    quota_writes: Count
    memberships_updated: Count
    scheduled_changes_due: Count
    scheduled_changes_applied: Count
    scheduled_changes_cleared: Count
    verified: Count
    differences: Count = 0
    pending_payments: Count = 0
    errors: Count
    requests: Count
    elapsed_seconds: float
    exit_code: Count


class ChangeModel(_Strict):
    blog_id: int
    membership_id: int | None
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    status: ChangeStatus


class ScheduledModel(_Strict):
    membership_id: int
    scheduled_for: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    status: ScheduledStatus


class PendingPaymentModel(_Strict):
    id: int
    membership_id: int | None
    customer_id: int
    total: str
    currency: str
    date_created: str
    days_pending: Count
    url: str | None


class ErrorModel(_Strict):
    stage: ErrorStage
    message: str
    blog_id: int | None
    membership_id: int | None
    status: int | None
    code: str | None


class SyncReport(_Strict):
    """The report file, as a model: `validate_report` checks a report against it, and
    `SyncReport.model_json_schema(by_alias=True)` is its JSON Schema for consumers."""

    schema_id: Literal["wpbridge.sync.report/1"] = Field(alias="schema")
    network: str
    dry_run: bool
    now: str
    started_at: str
    finished_at: str
    inactive_policy: str
    only_memberships: list[int]
    payment_grace_days: Count = DEFAULT_PAYMENT_GRACE_DAYS
    interrupted: str | None = None
    fatal: str | None = None
    summary: SummaryModel
    scheduled_changes: list[ScheduledModel]
    changes: list[ChangeModel]
    errors: list[ErrorModel]
    pending_payments: list[PendingPaymentModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _errors_counted(self) -> SyncReport:
        if self.summary.errors != len(self.errors):
            raise ValueError("summary.errors: does not match the number of entries in errors")
        if self.summary.pending_payments != len(self.pending_payments):
            raise ValueError("summary.pending_payments: does not match the number of entries in pending_payments")
        return self


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "report"


def validate_report(report: Any) -> list[str]:
    """Every way `report` departs from schema version 1, as readable lines `where: what` (empty = valid)."""
    if not isinstance(report, dict):
        return ["report: not a JSON object"]
    try:
        SyncReport.model_validate(report)
    except ValidationError as exc:
        return [f"{_where(err['loc'])}: {str(err['msg']).removeprefix('Value error, ')}" if err["loc"]
                else str(err["msg"]).removeprefix("Value error, ") for err in exc.errors()]
    return []
