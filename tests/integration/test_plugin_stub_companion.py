"""plugin-stub's companion routes (`wpbridge/v1`) against the session's real WordPress multisite: info, catalog,
usage, quotas (single, listed, batched, refused), the sandbox's fault switch, the sites and their links (the same
listing as `wu/v2/site`), memberships' own overrides, scheduled changes and locks.

The module creates 8 sites of its own. The batch test also rewrites other sites' stored quotas with exactly what
they hold (so the seeded example network is left as it was).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.conftest import site_home
from tests.integration.stub_api_support import TIMEOUT, Api, tag

W = "/wp-json/wpbridge/v1"


@pytest.fixture(scope="module")
def api(sandbox: Any) -> Iterator[Api]:
    api = Api(sandbox.url, (sandbox.api_key, sandbox.api_secret))
    yield api
    api.cleanup()


@pytest.fixture(scope="module")
def sites(sandbox: Any, api: Api) -> list[int]:
    """8 fresh sites of this module (created 4 at a time; each is a real wpmu_create_blog, about 0.2-0.7 s)."""
    t = tag()

    def create(i: int) -> int:
        return int(Api(sandbox.url, (sandbox.api_key, sandbox.api_secret), api.created).ok(
            "POST", "/wp-json/wu/v2/site", json={"path": f"/q{t}{i}/", "title": f"Q {i}"})["blog_id"])

    with ThreadPoolExecutor(4) as pool:
        return sorted(pool.map(create, range(8)))


@pytest.fixture
def no_faults(api: Api) -> Iterator[None]:
    yield
    api.ok("PUT", f"{W}/test/faults", json={"fail_quota_blog_ids": []})


QUOTA = {
    "disk_space": {"enabled": True, "limit": 500},
    "visits": {"enabled": True, "limit": ""},
    "post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 10},
                                             "page": {"enabled": False, "number": 0}}},
    "users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": "3"}}},
    "domain_mapping": {"enabled": True, "limit": True},
    "themes": {"enabled": True, "limit": {"twentytwentythree": {"visibility": "visible", "behavior": "available"}}},
    "plugins": {"enabled": True, "limit": {"akismet/akismet.php": {"visibility": "hidden",
                                                                    "behavior": "force_inactive"}}},
    "customer_user_role": {"enabled": True, "limit": "default"},
    "sites": {"enabled": False, "limit": 1},
}
STORED = {**QUOTA, "users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 3}}}}


# ------------------------------------------------------------------------------------------- info and catalog

def test_info(api: Api) -> None:
    info = api.ok("GET", f"{W}/info")
    assert info["mode"] == "stub" and info["batch_limit"] == 25 and info["multisite"] is True
    assert info["plugin_version"] and info["wp_version"].startswith("6.")
    assert info["db_version"] >= 1 and info["test_mode"] is True
    assert info["um_version"] == "2.4.12"  # stub mode: the network option, default the latest UM release
    server = datetime.fromisoformat(info["server_time"].replace("Z", "+00:00"))
    assert abs((server - datetime.now(UTC)).total_seconds()) < 60


def test_catalog_has_limitations_variations_and_codes(api: Api) -> None:
    t = tag()
    product = api.ok("POST", "/wp-json/wu/v2/product", json={
        "slug": f"cat-{t}", "type": "plan", "amount": "39", "duration": 1, "duration_unit": "month",
        "list_order": -50, "price_variations": [{"duration": 12, "duration_unit": "month", "amount": "390"}],
        "limitations": {"post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 5}}}}})
    code = api.ok("POST", "/wp-json/wu/v2/discount_code", json={"code": f"C{t}", "type": "absolute", "value": "5"})
    catalog = api.ok("GET", f"{W}/catalog")
    by_id = {p["id"]: p for p in catalog["products"]}
    assert by_id[product["id"]] == product
    orders = [(p["list_order"], p["id"]) for p in catalog["products"]]
    assert orders == sorted(orders)
    assert code["id"] in [c["id"] for c in catalog["discount_codes"]]
    # The seeded example catalog is there too, with its pinned slugs.
    assert {"free", "basic", "premium", "unlimited-visits", "extra-storage", "site-setup"} <= {
        p["slug"] for p in catalog["products"]}


# ------------------------------------------------------------------------------------------------------- usage

def test_usage_counts_what_the_site_holds(sandbox: Any, api: Api, sites: list[int]) -> None:
    blog = sites[0]
    admin = Api(sandbox.url, (sandbox.user, sandbox.app_password))
    site = api.ok("GET", f"/wp-json/wu/v2/site/{blog}")
    base = site_home(sandbox.url, site).rstrip("/") + "/wp-json"
    before = api.ok("GET", f"{W}/usage", params={"blog_ids": blog})["usage"][0]
    for status in ("publish", "private", "draft"):
        resp = admin.http.post(f"{base}/wp/v2/posts", json={"title": status, "status": status}, timeout=TIMEOUT)
        assert resp.status_code == 201
    t = tag()
    resp = admin.http.post(f"{base}/wp/v2/users", timeout=TIMEOUT, json={
        "username": f"u{t}", "email": f"u{t}@example.com", "password": uuid.uuid4().hex, "roles": ["author"]})
    assert resp.status_code == 201
    after = api.ok("GET", f"{W}/usage", params={"blog_ids": blog})["usage"][0]
    assert after["post_types"]["post"] == before["post_types"].get("post", 0) + 2  # the draft does not count
    assert after["users"]["author"] == before["users"].get("author", 0) + 1
    assert set(after) == {"blog_id", "post_types", "custom_domains", "disk_used_mb", "users", "visits_this_month"}
    assert after["custom_domains"] == 0 and after["visits_this_month"] == 0
    assert float(after["disk_used_mb"]) >= 0


def test_usage_of_many_sites_in_one_call(api: Api, sites: list[int]) -> None:
    asked = [*sites[:5], 987654, *sites[5:10]]
    rows = api.ok("GET", f"{W}/usage", params={"blog_ids": ",".join(map(str, asked))})["usage"]
    assert [r["blog_id"] for r in rows] == sites[:10]  # in the order asked; unknown ids left out
    assert all(r["users"].get("administrator") == 1 for r in rows)


@pytest.mark.parametrize("blog_ids", [None, "", "a,b", ",".join(str(i) for i in range(1, 102))])
def test_usage_needs_1_to_100_ids(api: Api, blog_ids: str | None) -> None:
    resp = api("GET", f"{W}/usage", params={"blog_ids": blog_ids} if blog_ids is not None else {})
    assert resp.status_code == 400 and resp.json()["data"]["field"].startswith("blog_ids")


# ------------------------------------------------------------------------------------------------------ quotas

def test_quota_put_is_absolute_and_idempotent(api: Api, sites: list[int]) -> None:
    path = f"{W}/sites/{sites[1]}/quota"
    assert api.ok("GET", path) == {}
    assert api.ok("PUT", path, json=QUOTA) == STORED
    assert api.ok("PUT", path, json=QUOTA) == STORED
    assert api.ok("GET", path) == STORED
    assert api.ok("PUT", path, json={"visits": {"enabled": True, "limit": 10}}) == {
        "visits": {"enabled": True, "limit": 10}}  # replaced, not merged
    assert api.ok("DELETE", path) == {"deleted": True}
    assert api.ok("DELETE", path) == {"deleted": True}
    assert api.ok("GET", path) == {}


def test_quota_of_unknown_site_is_404(api: Api) -> None:
    for method in ("GET", "PUT", "DELETE"):
        resp = api(method, f"{W}/sites/987654/quota", json={})
        assert resp.status_code == 404 and resp.json()["code"] == "wpbridge_site_not_found"


MALFORMED = [
    ([], "(body)"),
    ({"disk": {"limit": 5}}, "disk"),
    ({"disk_space": 500}, "disk_space"),
    ({"disk_space": {"enabled": True, "limit": -1}}, "disk_space.limit"),
    ({"disk_space": {"enabled": True, "limit": "lots"}}, "disk_space.limit"),
    ({"disk_space": {"enabled": "yes please", "limit": 1}}, "disk_space.enabled"),
    ({"disk_space": {"enabled": True, "limt": 1}}, "disk_space.limt"),
    ({"visits": {"limit": 1.5}}, "visits.limit"),
    ({"users": {"enabled": True, "limit": [1, 2]}}, "users.limit"),
    ({"users": {"enabled": True, "limit": {"editor": 3}}}, "users.limit.editor"),
    ({"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": -3}}}}, "users.limit.editor.number"),
    ({"users": {"enabled": True, "limit": {"Bad Role": {"number": 1}}}}, "users.limit.Bad Role"),
    ({"post_types": {"limit": {"post": {"enabled": True, "max": 3}}}}, "post_types.limit.post.max"),
    ({"themes": {"limit": {"x": {"behavior": "sometimes"}}}}, "themes.limit.x.behavior"),
    ({"plugins": {"limit": {"a/a.php": {"visibility": "shown"}}}}, "plugins.limit.a/a.php.visibility"),
    ({"domain_mapping": {"limit": "many"}}, "domain_mapping.limit"),
    ({"hide_credits": {"limit": "no thanks"}}, "hide_credits.limit"),
]


@pytest.mark.parametrize(("body", "field"), MALFORMED)
def test_malformed_quota_is_400_naming_the_field_and_changes_nothing(api: Api, sites: list[int], body: Any,
                                                                    field: str) -> None:
    path = f"{W}/sites/{sites[2]}/quota"
    api.ok("PUT", path, json={"visits": {"enabled": True, "limit": 7}})
    resp = api("PUT", path, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "rest_invalid_param" and resp.json()["data"]["field"] == field
    assert api.ok("GET", path) == {"visits": {"enabled": True, "limit": 7}}


def batch(items: list[tuple[str, int, Any]], validation: str = "require-all-validate") -> dict[str, Any]:
    return {"validation": validation, "requests": [
        {"method": m, "path": f"/wpbridge/v1/sites/{blog}/quota", **({"body": b} if b is not None else {})}
        for m, blog, b in items]}


def test_a_batch_of_25_quota_writes(sandbox: Any, api: Api, sites: list[int]) -> None:
    """New quotas for this module's sites; the other sites of the network get back exactly what they hold."""
    others = [row for row in api.ok("GET", f"{W}/quotas", params={"per_page": 100})
              if row["blog_id"] != 1 and row["blog_id"] not in sites][: 25 - len(sites)]
    mine = {blog: {"disk_space": {"enabled": True, "limit": 100 + i}} for i, blog in enumerate(sites)}
    same = {row["blog_id"]: row["quota"] for row in others}
    items = [("PUT", b, q) for b, q in mine.items()]
    items += [("PUT", b, q) if q is not None else ("DELETE", b, None) for b, q in same.items()]
    assert len(items) == 25, "the sandbox needs at least 25 sites besides the main one"
    reply = api.ok("POST", "/wp-json/batch/v1", json=batch(items))
    assert [r["status"] for r in reply["responses"]] == [200] * 25
    assert [r["body"] for r in reply["responses"][: len(mine)]] == list(mine.values())
    listed = api.ok("GET", f"{W}/quotas", params={"blog_ids": ",".join(str(b) for _, b, _ in items), "per_page": 100})
    assert {row["blog_id"]: row["quota"] for row in listed} == {**mine, **same}


def test_a_batch_over_the_limit_is_refused_whole(api: Api, sites: list[int]) -> None:
    resp = api("POST", "/wp-json/batch/v1", json=batch([("PUT", sites[0], {})] * 26))
    assert resp.status_code == 400


def test_a_malformed_item_makes_the_batch_write_nothing(api: Api, sites: list[int]) -> None:
    before = api.ok("GET", f"{W}/sites/{sites[3]}/quota")
    items = [("PUT", sites[3], {"visits": {"enabled": True, "limit": 123}}),
             ("PUT", sites[2], {"visits": {"enabled": True, "limit": -1}})]
    reply = api.ok("POST", "/wp-json/batch/v1", json=batch(items))
    assert reply["failed"] == "validation"
    assert reply["responses"][1]["body"]["data"]["field"] == "visits.limit"
    assert api.ok("GET", f"{W}/sites/{sites[3]}/quota") == before


def test_batch_with_wrong_credentials_writes_nothing(sandbox: Any, api: Api, sites: list[int]) -> None:
    before = api.ok("GET", f"{W}/sites/{sites[4]}/quota")
    for auth in (None, (sandbox.api_key, "nope"), (sandbox.user, "abcd efgh ijkl mnop qrst uvwx")):
        reply = Api(sandbox.url, auth).ok("POST", "/wp-json/batch/v1",
                                          json=batch([("PUT", sites[4], {"visits": {"limit": 1}})]))
        assert [r["status"] for r in reply["responses"]] == [401]
    assert api.ok("GET", f"{W}/sites/{sites[4]}/quota") == before


def test_quota_list_pages_over_every_site(api: Api, sites: list[int]) -> None:
    first = api("GET", f"{W}/quotas", params={"per_page": 7, "page": 1})
    total = int(first.headers["X-WP-Total"])
    assert total >= len(sites) + 1 and first.headers["X-WP-TotalPages"] == str(-(-total // 7))
    seen = [row["blog_id"] for row in first.json()]
    for page in range(2, int(first.headers["X-WP-TotalPages"]) + 1):
        seen += [row["blog_id"] for row in api.ok("GET", f"{W}/quotas", params={"per_page": 7, "page": page})]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == total and set(sites) <= set(seen)
    api.ok("DELETE", f"{W}/sites/{sites[7]}/quota")
    row = api.ok("GET", f"{W}/quotas", params={"blog_ids": sites[7]})
    assert row == [{"blog_id": sites[7], "quota": None}]


def test_fault_switch_single_and_batch(api: Api, sites: list[int], no_faults: None) -> None:
    a, b = sites[5], sites[6]
    api.ok("PUT", f"{W}/sites/{a}/quota", json={"visits": {"enabled": True, "limit": 1}})
    assert api.ok("PUT", f"{W}/test/faults", json={"fail_quota_blog_ids": [a], "status": 503}) == {
        "fail_quota_blog_ids": [a], "status": 503}
    resp = api("PUT", f"{W}/sites/{a}/quota", json={"visits": {"enabled": True, "limit": 2}})
    assert resp.status_code == 503 and resp.json()["code"] == "wpbridge_test_fault"
    assert api("DELETE", f"{W}/sites/{a}/quota").status_code == 503
    reply = api.ok("POST", "/wp-json/batch/v1", json=batch(
        [("PUT", b, {"visits": {"enabled": True, "limit": 3}}), ("PUT", a, {"visits": {"enabled": True, "limit": 3}})]))
    assert [r["status"] for r in reply["responses"]] == [200, 503]
    assert api.ok("GET", f"{W}/sites/{a}/quota") == {"visits": {"enabled": True, "limit": 1}}
    assert api.ok("GET", f"{W}/sites/{b}/quota") == {"visits": {"enabled": True, "limit": 3}}
    api.ok("PUT", f"{W}/test/faults", json={"fail_quota_blog_ids": []})
    assert api("PUT", f"{W}/sites/{a}/quota", json={}).status_code == 200
    resp = api("PUT", f"{W}/test/faults", json={"fail_quota_blog_ids": [a], "status": 200})
    assert resp.status_code == 400 and resp.json()["data"]["field"] == "status"


# ------------------------------------------------------------------------------------------ scheduled changes

@pytest.fixture(scope="module")
def memberships(api: Api) -> list[dict[str, Any]]:
    t = tag()
    plan = api.ok("POST", "/wp-json/wu/v2/product", json={"slug": f"sp-{t}", "type": "plan", "duration_unit": "month"})
    small = api.ok("POST", "/wp-json/wu/v2/product", json={"slug": f"ss-{t}", "type": "plan", "duration_unit": "month"})
    pack = api.ok("POST", "/wp-json/wu/v2/product", json={"slug": f"sk-{t}", "type": "package",
                                                           "duration_unit": "month"})
    customer = api.ok("POST", "/wp-json/wu/v2/customer", json={"username": f"s{t}", "email": f"s{t}@example.com"})
    out = [api.ok("POST", "/wp-json/wu/v2/membership", json={
        "customer_id": customer["id"], "plan_id": plan["id"], "status": "active", "amount": "30"}) for _ in range(3)]
    return [{**m, "_small": small["id"], "_pack": pack["id"], "_big": plan["id"]} for m in out]


def test_sites_lists_the_links_as_wu_v2_site_does(api: Api, sites: list[int],
                                                   memberships: list[dict[str, Any]]) -> None:
    """`GET /sites` reads the same site_links() as `wu/v2/site` (one listing for every route, both modes): the links,
    the type, the filters, and an unknown parameter refused."""
    m = memberships[0]
    api.ok("PUT", f"/wp-json/wu/v2/site/{sites[7]}", json={"membership_id": m["id"], "type": "customer_owned",
                                                             "limitations": {"visits": {"enabled": True, "limit": 9}}})
    rows = api.ok("GET", f"{W}/sites", params={"blog_ids": f"1,{sites[7]},{sites[6]}"})
    by_id = {r["blog_id"]: r for r in rows}
    assert [r["blog_id"] for r in rows] == sorted(by_id)
    site = api.ok("GET", f"/wp-json/wu/v2/site/{sites[7]}")
    assert by_id[sites[7]] | {"limitations": None} == {
        "blog_id": sites[7], "domain": site["domain"], "path": site["path"], "title": site["title"],
        "membership_id": m["id"], "customer_id": m["customer_id"], "type": "customer_owned", "is_main": False,
        "suspended": False, "limitations": None}
    assert by_id[sites[7]]["limitations"] == {"visits": {"enabled": True, "limit": 9}}
    assert by_id[1]["type"] == "main" and by_id[1]["is_main"] is True and by_id[1]["membership_id"] is None
    assert by_id[sites[6]]["membership_id"] is None and by_id[sites[6]]["limitations"] == {}
    assert [r["blog_id"] for r in api.ok("GET", f"{W}/sites", params={"membership_id": m["id"]})] == [sites[7]]
    resp = api("GET", f"{W}/sites", params={"membershipid": m["id"]})
    assert resp.status_code == 400 and resp.json()["data"]["field"] == "membershipid"
    api.ok("PUT", f"/wp-json/wu/v2/site/{sites[7]}", json={"membership_id": None, "limitations": {}})


def test_membership_limitations_are_each_memberships_own_override(api: Api,
                                                                  memberships: list[dict[str, Any]]) -> None:
    a, b = memberships[0], memberships[1]
    api.ok("PUT", f"/wp-json/wu/v2/membership/{a['id']}", json={"limitations": {"sites": {"enabled": True,
                                                                                            "limit": 2}}})
    reply = api.ok("GET", f"{W}/memberships/limitations", params={"membership_ids": f"{b['id']},{a['id']},987654"})
    assert reply == {"limitations": [
        {"membership_id": a["id"], "limitations": {"sites": {"enabled": True, "limit": 2}}, "unreadable": None},
        {"membership_id": b["id"], "limitations": {}, "unreadable": None}]}
    api.ok("PUT", f"/wp-json/wu/v2/membership/{a['id']}", json={"limitations": {}})


def test_scheduled_change_store_read_list_and_clear(api: Api, memberships: list[dict[str, Any]]) -> None:
    m1, m2, m3 = memberships
    path = f"{W}/memberships/{m1['id']}/scheduled-change"
    body = {"scheduled_for": "2031-03-01T00:00:00Z", "note": "downgrade at renewal",
            "target": {"plan_id": m1["_small"], "addon_products": {str(m1["_pack"]): 1}, "amount": 12,
                       "duration": 1, "duration_unit": "month", "recurring": 1}}
    stored = api.ok("PUT", path, json=body)
    assert stored["membership_id"] == m1["id"] and stored["scheduled_for"] == "2031-03-01T00:00:00Z"
    assert stored["target"] == {"plan_id": m1["_small"], "addon_products": {str(m1["_pack"]): 1},
                                "amount": "12.0000", "duration": 1, "duration_unit": "month", "recurring": True}
    assert stored["note"] == "downgrade at renewal" and stored["created_at"]
    assert api.ok("GET", path) == stored
    again = api.ok("PUT", path, json={**body, "scheduled_for": "2031-03-02T10:00:00+02:00"})  # absolute: replaced
    assert again["scheduled_for"] == "2031-03-02T08:00:00Z" and again["created_at"] == stored["created_at"]
    api.ok("PUT", f"{W}/memberships/{m2['id']}/scheduled-change",
           json={"scheduled_for": "2031-01-15T00:00:00Z", "target": {"amount": "5"}})
    api.ok("PUT", f"{W}/memberships/{m3['id']}/scheduled-change",
           json={"scheduled_for": "2035-01-01T00:00:00Z", "target": {"amount": "5"}})
    mine = {m["id"] for m in memberships}

    def listed(**params: Any) -> list[int]:
        resp = api("GET", f"{W}/scheduled-changes", params={"per_page": 100, **params})
        assert resp.status_code == 200 and int(resp.headers["X-WP-Total"]) == len(resp.json())
        return [c["membership_id"] for c in resp.json() if c["membership_id"] in mine]

    assert listed(due_before="2031-06-01T00:00:00Z") == [m2["id"], m1["id"]]  # by scheduled_for
    assert listed(due_before="2031-02-01T00:00:00Z") == [m2["id"]]
    assert listed(membership_id=m3["id"]) == [m3["id"]]
    assert api.ok("DELETE", path) == {"deleted": True}
    assert api.ok("DELETE", path) == {"deleted": True}
    resp = api("GET", path)
    assert resp.status_code == 404 and resp.json()["code"] == "wpbridge_no_scheduled_change"


def test_scheduled_change_validation(api: Api, memberships: list[dict[str, Any]]) -> None:
    m = memberships[0]
    path = f"{W}/memberships/{m['id']}/scheduled-change"
    good = {"scheduled_for": "2031-01-01T00:00:00Z", "target": {"amount": "5"}}
    for body, field in [
        ({**good, "scheduled_for": "next tuesday"}, "scheduled_for"),
        ({"target": {"amount": "5"}}, "scheduled_for"),
        ({**good, "target": {}}, "target"),
        ({**good, "target": {"planid": 3}}, "target.planid"),
        ({**good, "target": {"amount": "-5"}}, "target.amount"),
        ({**good, "target": {"status": "paused"}}, "target.status"),
        ({**good, "target": {"plan_id": m["_pack"]}}, "target.plan_id"),
        ({**good, "target": {"addon_products": {"987654": 1}}}, "target.addon_products.987654"),
        ({**good, "when": "now"}, "when"),
    ]:
        resp = api("PUT", path, json=body)
        assert resp.status_code == 400 and resp.json()["data"]["field"] == field, (body, resp.text)
    resp = api("PUT", f"{W}/memberships/987654/scheduled-change", json=good)
    assert resp.status_code == 404 and resp.json()["code"] == "wpbridge_membership_not_found"
    assert api("GET", f"{W}/scheduled-changes", params={"due_before": "soon"}).status_code == 400


# ------------------------------------------------------------------------------------------------------- locks

def test_lock_is_exclusive_refreshable_and_expires(api: Api) -> None:
    name = f"sync-{tag()}"
    path = f"{W}/locks/{name}"
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    held = api.ok("POST", path, json={"owner": a, "ttl": 2})
    assert held["name"] == name and held["owner"] == a
    taken = api("POST", path, json={"owner": b, "ttl": 60})
    assert taken.status_code == 409 and taken.json()["code"] == "wpbridge_locked"
    assert taken.json()["data"]["owner"] == a and taken.json()["data"]["expires_at"] == held["expires_at"]
    refreshed = api.ok("POST", path, json={"owner": a, "ttl": 1})
    assert refreshed["owner"] == a
    assert api.ok("DELETE", path, params={"owner": b}) == {"name": name, "released": False}
    api.ok("PUT", f"{W}/test/clock", json={"offset_ms": 1500})  # the lock's clock 1.5 s on: no sleeping
    try:  # the refreshed lock (ttl 1 s) has expired: another owner may take it over
        assert api.ok("POST", path, json={"owner": b, "ttl": 60})["owner"] == b
    finally:
        api.ok("PUT", f"{W}/test/clock", json={"offset_ms": 0})
    assert api("POST", path, json={"owner": a, "ttl": 60}).status_code == 409
    assert api.ok("DELETE", path, params={"owner": b}) == {"name": name, "released": True}
    assert api.ok("POST", path, json={"owner": a, "ttl": 60})["owner"] == a
    api.ok("DELETE", path, params={"owner": a})


def test_concurrent_acquisition_has_one_winner(sandbox: Any) -> None:
    path = f"{W}/locks/race-{tag()}"

    def grab(owner: str) -> int:
        return Api(sandbox.url, (sandbox.api_key, sandbox.api_secret))("POST", path,
                                                                       json={"owner": owner, "ttl": 60}).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(grab, [f"owner-{i}" for i in range(8)]))
    assert sorted(codes) == [200] + [409] * 7


@pytest.mark.parametrize(("body", "field"), [({}, "owner"), ({"owner": ""}, "owner"),
                                            ({"owner": "a", "ttl": 0}, "ttl"), ({"owner": "a", "ttl": "x"}, "ttl")])
def test_lock_validation(api: Api, body: dict[str, Any], field: str) -> None:
    resp = api("POST", f"{W}/locks/v-{tag()}", json=body)
    assert resp.status_code == 400 and resp.json()["data"]["field"] == field
    assert api("DELETE", f"{W}/locks/v-{tag()}").status_code == 400  # owner is required
