"""Offered plans, add-ons and periods (UM's Change form), and the offered-set check of quote_change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from wpbridge.billing import Cart, change_options, offered_addons, offered_plans, quote_change
from wpbridge.models import Membership, Product
from wpbridge.sandbox.example import example_catalog

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FREE, BASIC, PREMIUM, VISITS, STORAGE, SETUP = 1, 2, 3, 4, 5, 6


def member(plan_id: int, amount: str = "0", **kw: Any) -> Membership:
    data: dict[str, Any] = {
        "id": 9, "customer_id": 2, "plan_id": plan_id, "amount": amount, "initial_amount": amount,
        "status": "active", "recurring": Decimal(amount) > 0, "date_created": NOW - timedelta(days=12),
        "date_expiration": NOW + timedelta(days=18, hours=12) if Decimal(amount) > 0 else None,
    }
    data.update(kw)
    return Membership.model_validate(data)


def plan(pid: int, order: int, group: str | None = None, **kw: Any) -> Product:
    return Product.model_validate({"id": pid, "slug": f"p{pid}", "name": f"P{pid}", "amount": str(pid),
                                   "list_order": order, "product_group": group, **kw})


def test_free_customer_is_offered_premium_not_basic_plus_the_addons() -> None:
    options = change_options(member(FREE), example_catalog())
    assert [(p.product.slug, p.is_current, p.relation) for p in options.plans] == [
        ("free", True, "current"), ("premium", False, "upgrade")]
    assert [a.product.slug for a in options.addons] == ["unlimited-visits", "extra-storage", "site-setup"]
    assert [(a.amount, a.recurring) for a in options.addons] == [
        (Decimal("9.00"), True), (Decimal("5.00"), True), (Decimal("49.00"), False)]
    assert [(p.duration, p.duration_unit, p.days) for p in options.periods] == [(1, "month", 30), (1, "year", 365)]


def test_premium_options_price_in_the_membership_period() -> None:
    m = member(PREMIUM, "390", duration=1, duration_unit="year", date_expiration=NOW + timedelta(days=300))
    options = change_options(m, example_catalog())
    by_slug = {p.product.slug: p for p in options.plans}
    assert (by_slug["premium"].amount, by_slug["premium"].duration_unit) == (Decimal("390.00"), "year")
    assert by_slug["free"].relation == "downgrade"
    assert [(x.duration, x.duration_unit, x.amount) for x in by_slug["premium"].prices] == [
        (1, "month", Decimal("39.00")), (1, "year", Decimal("390.00"))]
    assert by_slug["premium"].per_day == Decimal("1.0678")  # 390 / 365.25


def test_plan_without_group_gets_the_first_three_plans() -> None:
    options = change_options(member(BASIC, "15"), example_catalog())
    assert [(p.product.slug, p.relation) for p in options.plans] == [
        ("free", "downgrade"), ("basic", "current"), ("premium", "upgrade")]
    assert [a.product.slug for a in options.addons] == ["extra-storage", "site-setup"]


def test_group_plans_ordered_by_list_order_inactive_left_out_other_types_ignored() -> None:
    catalog = [
        plan(1, 5, "g"), plan(2, 1, "g"), plan(3, 3, "g", active=False), plan(4, 2, "other"),
        plan(5, 4, "g", type="package"), plan(6, 3, "g"),
    ]
    assert [p.id for p in offered_plans(catalog[0], catalog)] == [2, 6, 1]


def test_ties_in_list_order_keep_id_order() -> None:
    catalog = [plan(9, 1, "g"), plan(4, 1, "g")]
    assert [p.id for p in offered_plans(catalog[0], catalog)] == [4, 9]


def test_fallback_takes_three_plans_before_dropping_inactive_ones() -> None:
    catalog = [plan(1, 1, active=False), plan(2, 2), plan(3, 3), plan(4, 4), plan(5, 5)]
    assert [p.id for p in offered_plans(catalog[3], catalog)] == [2, 3]


def test_offered_addons_skip_unknown_inactive_plans_and_duplicates() -> None:
    addon = Product(id=10, slug="a", type="package", amount="1")
    off = Product(id=11, slug="b", type="package", amount="1", active=False)
    current = plan(1, 1, "g", available_addons=[10, 99, 11, 2, 10])
    catalog = [current, plan(2, 2, "g"), addon, off]
    assert [p.id for p in offered_addons(current, catalog)] == [10]


def test_relation_uses_owned_addons() -> None:
    catalog = [plan(1, 1, "g", amount="10"), plan(2, 2, "g", amount="25", available_addons=[5]),
               Product(id=5, slug="x", type="package", amount="30")]
    m = member(1, "40", addon_products={5: 1})
    assert [p.relation for p in change_options(m, catalog).plans] == ["current", "upgrade"]


def test_plan_outside_the_offered_set_is_refused_unless_forced() -> None:
    m = member(FREE)
    refused = quote_change(m, example_catalog(), Cart(plan_id=BASIC), now=NOW)
    assert refused.kind == "blocked"
    assert [(e.code, e.message) for e in refused.errors] == [
        ("plan_not_offered", "Basic is not offered to this membership (plans offered: Free, Premium).")]
    forced = quote_change(m, example_catalog(), Cart(plan_id=BASIC), now=NOW, force=True)
    assert (forced.kind, forced.due_now, [w.code for w in forced.warnings]) == (
        "upgrade", Decimal("15.00"), ["plan_not_offered"])


def test_inactive_plan_is_not_offered() -> None:
    catalog = [p if p.slug != "premium" else p.model_copy(update={"active": False}) for p in example_catalog()]
    q = quote_change(member(FREE), catalog, Cart(plan_id=PREMIUM), now=NOW)
    assert (q.kind, q.errors[0].code) == ("blocked", "plan_not_offered")


def test_addon_not_offered_is_refused_unless_forced() -> None:
    m = member(BASIC, "15")
    refused = quote_change(m, example_catalog(), Cart(addons={VISITS: 1}), now=NOW)
    assert [(e.code, e.message) for e in refused.errors] == [
        ("addon_not_offered", "Unlimited visits is not offered as an add-on of Basic.")]
    forced = quote_change(m, example_catalog(), Cart(addons={VISITS: 1}), now=NOW, force=True,
                          um_version="2.4.13-beta.1")
    assert (forced.kind, forced.due_now) == ("addon", Decimal("9.00"))


def test_addons_of_the_new_plan_are_offered_with_a_plan_change() -> None:
    catalog = [plan(1, 1, "g", amount="10"), plan(2, 2, "g", amount="20", available_addons=[5]),
               Product(id=5, slug="x", name="X", type="package", amount="3")]
    m = member(1, "10")
    assert quote_change(m, catalog, Cart(plan_id=2, addons={5: 1}), now=NOW).kind == "upgrade"
    assert quote_change(m, catalog, Cart(addons={5: 1}), now=NOW).kind == "blocked"


def test_current_plan_is_always_allowed_even_outside_the_fallback() -> None:
    catalog = [plan(i, i) for i in range(1, 5)]
    catalog.append(plan(5, 5, price_variations=[{"duration": 1, "duration_unit": "year", "amount": "50"}]))
    assert all(p.id != 5 for p in offered_plans(catalog[4], catalog))
    q = quote_change(member(5, "5"), catalog, Cart(plan_id=5, duration=1, duration_unit="year"), now=NOW)
    assert (q.kind, q.errors, q.warnings) == ("upgrade", [], [])
