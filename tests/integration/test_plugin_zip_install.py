"""Install the release zip the way a network owner does (issue 21 items 1 and 2), on fresh sandboxes of their own
(WordPress, and UM, without plugin-stub; test mode off): `make plugin-zip`'s dist/wpbridge.zip unzipped into
wp-content/plugins, network-activated, the key pair set without a shell script of ours (the WP-CLI command class,
`tools/key.php` through WordPress's own bootstrap since Debian has no WP-CLI, the Network Admin screen; on UM, UM's
own pair), and then `wpbridge check` exits 0: reachable, authenticated, and an empty network is usable."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.change_support import cli_env, run
from tests.integration.conftest import UM_LATEST, um_build
from wpbridge.errors import WPBridgeError
from wpbridge.plugin_zip import build
from wpbridge.sandbox import SandboxInfo, down, up

PHP = ("php", "-d", "display_errors=stderr", "-d", "error_reporting=E_ALL & ~E_DEPRECATED")

WP_CLI_AND_SCREEN = r"""<?php
// What `wp wpbridge key ...` and Network Admin -> Settings -> wpbridge do, driven without WP-CLI: a minimal
// WP_CLI class stands in for WP-CLI's output functions; the command class and the screen's handler are the plugin's.
require $argv[1] . '/wp-content/plugins/wpbridge/tools/boot.php';
wpbridge_tool_fake_request( $argv[1], wpbridge_tool_domain( $argv[1], null ) );
require $argv[1] . '/wp-load.php';

final class WP_CLI {
	public static array $lines = array();
	public static function line( string $s ): void { self::$lines[] = $s; }
	public static function success( string $s ): void { self::$lines[] = "Success: $s"; }
	public static function error( string $s ): void { self::$lines[] = "Error: $s"; }
}

$out = array();
$cmd = new \WPBridge\Key_CLI_Command();
$cmd->set( array(), array( 'key' => 'short', 'secret' => 'x' ) );
$cmd->rotate( array(), array() );
$cmd->show_fingerprint( array(), array() );
$out['cli'] = WP_CLI::$lines;

$out['anonymous'] = \WPBridge\keys_screen_action( array( 'do' => 'rotate', '_wpnonce' => 'x' ) );
wp_set_current_user( get_user_by( 'login', 'admin' )->ID );
$out['bad_nonce'] = \WPBridge\keys_screen_action( array( 'do' => 'rotate', '_wpnonce' => 'nope' ) );
$nonce            = wp_create_nonce( 'wpbridge_keys' );
$shown            = \WPBridge\keys_screen_action( array( 'do' => 'rotate', '_wpnonce' => $nonce ) );
$out['screen']    = $shown;
$out['html']      = \WPBridge\keys_screen_html( \WPBridge\key_status(), $shown );
$out['html_later'] = \WPBridge\keys_screen_html( \WPBridge\key_status(), array() );
echo wp_json_encode( $out ), "\n";
"""

UNINSTALL_AFTER_THE_SCREEN = r"""<?php
// The screen's one-minute note of a new pair (set by its post handler) goes with the plugin's other data.
require $argv[1] . '/wp-content/plugins/wpbridge/tools/boot.php';
wpbridge_tool_fake_request( $argv[1], wpbridge_tool_domain( $argv[1], null ) );
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
set_site_transient( 'wpbridge_keys_shown_1', array( 'rotated' => array( 'secret' => 'x' ) ), MINUTE_IN_SECONDS );
deactivate_plugins( 'wpbridge/wpbridge.php', true, true );
uninstall_plugin( 'wpbridge/wpbridge.php' );
global $wpdb;
$left = $wpdb->get_col( "SELECT meta_key FROM {$wpdb->sitemeta} WHERE meta_key LIKE '%wpbridge%'" );
echo wp_json_encode( $left ), "\n";
"""


def fresh(tmp_path: Path, **kwargs: Any) -> Iterator[SandboxInfo]:
    try:
        sb = up(tmp_path / "sb", sites=2, seed="none", plugin=False, test_mode=False, **kwargs)
    except WPBridgeError as err:
        pytest.fail(f"the sandbox could not start: {err}", pytrace=False)
    try:
        yield sb
    finally:
        down(sb.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


@pytest.fixture
def bare_stub(tmp_path: Path) -> Iterator[SandboxInfo]:
    yield from fresh(tmp_path)


@pytest.fixture
def bare_um(tmp_path: Path) -> Iterator[SandboxInfo]:
    yield from fresh(tmp_path, flavor="ultimate-multisite", um_plugin=um_build(UM_LATEST))


def php(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PHP, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


def install_zip(sb: SandboxInfo, tmp_path: Path) -> Path:
    """Build the zip, unzip it into wp-content/plugins and network-activate it (the tool in the zip)."""
    docroot = Path(sb.info["docroot"])
    plugins = docroot / "wp-content" / "plugins"
    assert not (plugins / "wpbridge").exists() and not (plugins / "wpbridge-stub").exists()
    archive = tmp_path / "dist" / "wpbridge.zip"
    build(archive)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(plugins)
    done = php(str(plugins / "wpbridge" / "tools" / "activate.php"), str(docroot))
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["plugin"] == "wpbridge/wpbridge.php" and facts["network_active"] is True
    return docroot


def check(sb: SandboxInfo, key: str, secret: str) -> Any:
    env = {**cli_env(sb), "WPBRIDGE_API_KEY": key, "WPBRIDGE_API_SECRET": secret}
    return run(sb, "check", env=env), run(sb, "check", "-o", "json", env=env)


def test_without_um_the_zip_installs_and_check_passes_once_the_key_is_set(bare_stub: SandboxInfo,
                                                                            tmp_path: Path) -> None:
    docroot = install_zip(bare_stub, tmp_path)
    key_tool = str(docroot / "wp-content" / "plugins" / "wpbridge" / "tools" / "key.php")

    shown = json.loads(php(key_tool, str(docroot), "show-fingerprint").stdout)
    assert shown == {"mode": "stub", "api_key": "", "fingerprint": "", "set": False, "um_key_set": False}
    refused, _ = check(bare_stub, bare_stub.api_key, bare_stub.api_secret)
    assert refused.exit_code == 1 and "authenticated  NO" in refused.stdout

    short = php(key_tool, str(docroot), "set", f"--key={bare_stub.api_key}", stdin="too-short\n")
    assert short.returncode == 2 and "at least 24 characters" in short.stderr
    stored = php(key_tool, str(docroot), "set", f"--key={bare_stub.api_key}", stdin=bare_stub.api_secret + "\n")
    assert stored.returncode == 0, stored.stderr
    assert bare_stub.api_secret not in stored.stdout and json.loads(stored.stdout)["set"] is True
    fingerprint = json.loads(stored.stdout)["fingerprint"]
    assert f"this machine's secret is {fingerprint}" in refused.stdout  # the same secret, before it was set

    table, as_json = check(bare_stub, bare_stub.api_key, bare_stub.api_secret)
    assert table.exit_code == 0, table.output
    assert "usable         yes" in table.stdout and "stub mode" in table.stdout
    data = json.loads(as_json.stdout)
    assert data["usable"] and data["site_links"] is True and data["um_version"] is None
    assert data["secret_fingerprint"] == fingerprint


def screen_over_http(sb: SandboxInfo, current: dict[str, str]) -> tuple[str, str]:
    """Network Admin -> Settings -> wpbridge as a super admin uses it in a browser: log in, open the screen, generate
    a new pair (shown once, after the redirect), then set one of one's own; an anonymous post changes nothing.
    Returns the pair set last."""
    http = requests.Session()
    http.trust_env = False
    http.cookies.set("wordpress_test_cookie", "WP Cookie check")
    login = http.post(f"{sb.url}/wp-login.php", timeout=60, allow_redirects=False, data={
        "log": sb.user, "pwd": sb.info["admin_password"], "wp-submit": "Log In", "testcookie": "1"})
    assert login.status_code == 302, login.text[:300]
    screen = f"{sb.url}/wp-admin/network/settings.php?page=wpbridge"
    page = http.get(screen, timeout=60)
    assert page.status_code == 200 and current["fingerprint"] in page.text and current["key"] in page.text
    assert current["secret"] not in page.text
    nonce = re.search(r'name="_wpnonce" value="([0-9a-f]+)"', page.text)
    assert nonce is not None
    post = f"{sb.url}/wp-admin/network/edit.php?action=wpbridge_keys"
    anonymous = requests.post(post, data={"_wpnonce": nonce.group(1), "do": "rotate"}, timeout=60,
                              allow_redirects=False)
    assert anonymous.status_code in (302, 403) and current["fingerprint"] in http.get(screen, timeout=60).text

    shown = http.post(post, data={"_wpnonce": nonce.group(1), "do": "rotate"}, timeout=60)
    assert shown.url == screen
    pair = re.search(r'api_key = "([^"]+)".*api_secret = "([^"]+)"', html.unescape(shown.text), re.S)
    assert pair is not None and pair.group(2) not in http.get(screen, timeout=60).text  # shown once
    own_key, own_secret = "my-own-network-key-1", "my-own-network-secret-0123456789"
    saved = http.post(post, timeout=60, data={"_wpnonce": nonce.group(1), "do": "set", "api_key": own_key,
                                              "api_secret": own_secret})
    assert "API key pair stored." in saved.text and own_secret not in saved.text
    return own_key, own_secret


def test_the_wp_cli_command_and_the_network_admin_screen_manage_the_key(bare_stub: SandboxInfo,
                                                                         tmp_path: Path) -> None:
    docroot = install_zip(bare_stub, tmp_path)
    script = tmp_path / "drive.php"
    script.write_text(WP_CLI_AND_SCREEN)
    done = php(str(script), str(docroot))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])

    cli = out["cli"]
    assert cli[0].startswith("Error: the key must be at least 16 characters")
    key = cli[1].split()[-1]
    secret = cli[2].split()[-1]
    assert cli[1].startswith("api_key:") and cli[2].startswith("api_secret:") and cli[3].startswith("Success: ")
    assert f"api_key:      {key}" in cli and secret not in "\n".join(cli[4:])
    assert any(line.startswith("fingerprint:  sha256:") for line in cli[4:])

    assert "error" in out["anonymous"] and "error" in out["bad_nonce"]  # nothing rotated by either
    rotated = out["screen"]["rotated"]
    assert rotated["secret"] in out["html"] and rotated["fingerprint"] in out["html"]
    assert rotated["secret"] not in out["html_later"] and rotated["fingerprint"] in out["html_later"]

    stale, _ = check(bare_stub, key, secret)  # the WP-CLI pair was replaced by the screen's
    assert stale.exit_code == 1
    table, _ = check(bare_stub, rotated["key"], rotated["secret"])
    assert table.exit_code == 0 and "usable         yes" in table.stdout

    new_key, new_secret = screen_over_http(bare_stub, rotated)
    table, _ = check(bare_stub, new_key, new_secret)
    assert table.exit_code == 0 and "usable         yes" in table.stdout

    script.write_text(UNINSTALL_AFTER_THE_SCREEN)
    removed = php(str(script), str(docroot))
    assert removed.returncode == 0 and json.loads(removed.stdout.strip().splitlines()[-1]) == [], removed.stderr


def test_beside_um_the_zip_works_with_ums_own_key_pair_on_an_empty_network(bare_um: SandboxInfo,
                                                                            tmp_path: Path) -> None:
    docroot = install_zip(bare_um, tmp_path)
    key_tool = str(docroot / "wp-content" / "plugins" / "wpbridge" / "tools" / "key.php")
    shown = json.loads(php(key_tool, str(docroot), "show-fingerprint").stdout)
    assert shown["mode"] == "um" and shown["set"] is False and shown["um_key_set"] is True

    table, as_json = check(bare_um, bare_um.api_key, bare_um.api_secret)  # UM's pair (UM -> Settings -> API)
    assert table.exit_code == 0, table.output
    assert "site links     yes" in table.stdout and "usable         yes" in table.stdout
    assert f"Ultimate Multisite {UM_LATEST}" in table.stdout
    data = json.loads(as_json.stdout)
    assert data["usable"] and data["mode"] == "um" and data["um_version"] == UM_LATEST and data["problems"] == []
