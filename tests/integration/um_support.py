"""Helpers for the tests against the real Ultimate Multisite (no tests here).

UM's REST cannot create what these tests need (it refuses a membership `status` and cannot link a site), so a
test's own customer, membership and sites are made the way UM makes them: by UM's PHP functions, in a PHP CLI
boot of the sandbox's WordPress (`um_php`). Each test that writes gets its own member, so tests do not depend on
each other's order or on the seeded records staying untouched.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wpbridge.models import MembershipStatus
from wpbridge.sandbox import SandboxInfo
from wpbridge.sandbox.mariadb import DB_NAME, DB_PASSWORD, DB_USER
from wpbridge.sandbox.seed import SeedMember, membership_body, seed_base
from wpbridge.sandbox.shipped import recipe_file
from wpbridge.sandbox.wordpress import PHP_CLI

_counter = itertools.count(1)

PROLOGUE = """<?php
require %(cli_request)s;
wpbridge_fake_request( getenv( 'WP_DOMAIN' ), getenv( 'WP_DOCROOT' ) );
require getenv( 'WP_DOCROOT' ) . '/wp-load.php';
wp_set_current_user( get_user_by( 'login', 'admin' )->ID );
$data = json_decode( (string) getenv( 'WPB_TEST_DATA' ), true );
$result = ( function ( $data ) {
%(code)s
} )( $data );
echo "\\n", wp_json_encode( $result ), "\\n";
"""


def um_php(sb: SandboxInfo, code: str, data: Any = None) -> Any:
    """Run PHP `code` (a function body that gets `$data` and returns a JSON-able value) inside the sandbox's
    WordPress, with UM loaded; returns what it returned."""
    script = sb.dir / "tmp" / f"test-{secrets.token_hex(6)}.php"
    script.write_text(PROLOGUE % {"cli_request": repr(str(recipe_file("cli-request.php"))), "code": code})
    env = {**os.environ, "WP_DOCROOT": str(sb.info["docroot"]), "WP_DOMAIN": sb.url.removeprefix("http://"),
           "WPB_TEST_DATA": json.dumps(data)}
    try:
        res = subprocess.run([*PHP_CLI, str(script)], capture_output=True, text=True, env=env, timeout=120,
                             check=False)
    finally:
        script.unlink(missing_ok=True)
    assert res.returncode == 0, f"PHP failed: {res.stderr[-800:]}"
    return json.loads(res.stdout.strip().splitlines()[-1])


def sql(sb: SandboxInfo, query: str) -> list[list[str]]:
    """Rows of a query on the sandbox's own database (through its private socket)."""
    out = subprocess.run(["mariadb", "-S", sb.info["db_socket"], "-u", DB_USER, f"-p{DB_PASSWORD}", DB_NAME,
                          "-N", "-B", "-e", query], capture_output=True, text=True, check=True, timeout=30)
    return [line.split("\t") for line in out.stdout.splitlines()]


@dataclass(frozen=True)
class UMMember:
    customer_id: int
    membership_id: int
    blog_ids: tuple[int, ...]
    site_paths: tuple[str, ...]


NEW_MEMBER = """
$ids = $data['products'];
$c = wu_create_customer( array( 'username' => $data['username'], 'email' => $data['username'] . '@example.com',
    'password' => $data['password'], 'email_verification' => 'verified' ) );
if ( is_wp_error( $c ) ) { throw new Exception( $c->get_error_message() ); }
$b = $data['membership'];
$b['customer_id'] = $c->get_id();
$b['user_id'] = $c->get_user_id();
$m = wu_create_membership( $b );
if ( is_wp_error( $m ) ) { throw new Exception( $m->get_error_message() ); }
$blogs = array();
foreach ( $data['sites'] as $path ) {
    $blog = wpmu_create_blog( getenv( 'WP_DOMAIN' ), $path, $path, $c->get_user_id(), array( 'public' => 1 ), 1 );
    if ( is_wp_error( $blog ) ) { throw new Exception( $blog->get_error_message() ); }
    if ( $data['link'] ) {
        update_site_meta( $blog, 'wu_membership_id', $m->get_id() );
        update_site_meta( $blog, 'wu_customer_id', $c->get_id() );
        update_site_meta( $blog, 'wu_type', $data['type'] );
    }
    $blogs[] = $blog;
}
return array( 'customer_id' => $c->get_id(), 'membership_id' => $m->get_id(), 'blog_ids' => $blogs );
"""


def new_um_member(
    sb: SandboxInfo,
    plan: str,
    *,
    status: MembershipStatus = "active",
    created: int = 60,
    renewed: int | None = None,
    period: tuple[int, str] = (1, "month"),
    addons: Mapping[str, int] | None = None,
    sites: int = 1,
    link: bool = True,
    site_type: str = "customer_owned",
) -> UMMember:
    """A fresh customer, membership and sites made by UM's own functions (dates count back in days from the start
    of today, UTC, as the seed's do); `link=False` leaves the sites without UM's blogmeta links."""
    tag = f"u{next(_counter)}{secrets.token_hex(3)}"
    member = SeedMember(tag, f"Test {tag}", plan, status, tuple(f"{tag}-{i}" for i in range(sites)),
                        created=created, renewed=renewed, period=period, addons=dict(addons or {}), billed=1)
    ids: dict[str, int] = sb.info["seeded"]["products"]
    body = membership_body(member, seed_base(datetime.now(UTC)), ids, 0)
    body["addon_products"] = {str(k): v for k, v in body["addon_products"].items()}
    made = um_php(sb, NEW_MEMBER, {
        "products": ids, "username": tag, "password": secrets.token_hex(12), "membership": body,
        "sites": [f"/{slug}/" for slug in member.sites], "link": link, "type": site_type,
    })
    blog_ids = tuple(int(b) for b in made["blog_ids"])
    return UMMember(int(made["customer_id"]), int(made["membership_id"]), blog_ids,
                    tuple(f"/{slug}/" for slug in member.sites))


def um_membership(sb: SandboxInfo, membership_id: int) -> dict[str, Any]:
    """What UM itself holds for a membership (its model, not its REST)."""
    return dict(um_php(sb, """
$m = wu_get_membership( $data );
$swap = $m->get_scheduled_swap();
$addons = array();
foreach ( $m->get_addon_products() as $row ) { $addons[ (string) $row['product']->get_id() ] = (int) $row['quantity']; }
return array( 'plan_id' => (int) $m->get_plan_id(), 'addon_products' => (object) $addons,
    'amount' => (string) $m->get_amount(), 'status' => $m->get_status(), 'duration' => (int) $m->get_duration(),
    'duration_unit' => $m->get_duration_unit(), 'date_expiration' => $m->get_date_expiration(),
    'swap_date' => $swap ? $swap->scheduled_date : null,
    'swap_plan' => $swap ? (int) $swap->order->get_plan_id() : null,
    'swap_jobs' => count( as_get_scheduled_actions( array( 'hook' => 'wu_async_membership_swap',
        'args' => array( 'membership_id' => (int) $data ), 'status' => 'pending' ), 'ids' ) ) );
""", membership_id))


def um_site_limits(sb: SandboxInfo, blog_id: int) -> dict[str, Any]:
    """UM's own computed limitations of a site, straight from UM's model."""
    return dict(um_php(sb, "return wu_get_site( $data )->get_limitations()->to_array();", blog_id) or {})
