"""`sync --metrics FILE`: the Prometheus text format for node_exporter's textfile collector (issue 22)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from wpbridge.workflows.sync.metrics import GAUGES, NetworkRun, previous_successes, write_metrics
from wpbridge.workflows.sync.report import Summary

T1 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
T2 = datetime(2026, 5, 1, 12, 15, tzinfo=UTC)


def samples(path: Path) -> dict[tuple[str, str], float]:
    out = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            out[(sample.name, sample.labels["network"])] = sample.value
    return out


def clean(**counts: int) -> Summary:
    summary = Summary(sites_checked=120, quota_writes=7, scheduled_changes_applied=2, scheduled_changes_due=2,
                      differences=3, errors=0, elapsed_seconds=4.25, requests=12)
    for key, value in counts.items():
        setattr(summary, key, value)
    return summary


def test_a_clean_run_writes_every_gauge_labelled_by_network(tmp_path: Path) -> None:
    path = tmp_path / "wpbridge.prom"
    write_metrics(path, [NetworkRun("production", T1, clean(), exit_code=0)])
    got = samples(path)
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "production")] == T1.timestamp()
    assert got[("wpbridge_sync_last_run_timestamp_seconds", "production")] == T1.timestamp()
    assert got[("wpbridge_sync_duration_seconds", "production")] == 4.25
    assert got[("wpbridge_sync_sites_checked", "production")] == 120
    assert got[("wpbridge_sync_quotas_written", "production")] == 7
    assert got[("wpbridge_sync_scheduled_changes_applied", "production")] == 2
    assert got[("wpbridge_sync_differences", "production")] == 3
    assert got[("wpbridge_sync_errors", "production")] == 0
    assert got[("wpbridge_sync_exit_code", "production")] == 0
    assert {name for name, _ in got} == {f"wpbridge_sync_{gauge}" for gauge in GAUGES}
    text = path.read_text()
    assert "# TYPE wpbridge_sync_last_success_timestamp_seconds gauge" in text
    assert "# HELP wpbridge_sync_errors " in text


def test_a_failed_run_keeps_the_last_success_of_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "wpbridge.prom"
    write_metrics(path, [NetworkRun("production", T1, clean(), exit_code=0),
                         NetworkRun("staging", T1, clean(), exit_code=0)])
    write_metrics(path, [NetworkRun("production", T2, clean(errors=4), exit_code=1),
                         NetworkRun("staging", T2, clean(), exit_code=0)])
    got = samples(path)
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "production")] == T1.timestamp()
    assert got[("wpbridge_sync_last_run_timestamp_seconds", "production")] == T2.timestamp()
    assert got[("wpbridge_sync_errors", "production")] == 4
    assert got[("wpbridge_sync_exit_code", "production")] == 1
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "staging")] == T2.timestamp()


def test_a_run_that_never_started_and_never_succeeded(tmp_path: Path) -> None:
    """A network whose config is wrong (exit 2) or that cannot be reached: one error, 0 = never succeeded."""
    path = tmp_path / "wpbridge.prom"
    write_metrics(path, [NetworkRun("broken", T2, None, exit_code=2)])
    got = samples(path)
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "broken")] == 0
    assert got[("wpbridge_sync_errors", "broken")] == 1
    assert got[("wpbridge_sync_exit_code", "broken")] == 2
    assert got[("wpbridge_sync_sites_checked", "broken")] == 0


def test_dry_runs_and_interrupted_runs_are_not_successes(tmp_path: Path) -> None:
    path = tmp_path / "wpbridge.prom"
    write_metrics(path, [NetworkRun("a", T1, clean(), exit_code=0, dry_run=True),
                         NetworkRun("b", T1, clean(), exit_code=143)])
    got = samples(path)
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "a")] == 0
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "b")] == 0


def test_written_atomically_readable_by_node_exporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary file in the same directory (not *.prom, so the collector never reads it half written), renamed
    over the old file; 0644 under the usual umask (node_exporter runs as another user; nothing secret in it)."""
    path = tmp_path / "wpbridge.prom"
    path.write_text("old\n")
    old_inode = path.stat().st_ino
    seen: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append((str(src), str(dst)))
        assert Path(src).parent == tmp_path and not str(src).endswith(".prom")
        assert path.read_text() == "old\n"  # the old file is whole until the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    old_umask = os.umask(0o022)
    try:
        write_metrics(path, [NetworkRun("production", T1, clean(), exit_code=0)])
    finally:
        os.umask(old_umask)
    assert len(seen) == 1 and seen[0][1] == str(path)
    assert path.stat().st_ino != old_inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wpbridge.prom"]


def test_a_failed_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wpbridge.prom"
    write_metrics(path, [NetworkRun("production", T1, clean(), exit_code=0)])
    before = path.read_text()

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_metrics(path, [NetworkRun("production", T2, clean(), exit_code=0)])
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wpbridge.prom"]


def test_previous_successes_of_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    assert previous_successes(tmp_path / "nope.prom") == {}
    garbage = tmp_path / "garbage.prom"
    garbage.write_text("this is { not prometheus\n")
    assert previous_successes(garbage) == {}
    other = tmp_path / "other.prom"
    other.write_text('wpbridge_sync_last_success_timestamp_seconds{network="x"} 1.7e9\nsome_other_metric 3\n')
    assert previous_successes(other) == {"x": 1.7e9}


def test_label_values_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "wpbridge.prom"
    name = 'odd "name"\\with\nnewline'
    write_metrics(path, [NetworkRun(name, T1, clean(), exit_code=0)])
    assert samples(path)[("wpbridge_sync_sites_checked", name)] == 120
    assert previous_successes(path) == {name: T1.timestamp()}
