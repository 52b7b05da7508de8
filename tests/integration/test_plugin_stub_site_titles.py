"""A site still being created (its row in wp_blogs, no options table yet) must not blank the titles of a whole
page of the site list, nor fail it."""

from __future__ import annotations

from tests.integration.test_sandbox_um import get, sql
from wpbridge.sandbox import SandboxInfo


def test_a_half_created_site_leaves_the_other_titles_alone(sandbox: SandboxInfo) -> None:
    sql(sandbox, "INSERT INTO wp_blogs (site_id, domain, path, registered, last_updated) "
                 "SELECT 1, domain, '/half-created/', NOW(), NOW() FROM wp_blogs WHERE blog_id = 1")
    half = int(sql(sandbox, "SELECT blog_id FROM wp_blogs WHERE path = '/half-created/'")[0][0])
    try:
        resp = get(sandbox, "/wu/v2/site", per_page=100)
        assert resp.status_code == 200, resp.text[:300]
        titles = {s["blog_id"]: s["title"] for s in resp.json()}
        assert half in titles
        others = [t for b, t in titles.items() if b != half]
        assert others and all(others), titles  # every other site keeps its title
    finally:
        sql(sandbox, f"DELETE FROM wp_blogs WHERE blog_id = {half}")
