"""The safety invariant on the real Ultimate Multisite: a network whose site links cannot be read gets no write at
all, and `wpbridge check` says "usable NO" with the reason.

How the links become unreadable here: a must-use plugin removes plugin-stub's `GET /wpbridge/v1/sites` (as on a
network running an older plugin-stub, or UM without plugin-stub's UM mode); UM's own `/wu/v2/site` then is the only
list of sites, and it has no links (null membership and type for every site)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.change_support import Rest, run
from tests.integration.um_support import new_um_member, um_membership
from wpbridge.sandbox import SandboxInfo

HIDE_LINKS = """<?php
add_filter( 'rest_endpoints', function ( $endpoints ) {
	unset( $endpoints['/wpbridge/v1/sites'] );
	return $endpoints;
} );
"""


@pytest.fixture
def links_unreadable(um_sandbox: SandboxInfo) -> Iterator[None]:
    plugin = Path(um_sandbox.info["docroot"]) / "wp-content" / "mu-plugins" / "zz-test-hide-site-links.php"
    plugin.write_text(HIDE_LINKS)
    try:
        yield
    finally:
        plugin.unlink(missing_ok=True)


def test_no_write_at_all_when_site_links_cannot_be_read(um_sandbox: SandboxInfo, links_unreadable: None,
                                                        tmp_path: Path) -> None:
    m = new_um_member(um_sandbox, "premium", renewed=5)
    ids = um_sandbox.info["seeded"]["products"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    Rest(um_sandbox).api("PUT", f"/wpbridge/v1/memberships/{m.membership_id}/scheduled-change",
                         {"scheduled_for": yesterday, "target": {"plan_id": ids["basic"]},
                          "force": True})  # Basic is outside Premium's plan group
    before = um_membership(um_sandbox, m.membership_id)

    check = run(um_sandbox, "check")
    assert check.exit_code == 1
    assert "usable         NO" in check.output and "site links cannot be read" in check.output

    applied = run(um_sandbox, "change", "apply", str(m.membership_id), "--addon", "extra-storage", "--yes")
    assert applied.exit_code != 0 and "Traceback" not in applied.output

    report = tmp_path / "report.json"
    synced = run(um_sandbox, "sync", "--report", str(report), "--inactive-policy", "suspend")
    assert synced.exit_code == 1
    data = json.loads(report.read_text())
    assert data["summary"]["writes"] == 0 and data["scheduled_changes"] == [] and data["changes"] == []
    assert any("site links cannot be read" in e["message"] for e in data["errors"])

    assert um_membership(um_sandbox, m.membership_id) == before  # the overdue swap too: nothing was written


def test_with_the_links_readable_again_the_network_is_usable(um_sandbox: SandboxInfo) -> None:
    check = run(um_sandbox, "check", "--output", "json")
    assert check.exit_code == 0
    data = json.loads(check.stdout)
    assert data["usable"] is True and data["site_links"] is True and data["mode"] == "um"
