"""`wpbridge change quote|apply --addon SLUG:0` (issue 21 item 10): removing an add-on from the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_cli_change_offline import AT, cli
from tests.unit.workflow_support import FakeNetwork, example_data, write_snapshot_file


def test_quote_a_removal_from_a_snapshot(tmp_path: Path) -> None:
    snap = str(write_snapshot_file(tmp_path, example_data()))
    out = cli("change", "quote", "3", "--addon", "extra-storage:0", "--snapshot", snap, *AT)
    assert out.exit_code == 0, out.output
    assert "removes 1 x Extra storage (holds 1, keeps 0) at the end of the period paid for" in out.stdout
    assert "the amount falls by 5.00" in out.stdout and "Kind: downgrade" in out.stdout
    assert "Requested: Premium, every 1 month, removal of 1 x Extra storage" in out.stdout
    data = json.loads(cli("change", "quote", "3", "--addon", "extra-storage:0", "--remove-now", "--snapshot", snap,
                          *AT, "-o", "json").stdout)
    assert data["kind"] == "downgrade" and data["scheduled_for"] is None and data["recurring_total"] == "39.00"


def test_keep_amount_needs_remove_now(tmp_path: Path) -> None:
    snap = str(write_snapshot_file(tmp_path, example_data()))
    out = cli("change", "quote", "3", "--addon", "extra-storage:0", "--keep-amount", "--snapshot", snap, *AT)
    assert out.exit_code == 2 and "--keep-amount: only with --remove-now" in out.output


def test_apply_remove_now(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNetwork(example_data())
    monkeypatch.setattr("wpbridge.cli.change.open_network", lambda *_a: fake)
    out = cli("change", "apply", "3", "--addon", "extra-storage:0", "--remove-now", "--keep-amount", "--yes", *AT)
    assert out.exit_code == 0, out.output
    assert "removal of 1 x Extra storage" in out.stdout
    m = fake.memberships.get(3)
    assert m.addon_products == {} and str(m.amount) in ("44", "44.00")


def test_memberships_show_says_what_a_scheduled_removal_leaves(tmp_path: Path) -> None:
    data = example_data()
    data["scheduled_changes"] = [{"membership_id": 3, "scheduled_for": "2026-06-01T00:00:00Z",
                                  "target": {"plan_id": 3, "addon_products": {}, "amount": "39.00"}}]
    snap = str(write_snapshot_file(tmp_path, data))
    out = cli("memberships", "show", "3", "--snapshot", snap)
    assert out.exit_code == 0, out.output
    assert "scheduled change  to Premium at 2026-06-01 00:00 UTC: add-ons -, 39.00 USD" in out.stdout
