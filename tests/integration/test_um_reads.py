"""Reads on the real Ultimate Multisite: what UM really returns is read as UM reads it (string ids, null
`has_trialed`, `""` limits, extra keys); site links come from UM's blogmeta; one unreadable record is named by id
and field, the listing goes on, exit 1, and nothing is written to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.change_support import network, run
from tests.integration.um_support import new_um_member, sql, um_php
from wpbridge.sandbox import SandboxInfo


def test_sites_list_reads_ums_links_and_types(um_sandbox: SandboxInfo) -> None:
    result = run(um_sandbox, "sites", "list", "--output", "json")
    assert result.exit_code == 0, result.output
    sites = {s["blog_id"]: s for s in json.loads(result.stdout)}
    carla = next(c for c in um_sandbox.info["seeded"]["customers"] if c["username"] == "carla")
    for blog_id in carla["blog_ids"]:
        s = sites[blog_id]
        assert (s["membership_id"], s["customer_id"], s["type"]) == (carla["membership_id"],
                                                                     carla["customer_id"], "customer_owned")
    assert sites[1]["type"] == "main" and sites[1]["is_main"] and sites[1]["membership_id"] is None
    only = run(um_sandbox, "sites", "list", "--membership", str(carla["membership_id"]), "--output", "json")
    assert sorted(s["blog_id"] for s in json.loads(only.stdout)) == sorted(carla["blog_ids"])


def test_export_and_listings_of_the_real_um_read_every_record(um_sandbox: SandboxInfo, tmp_path: Path) -> None:
    """UM leaves has_trialed null for customers made by wu_create_customer and a customer's date_created ''."""
    assert any(row == ["NULL"] for row in sql(um_sandbox, "SELECT has_trialed FROM wp_wu_customers"))
    out = tmp_path / "snapshot.json"
    exported = run(um_sandbox, "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    snapshot = json.loads(out.read_text())
    assert len(snapshot["customers"]) >= 12 and len(snapshot["memberships"]) >= 12
    for args in (("memberships", "list"), ("products", "list"), ("sites", "list")):
        assert run(um_sandbox, *args).exit_code == 0


def test_a_domain_mapping_limit_of_empty_string_is_read_as_um_reads_it(um_sandbox: SandboxInfo) -> None:
    """The product that stopped every command (issue 9): `domain_mapping.limit` stored as ""."""
    setup = um_sandbox.info["seeded"]["products"]["site-setup"]
    set_limits = "$p = wu_get_product( $data[0] ); $p->update_meta( 'wu_limitations', $data[1] ); return true;"
    um_php(um_sandbox, set_limits, [setup, {"domain_mapping": {"enabled": True, "limit": ""}}])
    try:
        result = run(um_sandbox, "products", "list", "--output", "json")
        assert result.exit_code == 0, result.output
        product = next(p for p in json.loads(result.stdout) if p["id"] == setup)
        assert product["limitations"]["domain_mapping"]["limit"] is True  # "not properly set": allowed, as UM
        assert run(um_sandbox, "memberships", "list").exit_code == 0
    finally:
        um_php(um_sandbox, set_limits, [setup, {}])


@pytest.fixture
def unreadable_membership(um_sandbox: SandboxInfo) -> Iterator[int]:
    m = new_um_member(um_sandbox, "basic")
    sql(um_sandbox, f"UPDATE wp_wu_memberships SET amount = -5 WHERE id = {m.membership_id}")
    try:
        yield m.membership_id
    finally:
        sql(um_sandbox, f"UPDATE wp_wu_memberships SET amount = 15 WHERE id = {m.membership_id}")


def test_one_unreadable_membership_is_named_and_the_listing_goes_on(um_sandbox: SandboxInfo,
                                                                    unreadable_membership: int,
                                                                    tmp_path: Path) -> None:
    bad = unreadable_membership
    listed = run(um_sandbox, "memberships", "list", "--output", "json")
    assert listed.exit_code == 1
    ids = {m["id"] for m in json.loads(listed.stdout)}
    assert bad not in ids and len(ids) >= 12
    assert f"Membership {bad}: field 'amount'" in listed.stderr
    report = tmp_path / "report.json"
    synced = run(um_sandbox, "sync", "--report", str(report))
    assert synced.exit_code == 1
    data = json.loads(report.read_text())
    assert any(f"Membership {bad}: field 'amount'" in e["message"] for e in data["errors"])
    assert data["summary"]["sites_checked"] >= 18 and data["summary"]["writes"] == 0
    exported = run(um_sandbox, "export", "--out", str(tmp_path / "snap.json"))
    assert exported.exit_code == 1 and f"Membership {bad}" in exported.stderr


def test_catalog_reads_a_discount_codes_restrictions_from_ums_meta(um_sandbox: SandboxInfo) -> None:
    """UM keeps `limit_products` / `allowed_products` in the code's meta, not in columns: a code limited to one
    plan must not read as valid for every product."""
    basic = um_sandbox.info["seeded"]["products"]["basic"]
    made = um_php(um_sandbox, """
global $wpdb;
$wpdb->insert( $wpdb->base_prefix . 'wu_discount_codes', array( 'name' => 'Basic only', 'code' => 'BASICONLY',
    'description' => '', 'uses' => 0, 'max_uses' => 0, 'apply_to_renewals' => 0, 'type' => 'percentage', 'value' => 10,
    'setup_fee_type' => 'percentage', 'setup_fee_value' => 0, 'active' => 1,
    'date_created' => gmdate( 'Y-m-d H:i:s' ) ) );
$code = wu_get_discount_code( $wpdb->insert_id );
$code->set_limit_products( true );
$code->set_allowed_products( array( $data ) );
$code->save();
return $code->get_id();""", basic)
    try:
        rest = run(um_sandbox, "products", "list", "--output", "json")
        assert rest.exit_code == 0
        with network(um_sandbox) as net:
            data = net.transport.get("wpbridge/v1/catalog").data
        code = next(c for c in data["discount_codes"] if c["code"] == "BASICONLY")
        assert code["limit_products"] is True and code["allowed_products"] == [basic]
    finally:
        um_php(um_sandbox, "global $wpdb; return $wpdb->delete( $wpdb->base_prefix . 'wu_discount_codes', "
                           "array( 'id' => $data ) );", made)
