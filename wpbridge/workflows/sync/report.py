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

Each part of the report is defined once, as a pydantic model: the run builds the entries and the summary with
them, the sinks write their JSON form (`wpbridge.encoding`), and `SyncReport` (the header, the summary and the
lists, the same models) reads a report file back: `validate_report` checks a file against it, and
`SyncReport.model_json_schema(by_alias=True)` is its JSON Schema for consumers. A file must give every key (what
the run fills in by itself, such as a summary count not counted yet, is still required in a file), but those added
after the first version (`optional_in_file`).

Report layout (`SCHEMA`, version 1):

    {"schema": "wpbridge.sync.report/1", "network": str, "dry_run": bool, "now": ISO8601, "started_at": ISO8601,
     "finished_at": ISO8601, "inactive_policy": "keep"|"suspend", "only_memberships": [int],
     "payment_grace_days": int,
     "interrupted": null|"SIGINT"|"SIGTERM"|"yes", "fatal": null|str (why the run stopped before the end),
     "summary": {"sites_checked", "sites_skipped", "changes", "writes", "quota_writes", "memberships_updated",
                 "scheduled_changes_due", "scheduled_changes_applied", "scheduled_changes_cleared",
                 "scheduled_changes_not_due_on_server", "verified", "differences", "pending_payments", "errors",
                 "requests": int,
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

import os
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, Any, ClassVar, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails
from pydantic_core import ValidationError as CoreValidationError

from ...config import DEFAULT_PAYMENT_GRACE_DAYS
from ...encoding import dumps
from ...safe_files import open_private

SCHEMA = "wpbridge.sync.report/1"
LISTS = ("scheduled_changes", "changes", "errors", "pending_payments")
"""The report's lists, in the order the file gives them."""

ChangeStatus = Literal["written", "failed", "would-write", "differs"]
"""`differs` (UM mode): a site whose limits computed by Ultimate Multisite (`before`) differ from wpbridge's
computation (`after`); reported, never written (UM is the system of record)."""
ScheduledStatus = Literal["applied", "failed", "would-apply"]
ErrorStage = Literal["scheduled_change", "membership", "quota_write", "verify", "lock", "read", "payments"]
"""`payments`: the list of pending payments could not be read (the rest of the run is complete)."""

Count = Annotated[int, Field(ge=0, strict=True)]

FILE = {"report_file": True}
"""The validation context of a report file: every key is required (`_Part.optional_in_file` aside)."""


def _required_in_file(schema: dict[str, Any], model: type[Any]) -> None:
    schema["required"] = [field.alias or name for name, field in model.model_fields.items()
                          if name not in model.optional_in_file]


class _Part(BaseModel):
    """A part of the report: strict and closed. Built by the run with its defaults; read from a file (context
    `FILE`) every key is required but `optional_in_file` (keys added after the first version: an older file reads
    as the default)."""

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra=_required_in_file)
    optional_in_file: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="wrap")
    @classmethod
    def _complete_in_file(cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        if not (info.context or {}).get("report_file") or not isinstance(data, dict):
            return handler(data)
        keys = {name: field.alias or name for name, field in cls.model_fields.items()
                if not field.is_required() and name not in cls.optional_in_file}
        missing = [InitErrorDetails(type="missing", loc=(key,), input=data) for key in keys.values() if key not in data]
        if not missing:
            return handler(data)
        try:
            handler(data)
        except ValidationError as exc:  # the other problems of the same part, reported with the missing keys
            missing += [InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
                        for e in exc.errors()]
        raise CoreValidationError.from_exception_data(cls.__name__, missing)


class Summary(_Part):
    """The counts of a run. `writes` (pinned) = quota writes + membership updates that the server accepted: kept
    so by the model, whenever a count changes."""

    model_config = ConfigDict(validate_assignment=True)
    optional_in_file: ClassVar[frozenset[str]] = frozenset({"differences", "pending_payments",
                                                            "scheduled_changes_not_due_on_server"})

    sites_checked: Count = 0
    sites_skipped: Count = 0
    changes: Count = 0
    quota_writes: Count = 0
    memberships_updated: Count = 0
    scheduled_changes_due: Count = 0
    scheduled_changes_applied: Count = 0
    scheduled_changes_cleared: Count = 0
    scheduled_changes_not_due_on_server: Count = 0
    """UM mode: due by the run's moment (`--at`) but not by the server's clock, so UM refused to apply them yet."""
    verified: Count = 0
    differences: Count = 0
    """UM mode: sites whose UM-computed limits differ from wpbridge's computation (reported, not written)."""
    pending_payments: Count = 0
    """Change payments pending for longer than the grace (a finding, reported, never acted on)."""
    errors: Count = 0
    requests: Count = 0
    elapsed_seconds: float = 0.0
    exit_code: Count = 0
    writes: Count = 0
    """quota_writes + memberships_updated (derived; a file's own value is checked as a count)."""

    @model_validator(mode="after")
    def _writes(self) -> Summary:
        self.__dict__["writes"] = self.quota_writes + self.memberships_updated  # not an assignment: no recursion
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

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
        not_due = (f" ({self.scheduled_changes_not_due_on_server} not due yet by the server's clock: Ultimate"
                   " Multisite applies a change only once it is due by its own time; run sync again then)"
                   if self.scheduled_changes_not_due_on_server else "")
        return (f"sync: {self.changes} changes; {self.sites_checked} sites checked, {self.quota_writes} quotas"
                f" written, {self.scheduled_changes_applied} of {self.scheduled_changes_due} due scheduled changes"
                f" applied{not_due}, {tail}")


class ChangeEntry(_Part):
    blog_id: int
    membership_id: int | None
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    status: ChangeStatus


class ScheduledEntry(_Part):
    membership_id: int
    scheduled_for: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    status: ScheduledStatus


class ErrorEntry(_Part):
    stage: ErrorStage
    message: str
    blog_id: int | None = None
    membership_id: int | None = None
    status: int | None = None
    code: str | None = None


class PendingPaymentEntry(_Part):
    """A change's payment still pending after the grace: the owner has not been paid for a change in effect."""

    id: int
    membership_id: int | None
    customer_id: int
    total: str
    currency: str
    date_created: str
    days_pending: Count
    url: str | None


class ReportHeader(_Part):
    network: str
    dry_run: bool
    now: str
    started_at: str
    inactive_policy: str
    only_memberships: list[int] = Field(default_factory=list)
    payment_grace_days: Count = DEFAULT_PAYMENT_GRACE_DAYS


class SyncReport(ReportHeader):
    """The report file: the header, when it finished and why it stopped, the summary and the lists."""

    optional_in_file: ClassVar[frozenset[str]] = frozenset(
        {"payment_grace_days", "interrupted", "fatal", "pending_payments"})

    schema_id: Literal["wpbridge.sync.report/1"] = Field(alias="schema")
    finished_at: str
    interrupted: str | None = None
    fatal: str | None = None
    summary: Summary
    scheduled_changes: list[ScheduledEntry]
    changes: list[ChangeEntry]
    errors: list[ErrorEntry]
    pending_payments: list[PendingPaymentEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _errors_counted(self) -> SyncReport:
        if self.summary.errors != len(self.errors):
            raise ValueError("summary.errors: does not match the number of entries in errors")
        if self.summary.pending_payments != len(self.pending_payments):
            raise ValueError("summary.pending_payments: does not match the number of entries in pending_payments")
        return self


# --------------------------------------------------------------------------- sinks


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
            **{key: [e.model_dump(mode="json") for e in getattr(self, key)] for key in LISTS},
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

    def _put(self, key: str, entry: _Part) -> None:
        self._files[key].write(dumps(entry, separators=(",", ":")) + "\n")

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
        head = _head(header, summary, finished_at, interrupted, fatal)
        with open_private(path) as out:  # exclusive temporary file, 0600, no symlink followed (safe_files)
            out.write(dumps(head, indent=2)[:-2])  # drop the closing "\n}" to append the lists
            for key in LISTS:
                out.write(f',\n  "{key}": [')
                count = 0
                for count, line in enumerate(self._lines(key), start=1):
                    out.write(("\n    " if count == 1 else ",\n    ") + line)
                out.write("\n  ]" if count else "]")
            out.write("\n}\n")

    def close(self) -> None:
        for spool in self._files.values():
            spool.close()


def _head(header: ReportHeader, summary: Summary, finished_at: str, interrupted: str | None,
          fatal: str | None) -> dict[str, Any]:
    return {"schema": SCHEMA, **header.model_dump(mode="json"), "finished_at": finished_at,
            "interrupted": interrupted, "fatal": fatal, "summary": summary.to_json()}


# --------------------------------------------------------------------------- reading a report back


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
        SyncReport.model_validate(report, context=FILE)
    except ValidationError as exc:
        return [f"{_where(err['loc'])}: {str(err['msg']).removeprefix('Value error, ')}" if err["loc"]
                else str(err["msg"]).removeprefix("Value error, ") for err in exc.errors()]
    return []
