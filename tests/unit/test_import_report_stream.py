"""`wpbridge import`'s report written a section item at a time (importer_report): byte for byte the report made
whole, so a million-row import never holds the JSON of every step at once."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from wpbridge.encoding import dumps
from wpbridge.workflows.importer import write_report
from wpbridge.workflows.importer_report import Lazy, materialized, write_json

STEPS = [{"kind": "customer", "key": "ann@example.com", "action": "create", "id": None, "where": "line 2"},
         {"kind": "membership", "key": "k", "action": "conflict", "id": 7,
          "differences": {"amount": {"target": "39.00", "file": "49.00"}, "note": "é \"q\" \n\t"}},
         {}, [], {"nested": [[], {}, [1, [2, {"a": None}]]]}]


def report(lazy: bool) -> dict[str, object]:
    def section(items: list[object]) -> object:
        return Lazy(lambda: iter(items)) if lazy else list(items)

    return {"schema": "wpbridge.import.report/1", "finished_at": datetime(2026, 12, 3, tzinfo=UTC),
            "summary": {"records": 2, "planned": {"create": 1}, "by_kind": {}, "phases": {}, "amount": Decimal("1.50")},
            "plan": section(STEPS), "writes": section([]), "conflicts": section(STEPS[1:2]), "not_kept": [],
            "warnings": [{"where": "line 3", "message": "warning: x"}], "errors": [], "interrupted": None}


def test_the_streamed_report_is_the_whole_one_byte_for_byte(tmp_path: Path) -> None:
    out = io.StringIO()
    write_json(out, report(lazy=True))
    assert out.getvalue() == dumps(report(lazy=False), indent=1)
    assert materialized(report(lazy=True)) == report(lazy=False)
    write_report(tmp_path / "r.json", report(lazy=True))
    assert (tmp_path / "r.json").read_text() == dumps(report(lazy=False), indent=1) + "\n"
    for value in ({}, [], Lazy(list), "x", None, {"a": Lazy(list)}, {"a": {"b": Lazy(lambda: [{}])}}):
        out = io.StringIO()
        write_json(out, value)
        assert out.getvalue() == dumps(materialized(value), indent=1), value


def test_a_dry_run_printed_as_a_table_makes_no_json_of_its_steps(monkeypatch: object, tmp_path: Path,
                                                                  capsys: object) -> None:
    """The table output without --report never turns a step into JSON (a million-row dry run held it all); with
    --report the file is the whole report, as before."""
    import json

    import pytest

    from wpbridge.cli.importer import _finish
    from wpbridge.managers.flavor import STUB
    from wpbridge.sandbox.example import example_catalog
    from wpbridge.workflows.importer import ImportOptions, ImportResult, Prepared, summarize
    from wpbridge.workflows.importer_input import check_references, read_csv
    from wpbridge.workflows.importer_plan import Step, TargetState, build_plan

    src = read_csv("email,plan,site_path\nann@example.com,basic,/ann/\nbob@example.com,premium,/bob/\n")
    check_references(src, example_catalog())
    target = TargetState(flavor=STUB, domain="net.example", path="/", subdomain=False, catalog=example_catalog(),
                         customers=[], memberships={}, keys={}, sites={}, scheduled={})
    prepared = Prepared("in.csv", ImportOptions(dry_run=True), src, build_plan(src, target), [])
    result = ImportResult(prepared, None, summarize(prepared, None, requests=0), 0)
    whole = json.loads(dumps(result.report(network_url="http://x", mode="stub")))
    assert len(whole["plan"]) == len(whole["writes"]) == 6

    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    to_json = Step.to_json
    calls: list[Step] = []

    def counted(step: Step) -> dict[str, object]:
        calls.append(step)
        return to_json(step)

    mp.setattr(Step, "to_json", counted)
    _finish(result, None, "http://x", "stub", "table", True)
    assert calls == []
    _finish(result, str(tmp_path / "r.json"), "http://x", "stub", "table", True)
    written = json.loads((tmp_path / "r.json").read_text())
    assert {k: v for k, v in written.items() if k not in ("finished_at", "interrupted")} == {
        k: v for k, v in whole.items() if k != "finished_at"}
    assert len(calls) == 6 + 6  # the plan and the writes, each step once as it was written


def test_the_amounts_a_csv_leaves_to_the_catalog_are_held_once() -> None:
    """Rows of the same plan and add-ons get the same amounts: one Decimal each, not one per row (a million-row
    file held two per row)."""
    from wpbridge.sandbox.example import example_catalog
    from wpbridge.workflows.importer_input import check_references, read_csv

    src = read_csv("email,plan,addons\na@example.com,premium,extra-storage:2\nb@example.com,premium,extra-storage:2\n")
    check_references(src, example_catalog())
    a, b = (m.fields for m in src.memberships)
    assert a == b and a["amount"] > 0
    assert a["amount"] is b["amount"] and a["initial_amount"] is b["initial_amount"]


def test_what_a_target_cannot_hold_is_found_without_an_index_of_every_step() -> None:
    """On a flavor that keeps everything (stub), the report's not_kept_fields never walks the steps (it built a set
    of every write of a million-row plan); on UM it still names what is lost."""
    from wpbridge.managers.flavor import STUB, UM
    from wpbridge.sandbox.example import example_catalog
    from wpbridge.workflows.importer_input import check_references, read_csv
    from wpbridge.workflows.importer_plan import TargetState, build_plan
    from wpbridge.workflows.importer_taxes import not_kept_fields

    class Walked(list):  # type: ignore[type-arg]
        walks = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            Walked.walks += 1
            return super().__iter__()

    src = read_csv("email,plan,status,gateway\nann@example.com,basic,cancelled,manual\n")
    check_references(src, example_catalog())
    for flavor, lost in ((STUB, []), (UM, ["gateway"])):
        target = TargetState(flavor=flavor, domain="net.example", path="/", subdomain=False,
                             catalog=example_catalog(), customers=[], memberships={}, keys={}, sites={}, scheduled={})
        plan = build_plan(src, target)
        plan.steps = Walked(plan.steps)
        Walked.walks = 0
        assert [x["field"] for x in not_kept_fields(plan)] == lost
        assert Walked.walks == (1 if lost else 0)
