"""`change apply` on the real Ultimate Multisite (UM mode): the membership's absolute state written as UM's checkout
leaves it, a downgrade as UM's own scheduled swap, UM's computed limits read back; one change at a time per
membership."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from tests.integration.change_support import cli_env, network, run
from tests.integration.um_support import new_um_member, um_membership, um_php, um_site_limits
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations
from wpbridge.sandbox import SandboxInfo
from wpbridge.workflows import change


def apply_json(sb: SandboxInfo, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(sb, "change", "apply", *args, "--yes", "--output", "json")
    return result.exit_code, json.loads(result.stdout)


def test_addon_purchase_writes_only_the_membership_and_ums_limits_read_back(um_sandbox: SandboxInfo) -> None:
    m = new_um_member(um_sandbox, "basic", renewed=10, sites=2)
    code, out = apply_json(um_sandbox, str(m.membership_id), "--addon", "extra-storage:2")
    assert code == 0 and out["status"] == "applied" and out["ok"], out["message"]
    assert [w["kind"] for w in out["performed"]] == ["payment", "membership"]  # no quota write: UM computes them
    assert "status" not in out["performed"][1]["body"]
    held = um_membership(um_sandbox, m.membership_id)
    storage = str(um_sandbox.info["seeded"]["products"]["extra-storage"])
    assert held["addon_products"] == {storage: 2} and held["status"] == "active"
    checks = {c["what"]: c for c in out["verification"]}
    for blog_id in m.blog_ids:
        assert checks[f"site {blog_id} limits (UM)"]["ok"]
        assert um_site_limits(um_sandbox, blog_id)["disk_space"]["limit"] == 1000 + 2 * 1000  # as UM computes it
    again_code, again = apply_json(um_sandbox, str(m.membership_id), "--addon", "extra-storage:2")
    assert again_code == 0 and again["status"] == "unchanged" and again["performed"] == []


def test_upgrade_is_written_and_every_site_gets_the_new_plans_limits_from_um(um_sandbox: SandboxInfo) -> None:
    m = new_um_member(um_sandbox, "free", created=20)
    code, out = apply_json(um_sandbox, str(m.membership_id), "--plan", "premium")
    assert code == 0 and out["status"] == "applied" and out["ok"], out["message"]
    held = um_membership(um_sandbox, m.membership_id)
    assert held["plan_id"] == um_sandbox.info["seeded"]["products"]["premium"] and held["amount"].startswith("39")
    with network(um_sandbox) as net:
        catalog = net.products.catalog()
        membership = net.memberships.get(m.membership_id)
        [site] = change.owned_sites(net, m.membership_id)
        want = effective_limitations(membership, catalog, site=site)
    um = Limitations.model_validate(um_site_limits(um_sandbox, m.blog_ids[0]))
    assert not differing_modules(want, um)
    assert um.post_types is not None and um.post_types.limit["post"].number == 1000


def test_downgrade_is_ums_own_scheduled_swap(um_sandbox: SandboxInfo) -> None:
    m = new_um_member(um_sandbox, "premium", renewed=5, addons={"extra-storage": 1})
    code, out = apply_json(um_sandbox, str(m.membership_id), "--plan", "free")
    assert code == 0 and out["status"] == "scheduled" and out["ok"], out["message"]
    assert [w["path"] for w in out["performed"]] == [f"/wpbridge/v1/memberships/{m.membership_id}/scheduled-change"]
    held = um_membership(um_sandbox, m.membership_id)
    assert held["plan_id"] == um_sandbox.info["seeded"]["products"]["premium"]  # nothing changes before the date
    assert held["swap_plan"] == um_sandbox.info["seeded"]["products"]["free"]
    assert held["swap_date"][:10] == held["date_expiration"][:10] and held["swap_jobs"] == 1  # UM applies it itself
    again_code, again = apply_json(um_sandbox, str(m.membership_id), "--plan", "free")
    assert again_code == 0 and again["status"] == "unchanged" and "already scheduled" in again["message"]


def test_a_site_not_positively_linked_is_not_this_memberships(um_sandbox: SandboxInfo) -> None:
    """Sites without UM's links, and a site typed other than customer_owned, are not the membership's."""
    m = new_um_member(um_sandbox, "basic", sites=1)
    unlinked = new_um_member(um_sandbox, "basic", sites=1, link=False)
    template = new_um_member(um_sandbox, "basic", sites=1, site_type="site_template")
    with network(um_sandbox) as net:
        assert [s.blog_id for s in change.owned_sites(net, m.membership_id)] == list(m.blog_ids)
        assert change.owned_sites(net, unlinked.membership_id) == []
        assert change.owned_sites(net, template.membership_id) == []
        assert all(not s.belongs_to(m.membership_id) for s in net.sites.list() if s.blog_id not in m.blog_ids)


def test_concurrent_addon_purchases_on_one_membership_both_land(um_sandbox: SandboxInfo) -> None:
    """Two `wpbridge change apply --addon` processes on one membership at once (issue 11 item 12): the second
    waits for the first one's lock, then quotes what the first left, so neither add-on is lost. Each is paid at
    once (`--collect paid`): an invoiced one would leave a pending payment that refuses the other (issue 17;
    `test_change_payments.py`)."""
    m = new_um_member(um_sandbox, "free", created=30)
    env = {**os.environ, **{k: v for k, v in cli_env(um_sandbox).items() if v is not None}}
    for key in ("WPBRIDGE_CONFIG", "WPBRIDGE_NETWORK"):
        env.pop(key, None)
    procs = [
        subprocess.Popen([sys.executable, "-c", "from wpbridge.cli import main; main()", "change", "apply",
                          str(m.membership_id), "--addon", addon, "--collect", "paid", "--reference", f"r-{addon}",
                          "--yes", "--output", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for addon in ("extra-storage", "unlimited-visits")
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    made = []
    for proc, (stdout, stderr) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, stderr
        out = json.loads(stdout)
        assert out["status"] == "applied"
        if out["payment"] is not None:  # the second one may be fully credited (the first renewed the period)
            made.append((out["payment"]["id"], out["payment"]["reference"]))
    ids = um_sandbox.info["seeded"]["products"]
    held = um_membership(um_sandbox, m.membership_id)
    assert held["addon_products"] == {str(ids["extra-storage"]): 1, str(ids["unlimited-visits"]): 1}
    paid = run_json_um(um_sandbox, m.membership_id)
    assert made and sorted(made) == sorted((p["id"], p["gateway_payment_id"]) for p in paid)
    assert {p["status"] for p in paid} == {"completed"}


def run_json_um(sb: SandboxInfo, membership_id: int) -> list[dict[str, Any]]:
    result = run(sb, "payments", "list", "--membership", str(membership_id), "--output", "json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_the_read_back_catches_a_write_lost_to_someone_else(um_sandbox: SandboxInfo) -> None:
    """Someone outside wpbridge (an admin, another tool) overwrites the add-ons right after wpbridge's write: the
    read-back reports it and the run fails (exit 1)."""
    m = new_um_member(um_sandbox, "free", created=30)

    def clobber(write: change.Write) -> None:
        if write.kind == "membership":
            um_php(um_sandbox, "$m = wu_get_membership( $data ); $m->set_addon_products( array() ); "
                               "$m->set_amount( 0 ); return (bool) $m->save();", m.membership_id)

    with network(um_sandbox) as net:
        result = change.apply(net, m.membership_id, now=datetime.now(UTC), addons=["extra-storage"],
                              after_write=clobber)
    assert result.status == "failed" and not result.ok
    failed = [c for c in result.verification if not c.ok]
    assert any("addon_products" in c.detail for c in failed)
    assert any(c.what.startswith("site ") and "disk_space" in c.detail for c in failed)  # UM's limits, too
