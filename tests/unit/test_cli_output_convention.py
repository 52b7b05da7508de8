"""One output convention for every command (issue 21 item 6): --format beside --output/-o, yaml, --fields,
CSV with raw values (ISO 8601 `Z`, empty cells), JSON moments always `Z`, amounts with the currency's decimals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.workflow_support import NOW, FakeNetwork, example_data, write_snapshot_file
from wpbridge.cli import main
from wpbridge.cli.output import render_yaml
from wpbridge.models import Site
from wpbridge.money import shown_amount

AT = ["--at", NOW.isoformat()]


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


@pytest.fixture
def snap(tmp_path: Path) -> str:
    return str(write_snapshot_file(tmp_path, example_data(posts={13: 12})))


@pytest.mark.parametrize("spelling", [["--format", "json"], ["--format=json"], ["-o", "json"], ["--output", "json"]])
def test_format_is_accepted_wherever_output_is(snap: str, spelling: list[str]) -> None:
    after = cli("products", "list", "--snapshot", snap, *spelling)
    before = cli(*spelling, "products", "list", "--snapshot", snap)
    assert after.exit_code == before.exit_code == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)


def test_import_input_format_and_output_format_never_clash(tmp_path: Path) -> None:
    help_text = cli("import", "--help").stdout
    assert "--input-format" in help_text and "--format" in help_text
    bad = cli("import", str(tmp_path / "x.csv"), "--input-format", "xml")
    assert bad.exit_code == 2 and "'--input-format'" in bad.stderr


def test_yaml_is_the_json_data(snap: str) -> None:
    for args in (["products", "list"], ["memberships", "show", "3"],
                 ["change", "quote", "2", "--plan", "premium", *AT]):
        as_json = json.loads(cli(*args, "--snapshot", snap, "-o", "json").stdout)
        as_yaml = cli(*args, "--snapshot", snap, "--format", "yaml")
        assert as_yaml.exit_code == 0 and yaml.safe_load(as_yaml.stdout) == as_json, args


def test_fields_cut_every_format(snap: str) -> None:
    rows = cli("memberships", "list", "--snapshot", snap, "-o", "csv", "--fields", "id,status").stdout.splitlines()
    assert rows[0] == "id,status" and rows[3] == "3,active"
    table = cli("memberships", "list", "--snapshot", snap, "--fields", "status,id").stdout.splitlines()
    assert table[0].split() == ["status", "id"]
    data = json.loads(cli("--fields", "id,plan_id", "memberships", "list", "--snapshot", snap, "-o", "json").stdout)
    assert data[0] == {"id": 1, "plan_id": 1}
    one = json.loads(cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "json",
                         "--fields", "kind,due_now").stdout)
    assert one == {"kind": "upgrade", "due_now": "31.61"}
    bad = cli("memberships", "list", "--snapshot", snap, "--fields", "id,colour")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: Invalid value for '--fields': no field 'colour'") and "status" in bad.stderr


def test_csv_carries_raw_values(snap: str) -> None:
    rows = cli("memberships", "list", "--snapshot", snap, "-o", "csv").stdout.splitlines()
    cell = dict(zip(rows[0].split(","), rows[3].split(","), strict=True))
    assert (cell["id"], cell["amount"], cell["expires"]) == ("3", "44.00", "2026-06-01T00:00:00Z")
    assert " UTC" not in "\n".join(rows) and ",-," not in "\n".join(rows) and "'-" not in "\n".join(rows)
    assert dict(zip(rows[0].split(","), rows[1].split(","), strict=True))["addons"] == ""  # none held: empty
    table = cli("memberships", "list", "--snapshot", snap).stdout
    assert "2026-06-01 00:00 UTC" in table


def test_csv_booleans_are_true_and_false_tables_yes_and_no(snap: str) -> None:
    rows = cli("products", "list", "--snapshot", snap, "-o", "csv", "--fields", "slug,active").stdout.splitlines()
    assert rows[0] == "slug,active" and {r.split(",")[1] for r in rows[1:]} == {"true"}
    shown = cli("memberships", "show", "3", "--snapshot", snap, "-o", "csv", "--fields", "blog_id,quota_in_sync")
    assert shown.stdout.splitlines()[1] == "13,true"
    table = cli("products", "list", "--snapshot", snap, "--fields", "slug,active").stdout.splitlines()
    assert table[2].split() == ["free", "yes"]


def test_quote_csv_is_one_table(snap: str) -> None:
    rows = cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "csv").stdout.splitlines()
    head = rows[0].split(",")
    assert head[:7] == ["kind", "type", "product_id", "title", "quantity", "unit_price", "total"]
    assert all(len(r.split(",")) == len(head) for r in rows)
    assert [r.split(",")[1] for r in rows[1:]] == ["product", "credit"]  # lines only, no summary rows
    cell = dict(zip(head, rows[1].split(","), strict=True))
    assert (cell["currency"], cell["due_now"], cell["next_charge_at"]) == ("USD", "31.61", "2026-06-16T12:00:00Z")


def test_quote_json_moments_are_iso_z(snap: str) -> None:
    data = json.loads(cli("change", "quote", "2", "--plan", "premium", *AT, "--snapshot", snap, "-o", "json").stdout)
    assert data["target"]["date_expiration"] == "2026-06-16T12:00:00Z"
    assert data["target"]["date_renewed"] == "2026-05-16T12:00:00Z"


def test_the_main_site_is_main_in_both_flavors() -> None:
    stub_record = {"blog_id": 1, "domain": "example.test", "path": "/", "type": "main"}  # stub mode: no is_main
    um_record = {"blog_id": 1, "domain": "example.test", "path": "/", "type": "main", "is_main": True}
    for record in (stub_record, um_record):
        assert Site.model_validate(record).model_dump(mode="json")["is_main"] is True
    assert Site.model_validate({"blog_id": 2, "type": "customer_owned"}).is_main is False


@pytest.mark.parametrize(("stored", "currency", "shown"), [
    ("58.0000", "USD", "58.00"), ("58.0000", None, "58.00"), ("58.0000", "JPY", "58"), ("7.3912", "USD", "7.3912"),
    ("0", "EUR", "0.00"),
])
def test_amounts_are_shown_with_the_currency_decimals(stored: str, currency: str | None, shown: str) -> None:
    assert f"{shown_amount(Decimal(stored), currency):f}" == shown


def test_export_to_stdout_is_json_so_csv_and_yaml_are_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("wpbridge.cli.read.open_network", lambda *_a: opened.append("net"))
    for fmt in ("csv", "yaml"):
        res = cli("export", "-o", fmt)
        assert res.exit_code == 2 and res.stdout == "" and res.stderr.count("\n") == 1
        assert res.stderr.startswith("error: Invalid value for '--output': export writes its snapshot as JSON")
    assert opened == []


def test_export_file_is_0600(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("wpbridge.cli.read.open_network", lambda *_a: FakeNetwork())
    out = tmp_path / "snap.json"
    res = cli("export", "--out", str(out), "-o", "csv")
    assert res.exit_code == 0, res.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    assert res.stdout.splitlines()[0] == "section,records"


def test_products_group_in_any_case_or_the_groups_named(snap: str) -> None:
    rows = cli("products", "list", "--group", "high end", "--snapshot", snap, "-o", "json").stdout
    assert [p["slug"] for p in json.loads(rows)] == ["free", "premium"]
    bad = cli("products", "list", "--group", "high-end", "--snapshot", snap)
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
    assert "no product is in the group 'high-end' (groups: High End;" in bad.stderr


def test_apply_json_spells_every_moment_in_iso_z(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNetwork(example_data(posts={13: 12}))
    monkeypatch.setattr("wpbridge.cli.change.open_network", lambda *_a: fake)
    res = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "json")
    assert res.exit_code == 0, res.stderr
    found: list[tuple[str, str]] = []

    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and (key.startswith("date_") or key.endswith(("_at", "_for"))):
            found.append((key, value))

    walk(json.loads(res.stdout))
    assert found and all(v.endswith("Z") and "T" in v for _, v in found), found


def test_apply_checks_fields_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNetwork(example_data(posts={13: 12}))
    monkeypatch.setattr("wpbridge.cli.change.open_network", lambda *_a: fake)
    bad = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "json", "--fields", "status,colour")
    assert bad.exit_code == 2 and bad.stdout == "" and fake.writes == [] and not list(fake.payments.list())
    assert bad.stderr.startswith("error: Invalid value for '--fields': no field 'colour'")
    good = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "json", "--fields", "status,ok")
    assert json.loads(good.stdout) == {"status": "applied", "ok": True}
    rows = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT, "-o", "csv", "--fields", "result")
    assert rows.stdout.splitlines()[0] == "result"


def test_apply_keys_are_the_json_keys() -> None:
    from wpbridge.cli.change import APPLY_COLUMNS, APPLY_KEYS, apply_rows
    from wpbridge.workflows.change_apply import ApplyResult

    result = ApplyResult("blocked", None, "x")  # type: ignore[arg-type]
    monkey = type("Q", (), {"as_dict": lambda self: {}})()
    result.quote = monkey  # type: ignore[assignment]
    assert tuple(result.as_dict()) == APPLY_KEYS
    assert tuple(apply_rows(result)[0]) == APPLY_COLUMNS


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_yaml_reads_back_as_the_json_data(value: object) -> None:
    assert yaml.safe_load(render_yaml(value)) == value


def test_yaml_keys_longer_than_yamls_implicit_key_limit() -> None:
    for value in ({"k" * 1500: {"a": [1, {"b": None}]}}, [{"k" * 1500: "x"}], {"k" * 1500: []}):
        assert yaml.safe_load(render_yaml(value)) == value
