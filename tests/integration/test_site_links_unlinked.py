"""`GET /wpbridge/v1/sites?unlinked=1` (issue 22): only the customer sites whose membership link is unknown, what
`wpbridge check` and UM-mode `sync` refuse on, in one request however big the network; on UM, a site UM typed
customer-owned without a membership."""

from __future__ import annotations

from tests.integration.change_support import network
from tests.integration.stub_api_support import Api
from tests.integration.um_support import new_um_member, um_php
from wpbridge.sandbox import SandboxInfo

UNLINK = "delete_site_meta( $data, 'wu_membership_id' ); return true;"


def test_only_the_customer_sites_without_a_link_are_listed(um_sandbox: SandboxInfo) -> None:
    api = Api(um_sandbox.url, (um_sandbox.api_key, um_sandbox.api_secret))
    assert api.ok("GET", "/wp-json/wpbridge/v1/sites", params={"unlinked": 1}) == []
    member = new_um_member(um_sandbox, "basic")
    blog = member.blog_ids[0]
    um_php(um_sandbox, UNLINK, blog)
    try:
        rows = api.ok("GET", "/wp-json/wpbridge/v1/sites", params={"unlinked": 1})
        assert [r["blog_id"] for r in rows] == [blog]
        with network(um_sandbox) as net:
            problem = net.sites.links_problem()
        assert problem is not None and f"site {blog}" in problem
    finally:
        um_php(um_sandbox, "update_site_meta( $data['blog'], 'wu_membership_id', $data['m'] ); return true;",
               {"blog": blog, "m": member.membership_id})
    assert api.ok("GET", "/wp-json/wpbridge/v1/sites", params={"unlinked": 1}) == []
