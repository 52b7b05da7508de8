"""plugin-stub under attack (issue 11, items 1-9): what a site admin or a careless client tried, against the real
WordPress multisite. Each test names the bypass it closes; each failed before the fix.

The quotas bind the super admin too, so the attacker here is the sandbox's super admin acting on a site's own
REST API (a site admin would be refused the same way, and earlier, by WordPress's capabilities). The module makes
its own sites and records and deletes them at the end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import site_home
from tests.integration.stub_api_support import TIMEOUT, Api, png, tag

W = "/wp-json/wpbridge/v1"
U = "/wp-json/wu/v2"


class Site:
    """A site of this module: its REST base, the API client (network) and the super admin acting on the site."""

    def __init__(self, sandbox: Any, record: dict[str, Any]) -> None:
        self.blog_id = int(record["blog_id"])
        self.home = site_home(sandbox.url, record)
        self.rest = self.home.rstrip("/") + "/wp-json"
        self.api = Api(sandbox.url, (sandbox.api_key, sandbox.api_secret))
        self.admin = requests.Session()
        self.admin.auth = (sandbox.user, sandbox.app_password)

    def quota(self, limitations: dict[str, Any] | None) -> None:
        if limitations is None:
            self.api.ok("DELETE", f"{W}/sites/{self.blog_id}/quota")
        else:
            self.api.ok("PUT", f"{W}/sites/{self.blog_id}/quota", json=limitations)

    def usage(self) -> dict[str, Any]:
        return self.api.ok("GET", f"{W}/usage", params={"blog_ids": self.blog_id})["usage"][0]  # type: ignore[no-any-return]

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.admin.post(self.rest + path, timeout=TIMEOUT, **kw)

    def posts_limit(self, number: int, type_: str = "post") -> None:
        self.quota({"post_types": {"enabled": True, "limit": {type_: {"enabled": True, "number": number}}}})


@pytest.fixture(scope="module")
def api(sandbox: Any) -> Iterator[Api]:
    api = Api(sandbox.url, (sandbox.api_key, sandbox.api_secret))
    yield api
    api.cleanup()


@pytest.fixture(scope="module")
def new_site(sandbox: Any, api: Api) -> Any:
    t = tag()
    count = iter(range(100))

    def make() -> Site:
        record = api.ok("POST", f"{U}/site", json={"path": f"/x{t}{next(count)}/", "title": "attacked"})
        return Site(sandbox, record)

    return make


def refused(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 403, resp.text[:300]
    body: dict[str, Any] = resp.json()
    assert body["code"] == "wpbridge_quota_exceeded", body
    return body


def bad_request(resp: requests.Response, field: str) -> dict[str, Any]:
    assert resp.status_code == 400, resp.text[:300]
    body: dict[str, Any] = resp.json()
    assert body["data"]["field"] == field, body
    return body


def future(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------------------------- 1. scheduling past the quota

def test_scheduled_posts_count_toward_the_post_quota(new_site: Any) -> None:
    site = new_site()
    have = site.usage()["post_types"].get("post", 0)
    site.posts_limit(have + 2)
    scheduled = site.post("/wp/v2/posts", json={"title": "s1", "status": "future", "date_gmt": future(86400)})
    assert scheduled.status_code == 201
    assert site.post("/wp/v2/posts", json={"title": "p1", "status": "publish"}).status_code == 201
    # The scheduled post holds the last place: neither another scheduled post nor a published one fits.
    body = refused(site.post("/wp/v2/posts", json={"title": "s2", "status": "future", "date_gmt": future(86400)}))
    assert body["data"]["count"] == have + 2 and body["data"]["limit"] == have + 2
    refused(site.post("/wp/v2/posts", json={"title": "p2", "status": "publish"}))


def test_scheduled_posts_published_later_respect_the_quota(new_site: Any) -> None:
    """Posts scheduled before the quota (or while it was higher) are published later without any creation check:
    by WP-Cron (wp_publish_post) or, as here, by WordPress itself when an edit moves the date into the past. The
    transition to publish is checked wherever it happens: over the quota, the post is kept as a draft."""
    site = new_site()
    have = site.usage()["post_types"].get("post", 0)
    ids = []
    for i in range(3):
        made = site.post("/wp/v2/posts", json={"title": f"later {i}", "status": "future", "date_gmt": future(3600)})
        assert made.status_code == 201 and made.json()["status"] == "future", made.text[:200]
        ids.append(made.json()["id"])
    site.posts_limit(have + 1)
    for i in ids:  # no status in the body: WordPress publishes a scheduled post whose date has passed
        assert site.post(f"/wp/v2/posts/{i}", json={"date_gmt": "2020-01-01T00:00:00"}).status_code == 200
    statuses = [site.admin.get(f"{site.rest}/wp/v2/posts/{i}", params={"context": "edit"}, timeout=TIMEOUT)
                .json()["status"] for i in ids]
    assert statuses == ["publish", "draft", "draft"], statuses
    assert site.usage()["post_types"]["post"] == have + 1


# ------------------------------------------------------------------------------------------ 2. upload quota

def upload(site: Site, path: str, image: bytes, name: str) -> requests.Response:
    return site.post(path, data=image, headers={"Content-Disposition": f'attachment; filename="{name}.png"',
                                                "Content-Type": "image/png"})


def test_uploads_are_refused_whatever_the_route_spelling(new_site: Any) -> None:
    site = new_site()
    site.quota({"disk_space": {"enabled": True, "limit": 1}})
    half = png(420, 420)  # ~0.53 MB
    assert upload(site, "/wp/v2/media", half, "half").status_code == 201
    big = png(400, 500)  # ~0.6 MB: the two would not fit in 1 MB
    for spelling in ("/wp/v2/Media", "/WP/V2/MEDIA", "/wp/v2/media/"):
        resp = upload(site, spelling, big, "big")
        assert resp.status_code == 403, (spelling, resp.status_code, resp.text[:200])
        assert resp.json()["code"] == "wpbridge_quota_exceeded"
    # Multipart through a spelled-differently route is the same upload.
    refused(site.post("/wp/v2/MEDIA", files={"file": ("big.png", big, "image/png")}))
    assert site.usage()["post_types"].get("attachment") == 1
    assert float(site.usage()["disk_used_mb"]) < 1


def test_the_media_edit_route_is_counted(new_site: Any) -> None:
    site = new_site()
    site.quota({"post_types": {"enabled": True, "limit": {"attachment": {"enabled": True, "number": 2}}}})
    first = upload(site, "/wp/v2/media", png(40, 40), "small")
    assert first.status_code == 201, first.text[:300]
    media = first.json()["id"]
    src = first.json()["source_url"]
    made = site.post(f"/wp/v2/media/{media}/edit", json={"rotation": 90, "src": src})
    assert made.status_code == 201, made.text[:300]  # the second attachment: within the quota
    for path in (f"/wp/v2/media/{media}/edit", f"/wp/v2/Media/{media}/Edit"):
        body = refused(site.post(path, json={"rotation": 90, "src": src}))
        assert body["data"]["post_type"] == "attachment"
    assert site.usage()["post_types"]["attachment"] == 2


# ------------------------------------------------------------------------------------------- 3. role quota

def test_roles_are_refused_whatever_the_route_spelling(new_site: Any) -> None:
    site = new_site()
    site.quota({"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 1}}}})

    def user(path: str, role: str) -> requests.Response:
        t = uuid.uuid4().hex[:10]
        return site.post(path, json={"username": f"r{t}", "email": f"r{t}@example.com",
                                     "password": uuid.uuid4().hex, "roles": [role]})

    assert user("/wp/v2/users", "editor").status_code == 201
    for spelling in ("/wp/v2/Users", "/WP/V2/USERS"):
        refused(user(spelling, "editor"))
    sub = user("/wp/v2/Users", "subscriber")
    assert sub.status_code == 201
    for spelling in (f"/wp/v2/USERS/{sub.json()['id']}", f"/wp/v2/Users/{sub.json()['id']}"):
        refused(site.post(spelling, json={"roles": ["editor"]}))
    assert site.usage()["users"].get("editor") == 1


# ---------------------------------------------------------------------------------------- 4. ids from the URL

@pytest.fixture(scope="module")
def catalog(api: Api) -> dict[str, Any]:
    t = tag()
    plan = api.ok("POST", f"{U}/product", json={"slug": f"sp-{t}", "type": "plan", "amount": "9",
                                                 "duration_unit": "month"})
    customer = api.ok("POST", f"{U}/customer", json={"username": f"sec{t}", "email": f"sec{t}@example.com"})
    return {"plan": plan, "customer": customer}


def membership(api: Api, catalog: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return api.ok("POST", f"{U}/membership", json={  # type: ignore[no-any-return]
        "customer_id": catalog["customer"]["id"], "plan_id": catalog["plan"]["id"], "amount": "9",
        "status": "active", **fields})


def test_ids_come_from_the_url_only(api: Api, catalog: dict[str, Any], new_site: Any) -> None:
    a, b = membership(api, catalog), membership(api, catalog)
    resp = api("PUT", f"{U}/membership/{a['id']}", json={"id": b["id"], "gateway": "other"})
    assert resp.status_code == 200 and resp.json()["id"] == a["id"]
    assert api.ok("GET", f"{U}/membership/{b['id']}")["gateway"] == b["gateway"]
    assert api.ok("GET", f"{U}/membership/{a['id']}")["gateway"] == "other"
    resp = api("PUT", f"{U}/membership/{a['id']}", params={"id": b["id"]}, json={"gateway": "again"})
    assert resp.status_code == 200 and api.ok("GET", f"{U}/membership/{b['id']}")["gateway"] == b["gateway"]

    t = tag()
    c1 = api.ok("POST", f"{U}/discount_code", json={"code": f"A{t}"})
    c2 = api.ok("POST", f"{U}/discount_code", json={"code": f"B{t}"})
    assert api("DELETE", f"{U}/discount_code/{c1['id']}", params={"id": c2["id"]}).status_code == 200
    assert api("GET", f"{U}/discount_code/{c2['id']}").status_code == 200
    assert api("GET", f"{U}/discount_code/{c1['id']}").status_code == 404

    s1, s2 = new_site(), new_site()
    s2.quota({"visits": {"enabled": True, "limit": 7}})
    api.ok("PUT", f"{W}/sites/{s1.blog_id}/quota", params={"blog_id": s2.blog_id},
           json={"visits": {"enabled": True, "limit": 1}})
    # A body key blog_id is not a module: refused, and never read as the site.
    bad_request(api("PUT", f"{W}/sites/{s1.blog_id}/quota", json={"blog_id": s2.blog_id}), "blog_id")
    assert api.ok("GET", f"{W}/sites/{s2.blog_id}/quota")["visits"]["limit"] == 7
    assert api.ok("GET", f"{W}/sites/{s1.blog_id}/quota")["visits"]["limit"] == 1
    api.ok("DELETE", f"{W}/sites/{s1.blog_id}/quota", params={"blog_id": s2.blog_id})
    assert api.ok("GET", f"{W}/sites/{s2.blog_id}/quota")["visits"]["limit"] == 7

    api.ok("PUT", f"{W}/memberships/{a['id']}/scheduled-change", params={"id": b["id"]},
           json={"scheduled_for": "2030-01-01T00:00:00Z", "target": {"status": "expired"}})
    assert api("GET", f"{W}/memberships/{b['id']}/scheduled-change").status_code == 404
    assert api("DELETE", f"{W}/memberships/{a['id']}/scheduled-change", params={"id": b["id"]}).status_code == 200
    assert api("GET", f"{W}/memberships/{a['id']}/scheduled-change").status_code == 404

    other = api.ok("POST", f"{U}/customer", json={"username": f"oth{t}", "email": f"oth{t}@example.com"})
    mine = catalog["customer"]["id"]
    api.ok("PUT", f"{W}/import/customers/{mine}", params={"id": other["id"]}, json={"vip": True})
    assert api.ok("GET", f"{U}/customer/{mine}")["vip"] is True
    assert api.ok("GET", f"{U}/customer/{other['id']}")["vip"] is False

    lock = f"sec-{t}"
    got = api.ok("POST", f"{W}/locks/{lock}", params={"name": f"{lock}-other"}, json={"owner": "o1", "ttl": 60})
    assert got["name"] == lock
    got = api.ok("POST", f"{W}/locks/{lock}-2", json={"owner": "o1", "ttl": 60, "name": f"{lock}-3"})
    assert got["name"] == f"{lock}-2"
    assert api("POST", f"{W}/locks/{lock}-3", json={"owner": "o2", "ttl": 60}).status_code == 200  # was free
    for name in (lock, f"{lock}-2", f"{lock}-3"):
        api.ok("DELETE", f"{W}/locks/{name}", params={"owner": "o2" if name.endswith("-3") else "o1"})


# --------------------------------------------------------------------------------- 5. bodies that are not objects

NOT_OBJECTS = [b'"hello"', b"null", b"", b"[]", b"42", b"true"]


@pytest.mark.parametrize("raw", NOT_OBJECTS, ids=lambda r: r.decode() or "empty")
def test_a_body_that_is_not_an_object_is_400_and_changes_nothing(api: Api, catalog: dict[str, Any], new_site: Any,
                                                                 raw: bytes) -> None:
    site = new_site() if raw == NOT_OBJECTS[0] else _shared_site(new_site)
    site.quota({"visits": {"enabled": True, "limit": 5}})
    resp = api("PUT", f"{W}/sites/{site.blog_id}/quota", data=raw, headers={"Content-Type": "application/json"})
    bad_request(resp, "(body)")
    assert api.ok("GET", f"{W}/sites/{site.blog_id}/quota")["visits"]["limit"] == 5
    m = membership(api, catalog)
    resp = api("PUT", f"{U}/membership/{m['id']}", data=raw, headers={"Content-Type": "application/json"})
    bad_request(resp, "(body)")
    assert api.ok("GET", f"{U}/membership/{m['id']}")["date_modified"] == m["date_modified"]


_SHARED: list[Site] = []


def _shared_site(new_site: Any) -> Site:
    if not _SHARED:
        _SHARED.append(new_site())
    return _SHARED[0]


def test_a_batch_item_without_body_is_400_and_writes_nothing(api: Api, new_site: Any) -> None:
    site = new_site()
    site.quota({"visits": {"enabled": True, "limit": 5}})
    for validation in ("require-all-validate", "normal"):
        resp = api("POST", "/wp-json/batch/v1", json={"validation": validation, "requests": [
            {"method": "PUT", "path": f"/wpbridge/v1/sites/{site.blog_id}/quota"}]})
        assert resp.status_code in (207, 400), resp.text[:300]
        text = json.dumps(resp.json())
        assert "rest_invalid_param" in text and "(body)" in text, text[:300]
        assert api.ok("GET", f"{W}/sites/{site.blog_id}/quota")["visits"]["limit"] == 5


# ---------------------------------------------------------------------------------------- 6. ranges, not coercion

@pytest.mark.parametrize(("field", "value"), [
    ("date_expiration", "9999-12-31T23:00:00-05:00"),  # year 10000 in UTC
    ("date_expiration", "0999-12-31 00:00:00"),
    ("date_renewed", "+10000-01-01T00:00:00Z"),
    ("duration", 2**33),
    ("times_billed", 65536),
])
def test_values_beyond_the_columns_are_400_naming_the_field(api: Api, catalog: dict[str, Any], field: str,
                                                            value: Any) -> None:
    m = membership(api, catalog)
    bad_request(api("PUT", f"{U}/membership/{m['id']}", json={field: value}), field)
    bad_request(api("POST", f"{U}/membership", json={"customer_id": catalog["customer"]["id"],
                                                       "plan_id": catalog["plan"]["id"], field: value}), field)
    again = api.ok("GET", f"{U}/membership/{m['id']}")
    assert again["date_modified"] == m["date_modified"]
    listed = api.ok("GET", f"{U}/membership", params={"id": m["id"]})
    assert [x["id"] for x in listed] == [m["id"]]


def test_other_range_checks(api: Api, catalog: dict[str, Any]) -> None:
    t = tag()
    bad_request(api("POST", f"{U}/discount_code", json={"code": f"R{t}", "max_uses": 2**33}), "max_uses")
    bad_request(api("POST", f"{U}/discount_code", json={"code": f"R{t}", "uses": 2**32}), "uses")
    bad_request(api("POST", f"{U}/discount_code", json={"code": f"R{t}", "date_start": "9999-12-31T23:59:59-00:01"}),
                "date_start")
    assert api("GET", f"{U}/discount_code", params={"code": f"R{t}"}).json() == []
    # Text columns hold 65,535 bytes; a longer value would be cut by MySQL.
    bad_request(api("POST", f"{U}/discount_code", json={"code": f"R{t}", "description": "é" * 40000}),
                "description")
    bad_request(api("POST", f"{U}/customer", json={"username": f"rr{t}", "email": f"rr{t}@example.com",
                                                    "billing_address": {"line": "x" * 70000}}), "billing_address")
    assert api("GET", f"{U}/customer", params={"search": f"rr{t}"}).json() == []
    m = membership(api, catalog)
    bad_request(api("PUT", f"{W}/memberships/{m['id']}/scheduled-change", json={
        "scheduled_for": "9999-12-31T23:00:00-05:00", "target": {"status": "expired"}}), "scheduled_for")
    assert api("GET", f"{W}/memberships/{m['id']}/scheduled-change").status_code == 404


# -------------------------------------------------------------------------------------- 7. racing the post limit

def test_parallel_publishes_never_pass_the_post_limit(new_site: Any) -> None:
    site = new_site()
    have = site.usage()["post_types"].get("post", 0)
    for trial in range(3):
        limit = have + 1
        site.posts_limit(limit)

        def publish(i: int, trial: int = trial) -> int:
            return site.post("/wp/v2/posts", json={"title": f"race {trial}.{i}", "status": "publish"}).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(publish, range(8)))
        assert codes.count(201) == 1 and codes.count(403) == 7, (trial, codes)
        have = site.usage()["post_types"]["post"]
        assert have == limit, (trial, have, limit)


# -------------------------------------------------------------------------------------------- 8. big bodies

def test_big_bodies_are_413_before_anything_is_done(sandbox: Any, api: Api, catalog: dict[str, Any],
                                                    new_site: Any) -> None:
    site = new_site()
    site.quota({"visits": {"enabled": True, "limit": 5}})
    huge = {"themes": {"enabled": True, "limit": {f"theme-{i:07d}": {"visibility": "visible"}
                                                  for i in range(190_000)}}}
    data = json.dumps(huge).encode()
    assert len(data) > 7_000_000
    resp = api("PUT", f"{W}/sites/{site.blog_id}/quota", data=data, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, (resp.status_code, resp.text[:200])
    assert resp.headers["Content-Type"].startswith("application/json") and resp.json()["code"] == "wpbridge_too_large"
    assert api.ok("GET", f"{W}/sites/{site.blog_id}/quota")["visits"]["limit"] == 5
    m = membership(api, catalog)
    body = json.dumps({"gateway_customer_id": "x" * (9 * 1024 * 1024)}).encode()
    for method, path in (("PUT", f"{U}/membership/{m['id']}"), ("POST", f"{U}/membership")):
        resp = api(method, path, data=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 413, (method, resp.status_code, resp.text[:200])
        assert resp.json()["code"] == "wpbridge_too_large"
    assert api.ok("GET", f"{U}/membership/{m['id']}")["date_modified"] == m["date_modified"]


# ------------------------------------------------------------------------------- 9. exact names, no warnings

def test_lock_names_and_owners_are_compared_exactly(api: Api) -> None:
    t = tag()
    name = f"Exact-{t}"
    api.ok("POST", f"{W}/locks/{name}", json={"owner": "Owner1", "ttl": 60})
    for other in ("owner1", "OWNER1", "Owner1 "):
        resp = api("POST", f"{W}/locks/{name}", json={"owner": other, "ttl": 60})
        assert resp.status_code in (400, 409), (other, resp.status_code)
        assert not api.ok("DELETE", f"{W}/locks/{name}", params={"owner": other})["released"], other
    # Names differing in case are different locks.
    assert api("POST", f"{W}/locks/{name.lower()}", json={"owner": "o2", "ttl": 60}).status_code == 200
    assert api.ok("DELETE", f"{W}/locks/{name}", params={"owner": "Owner1"})["released"]
    assert api.ok("DELETE", f"{W}/locks/{name.lower()}", params={"owner": "o2"})["released"]


def log_size(sandbox: Any) -> dict[Path, int]:
    logs = Path(sandbox.dir) / "logs"
    return {p: p.stat().st_size for p in logs.glob("*.log")}


@pytest.mark.parametrize("params", [
    {"search[]": "a"}, {"orderby[]": "id"}, {"order[]": "ASC"}, {"status[]": "active"}, {"page[]": "1"},
])
def test_array_query_parameters_are_400_without_php_warnings(sandbox: Any, api: Api, params: dict[str, str]) -> None:
    before = log_size(sandbox)
    for path in (f"{U}/membership", f"{U}/site", f"{W}/quotas"):
        resp = api("GET", path, params=params)
        if path.endswith("quotas") and "page[]" not in params:
            continue  # not a parameter of that route
        assert resp.status_code == 400, (path, params, resp.text[:200])
        assert resp.json()["code"] == "rest_invalid_param"
    grown = {p.name: p.read_bytes()[before.get(p, 0):] for p in log_size(sandbox)
             if p.stat().st_size > before.get(p, 0)}
    warnings = {n: b for n, b in grown.items() if b"Warning" in b or b"Notice" in b or b"Deprecated" in b}
    assert not warnings, warnings


def test_the_sandbox_keeps_its_secrets_from_other_local_users(sandbox: Any) -> None:
    """wp-config.php (salts, database credentials) is not world-readable, and MariaDB's socket (root without a
    password: it reaches the API secret in the network options) is not reachable by other local users."""
    root = Path(sandbox.dir)
    for name in ("wp-config.php", "wp-config-multisite.php"):
        mode = (root / "wordpress" / name).stat().st_mode
        assert mode & 0o007 == 0, f"{name} is {oct(mode & 0o777)}"
    marker = root / "run" / "sockdir"
    sock = (Path(marker.read_text().strip()) if marker.exists() else root / "run") / "mysql.sock"
    assert sock.exists(), sock
    assert sock.parent.stat().st_mode & 0o007 == 0, f"{sock.parent} is {oct(sock.parent.stat().st_mode & 0o777)}"
    assert sock.stat().st_mode & 0o007 == 0, f"{sock} is {oct(sock.stat().st_mode & 0o777)}"
