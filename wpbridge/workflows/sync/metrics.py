"""`sync --metrics FILE`: the outcome of a run in the Prometheus text format, for node_exporter's textfile collector.

One gauge per figure, each labelled `network` (one series per network of the run; `--all-networks` writes them
all into one file). The file is written whole or not at all: a temporary file in the same directory (named so that
the collector, which reads `*.prom`, never sees it) renamed over the old one (`safe_files`), mode 0644 less the
umask (node_exporter runs as another user; nothing secret is in it: counts, times and network names).

A run is a success when it ended with exit code 0 and wrote for real (not `--dry-run`). A run that did not succeed
keeps the network's `last_success` of the file it replaces (0 when there is none: never succeeded), so that an
alert on `time() - wpbridge_sync_last_success_timestamp_seconds > 3600` fires while runs keep failing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ...safe_files import write_private
from .report import Summary

PREFIX = "wpbridge_sync_"
METRICS_MODE = 0o644

GAUGES: Mapping[str, str] = {
    "last_success_timestamp_seconds": "When the last successful run (exit 0, not a dry run) ended, Unix time;"
                                      " 0: never",
    "last_run_timestamp_seconds": "When the last run ended, Unix time",
    "exit_code": "Exit code of the last run (0 clean, 1 items failed or could not run, 2 configuration,"
                 " 143/130 stopped by a signal)",
    "duration_seconds": "How long the last run took",
    "sites_checked": "Sites the last run compared with their membership",
    "quotas_written": "Site quotas the last run wrote",
    "scheduled_changes_applied": "Due scheduled changes the last run applied",
    "differences": "Differences the last run found: UM mode's sites whose UM limits differ from wpbridge's",
    "pending_payments": "Change payments the last run found pending past the grace",
    "errors": "Errors of the last run (a run that could not start counts one)",
}
"""The gauges, without PREFIX, and their help."""

SUCCESS = PREFIX + "last_success_timestamp_seconds"


@dataclass(frozen=True)
class NetworkRun:
    """What the file says about one network: its run's summary (None when the run never started: a config
    mistake), its exit code and when it ended."""

    network: str
    finished_at: datetime
    summary: Summary | None
    exit_code: int
    dry_run: bool = False

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.dry_run and self.summary is not None


def _values(run: NetworkRun, last_success: float) -> dict[str, float]:
    summary = run.summary or Summary()
    return {
        "last_success_timestamp_seconds": run.finished_at.timestamp() if run.succeeded else last_success,
        "last_run_timestamp_seconds": run.finished_at.timestamp(),
        "exit_code": run.exit_code,
        "duration_seconds": summary.elapsed_seconds,
        "sites_checked": summary.sites_checked,
        "quotas_written": summary.quota_writes,
        "scheduled_changes_applied": summary.scheduled_changes_applied,
        "differences": summary.differences,
        "pending_payments": summary.pending_payments,
        "errors": summary.errors if run.summary is not None else 1,
    }


def render_metrics(runs: Sequence[NetworkRun], previous: Mapping[str, float]) -> str:
    """The text format of `runs`; `previous` holds each network's last success from the file being replaced."""
    registry = CollectorRegistry(auto_describe=False)
    gauges = {name: Gauge(PREFIX + name, help_text, ["network"], registry=registry)
              for name, help_text in GAUGES.items()}
    for run in runs:
        for name, value in _values(run, previous.get(run.network, 0.0)).items():
            gauges[name].labels(network=run.network).set(value)
    return generate_latest(registry).decode("utf-8")


def previous_successes(path: str | os.PathLike[str]) -> dict[str, float]:
    """Each network's last success in the file at `path`; nothing when it is missing or not the text format."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found: dict[str, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == SUCCESS and "network" in sample.labels:
                    found[sample.labels["network"]] = float(sample.value)
    except ValueError:  # not the text format (a file someone else wrote): start afresh
        return {}
    return found


def write_metrics(path: str | os.PathLike[str], runs: Sequence[NetworkRun]) -> None:
    """Write `runs` to `path` atomically, keeping the last success of the networks whose run did not succeed."""
    write_private(path, render_metrics(runs, previous_successes(path)), mode=METRICS_MODE)
