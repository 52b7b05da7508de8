"""Read commands against the real sandbox: `check`, `products list`, `sites list`, `memberships list|show`,
`export`, and `--snapshot` working offline from an export."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from tests.integration.change_support import cli_env, new_member, run, run_json, today_at
from wpbridge.sandbox import SandboxInfo

# --------------------------------------------------------------------------- check


def test_check_usable(sandbox: SandboxInfo) -> None:
    data = run_json(sandbox, "check")
    assert data["reachable"] and data["authenticated"] and data["usable"]
    assert data["mode"] == "stub" and data["plugin_version"]
    assert abs(data["clock_skew_seconds"]) < 5  # same machine
    table = run(sandbox, "check")
    assert table.exit_code == 0
    assert "usable         yes" in table.stdout and "stub mode" in table.stdout


def test_check_wrong_secret_exit_1(sandbox: SandboxInfo) -> None:
    result = run(sandbox, "check", "--output", "json", env=cli_env(sandbox, secret="not-the-secret"))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["reachable"] is True and data["authenticated"] is False and data["usable"] is False
    assert "not-the-secret" not in result.output


def test_check_unreachable_exit_1(sandbox: SandboxInfo) -> None:
    env = {**cli_env(sandbox), "WPBRIDGE_URL": "http://127.0.0.1:9"}  # discard port: nothing listens
    result = run(sandbox, "check", env=env)
    assert result.exit_code == 1
    assert "reachable      NO" in result.stdout and "not reachable" in result.stdout


def test_localhost_for_127_0_0_1_is_a_redirect_error_naming_the_url(sandbox: SandboxInfo) -> None:
    """Issue 11: WordPress multisite redirects an unknown host (localhost for a network installed as 127.0.0.1) to
    its main site; a list read through it printed (none) and exited 0."""
    host = urlsplit(sandbox.url).hostname or ""
    other = sandbox.url.replace(host, "localhost" if host == "127.0.0.1" else "127.0.0.1")  # a subdomain network's too
    env = {**cli_env(sandbox), "WPBRIDGE_URL": other}
    for args in (["memberships", "list"], ["products", "list"], ["sync", "--dry-run"], ["check"]):
        result = run(sandbox, *args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == "" and "redirected" in result.stderr and "set url = " in result.stderr, args
        assert result.stderr.count("\n") == 1, result.stderr


def test_check_with_config_file_and_network_name(sandbox: SandboxInfo, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'default = "other"\n'
        f'[networks.sandbox]\nurl = "{sandbox.url}"\napi_key = "{sandbox.api_key}"\n'
        f'api_secret = "{sandbox.api_secret}"\n'
        '[networks.other]\nurl = "http://127.0.0.1:9"\napi_key = "k"\napi_secret = "s"\n'
    )
    config.chmod(0o600)
    env = {**cli_env(sandbox), "WPBRIDGE_URL": None, "WPBRIDGE_API_KEY": None, "WPBRIDGE_API_SECRET": None}
    ok = run(sandbox, "check", "--config", str(config), "--network", "sandbox", "--output", "json", env=env)
    assert ok.exit_code == 0 and json.loads(ok.stdout)["network"] == "sandbox"
    unknown = run(sandbox, "check", "--config", str(config), "--network", "nope", env=env)
    assert unknown.exit_code == 2 and "unknown network 'nope'" in unknown.stderr
    missing = run(sandbox, "products", "list", "--config", str(tmp_path / "absent.toml"), env=env)
    assert missing.exit_code == 2 and len(missing.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- listings


def test_products_list_formats_and_filters(sandbox: SandboxInfo) -> None:
    products = run_json(sandbox, "products", "list")
    slugs = {p["slug"] for p in products}
    assert {"free", "basic", "premium", "unlimited-visits", "extra-storage", "site-setup"} <= slugs
    premium = next(p for p in products if p["slug"] == "premium")
    assert premium["amount"] == "39.00" and premium["price_variations"][0]["amount"] == "390.00"  # USD: 2 decimals
    plans = run_json(sandbox, "products", "list", "--type", "plan")
    assert [p["slug"] for p in plans] == ["free", "basic", "premium"]
    group = run_json(sandbox, "products", "list", "--group", "High End")
    assert [p["slug"] for p in group] == ["free", "premium"]
    table = run(sandbox, "products", "list", "--type", "package")
    assert table.exit_code == 0 and "extra-storage" in table.stdout and "premium" not in table.stdout
    csv_out = run(sandbox, "products", "list", "--output", "csv", "--type", "service")
    assert csv_out.stdout.splitlines()[0].startswith("id,slug,name,type,group")
    assert csv_out.stdout.splitlines()[1].split(",")[1] == "site-setup"


def test_sites_and_memberships_lists(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "basic", addons={"extra-storage": 2}, sites=2, created=20)
    sites = run_json(sandbox, "sites", "list", "--customer", str(member.customer_id))
    assert sorted(s["blog_id"] for s in sites) == sorted(member.blog_ids)
    assert {s["membership_id"] for s in sites} == {member.membership_id}
    table = run(sandbox, "sites", "list", "--membership", str(member.membership_id))
    assert table.exit_code == 0 and all(p in table.stdout for p in member.site_paths)

    mine = run_json(sandbox, "memberships", "list", "--customer", str(member.customer_id))
    assert [m["id"] for m in mine] == [member.membership_id]
    assert mine[0]["addon_products"] == {str(k): v for k, v in mine[0]["addon_products"].items()}
    csv_out = run(sandbox, "memberships", "list", "--customer", str(member.customer_id), "--output", "csv")
    header, row = csv_out.stdout.strip().splitlines()
    assert header == "id,customer,email,status,plan,addons,amount,currency,period,expires"
    cells = row.split(",")
    assert cells[:2] == [str(member.membership_id), str(member.customer_id)] and cells[2].endswith("@example.com")
    assert ",".join(cells[3:]).startswith("active,basic,2 x Extra storage,25.00,")
    trialing = run_json(sandbox, "memberships", "list", "--status", "trialing")
    assert trialing and all(m["status"] == "trialing" for m in trialing)


def test_memberships_show(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "premium", addons={"extra-storage": 1}, created=40, renewed=5)
    data = run_json(sandbox, "memberships", "show", str(member.membership_id))
    assert data["plan"]["slug"] == "premium"
    assert data["addons"] == [{"id": data["addons"][0]["id"], "slug": "extra-storage", "name": "Extra storage",
                               "quantity": 1}]
    assert data["effective_quota"]["disk_space"]["limit"] == 6000
    [site] = data["sites"]
    assert site["blog_id"] == member.blog_ids[0] and site["quota_in_sync"] is True
    assert site["usage"]["post_types"]["post"] >= 1
    assert data["scheduled_change"] is None
    table = run(sandbox, "memberships", "show", str(member.membership_id))
    assert table.exit_code == 0
    assert "effective quota   disk 6000 MB" in table.stdout and "usage  posts:" in table.stdout
    missing = run(sandbox, "memberships", "show", "987654")
    assert missing.exit_code == 2 and missing.stderr.strip() == "error: membership 987654 does not exist"


# --------------------------------------------------------------------------- export and --snapshot


def test_export_then_offline_reads_and_quotes_match_live(sandbox: SandboxInfo, tmp_path: Path) -> None:
    member = new_member(sandbox, "basic", created=75, renewed=12)
    snap = tmp_path / "network.json"
    exported = run(sandbox, "export", "--out", str(snap), "--output", "json")
    assert exported.exit_code == 0, exported.output
    counts = json.loads(exported.stdout)["records"]
    assert counts["catalog"] >= 6 and counts["memberships"] >= 13 and counts["sites"] == counts["quotas"]
    document = json.loads(snap.read_text())
    assert document["format"] == "wpbridge-snapshot"
    assert sandbox.api_secret not in snap.read_text() and sandbox.api_key not in snap.read_text()

    offline_env = {**cli_env(sandbox), "WPBRIDGE_URL": "http://127.0.0.1:9"}  # the network is out of reach
    mid = str(member.membership_id)
    at = today_at(6).isoformat()
    for args in (
        ["products", "list"],
        ["sites", "list", "--customer", str(member.customer_id)],
        ["memberships", "list", "--customer", str(member.customer_id)],
        ["memberships", "show", mid],
        ["change", "options", mid],
        ["change", "quote", mid, "--plan", "premium", "--at", at],
    ):
        live = run(sandbox, *args, "--output", "json")
        offline = run(sandbox, *args, "--snapshot", str(snap), "--output", "json", env=offline_env)
        assert offline.exit_code == 0, offline.output
        assert json.loads(offline.stdout) == json.loads(live.stdout), args


def test_export_to_stdout_and_bad_snapshot(sandbox: SandboxInfo, tmp_path: Path) -> None:
    out = run(sandbox, "export")
    assert out.exit_code == 0
    assert json.loads(out.stdout)["version"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run(sandbox, "products", "list", "--snapshot", str(bad))
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    result = run(sandbox, "memberships", "list", "--snapshot", str(other))
    assert result.exit_code == 2 and "not a wpbridge snapshot" in result.stderr
