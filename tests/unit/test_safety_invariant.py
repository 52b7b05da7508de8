"""The safety invariant (DESIGN §3.3) in the workflows that write: a site gets a write only when it was positively
read as the membership's own customer-owned site. Unknown links (null type or membership), other types and the
main site never do, in `change apply` and in `sync`, and in UM mode nothing but the membership is written."""

from __future__ import annotations

from typing import Any

from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.models import Site, parse
from wpbridge.workflows import change as flow
from wpbridge.workflows.sync import plan_site


def with_strangers(mode: str = "stub") -> dict[str, Any]:
    """The example network plus, claiming membership 3: a site of unknown type, the main site, a template."""
    data = example_data()
    data["info"]["mode"] = mode
    base = {"domain": "example.test", "customer_id": 3, "title": "x"}
    data["sites"] += [
        {**base, "blog_id": 1, "path": "/", "membership_id": 3, "type": "main", "is_main": True},
        {**base, "blog_id": 21, "path": "/u/", "membership_id": 3, "type": None},
        {**base, "blog_id": 22, "path": "/t/", "membership_id": 3, "type": "site_template"},
        {**base, "blog_id": 23, "path": "/n/", "membership_id": None, "type": "customer_owned"},
    ]
    return data


def test_change_apply_writes_only_the_memberships_own_customer_owned_sites() -> None:
    net = FakeNetwork(with_strangers())
    result = flow.apply(net, 3, now=NOW, addons=["unlimited-visits"])
    assert result.ok and [s.blog_id for s in result.quote.sites] == [13, 14]
    assert net.writes == [("membership", 3), ("site_quota", 13), ("site_quota", 14)]


def test_change_apply_in_um_mode_writes_the_membership_only() -> None:
    net = FakeNetwork(with_strangers("um"))
    result = flow.apply(net, 3, now=NOW, addons=["unlimited-visits"])
    assert net.writes == [("membership", 3)]
    # the fake has no UM to recompute limits: the read-back of each site compares UM's (stale) limits and says so
    assert {c.what for c in result.verification} == {"membership 3", "site 13 limits (UM)", "site 14 limits (UM)",
                                                     "payment #1"}
    assert not result.ok and all("visits" in c.detail for c in result.verification if c.what.startswith("site"))


def test_sync_plans_no_write_for_a_site_not_positively_linked() -> None:
    net = FakeNetwork(with_strangers())
    membership = net.memberships.get(3)
    catalog = net.products.catalog()
    for raw in with_strangers()["sites"]:
        site = parse(Site, raw)
        if site.membership_id not in (3, None):
            continue
        change, reason = plan_site(site, None, membership if site.membership_id == 3 else None, catalog, "suspend")
        if site.blog_id in (13, 14):
            assert change is not None and reason == "membership"
        else:
            assert change is None and reason in ("not-customer-owned", "no-membership")
