"""plugin-stub's uninstall.php, run by WordPress's own uninstall_plugin() on a sandbox of its own (it drops the
plugin's tables, so it cannot share the session's sandbox): afterwards no table, network option or site meta of
the plugin is left, and WordPress's own data is untouched."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from wpbridge.errors import WPBridgeError
from wpbridge.sandbox import SandboxInfo, down, up

PLUGIN = "wpbridge-stub/wpbridge-stub.php"

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
if ( 'uninstall' === ( $argv[3] ?? '' ) ) {
    deactivate_plugins( '__PLUGIN__', true, true );
    uninstall_plugin( '__PLUGIN__' );
}
global $wpdb;
$like = $wpdb->esc_like( 'wpbridge_' ) . '%';
echo json_encode( array(
    'tables'  => $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->base_prefix . $like ) ),
    'options' => $wpdb->get_col( $wpdb->prepare( "SELECT meta_key FROM $wpdb->sitemeta WHERE meta_key LIKE %s",
        $like ) ),
    'meta'    => $wpdb->get_col( $wpdb->prepare( "SELECT meta_key FROM $wpdb->blogmeta WHERE meta_key LIKE %s",
        $like ) ),
    'sites'   => count( get_sites() ),
    'users'   => (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->users}" ),
) );
""".replace("__PLUGIN__", PLUGIN)


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[SandboxInfo]:
    try:
        info = up(sites=2, seed="none")
    except WPBridgeError as err:
        pytest.fail(f"the WordPress sandbox could not start: {err}", pytrace=False)
    try:
        yield info
    finally:
        down(info.dir, purge=True)


def inspect(info: SandboxInfo, *extra: str) -> dict[str, Any]:
    script = Path(info.dir) / "tmp" / "inspect-uninstall.php"
    script.write_text(INSPECT)
    docroot = str(Path(info.dir) / "wordpress")
    out = subprocess.run(["php", "-d", "display_errors=stderr", str(script), f"127.0.0.1:{info.info['port']}",
                          docroot, *extra], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_uninstall_removes_the_tables_options_and_site_meta(own_sandbox: SandboxInfo) -> None:
    info = own_sandbox
    resp = requests.put(f"{info.url}/wp-json/wpbridge/v1/sites/2/quota", auth=(info.api_key, info.api_secret),
                        json={"visits": {"enabled": True, "limit": 3}}, timeout=30)
    assert resp.status_code == 200, resp.text
    before = inspect(info)
    assert len(before["tables"]) == 8 and "wpbridge_api_secret" in before["options"]
    assert before["meta"] == ["wpbridge_quota"]
    after = inspect(info, "uninstall")
    assert after["tables"] == [] and after["options"] == [] and after["meta"] == []
    assert after["sites"] == before["sites"] == 2 and after["users"] == before["users"]
