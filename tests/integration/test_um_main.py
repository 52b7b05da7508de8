"""UM mode on UM main (2.4.13-beta.1): the same companion routes and workflows against the other build (its REST
pages differently and its add-on carts differ; links, computed limits and swaps must work the same)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.change_support import run, run_json
from tests.integration.um_support import new_um_member, um_membership, um_site_limits
from wpbridge.sandbox import SandboxInfo


def test_links_change_apply_swap_and_sync_on_um_main(um_main_sandbox: SandboxInfo, tmp_path: Path) -> None:
    sb = um_main_sandbox
    assert sb.info["um_version"] == "2.4.13-beta.1"
    check = run_json(sb, "check")
    assert check["usable"] and check["mode"] == "um" and check["site_links"]
    carla = next(c for c in sb.info["seeded"]["customers"] if c["username"] == "carla")
    sites = {s["blog_id"]: s for s in run_json(sb, "sites", "list")}
    assert all(sites[b]["membership_id"] == carla["membership_id"] for b in carla["blog_ids"])

    m = new_um_member(sb, "basic", renewed=4)
    added = run(sb, "change", "apply", str(m.membership_id), "--addon", "extra-storage", "--yes", "--output", "json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["ok"] and um_site_limits(sb, m.blog_ids[0])["disk_space"]["limit"] == 2000

    top = new_um_member(sb, "premium", renewed=4)
    down = run(sb, "change", "apply", str(top.membership_id), "--plan", "free", "--yes", "--output", "json")
    assert down.exit_code == 0 and json.loads(down.stdout)["status"] == "scheduled", down.output
    held = um_membership(sb, top.membership_id)
    assert held["swap_plan"] == sb.info["seeded"]["products"]["free"] and held["swap_jobs"] == 1

    report = tmp_path / "r.json"
    synced = run(sb, "sync", "--report", str(report))
    assert synced.exit_code == 0, synced.output
    data = json.loads(report.read_text())
    assert data["summary"]["sites_checked"] >= 20 and data["summary"]["writes"] == 0
