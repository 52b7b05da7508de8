"""`sync` and the payments of plan changes (issue 17): a change's payment still pending after
`payment_grace_days` is a finding, in the summary, the report and on stderr; never a write, never an error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.unit.workflow_support import FakeNetwork
from wpbridge.cli import main
from wpbridge.cli import sync as cli_sync
from wpbridge.config import SyncSettings, load_sync_settings
from wpbridge.errors import ConfigError, InputError, ServerError
from wpbridge.payment_models import Payment
from wpbridge.workflows.sync import SyncOptions, overdue_payment, run_sync
from wpbridge.workflows.sync.report import ReportCollector, ReportSpool, validate_report

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHANGE = {"change_key": "a" * 64, "collect": "invoice", "status_before": "active", "before": {"plan_id": 2},
          "target": {"plan_id": 3}}


def add_payment(net: FakeNetwork, pid: int, membership_id: int, *, days_ago: float, status: str = "pending",
                change: bool = True, total: str = "30.6200") -> None:
    net.payments.rows[pid] = {
        "id": pid, "customer_id": membership_id, "membership_id": membership_id, "status": status,
        "currency": "USD", "subtotal": total, "total": total, "gateway": "manual", "hash": f"H{pid}",
        "url": f"http://net.test/register/?payment=H{pid}" if pid % 2 else None,
        "date_created": (NOW - timedelta(days=days_ago)).isoformat(), "wpbridge": dict(CHANGE) if change else None,
    }


def network() -> FakeNetwork:
    """Memberships 1..4 (sites 2..5); payments: 1 change, pending 9 days (reported); 2 change, pending 3 days
    (within the grace); 3 pending 20 days but not a change of wpbridge's; 4 a change, completed; 5 a change,
    cancelled; 6 a change pending 7 days 1 hour on membership 4 (reported)."""
    net = FakeNetwork.with_sites(4)
    add_payment(net, 1, 2, days_ago=9)
    add_payment(net, 2, 3, days_ago=3)
    add_payment(net, 3, 1, days_ago=20, change=False)
    add_payment(net, 4, 1, days_ago=30, status="completed")
    add_payment(net, 5, 1, days_ago=30, status="cancelled")
    add_payment(net, 6, 4, days_ago=7 + 1 / 24, total="15")
    return net


class CountingPayments:
    """Wraps the fake's payments to count the list reads (one per run, whatever the number of memberships)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads: list[dict[str, Any]] = []

    def list(self, **filters: Any) -> Iterator[Payment]:
        self.reads.append(filters)
        return self.inner.list(**filters)  # type: ignore[no-any-return]


def sync(net: FakeNetwork, **options: Any) -> tuple[Any, ReportCollector]:
    collector = ReportCollector()
    outcome = run_sync(net, SyncOptions(now=NOW, **options), sink=collector)  # type: ignore[arg-type]
    return outcome, collector


def test_overdue_payment_is_a_change_payment_pending_past_the_grace() -> None:
    def pay(**extra: Any) -> Payment:
        return Payment.model_validate({"id": 7, "customer_id": 3, "membership_id": 2, "total": "30.6200",
                                       "currency": "USD", "date_created": "2026-02-20T12:00:00Z",
                                       "wpbridge": CHANGE, **extra})

    entry = overdue_payment(pay(), NOW, 7)
    assert entry is not None
    assert (entry.id, entry.membership_id, entry.customer_id, entry.total, entry.currency, entry.date_created,
            entry.days_pending, entry.url) == (7, 2, 3, "30.62", "USD", "2026-02-20T12:00:00Z", 9, None)
    assert overdue_payment(pay(), NOW, 9) is None  # exactly at the grace: not yet
    assert overdue_payment(pay(), NOW, 8) is not None
    assert overdue_payment(pay(wpbridge=None), NOW, 0) is None  # not a change wpbridge made
    assert overdue_payment(pay(status="completed"), NOW, 0) is None
    assert overdue_payment(pay(date_created=None), NOW, 0) is None  # no date: not judged
    assert overdue_payment(pay(total="1500.4", currency="JPY"), NOW, 0).total == "1500"  # type: ignore[union-attr]


def test_sync_reports_change_payments_pending_past_the_grace_and_writes_nothing() -> None:
    net = network()
    counting = CountingPayments(net.payments)
    net.payments = counting  # type: ignore[assignment]
    before = json.dumps(net.payments.inner.rows, sort_keys=True)
    outcome, report = sync(net)
    assert [(p.id, p.membership_id, p.days_pending, p.total) for p in report.pending_payments] == [
        (1, 2, 9, "30.62"), (6, 4, 7, "15.00")]
    assert report.pending_payments[0].url == "http://net.test/register/?payment=H1"
    assert report.pending_payments[1].url is None
    assert outcome.summary.pending_payments == 2
    assert outcome.exit_code == 0 and outcome.summary.errors == 0  # a finding, not a failure
    assert outcome.summary.writes == 0 and net.writes == []
    assert json.dumps(net.payments.inner.rows, sort_keys=True) == before  # never a write, never a revert
    assert counting.reads == [{"status": "pending"}]  # one read per run
    assert "2 change payments pending past the grace" in outcome.summary.line(dry_run=False)
    data = report.report(outcome.header, outcome.summary, outcome.finished_at)
    assert data["payment_grace_days"] == 7
    assert data["pending_payments"][0] == {
        "id": 1, "membership_id": 2, "customer_id": 2, "total": "30.62", "currency": "USD",
        "date_created": "2026-02-20T12:00:00Z", "days_pending": 9, "url": "http://net.test/register/?payment=H1"}
    assert validate_report(json.loads(json.dumps(data))) == []


def test_grace_days_and_only_membership_and_dry_run() -> None:
    net = network()
    outcome, report = sync(net, payment_grace_days=0)
    assert [p.id for p in report.pending_payments] == [1, 2, 6]
    outcome, report = sync(net, payment_grace_days=10)
    assert report.pending_payments == [] and "payments" not in outcome.summary.line(dry_run=False)
    outcome, report = sync(net, only_memberships=(4,))
    assert [p.id for p in report.pending_payments] == [6]
    outcome, report = sync(net, dry_run=True)
    assert [p.id for p in report.pending_payments] == [1, 6] and net.writes == []
    with pytest.raises(InputError, match="payment grace"):
        SyncOptions(now=NOW, payment_grace_days=-1)


def test_unreadable_payments_are_an_error_and_the_rest_of_the_run_stands() -> None:
    net = network()
    net.stale([3])

    def broken(**filters: Any) -> Iterator[Payment]:
        raise ServerError("bad gateway", status=502)

    net.payments.list = broken  # type: ignore[method-assign]
    outcome, report = sync(net)
    assert net.written_sites == [3] and outcome.summary.quota_writes == 1
    assert outcome.exit_code == 1 and [e.stage for e in report.errors] == ["payments"]
    assert "could not read the pending payments" in report.errors[0].message
    data = report.report(outcome.header, outcome.summary, outcome.finished_at)
    assert validate_report(json.loads(json.dumps(data))) == []


def test_um_mode_reports_them_too() -> None:
    net = network()
    net._info = net._info.model_copy(update={"mode": "um"})
    net.site_links_problem = lambda: None  # type: ignore[attr-defined]
    outcome, report = sync(net)
    assert [p.id for p in report.pending_payments] == [1, 6]
    assert outcome.exit_code == 0 and net.writes == []


def test_the_report_file_carries_them(tmp_path: Path) -> None:
    net = network()
    spool = ReportSpool()
    try:
        outcome = run_sync(net, SyncOptions(now=NOW), sink=spool)  # type: ignore[arg-type]
        spool.write(tmp_path / "r.json", outcome.header, outcome.summary, outcome.finished_at)
    finally:
        spool.close()
    data = json.loads((tmp_path / "r.json").read_text())
    assert validate_report(data) == []
    assert [p["id"] for p in data["pending_payments"]] == [1, 6]
    assert data["summary"]["pending_payments"] == 2


def test_an_older_report_without_payments_still_validates() -> None:
    net = FakeNetwork.with_sites(2)
    outcome, report = sync(net)
    data = json.loads(json.dumps(report.report(outcome.header, outcome.summary, outcome.finished_at)))
    assert data["pending_payments"] == []
    for key in ("pending_payments", "payment_grace_days"):
        del data[key]
    del data["summary"]["pending_payments"]
    assert validate_report(data) == []


def test_settings_and_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sync]\npayment_grace_days = 3\n[sync.networks.prod]\npayment_grace_days = 0\n')
    env = {"HOME": str(tmp_path)}
    assert load_sync_settings("prod", cfg, env) == SyncSettings(payment_grace_days=0)
    assert load_sync_settings("other", cfg, env).payment_grace_days == 3
    assert SyncSettings().payment_grace_days == 7
    cfg.write_text('[sync]\npayment_grace_days = -1\n')
    with pytest.raises(ConfigError, match="payment_grace_days"):
        load_sync_settings("prod", cfg, env)

    net = network()
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    none = str(tmp_path / "none.toml")
    result = CliRunner().invoke(main, ["sync", "--at", "2026-03-01T12:00:00Z", "--config", none])
    assert result.exit_code == 0, result.output
    assert ("payment 1 of membership 2 (customer 2): 30.62 USD pending for 9 days (since 2026-02-20T12:00:00Z);"
            " pay link http://net.test/register/?payment=H1\n") in result.stderr
    assert "payment 6 of membership 4 (customer 4): 15.00 USD pending for 7 days" in result.stderr
    assert "2 change payments pending past the grace" in result.stdout
    result = CliRunner().invoke(main, ["sync", "--at", "2026-03-01T12:00:00Z", "--config", none,
                                       "--payment-grace-days", "0", "-o", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [p["id"] for p in out["pending_payments"]] == [1, 2, 6]
    assert out["summary"]["pending_payments"] == 3
    cfg.write_text('[networks.fake]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n'
                   '[sync]\npayment_grace_days = 10\n')
    cfg.chmod(0o600)
    result = CliRunner().invoke(main, ["sync", "--at", "2026-03-01T12:00:00Z", "--config", str(cfg)])
    assert result.exit_code == 0 and "payment" not in result.output
