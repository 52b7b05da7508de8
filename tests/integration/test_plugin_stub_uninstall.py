"""plugin-stub's uninstall.php, run by WordPress's own uninstall_plugin() on sandboxes of their own (it drops the
plugin's tables, so it cannot share the session's sandboxes), after the plugin has been used the way that leaves the
most behind: a quota written, a change scheduled, customers, memberships and payments imported (the import key
tables), and in UM mode sites suspended (blogmeta beside UM's own site override). Afterwards no table, network option
or site meta of the plugin is left (includes/registry.php lists them), a suspended site has the UM override it had
before its suspension again, and WordPress's own data is untouched."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import UM_LATEST, um_build
from wpbridge.errors import WPBridgeError
from wpbridge.sandbox import SandboxInfo, down, up

PLUGIN = "wpbridge-stub/wpbridge-stub.php"

TABLES = ("products", "customers", "memberships", "discount_codes", "site_links", "scheduled_changes", "locks",
          "payments", "import_keys", "import_payment_keys")

INSPECT = r"""<?php
$domain = $argv[1];
$docroot = $argv[2];
$_SERVER['HTTP_HOST'] = $domain;
$_SERVER['SERVER_NAME'] = preg_replace('/:\d+$/', '', $domain);
$_SERVER['SERVER_PORT'] = preg_match('/:(\d+)$/', $domain, $m) ? $m[1] : '80';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['SCRIPT_NAME'] = '/index.php';
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$override = json_decode( $argv[5] ?? 'null', true );
if ( 'override' === ( $argv[3] ?? '' ) ) {
    update_site_meta( (int) $argv[4], 'wu_limitations', $override );
}
if ( 'uninstall' === ( $argv[3] ?? '' ) ) {
    deactivate_plugins( '__PLUGIN__', true, true );
    uninstall_plugin( '__PLUGIN__' );
}
global $wpdb;
$like = $wpdb->esc_like( 'wpbridge_' ) . '%';
$overrides = array();
foreach ( get_sites( array( 'fields' => 'ids' ) ) as $id ) {
    $overrides[ $id ] = get_site_meta( $id, 'wu_limitations', true );
}
echo json_encode( array(
    'tables'    => $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->base_prefix . $like ) ),
    'options'   => $wpdb->get_col( $wpdb->prepare( "SELECT meta_key FROM $wpdb->sitemeta WHERE meta_key LIKE %s",
        $like ) ),
    'meta'      => $wpdb->get_col( $wpdb->prepare(
        "SELECT DISTINCT meta_key FROM $wpdb->blogmeta WHERE meta_key LIKE %s ORDER BY meta_key", $like ) ),
    'overrides' => $overrides,
    'sites'     => count( get_sites() ),
    'users'     => (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->users}" ),
) );
""".replace("__PLUGIN__", PLUGIN)


def own(**kwargs: Any) -> Iterator[SandboxInfo]:
    try:
        info = up(**kwargs)
    except WPBridgeError as err:
        pytest.fail(f"the WordPress sandbox could not start: {err}", pytrace=False)
    try:
        yield info
    finally:
        down(info.dir, purge=True)


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[SandboxInfo]:
    yield from own(sites=2, seed="none")


@pytest.fixture(scope="module")
def own_um_sandbox() -> Iterator[SandboxInfo]:
    yield from own(seed="example", flavor="ultimate-multisite", um_plugin=um_build(UM_LATEST))


def inspect(info: SandboxInfo, *extra: str) -> dict[str, Any]:
    script = Path(info.dir) / "tmp" / "inspect-uninstall.php"
    script.write_text(INSPECT)
    docroot = str(Path(info.dir) / "wordpress")
    out = subprocess.run(["php", "-d", "display_errors=stderr", str(script), f"127.0.0.1:{info.info['port']}",
                          docroot, *extra], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def call(info: SandboxInfo, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    resp = requests.request(method, f"{info.url}/wp-json{path}", auth=(info.api_key, info.api_secret), json=body,
                            timeout=60)
    assert resp.status_code == 200, (path, resp.text)
    return resp.json()


def import_records(info: SandboxInfo, customer_id: int, plan_id: int) -> None:
    """What `wpbridge import` writes through its routes: a membership and a payment, each under its source key."""
    made = call(info, "POST", "/wpbridge/v1/import/memberships", {
        "source_key": f"uninstall-{uuid.uuid4().hex}", "customer_id": customer_id, "plan_id": plan_id,
        "status": "active", "amount": "10"})
    assert made["created"] is True
    paid = call(info, "POST", "/wpbridge/v1/import/payments", {
        "source_key": f"uninstall-{uuid.uuid4().hex}", "customer_id": customer_id,
        "membership_id": made["membership"]["id"], "status": "completed", "total": "10"})
    assert paid["created"] is True
    assert call(info, "GET", "/wpbridge/v1/import/keys") and call(info, "GET", "/wpbridge/v1/import/payment-keys")


def uninstall_and_check(info: SandboxInfo) -> dict[str, Any]:
    before = inspect(info)
    assert sorted(before["tables"]) == sorted(f"wp_wpbridge_{t}" for t in TABLES)
    assert "wpbridge_api_secret" in before["options"]
    after = inspect(info, "uninstall")
    assert after["tables"] == [] and after["options"] == [] and after["meta"] == []
    assert after["sites"] == before["sites"] and after["users"] == before["users"]
    return after


def test_uninstall_removes_the_tables_options_and_site_meta(own_sandbox: SandboxInfo) -> None:
    info = own_sandbox
    call(info, "PUT", "/wpbridge/v1/sites/2/quota", {"visits": {"enabled": True, "limit": 3}})
    t = uuid.uuid4().hex[:8]
    plan = call(info, "POST", "/wu/v2/product", {"slug": f"u-{t}", "type": "plan", "duration_unit": "month",
                                                 "amount": "10"})
    small = call(info, "POST", "/wu/v2/product", {"slug": f"s-{t}", "type": "plan", "duration_unit": "month"})
    customer = call(info, "POST", "/wu/v2/customer", {"username": f"u{t}", "email": f"u{t}@example.com"})
    m = call(info, "POST", "/wu/v2/membership", {"customer_id": customer["id"], "plan_id": plan["id"],
                                                  "status": "active", "amount": "10"})
    when = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    call(info, "PUT", f"/wpbridge/v1/memberships/{m['id']}/scheduled-change",
         {"scheduled_for": when, "target": {"plan_id": small["id"]}})
    import_records(info, customer["id"], plan["id"])
    assert inspect(info)["meta"] == ["wpbridge_quota"]
    uninstall_and_check(info)


def test_uninstall_in_um_mode_lifts_suspensions_and_removes_everything(own_um_sandbox: SandboxInfo) -> None:
    info = own_um_sandbox
    assert call(info, "GET", "/wpbridge/v1/info")["mode"] == "um"
    seeded = {c["username"]: c for c in info.info["seeded"]["customers"]}
    products = info.info["seeded"]["products"]
    carla, karin = seeded["carla"], seeded["karin"]
    kept = {"visits": {"enabled": True, "limit": 123}}
    with_override, without = carla["blog_ids"][0], karin["blog_ids"][0]
    inspect(info, "override", str(with_override), json.dumps(kept))
    suspended = {"visits": {"enabled": True, "limit": 1}, "disk_space": {"enabled": True, "limit": 1}}
    for blog_id in (with_override, without):
        reply = call(info, "PUT", f"/wpbridge/v1/sites/{blog_id}/suspension",
                     {"suspended": True, "limitations": suspended})
        assert reply["suspended"] is True
    when = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    call(info, "PUT", f"/wpbridge/v1/memberships/{carla['membership_id']}/scheduled-change",
         {"scheduled_for": when, "target": {"plan_id": products["basic"]}, "force": True})  # another group
    import_records(info, karin["customer_id"], products["basic"])
    before = inspect(info)
    assert before["meta"] == ["wpbridge_override_before_suspension", "wpbridge_suspended"]
    assert before["overrides"][str(with_override)]["visits"]["limit"] == 1
    after = uninstall_and_check(info)
    assert after["overrides"][str(with_override)] == kept  # the override it had before its suspension
    assert after["overrides"][str(without)] == ""  # it had none: UM's plan limits apply again
