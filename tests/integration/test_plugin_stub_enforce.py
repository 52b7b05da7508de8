"""Quota enforcement by plugin-stub, proven through WordPress's own REST API and front end: each over-quota action
is tried for real (as the super admin, whom the limits also bind) and must be refused, while the same action under
the quota, or on a site without a quota, succeeds. Each test uses sites created by this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.integration.conftest import site_home
from tests.integration.stub_api_support import png

TIMEOUT = 30
W = "/wp-json/wpbridge/v1"
CLOSED = "This site is not available at this time."


class Site:
    """One site of the module: its REST base, the plugin's API session and the super admin's session."""

    def __init__(self, sandbox: Any, record: dict[str, Any]) -> None:
        self.blog_id = int(record["blog_id"])
        self.home = site_home(sandbox.url, record).rstrip("/")
        self.rest = self.home + "/wp-json"
        self.api = requests.Session()
        self.api.auth = (sandbox.api_key, sandbox.api_secret)
        self.admin = requests.Session()
        self.admin.auth = (sandbox.user, sandbox.app_password)
        self.network = sandbox.url

    def quota(self, limitations: dict[str, Any] | None) -> None:
        url = f"{self.network}{W}/sites/{self.blog_id}/quota"
        resp = (self.api.put(url, json=limitations, timeout=TIMEOUT) if limitations is not None
                else self.api.delete(url, timeout=TIMEOUT))
        assert resp.status_code == 200, resp.text

    def usage(self) -> dict[str, Any]:
        resp = self.api.get(f"{self.network}{W}/usage", params={"blog_ids": self.blog_id}, timeout=TIMEOUT)
        assert resp.status_code == 200
        return resp.json()["usage"][0]  # type: ignore[no-any-return]

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.admin.post(self.rest + path, timeout=TIMEOUT, **kw)


@pytest.fixture(scope="module")
def sites(sandbox: Any) -> Iterator[dict[str, Site]]:
    """Five sites of this module, deleted at its end (the shared sandbox is left as the seed made it)."""
    t = uuid.uuid4().hex[:8]
    names = ["posts", "users", "visits", "uploads", "free"]

    def create(name: str) -> Site:
        s = requests.Session()
        s.auth = (sandbox.api_key, sandbox.api_secret)
        resp = s.post(f"{sandbox.url}/wp-json/wu/v2/site", json={"path": f"/e{name}{t}/", "title": name},
                      timeout=TIMEOUT)
        assert resp.status_code == 200, resp.text
        return Site(sandbox, resp.json())

    with ThreadPoolExecutor(4) as pool:
        made = dict(zip(names, pool.map(create, names), strict=True))
    yield made
    for site in made.values():
        resp = site.api.delete(f"{sandbox.url}/wp-json/wu/v2/site/{site.blog_id}", timeout=TIMEOUT)
        assert resp.status_code == 200, resp.text


def refused(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 403, resp.text[:300]
    body: dict[str, Any] = resp.json()
    assert body["code"] == "wpbridge_quota_exceeded"
    return body


# ------------------------------------------------------------------------------------------------------ posts

def test_a_post_over_quota_is_refused_and_one_under_is_accepted(sites: dict[str, Site]) -> None:
    site = sites["posts"]
    have = site.usage()["post_types"].get("post", 0)  # a new site has "Hello world!"
    site.quota({"post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": have + 1},
                                                         "page": {"enabled": False, "number": 0}}}})
    first = site.post("/wp/v2/posts", json={"title": "under the quota", "status": "publish"})
    assert first.status_code == 201
    body = refused(site.post("/wp/v2/posts", json={"title": "over", "status": "publish"}))
    assert body["data"] == {"status": 403, "post_type": "post", "count": have + 1, "limit": have + 1,
                            "blog_id": site.blog_id}
    refused(site.post("/wp/v2/posts", json={"title": "over", "status": "private"}))
    refused(site.post("/wp/v2/posts", json={"title": "over", "status": "future", "date": "2040-01-01T00:00:00"}))
    assert site.usage()["post_types"]["post"] == have + 1
    # Drafts are not counted (UM counts publish + private), so they stay allowed; publishing one is refused.
    draft = site.post("/wp/v2/posts", json={"title": "draft", "status": "draft"})
    assert draft.status_code == 201
    refused(site.post(f"/wp/v2/posts/{draft.json()['id']}", json={"status": "publish"}))
    assert site.admin.get(f"{site.rest}/wp/v2/posts/{draft.json()['id']}", params={"context": "edit"},
                          timeout=TIMEOUT).json()["status"] == "draft"
    # Editing a post that is already published is not a new one.
    edited = site.post(f"/wp/v2/posts/{first.json()['id']}", json={"title": "edited"})
    assert edited.status_code == 200
    # A disabled post type allows none.
    body = refused(site.post("/wp/v2/pages", json={"title": "page", "status": "publish"}))
    assert body["data"]["limit"] == 0
    # Lifting the quota lifts the limit at once.
    site.quota(None)
    assert site.post("/wp/v2/posts", json={"title": "free again", "status": "publish"}).status_code == 201
    assert site.post("/wp/v2/pages", json={"title": "page", "status": "publish"}).status_code == 201


def test_a_site_without_quota_is_not_limited(sites: dict[str, Site]) -> None:
    site = sites["free"]
    for i in range(3):
        assert site.post("/wp/v2/posts", json={"title": f"p{i}", "status": "publish"}).status_code == 201
    # A zero limit and a disabled module limit nothing either.
    site.quota({"post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 0}}},
                "users": {"enabled": False, "limit": {"editor": {"enabled": False, "number": 0}}}})
    assert site.post("/wp/v2/posts", json={"title": "p", "status": "publish"}).status_code == 201


# ------------------------------------------------------------------------------------------------------ users

def new_user(site: Site, role: str) -> requests.Response:
    t = uuid.uuid4().hex[:10]
    return site.post("/wp/v2/users", json={"username": f"u{t}", "email": f"u{t}@example.com",
                                           "password": uuid.uuid4().hex, "roles": [role]})


def test_a_user_over_the_role_quota_is_refused(sites: dict[str, Site]) -> None:
    site = sites["users"]
    site.quota({"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 1},
                                                     "author": {"enabled": False, "number": 5}}}})
    assert new_user(site, "editor").status_code == 201
    t = uuid.uuid4().hex[:10]
    over = {"username": f"o{t}", "email": f"o{t}@example.com", "password": uuid.uuid4().hex, "roles": ["editor"]}
    body = refused(site.post("/wp/v2/users", json=over))
    assert body["data"]["role"] == "editor" and body["data"]["limit"] == 1 and body["data"]["count"] == 1
    assert refused(new_user(site, "author"))["data"]["limit"] == 0
    assert new_user(site, "subscriber").status_code == 201  # not in the map: not limited
    assert site.usage()["users"].get("editor") == 1
    # Promoting a member into a full role is refused too.
    sub = new_user(site, "subscriber").json()
    refused(site.post(f"/wp/v2/users/{sub['id']}", json={"roles": ["editor"]}))
    # The refused user was not created network-wide: with room again, the same username is free.
    site.quota({"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 2}}}})
    assert site.post("/wp/v2/users", json=over).status_code == 201
    assert site.usage()["users"]["editor"] == 2


# ----------------------------------------------------------------------------------------------------- visits

def test_the_site_closes_to_visitors_over_its_monthly_visits(sites: dict[str, Site]) -> None:
    site = sites["visits"]
    site.quota({"visits": {"enabled": True, "limit": 2}})
    codes = [requests.get(site.home + "/", timeout=TIMEOUT).status_code for _ in range(2)]
    assert codes == [200, 200]
    closed = requests.get(site.home + "/", timeout=TIMEOUT)
    assert closed.status_code == 404 and CLOSED in closed.text
    # Closed for everyone on the front end; the REST API stays reachable.
    assert site.admin.get(site.home + "/", timeout=TIMEOUT).status_code == 404
    assert site.admin.get(site.rest + "/wp/v2/users/me", timeout=TIMEOUT).status_code == 200
    assert site.usage()["visits_this_month"] == 2
    # A browser is counted once a day (cookie), like UM's counter.
    site.quota({"visits": {"enabled": True, "limit": 4}})
    browser = requests.Session()
    assert [browser.get(site.home + "/", timeout=TIMEOUT).status_code for _ in range(3)] == [200] * 3
    assert site.usage()["visits_this_month"] == 3
    site.quota({"visits": {"enabled": True, "limit": 0}})  # 0 = unlimited
    assert requests.get(site.home + "/", timeout=TIMEOUT).status_code == 200


# ---------------------------------------------------------------------------------------------------- uploads

def test_uploads_over_the_disk_quota_are_refused(sites: dict[str, Site]) -> None:
    site = sites["uploads"]
    site.quota({"disk_space": {"enabled": True, "limit": 1},
                "post_types": {"enabled": True, "limit": {"attachment": {"enabled": True, "number": 5}}}})
    image = png(500, 500)  # about 0.75 MB: one fits in 1 MB, two do not (thumbnails only add to the first)
    assert 700_000 < len(image) < 800_000

    def upload(name: str) -> requests.Response:
        return site.post("/wp/v2/media", data=image, headers={
            "Content-Disposition": f'attachment; filename="{name}.png"', "Content-Type": "image/png"})

    assert upload("first").status_code == 201
    assert float(site.usage()["disk_used_mb"]) >= 0.7
    body = refused(upload("second"))
    assert body["data"]["limit_mb"] == 1 and "Not enough disk space" in body["message"]
    assert site.usage()["post_types"].get("attachment") == 1
    # With room again (multipart this time), the upload is accepted; then the attachment count limits.
    site.quota({"disk_space": {"enabled": True, "limit": 10},
                "post_types": {"enabled": True, "limit": {"attachment": {"enabled": True, "number": 2}}}})
    assert site.post("/wp/v2/media", files={"file": ("second.png", image, "image/png")}).status_code == 201
    assert refused(upload("third"))["data"]["post_type"] == "attachment"


# ------------------------------------------------------------------------------------------------------ admin

@pytest.fixture(scope="module")
def browser(sandbox: Any) -> requests.Session:
    """The super admin logged in to wp-admin with its password (cookies), as a person would be."""
    s = requests.Session()
    s.get(f"{sandbox.url}/wp-login.php", timeout=TIMEOUT)  # sets the test cookie
    resp = s.post(f"{sandbox.url}/wp-login.php", timeout=TIMEOUT, allow_redirects=False, data={
        "log": sandbox.user, "pwd": sandbox.info["admin_password"], "testcookie": "1", "wp-submit": "Log In"})
    assert resp.status_code == 302, "wp-admin login failed"
    return s


def test_admin_screens_follow_the_quota(sites: dict[str, Site], browser: requests.Session) -> None:
    posts, users = sites["posts"], sites["users"]
    have = posts.usage()["post_types"].get("post", 0)
    posts.quota({"post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": have}}}})
    closed = browser.get(f"{posts.home}/wp-admin/post-new.php", timeout=TIMEOUT)
    assert closed.status_code == 403 and f"at most {have} published" in closed.text
    assert browser.get(f"{posts.home}/wp-admin/post-new.php?post_type=page", timeout=TIMEOUT).status_code == 200
    users.quota(None)
    if not users.usage()["users"].get("editor"):
        assert new_user(users, "editor").status_code == 201
    users.quota({"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 1},
                                                      "author": {"enabled": False, "number": 0}}}})
    form = browser.get(f"{users.home}/wp-admin/user-new.php", timeout=TIMEOUT)
    assert form.status_code == 200
    assert "value='editor'" not in form.text and "value='author'" not in form.text  # full, not allowed
    assert "value='contributor'" in form.text
    posts.quota(None)
    assert browser.get(f"{posts.home}/wp-admin/post-new.php", timeout=TIMEOUT).status_code == 200
