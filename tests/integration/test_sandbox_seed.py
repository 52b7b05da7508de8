"""The example network that `--seed example` writes, read back through the REST API.

conftest.py runs this module first, so it sees the network as seeded (other modules' tests may change it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.integration.test_import import site_key
from wpbridge.billing.periods import price_in_period
from wpbridge.limits import effective_limitations
from wpbridge.models import Limitations, Membership, Product, Site, parse, parse_many
from wpbridge.sandbox import SandboxInfo
from wpbridge.sandbox.example import EXAMPLE_PRODUCTS, example_catalog
from wpbridge.sandbox.seed import EXAMPLE_MEMBERS, membership_body

STATUSES = {"pending", "trialing", "active", "on-hold", "expired", "cancelled"}


class Api:
    def __init__(self, sandbox: SandboxInfo) -> None:
        self.base = f"{sandbox.url}/wp-json"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = (sandbox.api_key, sandbox.api_secret)

    def get(self, path: str, **params: Any) -> Any:
        resp = self.session.get(self.base + path, params=params, timeout=30)
        assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def all(self, slug: str) -> list[dict[str, Any]]:
        return list(self.get(f"/wu/v2/{slug}", per_page=100, orderby="id", order="ASC"))


@pytest.fixture(scope="module")
def api(sandbox: SandboxInfo) -> Api:
    return Api(sandbox)


@pytest.fixture(scope="module")
def products(api: Api) -> dict[str, Product]:
    return {p.slug: p for p in parse_many(Product, api.all("product"))}


@pytest.fixture(scope="module")
def memberships(api: Api) -> list[Membership]:
    return parse_many(Membership, api.all("membership"))


def test_products_have_the_pinned_slugs_prices_and_groups(products: dict[str, Product]) -> None:
    assert set(products) == {"free", "basic", "premium", "unlimited-visits", "extra-storage", "site-setup"}
    assert {s: p.type for s, p in products.items()} == {
        "free": "plan", "basic": "plan", "premium": "plan",
        "unlimited-visits": "package", "extra-storage": "package", "site-setup": "service",
    }
    assert {s: p.amount for s, p in products.items()} == {
        "free": Decimal(0), "basic": Decimal(15), "premium": Decimal(39),
        "unlimited-visits": Decimal(9), "extra-storage": Decimal(5), "site-setup": Decimal(49),
    }
    assert products["free"].product_group == products["premium"].product_group == "High End"
    assert products["basic"].product_group is None
    assert products["site-setup"].recurring is False
    assert products["basic"].duration_unit == "month" and products["premium"].duration == 1
    assert price_in_period(products["premium"], 1, "year") == Decimal(390)
    assert products["unlimited-visits"].limitations.visits is not None
    assert products["unlimited-visits"].limitations.visits.limit == 0
    assert products["extra-storage"].limitations.disk_space is not None
    assert products["extra-storage"].limitations.disk_space.limit == 1000


def test_catalog_equals_example_py_with_server_ids(products: dict[str, Product], sandbox: SandboxInfo) -> None:
    """Add-on references resolve to the server's ids; a fresh sandbox gives the ids example_catalog() assumes."""
    ids = sandbox.info["seeded"]["products"]
    by_id = {p.id: p.slug for p in products.values()}
    for spec in EXAMPLE_PRODUCTS:
        server = products[spec["slug"]]
        assert server.id == ids[spec["slug"]]
        assert [by_id[i] for i in server.available_addons] == spec.get("available_addons", [])
    for offline in example_catalog():
        server = products[offline.slug]
        assert server.id == offline.id
        assert server.limitations.to_wire() == offline.limitations.to_wire()
        assert server.price_variations == offline.price_variations
        assert (server.list_order, server.pricing_type) == (offline.list_order, offline.pricing_type)


def test_memberships_cover_every_status_and_every_plan(memberships: list[Membership],
                                                       products: dict[str, Product]) -> None:
    assert len(memberships) == len(EXAMPLE_MEMBERS) == 12
    assert {m.status for m in memberships} == STATUSES
    plan_ids = {p.id for p in products.values() if p.type == "plan"}
    assert {m.plan_id for m in memberships} == plan_ids


def test_the_members_the_demo_and_tests_rely_on(memberships: list[Membership], products: dict[str, Product],
                                                api: Api) -> None:
    now = datetime.now(UTC)
    ids = {s: p.id for s, p in products.items()}
    on = [m for m in memberships if m.status == "active"]
    free = [m for m in on if m.plan_id == ids["free"] and not m.addon_products]
    assert free and api.get("/wu/v2/site", membership_id=free[0].id)
    mid_cycle_basic = [m for m in on if m.plan_id == ids["basic"] and m.date_renewed and m.date_expiration
                       and m.date_renewed < now < m.date_expiration and m.date_renewed.date() != now.date()]
    assert mid_cycle_basic
    premium_addons = [m for m in on if m.plan_id == ids["premium"] and m.addon_products.get(ids["extra-storage"]) == 2
                      and ids["unlimited-visits"] in m.addon_products]
    assert premium_addons and premium_addons[0].amount == Decimal(39 + 2 * 5 + 9)
    trialing = [m for m in memberships if m.status == "trialing"]
    assert trialing and all(m.date_trial_end and m.date_trial_end > now for m in trialing)
    yearly = [m for m in on if m.plan_id == ids["premium"] and (m.duration, m.duration_unit) == (1, "year")]
    assert yearly and yearly[0].amount == Decimal(390)


def test_memberships_are_exactly_the_seed_plan(memberships: list[Membership], sandbox: SandboxInfo) -> None:
    """Deterministic: every record equals what seed.py computes from the recorded base day."""
    seeded = sandbox.info["seeded"]
    base = datetime.fromisoformat(seeded["base"])
    by_id = {m.id: m for m in memberships}
    for member, record in zip(EXAMPLE_MEMBERS, seeded["customers"], strict=True):
        assert record["username"] == member.username
        expected = parse(Membership, {"id": record["membership_id"],
                                      **membership_body(member, base, seeded["products"], record["customer_id"])})
        got = by_id[record["membership_id"]]
        for field in ("customer_id", "plan_id", "addon_products", "amount", "initial_amount", "duration",
                      "duration_unit", "recurring", "auto_renew", "status", "date_created", "date_renewed",
                      "date_expiration", "date_trial_end"):
            assert getattr(got, field) == getattr(expected, field), f"{member.username}: {field}"


def test_each_customer_has_one_or_two_sites(api: Api, sandbox: SandboxInfo) -> None:
    customers = api.all("customer")
    assert len(customers) == 12
    for customer in customers:
        sites = api.get("/wu/v2/site", customer_id=customer["id"])
        assert 1 <= len(sites) <= 2, customer["id"]
        assert all(s["type"] == "customer_owned" and s["membership_id"] for s in sites)


def test_every_customer_site_quota_is_its_effective_limitations(api: Api, memberships: list[Membership],
                                                                products: dict[str, Product]) -> None:
    catalog = list(products.values())
    by_id = {m.id: m for m in memberships}
    sites = parse_many(Site, api.get("/wu/v2/site", per_page=100, type="customer_owned"))
    assert len(sites) == sum(len(m.sites) for m in EXAMPLE_MEMBERS)
    for site in sites:
        assert site.membership_id is not None
        expected = effective_limitations(by_id[site.membership_id], catalog, site)
        stored = parse(Limitations, api.get(f"/wpbridge/v1/sites/{site.blog_id}/quota"))
        assert stored.to_wire() == expected.to_wire(), f"site {site.blog_id}"
    carla = next(s for s in sites if site_key({"path": s.path, "domain": s.domain}) == "/carla/")
    disk = parse(Limitations, api.get(f"/wpbridge/v1/sites/{carla.blog_id}/quota")).disk_space
    assert disk is not None and disk.limit == 5000 + 2 * 1000  # Premium + extra storage x2
