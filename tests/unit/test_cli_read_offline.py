"""Read commands without a network: listings and `memberships show` from a snapshot, `check` over a fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr

from tests.unit.workflow_support import FakeNetwork, write_snapshot_file
from wpbridge.cli import main
from wpbridge.errors import AuthError, NetworkConnectionError
from wpbridge.models import NetworkInfo


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


@pytest.fixture
def snap(tmp_path: Path) -> str:
    return str(write_snapshot_file(tmp_path))


def test_products_list(snap: str) -> None:
    table = cli("products", "list", "--snapshot", snap)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "slug", "name", "type", "group", "order", "amount", "currency", "period",
                                "setup_fee", "active", "variations"]
    assert "39.00" in next(ln for ln in lines if " premium " in ln) and "390.00/1 year" in table.stdout
    plans = json.loads(cli("products", "list", "--type", "plan", "--snapshot", snap, "-o", "json").stdout)
    assert [p["slug"] for p in plans] == ["free", "basic", "premium"]
    no_group = cli("products", "list", "--group", "", "--type", "plan", "--snapshot", snap, "-o", "csv")
    assert [r.split(",")[1] for r in no_group.stdout.splitlines()[1:]] == ["basic"]


def test_sites_and_memberships(snap: str) -> None:
    sites = json.loads(cli("sites", "list", "--customer", "3", "--snapshot", snap, "-o", "json").stdout)
    assert [s["blog_id"] for s in sites] == [13, 14]
    table = cli("sites", "list", "--membership", "1", "--snapshot", snap)
    assert "example.test/s11/" in table.stdout and "s12" not in table.stdout
    rows = cli("memberships", "list", "--snapshot", snap, "-o", "csv").stdout.splitlines()
    assert rows[0] == "id,customer,email,status,plan,addons,amount,currency,period,expires"
    assert rows[3] == "3,3,,active,premium,1 x Extra storage,44.00,USD,1 month,2026-06-01T00:00:00Z"  # no email
    trialing = json.loads(cli("memberships", "list", "--status", "trialing", "--snapshot", snap, "-o", "json").stdout)
    assert [m["id"] for m in trialing] == [4]


def test_an_unknown_customer_id_is_refused_as_an_unknown_email_is(snap: str) -> None:
    for args in (["memberships", "list"], ["sites", "list"]):
        for key, said in (("999", "customer 999 does not exist"), ("nobody@example.com", "nobody@example.com")):
            res = cli(*args, "--customer", key, "--snapshot", snap)
            assert res.exit_code == 2 and res.stdout == "" and res.stderr.count("\n") == 1, (args, key, res.output)
            assert res.stderr.startswith("error: Invalid value for '--customer': ") and said in res.stderr


def test_memberships_show(snap: str) -> None:
    table = cli("memberships", "show", "3", "--snapshot", snap)
    assert table.exit_code == 0
    for text in ("plan              Premium", "add-ons           1 x Extra storage",
                 "amount            44.00 USD every 1 month", "effective quota   disk 6000 MB",
                 "scheduled change  -", "sites (2):", "usage  posts: page 1, post 1; disk 1.5 MB"):
        assert text in table.stdout, text
    rows = cli("memberships", "show", "3", "--snapshot", snap, "-o", "csv").stdout.splitlines()
    assert rows[0] == "blog_id,url,title,membership,plan,quota,quota_in_sync,usage" and len(rows) == 3
    missing = cli("memberships", "show", "9", "--snapshot", snap)
    assert missing.exit_code == 2 and missing.stderr == "error: membership 9 does not exist\n"


class _CheckSites:
    def __init__(self, links: str | None) -> None:
        self.links = links

    def links_problem(self) -> str | None:
        return self.links


class _CheckNet:
    def __init__(self, *, auth: Exception | None = None, skew: float = 0.0, links: str | None = None) -> None:
        self.settings = type("S", (), {"name": "test", "url": "http://127.0.0.1:1",
                                       "api_secret": SecretStr("s3cret-value")})()
        self.auth, self.skew = auth, skew
        self.sites = _CheckSites(links)

    def check_auth(self) -> dict[str, Any]:
        if self.auth is not None:
            raise self.auth
        return {"success": True}

    def info(self) -> NetworkInfo:
        return NetworkInfo(plugin_version="0.1.0", mode="stub", wp_version="6.1.9",
                           server_time=datetime.now(UTC) + timedelta(seconds=self.skew))

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("net", "code", "text"), [
    (_CheckNet(), 0, "usable         yes"),
    (_CheckNet(skew=-600), 0, "warning: server clock is 600 s behind this machine"),
    (_CheckNet(auth=AuthError("credentials refused")), 1, "problem: authentication failed: credentials refused"),
    (_CheckNet(auth=NetworkConnectionError("connection refused")), 1, "problem: not reachable: connection refused"),
    (_CheckNet(links="site links cannot be read: no type"), 1,
     "problem: site links cannot be read: no type; wpbridge writes to no site whose link it cannot read"),
    (_CheckNet(links="site links cannot be read: no type"), 1, "usable         NO"),
])
def test_check(monkeypatch: pytest.MonkeyPatch, net: _CheckNet, code: int, text: str) -> None:
    monkeypatch.setattr("wpbridge.cli.read.open_network", lambda *_a: net)
    result = cli("check")
    assert result.exit_code == code and text in result.stdout
    data = json.loads(cli("check", "-o", "json").stdout)
    assert data["usable"] is (code == 0)


def test_check_without_any_config_is_exit_2() -> None:
    result = CliRunner().invoke(main, ["check"], env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None,
                                                      "WPBRIDGE_API_KEY": None, "WPBRIDGE_API_SECRET": None,
                                                      "HOME": "/nonexistent-wpbridge-home"})
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_export_to_stdout_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeNetwork()
    fake.settings = fake.settings.model_copy(update={"name": "test", "url": "http://127.0.0.1:1"})
    monkeypatch.setattr("wpbridge.cli.read.open_network", lambda *_a: fake)
    out = cli("export")
    assert out.exit_code == 0 and json.loads(out.stdout)["source_url"] == "http://127.0.0.1:1"
    target = tmp_path / "n.json"
    written = cli("export", "--out", str(target))
    assert written.exit_code == 0 and f"wrote {target}" in written.stdout
    assert [ln.split() for ln in written.stdout.splitlines() if ln.startswith("memberships")] == [["memberships", "4"]]
    assert json.loads(target.read_text())["memberships"][0]["id"] == 1


def test_global_options_go_before_the_command_and_after_it_wins(snap: str, tmp_path: Path) -> None:
    before = cli("-o", "json", "products", "list", "--type", "plan", "--snapshot", snap)
    assert before.exit_code == 0 and [p["slug"] for p in json.loads(before.stdout)] == ["free", "basic", "premium"]
    both = cli("--output", "json", "memberships", "list", "--snapshot", snap, "-o", "csv")
    assert both.exit_code == 0 and both.stdout.startswith("id,customer,email,status,plan,")
    missing = tmp_path / "nope.toml"
    config = cli("--config", str(missing), "--network", "prod", "sites", "list")
    assert config.exit_code == 2 and config.stderr == f"error: config {missing} (from --config) does not exist\n"


def test_usage_mistakes_are_one_line_naming_the_option() -> None:
    bad = cli("products", "list", "-o", "xml")
    assert bad.exit_code == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: Invalid value for '--output' / '--format' / '-o': 'xml' is not one of")
    unknown = cli("memberships", "show")
    assert unknown.exit_code == 2 and unknown.stderr == (
        "error: Missing argument 'ID'. (see: wpbridge memberships show --help)\n")
    assert "--now" not in cli("sync", "--help").stdout and "--at ISO8601" in cli("sync", "--help").stdout


def test_amounts_booleans_and_free_plan_period_read_one_way(tmp_path: Path) -> None:
    from tests.unit.workflow_support import example_data

    data = example_data()
    data["memberships"][0]["amount"] = "0.0000"  # as UM stores it
    data["memberships"][1]["amount"] = "15.0000"
    snap = str(write_snapshot_file(tmp_path, data))
    listed = json.loads(cli("memberships", "list", "--snapshot", snap, "-o", "json").stdout)
    assert [m["amount"] for m in listed[:2]] == ["0.00", "15.00"]
    shown = json.loads(cli("memberships", "show", "1", "--snapshot", snap, "-o", "json").stdout)
    assert shown["membership"]["amount"] == "0.00"
    table = cli("products", "list", "--snapshot", snap).stdout
    assert "True" not in table and "False" not in table and " yes " in table
    csv_rows = cli("memberships", "show", "1", "--snapshot", snap, "-o", "csv").stdout
    assert "True" not in csv_rows and ",true," in csv_rows  # CSV's raw value (a table says yes)
    free_product = next(ln for ln in table.splitlines() if " free " in ln)
    head, free_member = cli("memberships", "list", "--snapshot", snap, "-o", "csv").stdout.splitlines()[:2]
    assert " once " in free_product and dict(zip(head.split(","), free_member.split(","), strict=True))["period"] \
        == "once"
    assert "0.00 USD once (not recurring)" in cli("memberships", "show", "1", "--snapshot", snap).stdout


def test_a_group_alone_shows_its_help_not_an_error_line() -> None:
    alone = cli("change")
    assert alone.exit_code == 2 and "Usage: " in alone.output and not alone.output.startswith("error: ")
    assert "options" in alone.output and "quote" in alone.output
