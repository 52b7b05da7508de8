"""`wpbridge export` of discount codes (issue 19): a source's codes and its memberships' own codes are written
(section `discount_codes`, each membership's `discount_code` as the code) and a snapshot with them answers
`snapshot.discount_codes` offline (`discount-codes show --snapshot`); one written before has none."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from tests.unit.workflow_support import FakeNetwork, example_data
from wpbridge.cli import main
from wpbridge.workflows.snapshot import Snapshot, write_snapshot

CODE: dict[str, Any] = {"id": 5, "code": "SAVE10", "name": "Ten off", "description": "launch week", "value": "10",
                        "limit_billing_periods": True, "allowed_billing_periods": ["1-year"], "max_uses": 3}


def with_codes() -> dict[str, Any]:
    data = example_data()
    data["discount_codes"] = [CODE]
    data["memberships"][1]["discount_code"] = "save10"
    return data


def test_a_snapshot_with_codes_answers_them_offline() -> None:
    snap = Snapshot(with_codes())
    assert snap.discount_codes is not None
    found = snap.discount_codes.find("Save10")
    assert found is not None and found.description == "launch week" and found.allowed_billing_periods == ["1-year"]
    assert snap.discount_codes.membership_codes() == {2: "save10"}
    assert Snapshot(example_data()).discount_codes is None  # written before codes were exported


def test_the_export_writes_every_code_and_each_memberships_code() -> None:
    out = io.StringIO()
    counts = write_snapshot(FakeNetwork(with_codes()), out, now=datetime(2026, 12, 3, tzinfo=UTC))
    data = json.loads(out.getvalue())
    assert counts["discount_codes"] == 1
    [code] = data["discount_codes"]
    assert {k: code[k] for k in ("code", "description", "max_uses", "allowed_billing_periods")} == {
        "code": "SAVE10", "description": "launch week", "max_uses": 3, "allowed_billing_periods": ["1-year"]}
    assert [m.get("discount_code") for m in data["memberships"]] == [None, "save10", None, None]
    none = json.loads(_export(FakeNetwork(example_data())))
    assert "discount_codes" not in none


def _export(net: FakeNetwork) -> str:
    out = io.StringIO()
    write_snapshot(net, out, now=datetime(2026, 12, 3, tzinfo=UTC))
    return out.getvalue()


def test_show_gives_the_description_and_billing_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wpbridge.cli.discount_codes.open_source", lambda *_a: Snapshot(with_codes()))
    res = CliRunner().invoke(main, ["discount-codes", "show", "save10"], catch_exceptions=False,
                             env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})
    assert res.exit_code == 0, res.output
    assert "launch week" in res.output and "1-year" in res.output
