"""The sync workflow against the in-memory network of the unit tests (no HTTP): what it writes, what it reports,
how it fails. The fake counts requests the way the REST layer would (one per page of 100, one per batch of
`batch_limit`), so request budgets are checked here and measured for real in bench/sync.py."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.unit.workflow_support import FakeNetwork
from wpbridge.cli import main
from wpbridge.cli import sync as cli_sync
from wpbridge.cli.common import parse_moment
from wpbridge.config import SyncSettings, load_sync_settings
from wpbridge.errors import ConfigError, InputError, WPBridgeError
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations, Membership, ScheduledChange
from wpbridge.rest.batch import BatchResult
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.sync import SUSPENDED_QUOTA, SyncOptions, run_sync
from wpbridge.workflows.sync.report import ReportCollector, validate_report

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CATALOG = example_catalog()


def sync(net: FakeNetwork, **options: Any) -> tuple[Any, ReportCollector]:
    collector = ReportCollector()
    outcome = run_sync(net, SyncOptions(now=NOW, **options), sink=collector)  # type: ignore[arg-type]
    return outcome, collector


# --------------------------------------------------------------------------- reconciling quotas


def test_full_sync_writes_only_the_differences_then_nothing() -> None:
    net = FakeNetwork.with_sites(250)
    stale = list(range(2, 252, 10))  # 25 sites (10%)
    net.stale(stale)
    outcome, report = sync(net)
    s = outcome.summary
    assert (s.sites_checked, s.changes, s.quota_writes, s.verified, s.errors) == (251, 25, 25, 25, 0)
    assert s.sites_skipped == 1  # the main site: no membership
    assert sorted(net.written_sites) == stale
    assert all(not differing_modules(net.quotas[b], net.target(b)) for b in stale)
    assert {c.status for c in report.changes} == {"written"}
    assert report.changes[0].before == {"disk_space": {"enabled": True, "limit": 7}}
    assert outcome.exit_code == 0 and net.lock is None
    # requests: 3 pages each of sites, quotas, memberships; 1 batch write; 1 read-back; info, catalog,
    # scheduled changes; lock taken and released
    assert s.requests == 3 * 3 + 1 + 1 + 3 + 2
    again, _ = sync(net)
    assert (again.summary.changes, again.summary.writes, again.summary.errors) == (0, 0, 0)
    assert "0 changes" in again.summary.line(dry_run=False)


def test_batches_are_flushed_at_the_batch_limit() -> None:
    net = FakeNetwork.with_sites(120, batch_limit=25)
    net.stale(range(2, 122))
    outcome, _ = sync(net)
    assert outcome.summary.quota_writes == 120
    assert outcome.summary.requests == 3 * 2 + math.ceil(120 / 25) + math.ceil(120 / 100) + 3 + 2


def test_dry_run_writes_nothing_and_takes_no_lock() -> None:
    net = FakeNetwork.with_sites(30)
    net.stale([5, 6])
    net.lock = ("sync", "someone-else")
    outcome, report = sync(net, dry_run=True)
    assert outcome.exit_code == 0 and net.written_sites == [] and net.lock_refusals == 0
    assert outcome.summary.changes == 2 and outcome.summary.writes == 0
    assert [c.status for c in report.changes] == ["would-write", "would-write"]


def test_inactive_policy_keep_and_suspend() -> None:
    net = FakeNetwork.with_sites(3)
    net.add(blog_id=50, membership_id=50, status="expired")
    net.add(blog_id=51, membership_id=51, status="cancelled")
    net.stale([50])
    kept, _ = sync(net, inactive_policy="keep")
    assert kept.summary.writes == 0 and kept.summary.sites_skipped == 3
    _, report = sync(net, inactive_policy="suspend")
    assert sorted(net.written_sites) == [50, 51]
    assert net.quotas[50] == SUSPENDED_QUOTA and net.quotas[51] == SUSPENDED_QUOTA
    assert {c.reason for c in report.changes} == {"suspended"}
    assert sync(net, inactive_policy="suspend")[0].summary.writes == 0


def test_site_whose_membership_vanished_or_names_unknown_products() -> None:
    net = FakeNetwork.with_sites(2)
    net.add(blog_id=60, membership_id=60, in_sync=False)
    del net.members[60]
    net.add(blog_id=61, membership_id=61, in_sync=False)
    net.members[61] = net.members[61].model_copy(update={"plan_id": 99})
    outcome, report = sync(net)
    assert net.written_sites == []
    assert outcome.exit_code == 1
    assert [(e.stage, e.blog_id) for e in report.errors] == [("membership", 61)]
    assert "plan_id 99" in report.errors[0].message


# --------------------------------------------------------------------------- scheduled changes


def _schedule(net: FakeNetwork, mid: int, plan_id: int, when: datetime) -> None:
    net.scheduled[mid] = ScheduledChange(membership_id=mid, scheduled_for=when,
                                         target={"plan_id": plan_id, "amount": "0.0000"})


def test_due_downgrade_is_applied_once_and_its_quota_follows() -> None:
    net = FakeNetwork.with_sites(3)  # site 4 <- membership 3 on premium (plan 3)
    _schedule(net, 3, 2, NOW - timedelta(hours=1))
    _schedule(net, 2, 1, NOW + timedelta(days=1))  # not due yet
    outcome, report = sync(net)
    s = outcome.summary
    assert (s.scheduled_changes_due, s.scheduled_changes_applied, s.scheduled_changes_cleared) == (1, 1, 1)
    assert net.members[3].plan_id == 2 and net.members[2].plan_id == 2
    assert list(net.scheduled) == [2]
    assert net.written_sites == [4] and s.writes == 2
    entry = report.scheduled_changes[0]
    assert (entry.before, entry.after, entry.status) == ({"plan_id": 3, "amount": "15.00"},  # the currency's
                                                         {"plan_id": 2, "amount": "0.00"}, "applied")  # decimals
    again, _ = sync(net)
    assert again.summary.writes == 0 and again.summary.scheduled_changes_due == 0


def test_rerun_after_a_kill_between_apply_and_clear_does_not_write_the_membership_again() -> None:
    net = FakeNetwork.with_sites(3)
    _schedule(net, 3, 2, NOW - timedelta(hours=1))
    net.fail_delete = True  # stands for the process dying after the membership write
    first, report = sync(net)
    assert first.exit_code == 1 and net.membership_writes == [3] and 3 in net.scheduled
    assert report.errors[0].stage == "scheduled_change" and "not cleared" in report.errors[0].message
    net.fail_delete = False
    second, _ = sync(net)
    s = second.summary
    assert net.membership_writes == [3], "the change must not be written twice"
    assert (s.memberships_updated, s.scheduled_changes_applied, s.scheduled_changes_cleared) == (0, 1, 1)
    assert not net.scheduled and second.exit_code == 0


def test_dry_run_shows_the_quota_a_due_change_would_give() -> None:
    net = FakeNetwork.with_sites(3)
    _schedule(net, 3, 2, NOW)
    _, report = sync(net, dry_run=True)
    assert net.membership_writes == [] and 3 in net.scheduled
    assert [c.status for c in report.scheduled_changes] == ["would-apply"]
    assert [(c.blog_id, c.status) for c in report.changes] == [(4, "would-write")]
    # the preview shows the plan's quota (issue 11, item 17: it showed {} = every limit removed), computed here
    # independently of the workflow's "membership after the change" helper
    downgraded = Membership.model_validate({"id": 3, "customer_id": 3, "plan_id": 2, "status": "active",
                                            "amount": "0"})
    want = effective_limitations(downgraded, CATALOG, site=net.site_rows[4]).to_wire()
    assert want and want.get("disk_space"), "the plan of the example catalog has a disk quota"
    assert report.changes[0].after == want
    # and the real run writes that same quota
    sync(net)
    assert net.quotas[4] is not None and net.quotas[4].to_wire() == want


def test_failing_membership_update_keeps_the_change_for_the_next_run() -> None:
    net = FakeNetwork.with_sites(3)
    _schedule(net, 3, 2, NOW)

    def refuse(mid: int, state: Mapping[str, Any]) -> Membership:
        raise WPBridgeError("plan_id: not a plan", status=400, code="wu_rest_membership_invalid")

    net.memberships.update = refuse  # type: ignore[method-assign]
    outcome, report = sync(net)
    assert outcome.exit_code == 1 and 3 in net.scheduled
    assert [c.status for c in report.scheduled_changes] == ["failed"]


# --------------------------------------------------------------------------- failures and locking


def test_failing_sites_are_reported_and_the_others_written() -> None:
    net = FakeNetwork.with_sites(60)
    net.stale(range(2, 62))
    net.fail_quota = {7, 30}
    outcome, report = sync(net)
    assert outcome.exit_code == 1
    assert outcome.summary.quota_writes == 58 and outcome.summary.errors == 2
    assert sorted(e.blog_id for e in report.errors if e.blog_id) == [7, 30]
    assert {e.status for e in report.errors} == {500}
    assert sorted(c.blog_id for c in report.changes if c.status == "failed") == [7, 30]
    net.fail_quota = set()
    assert sync(net)[0].summary.quota_writes == 2


def test_a_batch_failing_whole_is_reported_not_retried_by_a_second_layer() -> None:
    net = FakeNetwork.with_sites(10)
    net.stale([3, 4, 5])
    net.fail_batch = True  # after the REST layer's own retries
    outcome, report = sync(net)
    assert outcome.exit_code == 1 and net.written_sites == []
    assert sorted(c.blog_id for c in report.changes if c.status == "failed") == [3, 4, 5]
    assert {e.status for e in report.errors} == {502}
    net.fail_batch = False
    again, _ = sync(net)
    assert again.exit_code == 0 and sorted(net.written_sites) == [3, 4, 5]


def test_a_500_in_a_batch_item_is_not_resent() -> None:
    net = FakeNetwork.with_sites(10)
    net.stale([3, 4])
    net.fail_quota = {4}
    requests_before = net.stats.requests
    outcome, _ = sync(net)
    assert outcome.exit_code == 1 and net.written_sites == [3]
    single_writes = net.stats.requests - requests_before
    net2 = FakeNetwork.with_sites(10)
    net2.stale([3, 4])
    requests_before = net2.stats.requests
    sync(net2)
    assert single_writes == net2.stats.requests - requests_before, "no extra request for the failed item"


def test_second_sync_is_refused_while_the_lock_is_held() -> None:
    net = FakeNetwork.with_sites(5)
    net.stale([3])
    net.lock = ("sync", "other-run")
    outcome, report = sync(net)
    assert outcome.exit_code == 1 and net.written_sites == []
    assert outcome.fatal is not None and "another sync is running" in outcome.fatal and "other-run" in outcome.fatal
    assert [e.stage for e in report.errors] == ["lock"]
    assert net.lock == ("sync", "other-run")


def test_only_membership_limits_the_run_and_refuses_unknown_ids() -> None:
    net = FakeNetwork.with_sites(20)
    net.stale([3, 4, 5])
    _schedule(net, 5, 1, NOW)
    outcome, _ = sync(net, only_memberships=(2,))
    assert net.written_sites == [3] and net.membership_writes == []
    assert outcome.summary.sites_checked == 1
    with pytest.raises(InputError, match="--only-membership 999"):
        sync(net, only_memberships=(999,))


def test_report_of_a_run_validates() -> None:
    net = FakeNetwork.with_sites(40)
    net.stale([3, 9])
    net.fail_quota = {9}
    _schedule(net, 3, 1, NOW)
    outcome, collector = sync(net)
    report = collector.report(outcome.header, outcome.summary, outcome.finished_at)
    assert validate_report(json.loads(json.dumps(report))) == []
    assert report["summary"]["writes"] == outcome.summary.quota_writes + 1


# --------------------------------------------------------------------------- CLI


def test_cli_runs_quietly_and_writes_the_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    net = FakeNetwork.with_sites(30)
    net.stale([4, 5])
    net.fail_quota = {5}
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "close", lambda self: None, raising=False)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    path = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["sync", "--report", str(path), "--at", "2026-03-01T12:00:00Z",
                                       "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 1, result.output
    assert "sync error (quota_write): site 5:" in result.output
    assert "2 changes" in result.output
    report = json.loads(path.read_text())
    assert validate_report(report) == [] and report["summary"]["writes"] == 1
    assert report["now"] == "2026-03-01T12:00:00Z"
    net.fail_quota = set()
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 0 and "1 changes" in result.output
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 0 and "0 changes" in result.output
    assert result.output.count("\n") == 1


def test_cli_refused_by_the_lock_says_so_once_and_no_summary(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    net = FakeNetwork.with_sites(5)
    net.lock = ("sync", "other-run")
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("another sync is running") == 1 and "other-run" in result.stderr


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "--now", "yesterday"])
    assert result.exit_code == 2 and result.stderr == (
        "error: Invalid value for '--at': 'yesterday' is not an ISO 8601 date-time (e.g. 2026-05-01T12:00:00Z)"
        " (see: wpbridge sync --help)\n")
    result = CliRunner().invoke(main, ["sync", "--at", "yesterday"])
    assert result.exit_code == 2 and "Invalid value for '--at'" in result.stderr and result.stdout == ""
    bad = tmp_path / "c.toml"
    bad.write_text('[networks.a]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n'
                   '[sync]\ninactive_policy = "delete"\n')
    bad.chmod(0o600)
    result = CliRunner().invoke(main, ["sync", "--config", str(bad)])
    assert result.exit_code == 2 and "inactive_policy" in result.output and "[sync]" in result.output


def test_cli_sync_settings_per_network(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sync]\ninactive_policy = "keep"\nlock_ttl = 60\n[sync.networks.prod]\n'
                   'inactive_policy = "suspend"\n')
    env = {"HOME": str(tmp_path)}
    assert load_sync_settings("prod", cfg, env) == SyncSettings(inactive_policy="suspend", lock_ttl=60)
    assert load_sync_settings("dev", cfg, env) == SyncSettings(inactive_policy="keep", lock_ttl=60)
    assert load_sync_settings("dev", None, env) == SyncSettings()  # no file: the defaults
    assert SyncSettings.model_json_schema()["properties"]["inactive_policy"]["enum"] == ["keep", "suspend"]
    for text, message in [('[sync]\nlock_ttl = "60"\n', "[sync]: key 'lock_ttl': Input should be a valid integer"),
                          ('[sync]\nlock_ttl = 2\n', "key 'lock_ttl': Input should be greater than or equal to 5"),
                          ('[sync]\ninactive = "keep"\n', "[sync]: unknown key 'inactive' (known: inactive_policy"),
                          ('[sync.networks.prod]\ninactive_policy = "gone"\n',
                           "[sync] / [sync.networks.prod]: key 'inactive_policy': Input should be 'keep' or")]:
        cfg.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_sync_settings("prod", cfg, env)
        assert f"config {cfg}: " in str(err.value) and message in str(err.value), str(err.value)
    assert parse_moment("2026-01-02T03:04:05", "--at") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_moment("2026-01-02T04:04:05+01:00", "--at") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_stalled_run_stops_renewing_its_lock_and_takes_it_back_on_progress() -> None:
    """The lock keeper on a clock of the test's own: each turn of the refresher (what its thread does every
    `refresh_every` seconds) is one second; the run progresses at each `check()`."""
    from wpbridge.workflows.sync import LockKeeper, LockLost

    net = FakeNetwork.with_sites(0)
    now = [0.0]
    keeper = LockKeeper(net.locks, ttl=30, owner="me", refresh_every=1, stall_after=10, clock=lambda: now[0],
                        background=False)

    def turns(n: int) -> None:
        for _ in range(n):
            now[0] += 1
            keeper.renew()

    with keeper:
        taken = net.stats.requests
        for _ in range(5):  # progressing: renewed at every turn
            keeper.check()
            turns(1)
        assert net.stats.requests == taken + 5
        turns(10)  # no progress (a slow server): renewed for 10 s after the last check, then no more
        stalled = net.stats.requests
        assert stalled == taken + 5 + 9
        turns(20)
        assert net.stats.requests == stalled, "a stalled run must not keep renewing the lock"
        keeper.check()  # progress again: the lock is taken back at once
        assert net.lock == ("sync", "me") and net.stats.requests == stalled + 1
        turns(1)
        assert net.stats.requests == stalled + 2, "renewing resumes with progress"
        # stalled again, and meanwhile the lock lapsed and another run took it: stop before writing more
        turns(20)
        net.lock = ("sync", "other")
        with pytest.raises(LockLost, match="taken by other"):
            keeper.check()


def test_the_lock_keepers_thread_renews_the_lock_until_the_run_ends() -> None:
    from wpbridge.workflows.sync import LockKeeper

    net = FakeNetwork.with_sites(0)
    renewed = threading.Event()
    real_acquire = net.locks.acquire

    def acquire(name: str, owner: str, ttl: int) -> dict[str, Any]:
        if net.lock is not None:  # held already: a renewal
            renewed.set()
        return real_acquire(name, owner, ttl)

    net.locks.acquire = acquire  # type: ignore[method-assign]
    with LockKeeper(net.locks, ttl=30, owner="me", refresh_every=0.001):
        assert renewed.wait(10), "the thread renews the lock"
    assert net.lock is None, "released at the end"


@pytest.mark.parametrize("output", ["json", "csv", "table"])
def test_cli_dry_run_stdout_carries_only_the_requested_format(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             output: str) -> None:
    net = FakeNetwork.with_sites(5)
    net.stale([3])
    _schedule(net, 3, 2, NOW)
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    result = CliRunner().invoke(main, ["sync", "--dry-run", "-o", output, "--now", "2026-03-01T12:00:00Z",
                                       "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 0, result.output
    assert "would write site 3" in result.stderr and "would apply the scheduled change of membership 3" in result.stderr
    assert "would" not in result.stdout
    if output == "json":
        assert json.loads(result.stdout)["summary"]["changes"] == 2
    elif output == "csv":
        lines = result.stdout.splitlines()
        assert len(lines) == 2 and lines[0].startswith("sites_checked,")
    else:
        assert result.stdout.startswith("sync (dry run): 2 changes;") and result.stdout.count("\n") == 1


@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_cli_signal_stops_at_a_safe_point_releases_the_lock_and_reports(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path, sig: str, code: int) -> None:
    import os
    import signal

    net = FakeNetwork.with_sites(200)
    net.stale(range(2, 202))
    real_put = net.quotas.put_many

    def put_then_signal(quotas: Mapping[int, Limitations]) -> BatchResult:
        result = real_put(quotas)
        if len(net.written_sites) == 25:  # the first batch: a signal arrives meanwhile
            os.kill(os.getpid(), getattr(signal, sig))
        return result

    net.quotas.put_many = put_then_signal  # type: ignore[method-assign]
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    path = tmp_path / "report.json"
    path.write_text('{"from": "an earlier run"}')
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    result = CliRunner().invoke(main, ["sync", "--report", str(path), "--config", str(tmp_path / "none.toml")])
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert result.exit_code == code, result.output
    assert f"{sig} received; stopping at the next safe point" in result.stderr
    assert "sync interrupted" in result.stderr and result.stdout.startswith("sync (interrupted): ")
    assert net.written_sites == list(range(2, 27)), "stopped after the batch in flight, before the next one"
    assert net.lock is None, "the lock is released"
    report = json.loads(path.read_text())
    assert validate_report(report) == [] and report["interrupted"] == sig and "interrupted" in report["fatal"]
    assert report["summary"]["quota_writes"] == 25
    assert [c["blog_id"] for c in report["changes"] if c["status"] == "written"] == list(range(2, 27))
    assert not list(tmp_path.glob(".report.json.*")), "no temporary file left"


def test_cli_a_report_from_an_earlier_run_never_passes_for_this_runs(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    net = FakeNetwork.with_sites(3)
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    path = tmp_path / "report.json"
    path.write_text('{"schema": "wpbridge.sync.report/1", "from": "an earlier run"}')
    result = CliRunner().invoke(main, ["sync", "--report", str(path), "--only-membership", "99",
                                       "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "--only-membership 99" in result.stderr
    assert not path.exists(), "the earlier run's report must not be left looking like this run's"
    net.lock = ("sync", "other-run")
    path.write_text('{"from": "an earlier run"}')
    result = CliRunner().invoke(main, ["sync", "--report", str(path), "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    report = json.loads(path.read_text())
    assert "another sync is running" in report["fatal"] and report["interrupted"] is None
