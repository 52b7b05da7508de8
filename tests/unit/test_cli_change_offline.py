"""`wpbridge change ...` without a network: quotes from a snapshot file, apply against an in-memory network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, FakeNetwork, example_data, write_snapshot_file
from wpbridge.cli import main

AT = ["--at", NOW.isoformat()]


def cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


@pytest.fixture
def snap(tmp_path: Path) -> str:
    return str(write_snapshot_file(tmp_path, example_data(posts={13: 12})))


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    fake = FakeNetwork(example_data(posts={13: 12}))
    monkeypatch.setattr("wpbridge.cli.change.open_network", lambda *_a: fake)
    return fake


def test_options_formats(snap: str) -> None:
    table = cli("change", "options", "1", "--snapshot", snap)
    assert table.exit_code == 0
    assert "Plans offered:" in table.stdout and "premium  Premium  upgrade" in table.stdout
    data = json.loads(cli("change", "options", "1", "--snapshot", snap, "-o", "json").stdout)
    assert [p["slug"] for p in data["plans"]] == ["free", "premium"]
    rows = cli("change", "options", "1", "--snapshot", snap, "-o", "csv").stdout.splitlines()
    assert rows[0] == "kind,id,slug,name,relation,amount,period,setup_fee,owned"
    assert rows[2] == "plan,3,premium,Premium,upgrade,39.00,1 month,0.00,"


def test_quote_table_json_csv(snap: str) -> None:
    table = cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap)
    assert table.exit_code == 0
    for text in ("Kind: upgrade", "credit         7.39 USD", "due now        31.61 USD",
                 "next charge    2026-06-16 12:00 UTC (39.00 USD)"):
        assert text in table.stdout
    data = json.loads(cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "json").stdout)
    assert (data["kind"], data["credit"], data["due_now"], data["unused_credit"]) == ("upgrade", "7.39", "31.61",
                                                                                       "0.00")
    assert data["at"] == "2026-05-16T12:00:00Z" and data["next_charge_at"] == "2026-06-16T12:00:00Z"
    rows = cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "csv").stdout.splitlines()
    assert rows[0].startswith("kind,type,product_id,title,quantity,unit_price,total,currency,credit,due_now,")
    assert rows[2].startswith("upgrade,credit,,Credit,1,-7.39,-7.39,USD,7.39,31.61,")


def test_quote_no_change_and_blocked_exit_0(snap: str) -> None:
    same = cli("change", "quote", "3", "--plan", "premium", *AT, "--snapshot", snap)
    assert same.exit_code == 0 and "No change: This cart proposes no changes" in same.stdout
    blocked = cli("change", "quote", "3", "--plan", "free", *AT, "--snapshot", snap, "-o", "json")
    assert blocked.exit_code == 0
    data = json.loads(blocked.stdout)
    assert data["kind"] == "blocked" and "has 12 posts but the new plan is limited to 10" in data["message"]


@pytest.mark.parametrize(("args", "message"), [
    (["2", "--plan", "gold"], "error: Invalid value for '--plan': unknown plan 'gold'"),
    (["1", "--plan", "basic"], "error: plan 'basic' is not offered to membership 1"),
    (["2", "--addon", "unlimited-visits"], "error: Unlimited visits is not offered as an add-on of Basic"),
    (["2", "--period", "monthly"], "error: Invalid value for '--period': period 'monthly': expected N:UNIT"),
    (["2", "--at", "soon"], "error: Invalid value for '--at': 'soon' is not an ISO 8601 date-time"),
    (["42", "--plan", "premium"], "error: membership 42 does not exist"),
])
def test_bad_input_exit_2(snap: str, args: list[str], message: str) -> None:
    result = cli("change", "quote", *args, "--snapshot", snap)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1 and result.stdout == ""


def test_usage_errors_exit_2(snap: str) -> None:
    assert cli("change", "quote", "two", "--snapshot", snap).exit_code == 2
    assert cli("change", "quote", "2", "--policy", "stripe", "--snapshot", snap).exit_code == 2


def test_apply_has_no_snapshot_option() -> None:
    result = cli("change", "apply", "2", "--plan", "premium", "--snapshot", "x.json")
    assert result.exit_code == 2 and "No such option '--snapshot'" in result.stderr


def test_apply_yes_then_again(net: FakeNetwork) -> None:
    first = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert first.exit_code == 0
    assert "Writes (3):" in first.stdout and "PUT /wu/v2/membership/2" in first.stdout
    assert "POST /wpbridge/v1/memberships/2/payments" in first.stdout
    assert "Applied: upgrade of membership 2 to Premium" in first.stdout
    assert net.writes == [("membership", 2), ("site_quota", 12)]
    [payment] = net.payments.list()
    assert payment.status == "pending" and f"Payment #{payment.id}: " in first.stdout
    assert "payments settle" in first.stdout  # no pay page on this network: how to settle it
    second = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "json")
    assert second.exit_code == 0
    data = json.loads(second.stdout)
    assert data["status"] == "unchanged" and data["quote"]["kind"] == "no_change"
    assert len(net.writes) == 2


def test_apply_without_a_terminal_nor_yes_says_to_pass_yes(net: FakeNetwork) -> None:
    res = cli("change", "apply", "2", "--plan", "premium", *AT, input="")
    assert res.exit_code == 2 and net.writes == [] and not list(net.payments.list())
    assert "Writes (3):" in res.stdout  # what would be written, then why nothing was
    assert res.stderr.splitlines()[-1] == ("error: change apply: 3 writes planned but not confirmed: stdin is not a"
                                           " terminal; pass --yes to apply without asking (or --dry-run to only"
                                           " look)")


def test_apply_prompts_and_declines(net: FakeNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wpbridge.cli.change.interactive", lambda: True)
    declined = cli("change", "apply", "2", "--plan", "premium", *AT, input="n\n")
    assert declined.exit_code == 1 and "Write these changes? [y/N]" in declined.stderr
    assert "Declined: not confirmed: nothing written" in declined.stdout and net.writes == []
    eof = cli("change", "apply", "2", "--plan", "premium", *AT, input="")
    assert eof.exit_code == 1 and net.writes == []
    as_json = cli("change", "apply", "2", "--plan", "premium", *AT, "-o", "json", input="y\n")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["status"] == "applied"  # writes list and prompt went to stderr
    assert "Writes (3):" in as_json.stderr


def test_apply_dry_run_blocked_and_failed(net: FakeNetwork) -> None:
    dry = cli("change", "apply", "2", "--plan", "premium", "--dry-run", *AT, "-o", "csv")
    assert dry.exit_code == 0 and net.writes == []
    assert dry.stdout.splitlines()[0] == "status,write,record_id,request,changes,result"
    assert dry.stdout.splitlines()[1].startswith("dry_run,payment,2,POST /wpbridge/v1/memberships/2/payments,")
    assert dry.stdout.splitlines()[2].startswith("dry_run,membership,2,PUT /wu/v2/membership/2,plan: Basic")
    blocked = cli("change", "apply", "3", "--plan", "free", "--yes", *AT)
    assert blocked.exit_code == 3 and "Blocked:" in blocked.stdout and net.writes == []
    assert blocked.stdout.count("You must trash 2 posts") == 1, "a blocked apply says its reason once"
    assert "Blocked (the reason is above): nothing written." in blocked.stdout
    net.fail_quota = {12}
    failed = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert failed.exit_code == 1 and "FAILED:" in failed.stderr and "injected failure" in failed.stderr
    assert "FAILED" not in failed.stdout, "stdout carries only the requested format; failures go to stderr"
    failed_json = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "json")
    assert failed_json.exit_code == 1 and json.loads(failed_json.stdout)["status"] == "failed"
    assert "FAILED:" in failed_json.stderr
    net.fail_quota = set()
    rerun = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "json")
    assert rerun.exit_code == 0 and [w["kind"] for w in json.loads(rerun.stdout)["performed"]] == ["site_quota"]


def test_apply_downgrade_scheduled(net: FakeNetwork) -> None:
    result = cli("change", "apply", "2", "--plan", "free", "--yes", *AT)
    assert result.exit_code == 0
    assert "Scheduled: downgrade to Free scheduled for 2026-06-01 00:00 UTC (due now 0)" in result.stdout
    assert net.writes == [("scheduled_change", 2)]


def test_quote_exact_policy_keeps_the_billing_date(snap: str) -> None:
    data = json.loads(cli("change", "quote", "2", "--plan", "premium", "--policy", "exact", *AT, "--snapshot", snap,
                          "-o", "json").stdout)
    um = json.loads(cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "json").stdout)
    assert data["policy"] == "exact" and data["kind"] == "upgrade"
    assert data["next_charge_at"] == "2026-06-01T00:00:00Z"  # the current period's end, kept
    assert um["next_charge_at"] == "2026-06-16T12:00:00Z"  # UM restarts the cycle
    assert data["due_now"] != um["due_now"]


def test_output_rules_free_plan_period_next_charge_offline_note_and_no_python_names(snap: str) -> None:
    csv_rows = cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "csv")
    head, *lines = csv_rows.stdout.splitlines()
    assert all(dict(zip(head.split(","), ln.split(","), strict=True))["next_charge_at"] == "2026-06-16T12:00:00Z"
               for ln in lines)
    assert csv_rows.stderr.startswith(f"offline: from the snapshot {snap}")
    assert "exported 2026-" in csv_rows.stderr
    options = cli("change", "options", "2", "--snapshot", snap)
    assert "free     Free     downgrade  free " in options.stdout, "a free plan reads as free (issue 21 item 9)"
    forced = cli("change", "quote", "1", "--plan", "basic", *AT, "--snapshot", snap)
    assert forced.exit_code == 2 and "add --force to use it anyway" in forced.stderr
    assert "force=True" not in forced.stderr


def test_at_before_the_membership_existed_is_refused(snap: str, net: FakeNetwork) -> None:
    early = cli("change", "quote", "2", "--plan", "premium", "--at", "2020-01-01T00:00:00Z", "--snapshot", snap)
    assert early.exit_code == 2 and early.stdout == ""
    assert early.stderr.startswith("error: --at 2020-01-01 00:00:00 UTC: membership 2 did not exist yet (created ")
    applied = cli("change", "apply", "2", "--plan", "premium", "--yes", "--at", "2020-01-01T00:00:00Z")
    assert applied.exit_code == 2 and net.writes == []
