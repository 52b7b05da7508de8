"""UM's computed limits of a page of sites, in bulk (issue 22): plugin-stub's `GET /wpbridge/v1/quotas` in UM mode
computes each site's limits once per distinct membership composite and site override instead of loading a Site and
a Membership model for every site. The judge is UM itself: `wu_get_site($id)->get_limitations()` for every site of
the network, on both UM builds, over memberships with add-ons in quantities, a membership's own override (as an
array and as a Limitations object), a site's own override, a suspended site, a site whose membership was deleted,
a site of another type and sites of one membership sharing its composite."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.um_support import new_um_member, um_php
from wpbridge.sandbox import SandboxInfo

BOTH = """
$store = \\WPBridge\\flavor()->sites;
$ids   = array_map( 'intval', get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) );
$bulk  = \\WPBridge\\um_computed_limits( $store, $ids );
$one   = \\WPBridge\\um_computed_limits_per_site( $store, $ids );
$diff  = array();
foreach ( $ids as $id ) {
    if ( wp_json_encode( $bulk[ $id ] ) !== wp_json_encode( $one[ $id ] ) ) {
        $diff[] = array( 'blog_id' => $id, 'bulk' => $bulk[ $id ], 'um' => $one[ $id ] );
    }
}
return array( 'sites' => count( $ids ), 'limited' => count( array_filter( $one ) ), 'diff' => $diff );
"""

SETUP = """
$m = wu_get_membership( $data['override_array'] );
$m->update_meta( 'wu_limitations', array( 'disk_space' => array( 'enabled' => true, 'limit' => 123 ),
    'sites' => array( 'enabled' => true, 'limit' => 7 ) ) );
$m = wu_get_membership( $data['twin_over'] );
$m->update_meta( 'wu_limitations', array( 'visits' => array( 'enabled' => true, 'limit' => 77 ) ) );
$m = wu_get_membership( $data['override_object'] );
$m->update_meta( 'wu_limitations', new \\WP_Ultimo\\Objects\\Limitations( array(
    'post_types' => array( 'enabled' => true,
        'limit' => array( 'post' => array( 'enabled' => true, 'number' => 3 ) ) ) ) ) );
update_site_meta( $data['site_override'], 'wu_limitations', array(
    'users' => array( 'enabled' => true,
        'limit' => array( 'editor' => array( 'enabled' => true, 'number' => 9 ) ) ) ) );
global $wpdb;
$wpdb->delete( $wpdb->base_prefix . 'wu_memberships', array( 'id' => $data['deleted'] ) );
wp_cache_flush();
return true;
"""


def _members(sb: SandboxInfo) -> dict[str, Any]:
    shared = new_um_member(sb, "premium", addons={"extra-storage": 2}, sites=3)
    twin = new_um_member(sb, "premium", addons={"extra-storage": 2})  # the same composite as `shared`
    twin_over = new_um_member(sb, "premium", addons={"extra-storage": 2})  # the same products, its own override
    arr = new_um_member(sb, "premium", addons={"extra-storage": 1})
    obj = new_um_member(sb, "basic")
    site_over = new_um_member(sb, "basic", addons={"extra-storage": 3})
    deleted = new_um_member(sb, "basic")
    other = new_um_member(sb, "premium", site_type="site_template")
    um_php(sb, SETUP, {"override_array": arr.membership_id, "twin_over": twin_over.membership_id,
                       "override_object": obj.membership_id, "site_override": site_over.blog_ids[0],
                       "deleted": deleted.membership_id})
    return {"shared": shared, "twin": twin, "other": other}


@pytest.mark.parametrize("build", ["um_sandbox", "um_main_sandbox"])
def test_bulk_limits_equal_what_um_computes_for_each_site(build: str, request: pytest.FixtureRequest) -> None:
    sb: SandboxInfo = request.getfixturevalue(build)
    _members(sb)
    result = um_php(sb, BOTH)
    assert result["diff"] == [], result["diff"][:2]
    assert result["limited"] >= 10  # the comparison covered real limits, not only nulls
