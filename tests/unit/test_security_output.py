"""Issue 20, items 12 and 13: server-provided strings in the human formats cannot drive the terminal, and a CSV
cell cannot become a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import example_data, write_snapshot_file
from wpbridge.cli import main
from wpbridge.cli.output import render_csv, render_pairs, render_table

HOSTILE = "Evil\x1b[2J\x1b[H\rowned\x07\x9b31m\x7f\u0085 caf\u00e9 \u20ac \u65e5\u672c"
"""Clear screen, cursor home, carriage return, bell, a C1 CSI, DEL, C1 NEL, then ordinary unicode to keep."""


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


def no_controls(text: str, *, keep: str = "\n") -> None:
    for ch in text:
        code = ord(ch)
        if ch in keep:
            continue
        assert not (code < 0x20 or 0x7F <= code <= 0x9F), f"control {ch!r} printed raw in {text!r}"


# --------------------------------------------------------------------------- 12: control characters


def test_table_cells_escape_control_characters_and_keep_unicode() -> None:
    out = render_table([{"name": HOSTILE, "id": 1}])
    no_controls(out)
    assert "\\x1b[2J" in out and "\\r" in out and "\\x9b" in out and "\\x7f" in out
    assert "caf\u00e9 \u20ac \u65e5\u672c" in out
    assert len(out.splitlines()) == 3  # a newline in a value cannot add a row either
    assert len(render_table([{"name": "a\nb"}]).splitlines()) == 3


def test_pairs_escape_control_characters() -> None:
    out = render_pairs([("title", HOSTILE)])
    no_controls(out)
    assert "caf\u00e9" in out


def snapshot_with(tmp_path: Path, hostile: str) -> str:
    data: dict[str, Any] = example_data()
    for product in data["catalog"]:
        product["name"] = hostile + product["name"]
    for site in data["sites"]:
        site["title"] = hostile
        site["path"] = "/" + hostile + "/"
    return str(write_snapshot_file(tmp_path, data))


@pytest.mark.parametrize("args", [["products", "list"], ["sites", "list"], ["memberships", "list"],
                                  ["memberships", "show", "3"]])
def test_cli_human_output_escapes_what_the_server_sent(tmp_path: Path, args: list[str]) -> None:
    res = cli(*args, "--snapshot", snapshot_with(tmp_path, HOSTILE))
    assert res.exit_code == 0, res.output
    no_controls(res.stdout)
    no_controls(res.stderr)


def test_json_stays_json(tmp_path: Path) -> None:
    res = cli("products", "list", "-o", "json", "--snapshot", snapshot_with(tmp_path, HOSTILE))
    assert res.exit_code == 0
    no_controls(res.stdout)  # json.dumps escapes C0 and DEL-free; C1 as \u escapes
    assert json.loads(res.stdout)[0]["name"].startswith(HOSTILE)


# --------------------------------------------------------------------------- 13: CSV formulas


@pytest.mark.parametrize("value", ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1",
                                   "=HYPERLINK(\"http://x\")", "-", "+", "-x", "--4"])
def test_csv_formula_cells_are_prefixed_with_a_quote(value: str) -> None:
    out = render_csv([{"name": value}])
    cell = next(csv.reader(io.StringIO(out.split("\n", 1)[1])))[0]
    assert cell == "'" + value


@pytest.mark.parametrize("value", ["-4.93", "-4", "+12", "-0.0001", "3.50", "-1e3", "plain", "a=b", "caf\u00e9", ""])
def test_csv_numbers_and_ordinary_text_are_left_alone(value: str) -> None:
    out = render_csv([{"amount": value}])
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1:] == [[value]] or (value == "" and rows[1:] in ([[""]], []))


def test_csv_negative_amount_from_a_decimal_is_a_number() -> None:
    from decimal import Decimal

    out = render_csv([{"amount": Decimal("-4.93"), "n": -3}])
    assert out.splitlines()[1] == "-4.93,-3"


def test_cli_csv_neutralizes_a_product_named_as_a_formula(tmp_path: Path) -> None:
    res = cli("products", "list", "-o", "csv", "--snapshot", snapshot_with(tmp_path, "=cmd|'/C calc'!A0 "))
    assert res.exit_code == 0
    rows = list(csv.reader(io.StringIO(res.stdout)))
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert names and all(n.startswith("'=cmd") for n in names)
    for row in rows[1:]:
        for cell in row:
            assert not cell or (cell[0] not in "=+@\t\r" and not (cell[0] == "-" and not _number(cell))), row


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
