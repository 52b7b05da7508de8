"""Moving customers off a real Ultimate Multisite network: its export names every customer (UM's REST does not give
the WordPress user's email or login), so it imports into another network, once."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from tests.integration.test_import import env_of, network_of, report, run
from wpbridge.sandbox import SandboxInfo, down, up
from wpbridge.sandbox.seed import EXAMPLE_MEMBERS
from wpbridge.workflows.snapshot import export_snapshot


def test_a_um_export_names_its_customers_and_imports_into_another_network(um_sandbox: SandboxInfo,
                                                                          tmp_path: Path) -> None:
    source = tmp_path / "um.json"
    with network_of(um_sandbox) as net:
        export_snapshot(net, source, now=datetime.now(UTC), source_url=um_sandbox.url)
    data = json.loads(source.read_text())
    by_login = {c["user_login"]: c for c in data["customers"]}
    for member in EXAMPLE_MEMBERS:
        assert by_login[member.username]["user_email"] == f"{member.username}@example.com"

    target = up(seed="none")
    try:
        env = env_of(target, tmp_path)
        first = run(env, str(source), "--yes", "--report", str(tmp_path / "first.json"))
        assert first.returncode == 0, first.stderr + first.stdout
        summary = report(tmp_path / "first.json")["summary"]
        assert summary["conflicts"] == summary["failed"] == 0 and summary["writes"] > 0
        with network_of(target) as net:
            logins = {c.user_login: c.user_email for c in net.customers.list()}
            assert {m.username for m in EXAMPLE_MEMBERS} <= set(logins)
            assert len(list(net.memberships.list())) == len(data["memberships"])
        again = run(env, str(source), "--yes", "--report", str(tmp_path / "again.json"))
        assert again.returncode == 0, again.stderr + again.stdout
        assert report(tmp_path / "again.json")["summary"]["writes"] == 0
    finally:
        down(target.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")
