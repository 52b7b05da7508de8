"""Helpers shared by the change and read CLI integration tests (no tests here).

Each test that writes gets its own customer, membership and site(s), created through the REST API like the
sandbox's seeder does, so tests do not depend on each other's order or on the seed's records staying untouched.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from click.testing import CliRunner, Result

from wpbridge.cli import main
from wpbridge.config import load_settings
from wpbridge.limits import effective_limitations
from wpbridge.models import Membership, MembershipStatus, Product, Site, parse, parse_many
from wpbridge.network import Network
from wpbridge.sandbox import SandboxInfo
from wpbridge.sandbox.seed import SeedMember, customer_body, membership_body, seed_base

_counter = itertools.count(1)


def cli_env(sb: SandboxInfo, *, secret: str | None = None) -> dict[str, str | None]:
    """The environment that points the CLI at the sandbox (and away from any config file of this machine)."""
    return {
        "WPBRIDGE_URL": sb.url,
        "WPBRIDGE_API_KEY": sb.api_key,
        "WPBRIDGE_API_SECRET": secret if secret is not None else sb.api_secret,
        "WPBRIDGE_CONFIG": None,
        "WPBRIDGE_NETWORK": None,
        "HOME": "/nonexistent-wpbridge-test-home",
    }


def run(sb: SandboxInfo, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Result:
    """`wpbridge ARGS` in-process, against the sandbox."""
    return CliRunner().invoke(main, list(args), env=dict(env) if env is not None else cli_env(sb), input=input,
                              catch_exceptions=False)


def run_json(sb: SandboxInfo, *args: str) -> Any:
    result = run(sb, *args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def network(sb: SandboxInfo) -> Network:
    return Network(load_settings(env={"WPBRIDGE_URL": sb.url, "WPBRIDGE_API_KEY": sb.api_key,
                                      "WPBRIDGE_API_SECRET": sb.api_secret}))


class Rest:
    """Plain HTTP against the sandbox: plugin-stub routes with the API key, WordPress's own with the app password."""

    def __init__(self, sb: SandboxInfo) -> None:
        self.sb = sb
        self.http = requests.Session()
        self.http.trust_env = False

    def api(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = self.http.request(method, f"{self.sb.url}/wp-json{path}", json=body, params=params or None,
                                 auth=(self.sb.api_key, self.sb.api_secret), timeout=60)
        assert resp.status_code < 300, f"{method} {path} -> {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def wp(self, method: str, site: str, route: str, body: Any = None) -> requests.Response:
        """WordPress's own REST API on one site: `site` is its URL (`Member.site_urls`: right on a subdirectory
        and a subdomain network alike) or a path on the main host ('/alice/'); route e.g. '/wp/v2/posts'."""
        base = site if site.startswith(("http://", "https://")) else f"{self.sb.url}{site}"
        return self.http.request(method, f"{base.rstrip('/')}/wp-json{route}", json=body,
                                 auth=(self.sb.user, self.sb.app_password), timeout=60)

    def create_post(self, site: str, title: str) -> requests.Response:
        return self.wp("POST", site, "/wp/v2/posts", {"title": title, "status": "publish", "content": "x"})

    def product_ids(self) -> dict[str, int]:
        return {p["slug"]: int(p["id"]) for p in self.api("GET", "/wpbridge/v1/catalog")["products"]}

    def catalog(self) -> list[Product]:
        return parse_many(Product, self.api("GET", "/wpbridge/v1/catalog")["products"])

    def faults(self, blog_ids: Sequence[int], status: int = 500) -> None:
        self.api("PUT", "/wpbridge/v1/test/faults", {"fail_quota_blog_ids": list(blog_ids), "status": status})


@dataclass(frozen=True)
class Member:
    customer_id: int
    membership_id: int
    blog_ids: tuple[int, ...]
    site_paths: tuple[str, ...]
    site_urls: tuple[str, ...] = ()
    """Each site's own URL (`http://DOMAIN/PATH/`): its host on a subdomain network, where every path is `/`."""


def new_member(
    sb: SandboxInfo,
    plan: str,
    *,
    status: MembershipStatus = "active",
    created: int = 60,
    renewed: int | None = None,
    period: tuple[int, str] = (1, "month"),
    addons: Mapping[str, int] | None = None,
    sites: int = 1,
) -> Member:
    """A fresh customer (a WordPress user), membership and sites, each site's quota written from the membership.

    Dates count back in days from the start of today (UTC), as the seed's do.
    """
    rest = Rest(sb)
    n = next(_counter)
    tag = f"t{n}{secrets.token_hex(3)}"
    member = SeedMember(tag, f"Test {tag}", plan, status, tuple(f"{tag}-{i}" for i in range(sites)), created=created,
                        renewed=renewed, period=period, addons=dict(addons or {}), billed=1)
    base = seed_base(datetime.now(UTC))
    user = rest.http.post(f"{sb.url}/wp-json/wp/v2/users", json={
        "username": tag, "email": f"{tag}@example.com", "name": member.name, "password": secrets.token_hex(12),
    }, auth=(sb.user, sb.app_password), timeout=60)
    assert user.status_code == 201, user.text[:300]
    customer = rest.api("POST", "/wu/v2/customer", customer_body(member, base, int(user.json()["id"])))
    ids = rest.product_ids()
    membership = parse(Membership, rest.api("POST", "/wu/v2/membership",
                                            membership_body(member, base, ids, int(customer["id"]))))
    catalog = rest.catalog()
    blog_ids, paths, urls = [], [], []
    for slug in member.sites:
        site = parse(Site, rest.api("POST", "/wu/v2/site", {
            "path": f"/{slug}/", "title": slug, "type": "customer_owned", "membership_id": membership.id,
            "customer_id": membership.customer_id,
        }))
        rest.api("PUT", f"/wpbridge/v1/sites/{site.blog_id}/quota",
                 effective_limitations(membership, catalog, site).to_wire())
        blog_ids.append(site.blog_id)
        paths.append(site.path)
        urls.append(f"{urlsplit(sb.url).scheme}://{site.domain}{site.path}")
    return Member(membership.customer_id, membership.id, tuple(blog_ids), tuple(paths), tuple(urls))


def server_state(sb: SandboxInfo, member: Member) -> dict[str, Any]:
    """What the server holds for a member: the membership, its sites' quotas, its scheduled change (or None)."""
    rest = Rest(sb)
    membership = rest.api("GET", f"/wu/v2/membership/{member.membership_id}")
    quotas = {b: rest.api("GET", f"/wpbridge/v1/sites/{b}/quota") for b in member.blog_ids}
    resp = rest.http.get(f"{sb.url}/wp-json/wpbridge/v1/memberships/{member.membership_id}/scheduled-change",
                         auth=(sb.api_key, sb.api_secret), timeout=60)
    scheduled = resp.json() if resp.status_code == 200 else None
    return {"membership": membership, "quotas": quotas, "scheduled": scheduled}


def today_at(hours: float) -> datetime:
    """A fixed moment today (UTC), `hours` after midnight: quotes with --at are then reproducible."""
    return seed_base(datetime.now(UTC)) + timedelta(hours=hours)
