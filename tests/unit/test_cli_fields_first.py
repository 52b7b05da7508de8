"""`--fields` is checked before anything is read or written, on every command (issue 21 item 6): a field the
output does not have is one line naming the fields it has, exit 2, with no request sent, no file read, nothing
written; and the fields a command declares are the fields its output has (else a valid field would be refused)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, example_data, write_snapshot_file
from wpbridge.cli import main

FORMATS = ("table", "csv", "json", "yaml")


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


def commands() -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []

    def walk(group: click.Group, path: list[str]) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, [*path, name])
            elif any(p.name == "fields" for p in command.params):
                found.append(([*path, name], command))

    walk(main, [])
    return found


def args_of(path: list[str], command: click.Command, tmp: Path) -> list[str]:
    """The command with its arguments (a file for `import`, else an id) and whatever it needs to run at all."""
    out = list(path)
    for param in command.params:
        if isinstance(param, click.Argument):
            out.append(str(tmp / "in.csv") if param.name == "file" else "1")
    extra = {"export": ["--out", str(tmp / "out.json")], "change quote": ["--plan", "premium"],
             "change apply": ["--plan", "premium", "--yes"], "payments settle": ["--yes"],
             "payments cancel": ["--yes"]}
    return out + extra.get(" ".join(path), [])


def test_every_command_with_fields_is_covered() -> None:
    names = {" ".join(path) for path, _ in commands()}
    assert {"check", "products list", "memberships show", "import", "sync", "payments settle", "change apply",
            "export", "customers show", "discount-codes list"} <= names


@pytest.mark.parametrize("output", FORMATS)
@pytest.mark.parametrize("path", [" ".join(p) for p, _ in commands()] + ["sync --all-networks"])
def test_an_unknown_field_is_refused_before_any_request(path: str, output: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        opened.append(args)
        raise AssertionError("the network was opened before --fields was checked")

    monkeypatch.setattr("wpbridge.network.Network.from_config", refuse)
    monkeypatch.setattr("wpbridge.workflows.snapshot.Snapshot.load", refuse)
    config = tmp_path / "config.toml"
    config.write_text('[networks.a]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n'
                      '[networks.b]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n')
    config.chmod(0o600)
    name, *flags = path.split(" --")
    command = dict((" ".join(p), c) for p, c in commands())[name]
    args = args_of(name.split(), command, tmp_path) + [f"--{f}" for f in flags]
    res = cli(*args, "--config", str(config), "-o", output, "--fields", "colour")
    assert res.exit_code == 2, (args, res.output)
    assert res.stdout == "" and res.stderr.count("\n") == 1 and opened == [], res.output
    assert res.stderr.startswith("error: Invalid value for '--fields': no field 'colour'"), res.stderr
    assert "(fields: " in res.stderr and "(fields: none)" not in res.stderr, res.stderr
    assert not (tmp_path / "out.json").exists()


def declared(args: list[str], output: str) -> list[str]:
    res = cli(*args, "-o", output, "--fields", "colour")
    assert res.exit_code == 2, res.output
    found = re.search(r"\(fields: (.*)\)$", res.stderr.strip())
    assert found, res.stderr
    return found.group(1).split(", ")


def shown(args: list[str], output: str) -> list[str]:
    res = cli(*args, "-o", output)
    assert res.exit_code == 0, res.output
    if output == "csv":
        return next(csv.reader(io.StringIO(res.stdout)))
    data = json.loads(res.stdout)
    keys: list[str] = []
    for item in data if isinstance(data, list) else [data]:
        keys += [k for k in item if k not in keys]
    return keys


@pytest.mark.parametrize("args", [
    ["products", "list"], ["sites", "list"], ["memberships", "list"], ["memberships", "show", "3"],
    ["customers", "list"], ["customers", "show", "3"], ["change", "options", "2"],
    ["change", "quote", "2", "--plan", "premium", "--at", NOW.isoformat()],
])
def test_the_declared_fields_are_the_outputs(args: list[str], tmp_path: Path) -> None:
    snap = str(write_snapshot_file(tmp_path, example_data(posts={13: 12})))
    for output in ("json", "csv"):
        has, says = shown([*args, "--snapshot", snap], output), declared([*args, "--snapshot", snap], output)
        if args[:2] == ["change", "quote"] and output == "csv":  # the tax columns only when the network taxes
            taxes = {"tax_rate", "tax_total", "quote_tax_total", "tax_country", "tax_state", "tax_city", "tax_source",
                     "tax_exempt", "tax_inclusive"}
            assert [f for f in says if f not in taxes] == has, (args, output)
        else:
            assert says == has, (args, output)


def test_the_declared_columns_of_outputs_no_snapshot_has() -> None:
    from wpbridge.cli.discount_codes import CODE_COLUMNS, code_row
    from wpbridge.cli.payments import COLUMNS, payment_row
    from wpbridge.models import DiscountCode
    from wpbridge.payment_models import Payment

    assert tuple(code_row(DiscountCode(code="x"))) == CODE_COLUMNS
    assert list(payment_row(Payment.model_validate({"id": 1, "customer_id": 1}))) == COLUMNS


def test_the_import_report_keys_are_declared() -> None:
    from types import SimpleNamespace

    from wpbridge.cli.importer import REPORT_KEYS
    from wpbridge.workflows.importer import ImportOptions, ImportResult, Prepared

    source = SimpleNamespace(format="csv", warnings=[])
    result = ImportResult(Prepared("in.csv", ImportOptions(), source, None, []), None, {}, 0)  # type: ignore[arg-type]
    assert (*result.report(), "interrupted") == REPORT_KEYS


@pytest.mark.parametrize("all_networks", [False, True])
def test_the_declared_sync_fields_are_the_outputs(all_networks: bool, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    from tests.unit.workflow_support import FakeNetwork
    from wpbridge.cli import sync as cli_sync

    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: FakeNetwork.with_sites(3))
    for name in ("close", "__enter__", "__exit__"):
        monkeypatch.setattr(FakeNetwork, name, (lambda self, *a: self) if name == "__enter__" else
                            (lambda self, *a: None), raising=False)
    config = tmp_path / "config.toml"
    config.write_text('[networks.a]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n')
    config.chmod(0o600)
    args = ["sync", "--dry-run", "--config", str(config), *(["--all-networks"] if all_networks else [])]
    for output in ("json", "csv"):
        assert declared(args, output) == shown(args, output), output


def test_the_declared_payment_fields_are_the_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.workflow_support import FakeNetwork

    fake = FakeNetwork(example_data(posts={13: 12}))
    for module in ("change", "payments"):
        monkeypatch.setattr(f"wpbridge.cli.{module}.open_network", lambda *_a: fake)
    applied = cli("change", "apply", "2", "--plan", "premium", "--yes", "--at", NOW.isoformat())
    assert applied.exit_code == 0, applied.output
    (payment,) = fake.payments.list()
    pid = str(payment.id)
    for args in (["payments", "list"], ["payments", "show", pid], ["payments", "settle", pid, "--dry-run"],
                 ["payments", "cancel", pid, "--yes"]):
        for output in ("json", "csv"):
            assert declared(args, output) == shown(args, output), (args, output)


def test_the_declared_check_fields_are_its_outputs(tmp_path: Path) -> None:
    """On a network that refuses connections (127.0.0.1:9): check still says every field."""
    config = tmp_path / "config.toml"
    config.write_text('[networks.a]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n'
                      "max_retries = 0\nretry_deadline = 1.0\ntimeout = 2\n")
    config.chmod(0o600)
    args = ["check", "--config", str(config)]
    res = cli(*args, "-o", "json")
    assert res.exit_code == 1, res.output
    assert declared(args, "json") == list(json.loads(res.stdout))
    assert declared(args, "csv") == ["check", "value"]


def test_export_fields_without_out_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wpbridge.cli.read.open_network", lambda *_a: pytest.fail("the network was opened"))
    res = cli("export", "--fields", "section")
    assert res.exit_code == 2 and res.stdout == "" and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: Invalid value for '--fields': export writes its snapshot whole;")
