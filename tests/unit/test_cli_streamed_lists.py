"""`memberships list` and `sites list` stream their json and yaml (issue 22: `memberships list -o json` held
10,000 memberships and their text before printing, 185 MB): `emit_list` prints, record by record, exactly the text
`emit` prints for the whole list, in every format, with and without --fields, for no record, one and several; the
listing is read lazily (a record is printed before the next is read)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.unit.workflow_support import example_data, write_snapshot_file
from wpbridge.cli import main
from wpbridge.cli.common import FIELDS, emit, emit_list

RECORDS = [
    {"id": 1, "amount": Decimal("29.9"), "status": "active", "note": "a\nb", "addons": {"5": 2}, "tags": []},
    {"id": 2, "amount": Decimal("0"), "status": "expired", "note": "", "addons": {}, "tags": ["x", "y"]},
    {"id": 3, "amount": None, "status": "pending", "note": "é", "addons": {"7": 1}, "tags": [{"k": 1}]},
]


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "status": r["status"], "amount": r["amount"]}


def _printed(output: str, records: list[dict[str, Any]], fields: list[str] | None, streamed: bool) -> str:
    @click.command()
    def show() -> None:
        if fields:
            click.get_current_context().meta[FIELDS] = fields
        if streamed:
            emit_list(output, iter(records), row=_row, data=dict, columns=["id", "status", "amount"])
        else:
            emit(output, rows=[_row(r) for r in records], data=[dict(r) for r in records],
                 columns=["id", "status", "amount"])

    result = CliRunner().invoke(show, [], catch_exceptions=False)
    assert result.exit_code == 0
    return result.stdout


@pytest.mark.parametrize("output", ["json", "yaml", "table", "csv"])
@pytest.mark.parametrize("count", [0, 1, 3])
@pytest.mark.parametrize("fields", [None, ["status", "id"]])
def test_streamed_text_is_the_whole_lists_text(output: str, count: int, fields: list[str] | None) -> None:
    records = RECORDS[:count]
    assert _printed(output, records, fields, True) == _printed(output, records, fields, False)


def test_each_record_is_printed_before_the_next_is_read() -> None:
    seen: list[str] = []

    @click.command()
    def show() -> None:
        def records() -> Iterator[dict[str, Any]]:
            for r in RECORDS:
                seen.append(f"read {r['id']}")
                yield r

        def data(r: dict[str, Any]) -> dict[str, Any]:
            seen.append(f"print {r['id']}")
            return dict(r)

        emit_list("json", records(), row=_row, data=data)

    assert CliRunner().invoke(show, [], catch_exceptions=False).exit_code == 0
    assert seen == ["read 1", "print 1", "read 2", "print 2", "read 3", "print 3"]


@pytest.mark.parametrize(("command", "section", "key"), [(["memberships", "list"], "memberships", "id"),
                                                     (["sites", "list"], "sites", "blog_id")])
@pytest.mark.parametrize("output", ["json", "yaml", "csv", "table"])
def test_the_list_commands_still_print_every_record(tmp_path: Path, command: list[str], section: str, key: str,
                                                    output: str) -> None:
    path = write_snapshot_file(tmp_path, example_data(posts={13: 12}))
    ids = [r[key] for r in json.loads(Path(path).read_text())[section]]
    result = CliRunner().invoke(main, [*command, "--snapshot", str(path), "-o", output], catch_exceptions=False,
                                env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    if output == "json":
        assert sorted(d[key] for d in json.loads(result.stdout)) == sorted(ids)
    elif output == "yaml":
        assert sum(1 for line in lines if line.startswith("- ")) == len(ids)
    else:
        assert len(lines) == len(ids) + (1 if output == "csv" else 2)  # the header (and the table's rule)
