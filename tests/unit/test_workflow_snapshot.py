"""Snapshots: an export read back gives the same answers as the network it came from; bad files are one line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.unit.workflow_support import NOW, FakeNetwork, example_data, write_snapshot_file
from wpbridge.errors import DataError, InputError, NotFound
from wpbridge.workflows import change as flow
from wpbridge.workflows.snapshot import Snapshot, export_snapshot, write_snapshot


def test_round_trip_answers_the_same() -> None:
    source = FakeNetwork()
    flow.apply(source, 3, now=NOW, plan="free")  # a scheduled change, so that section is not empty
    buf = io.StringIO()
    counts = write_snapshot(source, buf, now=NOW, source_url="http://127.0.0.1:1")
    assert counts == {"catalog": 6, "customers": 4, "memberships": 4, "sites": 5, "quotas": 5, "usage": 5,
                      "scheduled_changes": 1, "payments": 0}
    copy = Snapshot(json.loads(buf.getvalue()))
    assert copy.exported_at == NOW and copy.source_url == "http://127.0.0.1:1"
    assert list(copy.memberships.list()) == list(source.memberships.list())
    assert dict(copy.quotas.list()) == dict(source.quotas.list())
    assert copy.usage.get([11, 12, 99]) == source.usage.get([11, 12])
    assert copy.schedule.get(3) == source.schedule.get(3)
    assert flow.describe(copy, 3).as_dict() == flow.describe(source, 3).as_dict()
    assert flow.quote(copy, 2, now=NOW, plan="premium").as_dict() == flow.quote(source, 2, now=NOW,
                                                                              plan="premium").as_dict()
    # one record per line: a snapshot diffs and greps well
    assert sum(1 for line in buf.getvalue().splitlines() if line.startswith('{"id":')) >= 4 + 6


def test_filters_and_lookups() -> None:
    snap = FakeNetwork()
    assert [m.id for m in snap.memberships.list(status="trialing")] == [4]
    assert [m.id for m in snap.memberships.list(customer_id=3)] == [3]
    assert [s.blog_id for s in snap.sites.list(membership_id=3)] == [13, 14]
    assert [s.blog_id for s in snap.sites.list(customer_id=1)] == [11]
    assert snap.customers.get(2).user_id == 102
    with pytest.raises(NotFound, match="membership 7 is not in fake network"):
        snap.memberships.get(7)
    with pytest.raises(NotFound):
        snap.sites.get(99)
    with pytest.raises(NotFound, match="customer 9 is not in fake network"):
        snap.customers.get(9)
    assert snap.quotas.get(11) is not None and snap.unreadable == []
    with pytest.raises(NotFound):
        snap.quotas.get(99)


def test_export_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    export_snapshot(FakeNetwork(), target, now=NOW)
    assert Snapshot.load(target).info().mode == "stub"
    assert not (tmp_path / "out.json.partial").exists()

    def lost() -> None:
        raise RuntimeError("connection lost")

    broken = FakeNetwork()
    broken.customers.list = lost  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        export_snapshot(broken, tmp_path / "broken.json", now=NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read it"):
        Snapshot.load(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": ')
    with pytest.raises(InputError, match=r"not valid JSON \(line 1, column 12"):
        Snapshot.load(bad)
    data = example_data()
    data["version"] = 9
    with pytest.raises(InputError, match="snapshot version 9 is not supported"):
        Snapshot.load(write_snapshot_file(tmp_path, data))
    data = example_data()
    del data["usage"]
    with pytest.raises(InputError, match="section 'usage' is missing"):
        Snapshot.load(write_snapshot_file(tmp_path, data))
    data = example_data()
    data["memberships"][1]["amount"] = "-5"
    with pytest.raises(DataError, match=r"section 'memberships': Membership 2: field 'amount'"):
        Snapshot.load(write_snapshot_file(tmp_path, data))


def test_snapshot_envelope_is_a_model_with_a_schema_and_names_the_bad_entry(tmp_path: Path) -> None:
    from wpbridge.workflows.snapshot import Snapshot, SnapshotFile

    schema = SnapshotFile.model_json_schema()
    assert schema["properties"]["format"]["const"] == "wpbridge-snapshot"
    assert {"catalog", "memberships", "quotas"} <= set(schema["required"])
    data = example_data()
    data["quotas"].append({"blog_id": "12x", "quota": None})
    with pytest.raises(InputError, match=r"section 'quotas' entry \d+ 'blog_id': Input should be a valid integer"):
        Snapshot(data, name="snapshot x")
    data = example_data()
    data["exported_at"] = "yesterday"
    with pytest.raises(InputError, match="'exported_at': not a date: 'yesterday'"):
        Snapshot(data, name="snapshot x")
