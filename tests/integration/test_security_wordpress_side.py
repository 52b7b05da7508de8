"""plugin-stub under attack, second pass (issue 20, WordPress side, items 1-9): each test reproduces one way in that
worked on main and failed before its fix. The stub network (`sandbox`) and the real Ultimate Multisite 2.4.12
(`um_sandbox`); each test makes its own records and sites.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.conftest import site_home
from tests.integration.stub_api_support import TIMEOUT, Api, tag

W = "/wp-json/wpbridge/v1"
U = "/wp-json/wu/v2"


@pytest.fixture(scope="module")
def api(sandbox: Any) -> Iterator[Api]:
    api = Api(sandbox.url, (sandbox.api_key, sandbox.api_secret))
    yield api
    api.cleanup()


def new_site(api: Api) -> int:
    record = api.ok("POST", f"{U}/site", json={"path": f"/w{tag()}/", "title": "attacked"})
    return int(record["blog_id"])


def limit_of(api: Api, blog_id: int) -> Any:
    return api.ok("GET", f"{W}/sites/{blog_id}/quota").get("visits", {}).get("limit")


def bad_body(resp: requests.Response) -> None:
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert "(body)" in resp.text, resp.text[:300]


# ------------------------------------------------------------------------------------ 2. an empty body erases


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz"])
def test_an_empty_form_body_does_not_erase_a_quota(api: Api, content_type: str) -> None:
    blog = new_site(api)
    api.ok("PUT", f"{W}/sites/{blog}/quota", json={"visits": {"enabled": True, "limit": 5}})
    raw = b"&" if content_type.startswith("application") else b"--xyz--\r\n"
    bad_body(api("PUT", f"{W}/sites/{blog}/quota", data=raw, headers={"Content-Type": content_type}))
    assert limit_of(api, blog) == 5


@pytest.mark.parametrize("body", [[], "x", 3, None, [1]], ids=repr)
def test_a_batch_item_whose_body_is_not_an_object_is_400(api: Api, body: Any) -> None:
    blog = new_site(api)
    api.ok("PUT", f"{W}/sites/{blog}/quota", json={"visits": {"enabled": True, "limit": 5}})
    resp = api("POST", "/wp-json/batch/v1", json={"requests": [
        {"method": "PUT", "path": f"/wpbridge/v1/sites/{blog}/quota", "body": body}]})
    assert resp.status_code in (207, 400), resp.text[:300]
    items = resp.json().get("responses", [])
    assert resp.status_code == 400 or items[0]["status"] == 400, resp.text[:300]
    assert limit_of(api, blog) == 5
    # `{}` stays an explicit (empty) object, accepted as before.
    assert api("POST", "/wp-json/batch/v1", json={"requests": [
        {"method": "PUT", "path": f"/wpbridge/v1/sites/{blog}/quota", "body": {}}]}).status_code == 207


# ------------------------------------------------------------------------- 3. a big batch item fatals before auth


@pytest.mark.parametrize("auth", ["anonymous", "api"])
def test_a_big_batch_item_is_413_not_a_fatal(sandbox: Any, api: Api, auth: str) -> None:
    blog = new_site(api)
    big = {"themes": {"enabled": True, "limit": {f"t-{i:07d}": {"visibility": "visible"} for i in range(40_000)}}}
    payload = {"requests": [{"method": "PUT", "path": f"/wpbridge/v1/sites/{blog}/quota", "body": big}]}
    assert len(json.dumps(payload)) > 1_100_000
    http = requests.Session()
    if auth == "api":
        http.auth = (sandbox.api_key, sandbox.api_secret)
    resp = http.post(sandbox.url + "/wp-json/batch/v1", json=payload, timeout=TIMEOUT)
    assert resp.status_code in (207, 413), (resp.status_code, resp.text[:300])
    assert "critical error" not in resp.text and "wpbridge_too_large" in resp.text, resp.text[:300]


# ---------------------------------------------------- 5. UM mode: validation before auth, swaps UM should refuse


@pytest.mark.parametrize("params", [{}, {"membership_ids": "x"}, {"membership_ids": ",".join(["1"] * 101)}])
def test_anonymous_callers_are_refused_before_any_validation(any_sandbox: Any, params: dict[str, str]) -> None:
    anonymous = requests.Session()
    resp = anonymous.get(any_sandbox.url + f"{W}/memberships/limitations", params=params, timeout=TIMEOUT)
    assert resp.status_code == 401, (resp.status_code, resp.text[:300])
    assert "membership_ids" not in resp.text and "maxItems" not in resp.text, resp.text[:300]


def test_um_swaps_only_to_active_offered_products_and_never_at_once_in_the_past(um_sandbox: Any) -> None:
    from tests.integration.um_support import new_um_member, um_membership, um_php

    ids = um_sandbox.info["seeded"]["products"]
    made = um_php(um_sandbox, """
$t = $data;
$p = wu_create_product( array( 'slug' => "off-$t", 'name' => "Off $t", 'type' => 'plan', 'amount' => 1,
    'pricing_type' => 'paid', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true,
    'product_group' => 'High End', 'active' => false, 'list_order' => 0 ) );
$a = wu_create_product( array( 'slug' => "lone-$t", 'name' => "Lone $t", 'type' => 'package', 'amount' => 1,
    'pricing_type' => 'paid', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true, 'active' => true ) );
return array( 'inactive' => $p->get_id(), 'lone' => $a->get_id() );
""", tag())
    try:
        _swaps_refused(um_sandbox, ids, made, new_um_member, um_membership)
    finally:  # the shared network's catalog is left as seeded (other modules compare it)
        um_php(um_sandbox, "foreach ( $data as $id ) { wu_get_product( $id )->delete(); } return true;",
               [made["inactive"], made["lone"]])


def _swaps_refused(um_sandbox: Any, ids: dict[str, int], made: dict[str, int], new_um_member: Any,
                   um_membership: Any) -> None:
    member = new_um_member(um_sandbox, "premium")
    api = Api(um_sandbox.url, (um_sandbox.api_key, um_sandbox.api_secret))
    path = f"{W}/memberships/{member.membership_id}/scheduled-change"
    when = "2031-01-01T00:00:00Z"
    cases = [
        ({"plan_id": made["inactive"]}, when, "target.plan_id"),  # inactive, in the group
        ({"plan_id": ids["free"], "addon_products": {str(made["lone"]): 1}}, when,
         f"target.addon_products.{made['lone']}"),  # an add-on free does not offer
    ]
    for target, date, field in cases:
        resp = api("PUT", path, json={"scheduled_for": date, "target": target})
        assert resp.status_code == 400, (target, date, resp.status_code, resp.text[:300])
        assert resp.json()["data"]["field"] == field, resp.text[:300]
        held = um_membership(um_sandbox, member.membership_id)
        assert held["plan_id"] == ids["premium"] and held["swap_date"] is None, (target, held)
    ok = api("PUT", path, json={"scheduled_for": when, "target": {"plan_id": ids["free"]}})
    assert ok.status_code == 200, ok.text[:300]
    assert um_membership(um_sandbox, member.membership_id)["swap_jobs"] == 1
    # A date already past is an overdue swap, kept for `.../apply` (wpbridge sync): UM's job, which Action
    # Scheduler would run at once, is not left queued, and nothing is applied.
    api.ok("PUT", path, json={"scheduled_for": "2020-01-01T00:00:00Z", "target": {"plan_id": ids["free"]}})
    try:
        held = um_membership(um_sandbox, member.membership_id)
        assert held["swap_date"] and held["swap_jobs"] == 0 and held["plan_id"] == ids["premium"], held
    finally:  # an overdue swap left on the shared network would be applied by other modules' `sync` runs
        api("DELETE", path)


# ------------------------------------------------ 6. UM import: no silent clamping, no created id for a refused write


def _um_api(um_sandbox: Any) -> Api:
    return Api(um_sandbox.url, (um_sandbox.api_key, um_sandbox.api_secret))


@pytest.mark.parametrize(("field", "value"), [
    ("list_order", 300), ("list_order", -200), ("duration", 40_000), ("trial_duration", 70_000),
    ("billing_cycles", 32_768), ("product_group", "g" * 21), ("currency", "C" * 11)])
def test_um_import_refuses_a_product_value_its_column_would_clamp(um_sandbox: Any, field: str, value: Any) -> None:
    from tests.integration.um_support import sql

    api = _um_api(um_sandbox)
    slug = f"clamp-{tag()}"
    resp = api("POST", f"{W}/import/products", json={"slug": slug, "name": "Clamp", "type": "plan", field: value})
    try:
        assert resp.status_code == 400, (resp.status_code, resp.text[:300])
        assert resp.json()["data"]["field"] == field, resp.text[:300]
    finally:
        sql(um_sandbox, f"DELETE FROM wp_wu_products WHERE slug = '{slug}'")


def test_um_import_refuses_a_membership_value_its_column_would_clamp(um_sandbox: Any) -> None:
    from tests.integration.um_support import new_um_member

    member = new_um_member(um_sandbox, "premium")
    api = _um_api(um_sandbox)
    for field, value in (("duration", 40_000), ("times_billed", 70_000), ("billing_cycles", 65_536)):
        resp = api("PUT", f"{W}/import/memberships/{member.membership_id}", json={field: value})
        assert resp.status_code == 400, (field, resp.status_code, resp.text[:300])
        assert resp.json()["data"]["field"] == field, resp.text[:300]


def test_um_import_a_refused_write_is_an_error_never_a_created_id(um_sandbox: Any) -> None:
    from pathlib import Path

    api = _um_api(um_sandbox)
    t = tag()
    # A must-use plugin makes the database refuse this one product's INSERT (as a failing write would).
    plugin = Path(um_sandbox.info["docroot"]) / "wp-content" / "mu-plugins" / f"wpb-refuse-{t}.php"
    plugin.write_text("<?php add_filter( 'query', function ( $q ) { return ( str_starts_with( $q, 'INSERT' ) && "
                      f"str_contains( $q, 'refused-{t}' ) ) ? 'INSERT INTO wpb_no_such_table VALUES (1)' : $q; }} );\n")
    try:
        resp = api("POST", f"{W}/import/products", json={"slug": f"refused-{t}", "name": "Refused", "type": "plan"})
    finally:
        plugin.unlink()
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert "wpbridge_import_failed" in resp.text and '"id"' not in resp.text, resp.text[:300]


# ------------------------------------------------------- 8. stored XSS: what we write is sanitized as WordPress does

XSS = "<img src=x onerror=alert(1)>Evil"


def test_imported_names_titles_and_descriptions_are_sanitized(any_sandbox: Any) -> None:
    api = Api(any_sandbox.url, (any_sandbox.api_key, any_sandbox.api_secret))
    t = tag()
    try:
        made = api.ok("POST", f"{W}/import/products", json={
            "slug": f"xss-{t}", "name": XSS, "type": "plan", "product_group": "<b>g</b>",
            "description": "<p>ok</p><script>alert(1)</script><img src=x onerror=alert(2)>"})
        api.created.append(("product", int(made["id"])))
        product = api.ok("GET", f"{U}/product/{made['id']}")
        assert product["name"] == "Evil", product["name"]  # sanitize_text_field
        assert "<script" not in product["description"] and "onerror" not in product["description"], product
        assert "<p>ok</p>" in product["description"], product["description"]  # wp_kses_post keeps safe HTML
        assert product.get("product_group", product.get("group")) == "g", product
        site = api.ok("POST", f"{W}/import/sites", json={"path": f"/x{t}/", "title": XSS})["site"]
        api.created.append(("site", int(site["blog_id"])))
        listed = api.ok("GET", f"{W}/sites", params={"blog_ids": site["blog_id"]})
        assert listed[0]["title"] == "Evil", listed
    finally:
        api.cleanup()


# ------------------------------------------------------- 1. role rechecks: the old role kept, the right blog checked

ROLE_RECHECK = """
$blog = (int) $data['blog'];
$t    = $data['t'];
$made = array();
foreach ( array( 'a', 'b', 'c' ) as $k ) {
    $id = wpmu_create_user( "rr$k$t", wp_generate_password(), "rr$k$t@example.com" );
    add_user_to_blog( $blog, $id, 'a' === $k ? 'editor' : 'subscriber' );
    $made[ $k ] = $id;
}
$roles = function ( $id ) use ( $blog ) { return ( new WP_User( $id, '', $blog ) )->roles; };
switch_to_blog( $blog );  // on the site: a promotion over the quota
( new WP_User( $made['b'] ) )->set_role( 'editor' );
restore_current_blog();
$out = array( 'same_blog' => $roles( $made['b'] ) );
( new WP_User( $made['c'], '', $blog ) )->set_role( 'editor' );  // from the main site, for that site
$out['other_blog'] = $roles( $made['c'] );
$out['editor_kept'] = $roles( $made['a'] );
require_once ABSPATH . 'wp-admin/includes/ms.php';
foreach ( $made as $id ) { wpmu_delete_user( $id ); }
return $out;
"""


def test_a_role_recheck_keeps_the_old_role_and_checks_the_blog_it_was_made_for(sandbox: Any, api: Api) -> None:
    from tests.integration.um_support import um_php

    blog = new_site(api)
    api.ok("PUT", f"{W}/sites/{blog}/quota",
           json={"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 1}}}})
    out = um_php(sandbox, ROLE_RECHECK, {"blog": blog, "t": tag()})
    assert out["editor_kept"] == ["editor"], out
    assert out["same_blog"] == ["subscriber"], out  # not [] (no role at all on the site)
    assert out["other_blog"] == ["subscriber"], out  # checked against that blog's quota


# --------------------------------- 7. no site hides a page of the main site; the main site is linked to no membership


def test_an_imported_site_may_not_shadow_a_page_of_the_main_site(any_sandbox: Any) -> None:
    from tests.integration.um_support import um_php

    api = Api(any_sandbox.url, (any_sandbox.api_key, any_sandbox.api_secret))
    slug = f"page-{tag()}"
    page = um_php(any_sandbox, "return wp_insert_post( array( 'post_type' => 'page', 'post_status' => 'publish', "
                               "'post_title' => $data, 'post_name' => $data ) );", slug)
    try:
        resp = api("POST", f"{W}/import/sites", json={"path": f"/{slug}/", "title": "shadow"})
        if resp.status_code == 200:
            api.created.append(("site", int(resp.json()["site"]["blog_id"])))
        if any_sandbox.info.get("subdomains"):  # its own host hides nothing of the main site's; never the main site
            site = resp.json()["site"]
            assert resp.status_code == 200 and resp.json()["created"], resp.text[:300]
            assert site["domain"].startswith(f"{slug}.") and site["type"] != "main", site
            host = urlsplit(any_sandbox.url).netloc
            main = api("POST", f"{W}/import/sites", json={"domain": host, "path": "/", "title": "main"})
            assert main.status_code == 400 and main.json()["data"]["field"] == "domain", main.text[:300]
        else:
            assert resp.status_code == 400, (resp.status_code, resp.text[:300])
            assert resp.json()["data"]["field"] == "path" and slug in resp.text, resp.text[:300]
    finally:
        um_php(any_sandbox, "return (bool) wp_delete_post( $data, true );", page)
        api.cleanup()


def test_the_main_site_is_never_linked_to_a_membership_by_an_import(any_sandbox: Any) -> None:
    from tests.integration.um_support import new_um_member, um_php

    api = Api(any_sandbox.url, (any_sandbox.api_key, any_sandbox.api_secret))
    main = next(s for s in api.ok("GET", f"{W}/sites", params={"per_page": 100}) if s["is_main"])
    blog = main["blog_id"]
    stub = any_sandbox.info.get("flavor") != "ultimate-multisite"
    if stub:
        membership_id = api.ok("GET", f"{U}/membership", params={"per_page": 1})[0]["id"]
    else:
        membership_id = new_um_member(any_sandbox, "premium").membership_id
    try:
        resp = api("PUT", f"{W}/import/sites/{blog}", json={"membership_id": membership_id})
        assert resp.status_code == 409, (resp.status_code, resp.text[:300])
        assert f"site {blog}" in resp.json()["message"], resp.text[:300]
        after = next(s for s in api.ok("GET", f"{W}/sites", params={"per_page": 100}) if s["is_main"])
        assert after["membership_id"] == main["membership_id"], after
    finally:  # the shared network's main site is left as it was, whatever failed
        if stub:
            api("PUT", f"{U}/site/{blog}", json={"membership_id": main["membership_id"] or 0,
                                                  "customer_id": main["customer_id"] or 0})
        else:
            um_php(any_sandbox, UM_RELINK, {"blog": blog, "site": main})


UM_RELINK = """
$keys = array( 'wu_membership_id' => 'membership_id', 'wu_customer_id' => 'customer_id', 'wu_type' => 'type' );
foreach ( $keys as $m => $k ) {
    if ( null === $data['site'][ $k ] || 'main' === $data['site'][ $k ] ) { delete_site_meta( $data['blog'], $m ); }
    else { update_site_meta( $data['blog'], $m, $data['site'][ $k ] ); }
}
return true;"""


# ------------------------------------------------------------- 9. XML-RPC uploads are checked against the disk quota


def test_xmlrpc_uploads_are_checked_against_the_disk_quota(sandbox: Any, api: Api) -> None:
    import xmlrpc.client

    from tests.integration.um_support import um_php

    record = api.ok("POST", f"{U}/site", json={"path": f"/x{tag()}/", "title": "xmlrpc"})
    blog = int(record["blog_id"])
    api.ok("PUT", f"{W}/sites/{blog}/quota", json={"disk_space": {"enabled": True, "limit": 1}})
    big = b"x" * (3 * 1024 * 1024 // 2)  # 1.5 MB, over the 1 MB quota
    rpc = xmlrpc.client.ServerProxy(f"{site_home(sandbox.url, record)}xmlrpc.php")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc.wp.uploadFile(blog, sandbox.user, sandbox.app_password,
                          {"name": "big.png", "type": "image/png", "bits": xmlrpc.client.Binary(big)})
    assert "disk space" in fault.value.faultString, fault.value.faultString
    direct = um_php(sandbox, """
switch_to_blog( $data );
$r = wp_upload_bits( 'direct.png', null, str_repeat( 'x', 1536 * 1024 ) );
restore_current_blog();
return $r;""", blog)
    assert direct["error"] and "disk space" in direct["error"], direct
