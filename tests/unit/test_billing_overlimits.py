"""The over-quota block from site usage on a plan change, with UM's messages naming the site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wpbridge.billing import Cart, quote_change
from wpbridge.models import Membership, Product, Site, SiteUsage

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def plan(pid: int, amount: str, limitations: dict[str, Any]) -> Product:
    return Product.model_validate({"id": pid, "slug": f"p{pid}", "name": f"P{pid}", "amount": amount,
                                   "product_group": "g", "list_order": pid, "limitations": limitations})


BIG = plan(1, "30", {"post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 1000}}},
                     "domain_mapping": {"enabled": True, "limit": True}})
SMALL = plan(2, "12", {
    "post_types": {"enabled": True, "limit": {
        "post": {"enabled": True, "number": 10}, "page": {"enabled": True, "number": 5},
        "product": {"enabled": True, "number": 0},  # unlimited
        "event": {"enabled": False, "number": 0},  # not allowed: UM does not look at `enabled` here
    }},
    "domain_mapping": {"enabled": True, "limit": 1},
})
NO_DOMAINS = plan(3, "5", {"domain_mapping": {"enabled": True, "limit": False}})
UNLIMITED = plan(4, "40", {"domain_mapping": {"enabled": True, "limit": True}})
CATALOG = [BIG, SMALL, NO_DOMAINS, UNLIMITED]


def member(plan_id: int = 1, amount: str = "30") -> Membership:
    return Membership.model_validate({
        "id": 4, "customer_id": 1, "plan_id": plan_id, "amount": amount, "initial_amount": amount,
        "status": "active", "date_created": NOW - timedelta(days=40), "date_expiration": NOW + timedelta(days=10)})


def usage(blog_id: int, posts: dict[str, int] | None = None, domains: int | None = None) -> SiteUsage:
    return SiteUsage(blog_id=blog_id, post_types=posts, custom_domains=domains)


def errors(plan_id: int, *uses: SiteUsage, sites: dict[int, Site] | None = None) -> list[tuple[str, str]]:
    q = quote_change(member(), CATALOG, Cart(plan_id=plan_id), now=NOW, usage={u.blog_id: u for u in uses},
                     sites=sites)
    assert (q.kind == "blocked") == bool(q.errors)
    return [(e.code, e.message) for e in q.errors]


def test_posts_over_the_new_quota_block_with_ums_message() -> None:
    assert errors(2, usage(5, {"post": 12})) == [(
        "overlimits_post",
        "Site 5: Your site currently has 12 posts but the new plan is limited to 10 posts. "
        "You must trash 2 posts before you can downgrade your plan.",
    )]


def test_singular_wording_when_one_is_to_remove() -> None:
    assert errors(2, usage(5, {"page": 6})) == [(
        "overlimits_page",
        "Site 5: Your site currently has 6 pages but the new plan is limited to 5 pages. "
        "You must trash 1 page before you can downgrade your plan.",
    )]


@pytest.mark.parametrize(
    "posts",
    [{"post": 10}, {"page": 5}, {"product": 5000}, {"event": 3}, {"custom": 99}, {}],
    ids=["at the limit", "pages at the limit", "unlimited", "disabled type unchecked", "type without quota",
         "nothing"],
)
def test_posts_within_the_quota_pass(posts: dict[str, int]) -> None:
    assert errors(2, usage(5, posts)) == []


def test_custom_domains_over_the_limit() -> None:
    assert errors(2, usage(5, domains=3)) == [(
        "overlimits",
        "Site 5: Your site currently has 3 custom domains but the new plan is limited to 1 custom domain. "
        "You must remove 2 custom domains before you can downgrade your plan.",
    )]


def test_no_custom_domains_allowed() -> None:
    assert errors(3, usage(5, domains=1)) == [(
        "overlimits",
        "Site 5: This new plan does NOT support custom domains. You must remove all custom domains before you "
        "can downgrade your plan.",
    )]


@pytest.mark.parametrize(("plan_id", "domains"), [(2, 1), (3, 0), (4, 50), (3, None)])
def test_custom_domains_within_the_limit_pass(plan_id: int, domains: int | None) -> None:
    assert errors(plan_id, usage(5, domains=domains)) == []


def test_every_site_and_quota_is_reported_in_order_and_sites_are_named() -> None:
    sites = {7: Site(blog_id=7, domain="shop.example.com", path="/"),
             5: Site(blog_id=5, domain="example.com", path="/blog/")}
    found = errors(2, usage(7, {"post": 11}, domains=2), usage(5, {"page": 8}), sites=sites)
    assert [(code, msg.split(":")[0]) for code, msg in found] == [
        ("overlimits_page", "Site 5 (example.com/blog/)"),
        ("overlimits_post", "Site 7 (shop.example.com)"),
        ("overlimits", "Site 7 (shop.example.com)"),
    ]


def test_check_runs_on_upgrades_too_and_only_with_usage() -> None:
    small_member = member(2, "12")
    over = {5: usage(5, {"post": 1500})}
    blocked = quote_change(small_member, CATALOG, Cart(plan_id=1), now=NOW, usage=over)
    assert (blocked.kind, blocked.errors[0].code) == ("blocked", "overlimits_post")
    assert quote_change(small_member, CATALOG, Cart(plan_id=1), now=NOW, usage={5: usage(5, {"post": 999})}).kind \
        == "upgrade"
    assert quote_change(small_member, CATALOG, Cart(plan_id=1), now=NOW, usage=None).kind == "upgrade"


def test_addon_carts_are_not_checked() -> None:
    storage = Product(id=9, slug="s", name="S", type="package", amount="1")
    small = SMALL.model_copy(update={"available_addons": [9]})
    q = quote_change(member(2, "12"), [small, storage], Cart(addons={9: 1}), now=NOW,
                     usage={5: usage(5, {"post": 500})})
    assert q.kind == "addon"
