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
