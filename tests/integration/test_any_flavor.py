"""The user-facing stories on both flavors (`any_sandbox`: the stub's example network and the same story on the
real Ultimate Multisite 2.4.12): reads, change options / quote / apply, export and sync give the same answers.
Ids may differ between flavors: they come from `info["seeded"]`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.integration.change_support import new_member, run, run_json
from tests.integration.um_support import new_um_member
from wpbridge.sandbox import SandboxInfo


def seeded(sb: SandboxInfo, username: str) -> dict[str, Any]:
    return dict(next(c for c in sb.info["seeded"]["customers"] if c["username"] == username))


def fresh(sb: SandboxInfo, plan: str, **kw: Any) -> tuple[int, tuple[int, ...]]:
    """A new member of this flavor: (membership id, blog ids)."""
    if sb.info.get("flavor") == "ultimate-multisite":
        m = new_um_member(sb, plan, **kw)
        return m.membership_id, m.blog_ids
    s = new_member(sb, plan, **kw)
    return s.membership_id, s.blog_ids


def test_reads_tell_the_same_story(any_sandbox: SandboxInfo) -> None:
    products = {p["slug"]: p for p in run_json(any_sandbox, "products", "list")}
    assert Decimal(products["premium"]["amount"]) == 39
    assert Decimal(products["premium"]["price_variations"][0]["amount"]) == 390
    assert [p["slug"] for p in run_json(any_sandbox, "products", "list", "--group", "High End")] == ["free", "premium"]
    memberships = {m["id"]: m for m in run_json(any_sandbox, "memberships", "list")}
    sites = {s["blog_id"]: s for s in run_json(any_sandbox, "sites", "list")}
    assert sites[1]["is_main"] is True and not any(s["is_main"] for b, s in sites.items() if b != 1)  # issue 21
    assert [p["slug"] for p in run_json(any_sandbox, "products", "list", "--group", "high end")] == ["free", "premium"]
    for c in any_sandbox.info["seeded"]["customers"]:
        assert memberships[c["membership_id"]]["status"] == c["status"]
        for blog_id in c["blog_ids"]:
            assert (sites[blog_id]["membership_id"], sites[blog_id]["type"]) == (c["membership_id"],
                                                                               "customer_owned")
    carla = seeded(any_sandbox, "carla")
    shown = run_json(any_sandbox, "memberships", "show", str(carla["membership_id"]))
    assert sorted(s["blog_id"] for s in shown["sites"]) == sorted(carla["blog_ids"])
    assert shown["effective_quota"]["disk_space"]["limit"] == 7000  # Premium 5000 + 2 x Extra storage
    assert all(s["quota_in_sync"] for s in shown["sites"])  # stub: stored quota; UM: UM's own computation


def test_change_options_and_quote_are_the_same_on_both(any_sandbox: SandboxInfo) -> None:
    carla = seeded(any_sandbox, "carla")
    options = run_json(any_sandbox, "change", "options", str(carla["membership_id"]))
    assert [p["slug"] for p in options["plans"]] == ["free", "premium"]
    bruno = seeded(any_sandbox, "bruno")
    quote = run_json(any_sandbox, "change", "quote", str(bruno["membership_id"]), "--plan", "premium", "--force")
    assert quote["kind"] == "upgrade" and Decimal(quote["recurring_total"]) == 39
    assert Decimal(quote["due_now"]) == Decimal(39) - Decimal(quote["credit"])
    downgrade = run_json(any_sandbox, "change", "quote", str(carla["membership_id"]), "--plan", "free")
    assert downgrade["kind"] == "downgrade" and Decimal(downgrade["due_now"]) == 0


def test_change_apply_then_again_on_both(any_sandbox: SandboxInfo) -> None:
    mid, blog_ids = fresh(any_sandbox, "basic", renewed=4, sites=2)
    first = run(any_sandbox, "change", "apply", str(mid), "--addon", "extra-storage:2", "--yes", "--output", "json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["status"] == "applied" and data["ok"] and all(c["ok"] for c in data["verification"])
    again = run(any_sandbox, "change", "apply", str(mid), "--addon", "extra-storage:2", "--yes", "--output", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "unchanged"
    shown = run_json(any_sandbox, "memberships", "show", str(mid))
    assert shown["effective_quota"]["disk_space"]["limit"] == 1000 + 2 * 1000
    assert sorted(s["blog_id"] for s in shown["sites"]) == sorted(blog_ids)
    assert all(s["quota_in_sync"] and s["quota"]["disk_space"]["limit"] == 3000 for s in shown["sites"])


def test_export_reads_every_record_on_both(any_sandbox: SandboxInfo, tmp_path: Path) -> None:
    out = tmp_path / "snapshot.json"
    result = run(any_sandbox, "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    snap = json.loads(out.read_text())
    assert len(snap["memberships"]) >= 12 and len(snap["customers"]) >= 12 and len(snap["catalog"]) >= 6
    carla = seeded(any_sandbox, "carla")
    offline = run_json(any_sandbox, "memberships", "show", str(carla["membership_id"]), "--snapshot", str(out))
    assert offline["effective_quota"]["disk_space"]["limit"] == 7000


def test_sync_of_a_member_twice_writes_nothing_the_second_time(any_sandbox: SandboxInfo, tmp_path: Path) -> None:
    mid, _ = fresh(any_sandbox, "premium", renewed=2)
    for name in ("first", "second"):
        report = tmp_path / f"{name}.json"
        result = run(any_sandbox, "sync", "--only-membership", str(mid), "--report", str(report))
        assert result.exit_code == 0, result.output
        data = json.loads(report.read_text())
        assert data["summary"]["writes"] == 0 and data["summary"]["errors"] == 0
        assert data["summary"]["sites_checked"] == 1
