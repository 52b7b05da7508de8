"""`wpbridge import`, the plan: natural keys, create / unchanged / conflict / update, dependency order, quotas."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from wpbridge.limits import effective_limitations
from wpbridge.managers.flavor import STUB, UM, Flavor
from wpbridge.models import Limitations, Membership, ScheduledChange, Site
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_input import check_references, read_csv
from wpbridge.workflows.importer_plan import TargetState, build_plan, quota_step, same

CATALOG = example_catalog()
CSV = ("email,username,plan,amount,status,date_expiration,addons,site_path\n"
       "ann@example.com,ann1,premium,49,active,2026-12-01,extra-storage:2,/ann/\n"
       "bob@example.com,,basic,,trialing,,,/bob/\n")


def source():  # type: ignore[no-untyped-def]
    src = read_csv(CSV)
    check_references(src, CATALOG)
    assert src.issues == []
    return src


def target(**kw: object) -> TargetState:
    base: dict[str, object] = dict(flavor=STUB, domain="net.example", path="/", subdomain=False, catalog=CATALOG,
                                   customers=[], memberships={}, keys={}, sites={}, scheduled={})
    base.update(kw)
    return TargetState(**base)  # type: ignore[arg-type]


def ann_membership(**changes: object) -> Membership:
    data: dict[str, object] = dict(id=70, customer_id=7, plan_id=3, addon_products={5: 2}, amount="49.0000",
                                   initial_amount="49", currency="USD", duration=1, duration_unit="month",
                                   recurring=True, status="active", date_expiration="2026-12-01 00:00:00")
    data.update(changes)
    return Membership.model_validate(data)


def existing(**membership_changes: object) -> TargetState:
    return target(
        customers=[{"id": 7, "email": "ANN@example.com", "username": "ann1"}],
        memberships={70: ann_membership(**membership_changes)},
        keys={"csv:ann@example.com#1": 70},
        sites={("net.example", "/ann/"): {"blog_id": 9, "domain": "net.example", "path": "/ann/", "title": "Ann",
                                           "membership_id": 70, "customer_id": 7, "type": "customer_owned"}},
    )


def actions(plan) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(s.kind, s.key, s.action) for s in plan.steps]


def test_fresh_target_creates_everything() -> None:
    plan = build_plan(source(), target())
    assert actions(plan) == [
        ("customer", "ann@example.com", "create"), ("customer", "bob@example.com", "create"),
        ("membership", "csv:ann@example.com#1", "create"), ("membership", "csv:bob@example.com#1", "create"),
        ("site", "net.example/ann/", "create"), ("site", "net.example/bob/", "create"),
    ]
    assert plan.writes_planned == 6 and plan.conflicts == []


def test_what_is_there_already_is_unchanged_matched_by_email_case_insensitively() -> None:
    plan = build_plan(source(), existing())
    assert actions(plan)[:5] == [
        ("customer", "ann@example.com", "unchanged"), ("customer", "bob@example.com", "create"),
        ("membership", "csv:ann@example.com#1", "unchanged"), ("membership", "csv:bob@example.com#1", "create"),
        ("site", "net.example/ann/", "unchanged"),
    ]


def test_different_values_are_a_conflict_unless_update() -> None:
    plan = build_plan(source(), existing(amount="39", addon_products={}))
    step = plan.of("membership")[0]
    assert step.action == "conflict"
    assert step.differences == {"amount": (Decimal("39"), Decimal("49")), "addons": ("none", "extra-storage:2")}
    assert "amount: 39.00 -> 49.00" in step.describe()  # the currency's decimals, as all output
    assert step.to_json()["differences"]["amount"] == {"target": "39.00", "file": "49.00"}  # as the plan line says
    assert build_plan(source(), existing(amount="39"), update=True).of("membership")[0].action == "update"


def test_a_customer_found_by_username_with_another_email_is_never_updated() -> None:
    t = target(customers=[{"id": 7, "email": "other@example.com", "username": "ann1"}])
    step = build_plan(source(), t, update=True).of("customer")[0]
    assert step.action == "conflict" and step.differences["email"] == ("other@example.com", "ann@example.com")


def test_a_site_that_exists_unlinked_is_a_conflict_and_linked_by_update() -> None:
    t = existing()
    t.sites[("net.example", "/bob/")] = {"blog_id": 10, "domain": "net.example", "path": "/bob/", "title": "Bob",
                                         "membership_id": None, "customer_id": None, "type": "default"}
    step = build_plan(source(), t).of("site")[1]
    assert step.action == "conflict" and set(step.differences) == {"membership", "type"}
    assert build_plan(source(), t, update=True).of("site")[1].action == "update"


def test_products_add_ons_before_the_plans_that_offer_them() -> None:
    import json

    from wpbridge.workflows.importer_input import read_json

    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": "http://a",
            "catalog": [p.model_dump(mode="json") for p in CATALOG], "customers": [], "memberships": [],
            "sites": [], "scheduled_changes": []}
    src = read_json(json.dumps(data))
    plan = build_plan(src, target(catalog=[]))
    order = [s.key for s in plan.of("product")]
    assert order.index("extra-storage") < order.index("premium") and order.index("site-setup") < order.index("free")
    # into a network that has them, the same catalog is unchanged
    assert {s.action for s in build_plan(src, target()).of("product")} == {"unchanged"}


def test_scheduled_change_compared_in_target_ids() -> None:
    import json

    from wpbridge.workflows.importer_input import read_json

    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": "http://a",
            "catalog": [p.model_dump(mode="json") for p in CATALOG],
            "customers": [{"id": 1, "user_email": "ann@example.com"}],
            "memberships": [{"id": 4, "customer_id": 1, "plan_id": 3, "status": "active"}],
            "sites": [], "scheduled_changes": [{"membership_id": 4, "scheduled_for": "2026-12-01T00:00:00Z",
                                                "target": {"plan_id": 2, "amount": "15"}}]}
    src = read_json(json.dumps(data))
    when = datetime(2026, 12, 1, tzinfo=UTC)
    t = target(customers=[{"id": 7, "email": "ann@example.com"}],
               memberships={70: ann_membership(plan_id=3, addon_products={}, amount="0", initial_amount="0",
                                               recurring=True, date_expiration=None)},
               keys={"http://a/membership/4": 70},
               scheduled={70: ScheduledChange(membership_id=70, scheduled_for=when,
                                              target={"plan_id": 2, "amount": "15.0000"})})
    plan = build_plan(src, t)
    assert plan.of("scheduled_change")[0].action == "unchanged"
    t.scheduled[70] = ScheduledChange(membership_id=70, scheduled_for=when, target={"plan_id": 1, "amount": "15"})
    assert build_plan(src, t).of("scheduled_change")[0].differences == {"target.plan_id": (1, 2)}


def test_a_ums_swap_is_compared_on_what_ums_swap_can_hold() -> None:
    """UM's scheduled swap keeps plan, add-ons, recurring amount and period; it sets initial_amount itself and keeps
    no `recurring`, so a stub export's target carrying them must not read as a conflict on every run."""
    import json

    from wpbridge.workflows.importer_input import read_json

    target_of_file = {"plan_id": 2, "addon_products": {}, "amount": "15", "duration": 1, "duration_unit": "month",
                      "initial_amount": "39", "recurring": False}
    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": "http://a",
            "catalog": [p.model_dump(mode="json") for p in CATALOG],
            "customers": [{"id": 1, "user_email": "ann@example.com"}],
            "memberships": [{"id": 4, "customer_id": 1, "plan_id": 3, "status": "active"}],
            "sites": [], "scheduled_changes": [{"membership_id": 4, "scheduled_for": "2026-12-01T00:00:00Z",
                                                "target": target_of_file}]}
    when = datetime(2026, 12, 1, tzinfo=UTC)
    swap = {"plan_id": 2, "addon_products": {}, "amount": "15.0000", "duration": 1, "duration_unit": "month"}

    def plan_on(flavor: Flavor, held: dict[str, object]):  # type: ignore[no-untyped-def]
        t = target(flavor=flavor, customers=[{"id": 7, "email": "ann@example.com"}],
                   memberships={70: ann_membership(plan_id=3, addon_products={}, date_expiration=None)},
                   keys={"http://a/membership/4": 70},
                   scheduled={70: ScheduledChange(membership_id=70, scheduled_for=when, target=held)})
        return build_plan(read_json(json.dumps(data)), t).of("scheduled_change")[0]

    assert plan_on(UM, swap).action == "unchanged"
    assert plan_on(STUB, swap).differences == {"target.initial_amount": (None, "39"),
                                                 "target.recurring": (None, False)}
    assert plan_on(UM, {**swap, "amount": "12.0000"}).differences == {"target.amount": ("12.0000", "15")}


def test_quota_steps() -> None:
    m = ann_membership()
    site = Site(blog_id=9, membership_id=70, customer_id=7, type="customer_owned")
    want = effective_limitations(m, CATALOG, site)
    step = quota_step(site, m, CATALOG, None)
    assert step is not None and step.action == "create" and step.src[1] == want
    assert quota_step(site, m, CATALOG, want) is None
    stale = Limitations.model_validate({"disk_space": {"enabled": True, "limit": 1}})
    assert quota_step(site, m, CATALOG, stale).action == "update"  # type: ignore[union-attr]
    cancelled = ann_membership(status="cancelled")
    assert quota_step(site, cancelled, CATALOG, stale) is None  # a suspension written by sync stays
    assert quota_step(site, cancelled, CATALOG, None) is not None  # but a new site gets its quota


def test_existing_sites_get_their_quota_planned_in_stub_mode() -> None:
    plan = build_plan(source(), existing(), quota_reader=lambda ids: [(b, None) for b in ids])
    assert [(s.key, s.action) for s in plan.of("quota")] == [("site 9", "create")]
    um = existing()
    um.flavor = UM  # UM computes and enforces its own limits
    assert build_plan(source(), um, quota_reader=lambda ids: [(b, None) for b in ids]).of("quota") == []


def test_same() -> None:
    assert same(Decimal("15.0000"), Decimal(15)) and same("15.0000", "15") and not same("15", "15.01")
    assert same(None, "") and same({}, None) and not same(None, "x")
    assert same(datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01 00:00:00")
    assert same(True, "1") and not same(False, True)
    assert same({"a": "1.0"}, {"a": 1}) and not same({"a": 1}, {"a": 2})


def test_site_addresses_on_subdirectory_and_subdomain_networks() -> None:
    src = read_csv("email,plan,site_path,site_domain\na@x.io,basic,/alice/,\nb@x.io,basic,,shop.example.org\n")
    check_references(src, CATALOG)
    alice, shop = src.sites
    sub = target()  # subdirectory network net.example
    assert sub.site_address(alice) == ("net.example", "/alice/")
    assert sub.address_problem(alice) is None
    assert "give site_path instead" in str(sub.address_problem(shop))
    dom = target(subdomain=True)
    assert dom.site_address(alice) == ("alice.net.example", "/")
    assert dom.site_address(shop) == ("shop.example.org", "/") and dom.address_problem(shop) is None


def test_a_title_wordpress_stored_with_entities_is_the_same_title() -> None:
    src = read_csv("email,plan,site_path,site_title\nann@example.com,premium,/ann/,Ann's Shop\n")
    check_references(src, CATALOG)
    t = existing()
    t.sites[("net.example", "/ann/")]["title"] = "Ann&#039;s Shop"
    assert build_plan(src, t).of("site")[0].action == "unchanged"


def test_a_free_row_without_an_expiration_is_lifetime() -> None:
    src = read_csv("email,plan\nann@example.com,free\nbob@example.com,basic\n")
    check_references(src, CATALOG)
    assert src.memberships[0].fields["date_expiration"] is None
    assert "date_expiration" not in src.memberships[1].fields  # a paid one: left to the network (give it)


def scheduled_downgrade_source():  # type: ignore[no-untyped-def]
    """premium (group High End) -> basic (no group), with site-setup: a change the source network accepted that UM's
    Change form would not offer (another plan group)."""
    import json

    from wpbridge.workflows.importer_input import read_json

    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": "http://a",
            "catalog": [p.model_dump(mode="json") for p in CATALOG],
            "customers": [{"id": 1, "user_email": "ann@example.com"}],
            "memberships": [{"id": 4, "customer_id": 1, "plan_id": 3, "status": "active"}],
            "sites": [], "scheduled_changes": [{"membership_id": 4, "scheduled_for": "2026-12-01T00:00:00Z",
                                                "target": {"plan_id": 2, "addon_products": {"6": 1},
                                                           "amount": "15"}}]}
    return read_json(json.dumps(data))


def test_a_scheduled_change_um_would_not_offer_is_kept_as_the_source_had_it_and_said() -> None:
    src = scheduled_downgrade_source()
    step = build_plan(src, target(flavor=UM)).of("scheduled_change")[0]
    assert step.action == "create"
    assert step.note == ("kept as the source had it, though Ultimate Multisite would not offer it here: plan 'basic'"
                         " has no plan group, the membership's plan 'premium' is in group 'High End'")
    assert step.to_json()["note"] == step.note and f"[{step.note}]" in step.describe()
    assert [(w.where, w.field, w.message) for w in src.warnings] == [
        ("scheduled_changes[0] (membership 4)", "target.plan_id", f"warning: {step.note}")]
    # an add-on the new plan does not offer, an inactive plan: said too
    offered = [p.model_copy(update={"product_group": "High End"} if p.slug == "basic" else {}) for p in CATALOG]
    src = scheduled_downgrade_source()
    note = build_plan(src, target(flavor=UM, catalog=offered)).of("scheduled_change")[0].note
    assert note == "" and src.warnings == []  # basic offers site-setup: UM would offer it
    no_setup = [p.model_copy(update={"available_addons": [5]} if p.slug == "basic" else {}) for p in offered]
    note = build_plan(scheduled_downgrade_source(), target(flavor=UM, catalog=no_setup)).of("scheduled_change")[0].note
    assert note.endswith("add-on 'site-setup' is not offered by plan 'basic'")
    inactive = [p.model_copy(update={"active": False} if p.slug == "basic" else {}) for p in offered]
    note = build_plan(scheduled_downgrade_source(), target(flavor=UM, catalog=inactive)).of("scheduled_change")[0].note
    assert note.endswith("plan 'basic' is inactive")
    # the stub stores any change: nothing to say; an unchanged one is not said again
    src = scheduled_downgrade_source()
    assert build_plan(src, target()).of("scheduled_change")[0].note == "" and src.warnings == []
