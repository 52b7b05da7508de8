"""`sync` on the real Ultimate Multisite (UM mode): UM's overdue swaps applied through UM's own code, sites whose
UM-computed limits differ from wpbridge's reported with both values (none, with a membership-level override: both
merge it), the inactive-membership policy applied as the site's own UM override, nothing else written; a second
run reports nothing new."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.change_support import Rest, run
from tests.integration.um_support import new_um_member, um_membership, um_php, um_site_limits
from wpbridge.sandbox import SandboxInfo


def sync(sb: SandboxInfo, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    result = run(sb, "sync", "--report", str(report), *args)
    return result.exit_code, json.loads(report.read_text()), result.output


def test_an_overdue_swap_is_applied_by_ums_own_code_then_nothing_is_due(um_sandbox: SandboxInfo,
                                                                          tmp_path: Path) -> None:
    m = new_um_member(um_sandbox, "premium", renewed=5)
    ids = um_sandbox.info["seeded"]["products"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    Rest(um_sandbox).api("PUT", f"/wpbridge/v1/memberships/{m.membership_id}/scheduled-change",
                         {"scheduled_for": yesterday, "target": {"plan_id": ids["basic"]},
                          "force": True})  # Basic is outside Premium's plan group
    code, report, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id))
    assert code == 0, report["errors"]
    assert [(e["membership_id"], e["status"]) for e in report["scheduled_changes"]] == [(m.membership_id, "applied")]
    held = um_membership(um_sandbox, m.membership_id)
    assert held["plan_id"] == ids["basic"] and held["swap_plan"] is None and held["swap_jobs"] == 0
    assert um_site_limits(um_sandbox, m.blog_ids[0])["disk_space"]["limit"] == 1000  # UM computes Basic's now
    code, again, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id))
    assert code == 0 and again["scheduled_changes"] == [] and again["changes"] == []
    assert again["summary"]["writes"] == 0


def test_a_membership_level_override_is_merged_as_um_does_so_nothing_differs(um_sandbox: SandboxInfo,
                                                                              tmp_path: Path) -> None:
    """A membership-level override in UM's own meta (UM's REST does not return it; plugin-stub does): UM computes
    123 MB and so does wpbridge. Until wpbridge read it, every run reported this site as differing (UM 123,
    wpbridge the plan's 1000). tests/integration/test_um_overrides.py checks the shapes and the listing."""
    m = new_um_member(um_sandbox, "basic", renewed=3)
    um_php(um_sandbox, "$m = wu_get_membership( $data ); $m->update_meta( 'wu_limitations', "
                       "array( 'disk_space' => array( 'enabled' => true, 'limit' => 123 ) ) ); return true;",
           m.membership_id)
    assert um_site_limits(um_sandbox, m.blog_ids[0])["disk_space"]["limit"] == 123
    for _ in range(2):
        code, report, output = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id))
        assert code == 0, report["errors"]
        assert report["changes"] == [] and report["summary"]["differences"] == 0, report["changes"]
        assert report["summary"]["writes"] == 0 and "disk_space: UM" not in output


def test_inactive_policy_suspend_then_restore_through_ums_own_override(um_sandbox: SandboxInfo,
                                                                        tmp_path: Path) -> None:
    m = new_um_member(um_sandbox, "basic", status="expired", renewed=40)
    site = m.blog_ids[0]
    code, kept, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id))
    assert code == 0 and kept["changes"] == [] and um_site_limits(um_sandbox, site)["disk_space"]["limit"] == 1000
    code, dry, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id), "--inactive-policy",
                        "suspend", "--dry-run")
    assert code == 0 and [c["status"] for c in dry["changes"]] == ["would-write"]
    assert um_site_limits(um_sandbox, site)["disk_space"]["limit"] == 1000  # a dry run writes nothing
    code, first, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id), "--inactive-policy",
                          "suspend")
    assert code == 0 and [(c["reason"], c["status"]) for c in first["changes"]] == [("suspended", "written")]
    assert um_site_limits(um_sandbox, site)["disk_space"]["limit"] == 1  # UM enforces the suspended limits
    code, second, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id), "--inactive-policy",
                           "suspend")
    assert code == 0 and second["changes"] == [] and second["summary"]["writes"] == 0
    um_php(um_sandbox, "$m = wu_get_membership( $data ); $m->set_status( 'active' ); return (bool) $m->save();",
           m.membership_id)
    code, renewed, _ = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id))
    assert code == 0 and [(c["reason"], c["status"]) for c in renewed["changes"]] == [("restored", "written")]
    assert um_site_limits(um_sandbox, site)["disk_space"]["limit"] == 1000


@pytest.mark.parametrize("policy", ["keep", "suspend"])
def test_the_whole_um_network_twice_second_run_writes_nothing(um_sandbox: SandboxInfo, tmp_path: Path,
                                                              policy: str) -> None:
    code, first, _ = sync(um_sandbox, tmp_path, "--inactive-policy", policy)
    assert code == 0, first["errors"]
    assert first["summary"]["sites_checked"] >= 18
    code, second, _ = sync(um_sandbox, tmp_path, "--inactive-policy", policy)
    assert code == 0 and second["summary"]["writes"] == 0 and second["scheduled_changes"] == []
    assert [c for c in second["changes"] if c["status"] != "differs"] == []
    assert second["summary"]["differences"] == first["summary"]["differences"]


def test_sync_at_a_moment_the_servers_clock_has_not_reached_says_so(um_sandbox: SandboxInfo, tmp_path: Path) -> None:
    """Issue 21 item 8: `sync --at` past a swap's date that the server's clock has not reached: UM refuses to
    apply it yet, and the summary says so (not a bare '0 of 1 applied')."""
    m = new_um_member(um_sandbox, "premium", renewed=5)
    ids = um_sandbox.info["seeded"]["products"]
    rest = Rest(um_sandbox)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    rest.api("PUT", f"/wpbridge/v1/memberships/{m.membership_id}/scheduled-change",
             {"scheduled_for": tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ"), "target": {"plan_id": ids["basic"]},
              "force": True})
    try:
        at = (tomorrow + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        code, report, output = sync(um_sandbox, tmp_path, "--only-membership", str(m.membership_id), "--at", at)
        assert code == 0, report["errors"]
        assert report["summary"]["scheduled_changes_due"] == 1 and report["summary"]["scheduled_changes_applied"] == 0
        assert report["summary"]["scheduled_changes_not_due_on_server"] == 1
        assert "0 of 1 due scheduled changes applied (1 not due yet by the server's clock" in output
        assert um_membership(um_sandbox, m.membership_id)["plan_id"] == ids["premium"]
    finally:  # a later module's sync on this shared network must find nothing due
        rest.api("DELETE", f"/wpbridge/v1/memberships/{m.membership_id}/scheduled-change")
