"""`wpbridge customers list|show ID|EMAIL` and `--customer ID|EMAIL` on `memberships list` and `sites list`, on
both flavors (issue 21 item 3: customers were numbers only, with no lookup by email)."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.change_support import run, run_json
from wpbridge.sandbox import SandboxInfo


def seeded(sb: SandboxInfo, username: str) -> dict[str, Any]:
    return dict(next(c for c in sb.info["seeded"]["customers"] if c["username"] == username))


def test_customers_list_names_every_customer_with_email_and_memberships(any_sandbox: SandboxInfo) -> None:
    listed = {c["id"]: c for c in run_json(any_sandbox, "customers", "list")}
    for c in any_sandbox.info["seeded"]["customers"]:
        row = listed[c["customer_id"]]
        assert row["email"] == f"{c['username']}@example.com" and row["login"] == c["username"]
        assert row["billing_country"] == "US"  # UM mode: from plugin-stub's customer rows (UM's REST has none)
        assert c["membership_id"] in [m["id"] for m in row["memberships"]]
    table = run(any_sandbox, "customers", "list")
    assert table.exit_code == 0
    header = table.stdout.splitlines()[0].split()
    assert header[:5] == ["id", "email", "name", "login", "country"] and "memberships" in header
    carla = seeded(any_sandbox, "carla")
    line = next(ln for ln in table.stdout.splitlines() if "carla@example.com" in ln)
    assert "Carla Premium" in line and f"{carla['membership_id']} premium active" in line


def test_customers_show_by_email_any_case_and_by_id(any_sandbox: SandboxInfo) -> None:
    carla = seeded(any_sandbox, "carla")
    by_email = run_json(any_sandbox, "customers", "show", "Carla@Example.COM")
    by_id = run_json(any_sandbox, "customers", "show", str(carla["customer_id"]))
    assert by_email == by_id
    assert by_email["id"] == carla["customer_id"] and by_email["email"] == "carla@example.com"
    assert by_email["name"] == "Carla Premium" and by_email["login"] == "carla"
    assert by_email["billing_country"] == "US"
    assert by_email["memberships"][0]["id"] == carla["membership_id"]
    assert by_email["memberships"][0]["plan"] == "premium" and by_email["memberships"][0]["status"] == "active"
    text = run(any_sandbox, "customers", "show", "carla@example.com")
    assert text.exit_code == 0
    for part in ("carla@example.com", "Carla Premium", "billing country  US", f"{carla['membership_id']}"):
        assert part in text.stdout, part


def test_unknown_customer_is_one_line_exit_2_with_did_you_mean(any_sandbox: SandboxInfo) -> None:
    typo = run(any_sandbox, "customers", "show", "carl@example.com")
    assert typo.exit_code == 2 and typo.stdout == ""
    assert typo.stderr.count("\n") == 1 and typo.stderr.startswith("error: ")
    assert "no customer with email 'carl@example.com'" in typo.stderr
    assert "did you mean 'carla@example.com'" in typo.stderr
    missing = run(any_sandbox, "customers", "show", "999999")
    assert missing.exit_code == 2 and "customer 999999" in missing.stderr and missing.stderr.count("\n") == 1
    for args in (["memberships", "list"], ["sites", "list"]):
        refused = run(any_sandbox, *args, "--customer", "nobody@example.com")
        assert refused.exit_code == 2 and refused.stdout == "" and refused.stderr.count("\n") == 1, refused.output
        assert "--customer" in refused.stderr and "nobody@example.com" in refused.stderr
        no_id = run(any_sandbox, *args, "--customer", "999999")  # an id, as an email: an error, not "(none)"
        assert no_id.exit_code == 2 and no_id.stdout == "" and no_id.stderr.count("\n") == 1, no_id.output
        assert no_id.stderr == "error: Invalid value for '--customer': customer 999999 does not exist\n"


def test_customer_filter_by_email_or_id_on_memberships_and_sites(any_sandbox: SandboxInfo) -> None:
    carla = seeded(any_sandbox, "carla")
    for key in ("carla@example.com", str(carla["customer_id"])):
        memberships = run_json(any_sandbox, "memberships", "list", "--customer", key)
        assert [m["id"] for m in memberships] == [carla["membership_id"]]
        sites = run_json(any_sandbox, "sites", "list", "--customer", key)
        assert sorted(s["blog_id"] for s in sites) == sorted(carla["blog_ids"])


def test_memberships_table_shows_the_customers_email(any_sandbox: SandboxInfo) -> None:
    carla = seeded(any_sandbox, "carla")
    table = run(any_sandbox, "memberships", "list")
    assert table.exit_code == 0
    header = table.stdout.splitlines()[0].split()
    assert header[:3] == ["id", "customer", "email"]
    line = next(ln for ln in table.stdout.splitlines() if ln.split()[0] == str(carla["membership_id"]))
    assert "carla@example.com" in line
    data = json.loads(run(any_sandbox, "memberships", "list", "-o", "json").stdout)
    assert all("customer_id" in m for m in data)  # the records themselves are unchanged
