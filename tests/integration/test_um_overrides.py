"""A membership's own override on the real Ultimate Multisite: UM keeps it in its membership meta `wu_limitations`
(its REST returns a membership's `limitations` empty) and merges it in override mode after the plan and add-ons.
wpbridge reads it through plugin-stub (`GET /wpbridge/v1/memberships/limitations`), so its effective limits of the
membership's sites equal what UM computes, and `sync` reports no difference for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.change_support import network, run
from tests.integration.um_support import new_um_member, um_php, um_site_limits
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations
from wpbridge.sandbox import SandboxInfo

OVERRIDE = {
    "disk_space": {"enabled": True, "limit": 123},
    "sites": {"enabled": True, "limit": 7},
    "post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 3}}},
}

SET_OVERRIDE = """
$m = wu_get_membership( $data['id'] );
$value = 'object' === $data['shape'] ? new \\WP_Ultimo\\Objects\\Limitations( $data['limits'] ) : $data['limits'];
$m->update_meta( 'wu_limitations', $value );
global $wpdb;
return $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->base_prefix}wu_membershipmeta
    WHERE wu_membership_id = %d AND meta_key = 'wu_limitations'", $data['id'] ) );
"""


def sync_report(sb: SandboxInfo, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    result = run(sb, "sync", "--report", str(report), *args)
    return result.exit_code, json.loads(report.read_text())


@pytest.mark.parametrize("shape", ["array", "object"])
def test_a_membership_override_is_read_and_merged_as_um_does(um_sandbox: SandboxInfo, tmp_path: Path,
                                                            shape: str) -> None:
    """Premium + 2 × Extra storage, with its own override (stored by UM's own `update_meta`, as a serialized array
    or a serialized Limitations object): wpbridge's effective limits of its site are UM's computed ones."""
    m = new_um_member(um_sandbox, "premium", renewed=3, addons={"extra-storage": 2})
    site = m.blog_ids[0]
    stored = um_php(um_sandbox, SET_OVERRIDE, {"id": m.membership_id, "limits": OVERRIDE, "shape": shape})
    assert str(stored).startswith("a:" if shape == "array" else "O:")  # as UM stores it in wu_membershipmeta
    um = um_site_limits(um_sandbox, site)
    assert um["disk_space"]["limit"] == 123 and um["sites"]["limit"] == 7  # UM: the override replaces

    with network(um_sandbox) as net:
        membership = net.memberships.get(m.membership_id)
        assert membership.limitations.disk_space is not None and membership.limitations.disk_space.limit == 123
        [listed] = list(net.memberships.list(id=[m.membership_id]))
        assert listed.limitations == membership.limitations and not net.unreadable
        [linked] = list(net.sites.list(membership_id=m.membership_id))
        mine = effective_limitations(membership, net.products.catalog(), linked)
        [(blog_id, computed)] = list(net.quotas.list([site]))  # UM mode: UM's own computed limits
    assert blog_id == site and computed is not None
    assert differing_modules(mine, computed) == (), (mine.to_wire(), computed.to_wire())
    assert differing_modules(mine, Limitations.model_validate(um)) == ()
    assert mine.disk_space is not None and mine.disk_space.limit == 123  # not the plan + add-ons' sum

    code, report = sync_report(um_sandbox, tmp_path, "--dry-run", "--only-membership", str(m.membership_id))
    assert code == 0, report["errors"]
    assert report["changes"] == [] and report["summary"]["differences"] == 0, report["changes"]
    assert report["summary"]["sites_checked"] >= 1 and report["errors"] == []


def test_an_unreadable_membership_override_is_named_never_taken_for_none(um_sandbox: SandboxInfo,
                                                                          tmp_path: Path) -> None:
    """A stored override that is not a limitations array (here a stray string, which UM's merge would skip):
    wpbridge names the membership and the field, exits 1, and writes nothing for it; the others go on."""
    m = new_um_member(um_sandbox, "basic", renewed=3)
    um_php(um_sandbox, "wu_get_membership( $data )->update_meta( 'wu_limitations', 'not limits' ); return true;",
           m.membership_id)
    try:
        code, report = sync_report(um_sandbox, tmp_path, "--dry-run")
        assert code == 1
        assert report["summary"]["writes"] == 0 and report["summary"]["sites_checked"] >= 18
        assert not [c for c in report["changes"] if c["membership_id"] == m.membership_id]
        named = [e for e in report["errors"] if f"Membership {m.membership_id}: field 'limitations'" in e["message"]]
        assert len(named) == 1 and "not a limitations array" in named[0]["message"], report["errors"]
        code, only = sync_report(um_sandbox, tmp_path, "--dry-run", "--only-membership", str(m.membership_id))
        assert code == 1 and only["changes"] == [] and only["summary"]["writes"] == 0  # not "no such membership"
        assert [e["message"] for e in only["errors"]] == [named[0]["message"]]
        shown = run(um_sandbox, "memberships", "show", str(m.membership_id))
        assert shown.exit_code != 0 and f"Membership {m.membership_id}: field 'limitations'" in shown.output
    finally:  # the whole-network sync tests expect every membership readable
        um_php(um_sandbox, "wu_get_membership( $data )->delete_meta( 'wu_limitations' ); return true;",
               m.membership_id)


def test_change_apply_verifies_ums_limits_with_the_membership_override(um_sandbox: SandboxInfo) -> None:
    """An add-on bought by a membership with its own override: wpbridge's expected limits (plan + add-ons, then
    the override) match what UM computes after the write, so the read-back verification passes."""
    m = new_um_member(um_sandbox, "basic", renewed=10)
    um_php(um_sandbox, SET_OVERRIDE, {"id": m.membership_id, "shape": "array",
                                      "limits": {"sites": {"enabled": True, "limit": 7}}})
    result = run(um_sandbox, "change", "apply", str(m.membership_id), "--addon", "extra-storage:2", "--yes",
                 "--output", "json")
    out = json.loads(result.stdout)
    assert result.exit_code == 0 and out["status"] == "applied" and out["ok"], out
    checks = {c["what"]: c for c in out["verification"]}
    assert checks[f"site {m.blog_ids[0]} limits (UM)"]["ok"], checks
    um = um_site_limits(um_sandbox, m.blog_ids[0])
    assert um["sites"]["limit"] == 7 and um["disk_space"]["limit"] == 1000 + 2 * 1000
