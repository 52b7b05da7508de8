"""Every deviation from UM's own Cart (README "Pricing"), with a worked example each; numbers measured on the real
Cart (reference §9.2) or read from it (wpbridge/billing/umcart.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from wpbridge.billing import Cart, quote_change
from wpbridge.billing.umcart import php_add_period
from wpbridge.models import Membership, Product

D = Decimal
MAIN = "2.4.13-beta.1"


def plan(pid: int, amount: str, **kw: Any) -> Product:
    return Product.model_validate({"id": pid, "slug": f"p{pid}", "name": f"Plan {pid}", "amount": amount, **kw})


def member(now: datetime, amount: str = "10", **kw: Any) -> Membership:
    data: dict[str, Any] = {"id": 1, "customer_id": 1, "plan_id": 1, "amount": amount, "initial_amount": amount,
                            "status": "active", "date_created": now - timedelta(days=40),
                            "date_expiration": now + timedelta(days=10, hours=1)}
    data.update(kw)
    return Membership.model_validate(data)


def devs(q: Any) -> list[tuple[str, str | None, str | None]]:
    return [(d.field, d.ultimate_multisite, d.wpbridge) for d in q.deviations]


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_jpy_on_2_4_12_is_rounded_to_whole_yen() -> None:
    # reference §9.2: JPY 1000 -> 3000 with 10 whole days left: UM 2.4.12 328.54 / 2671.46, UM main 329 / 2671
    m = member(NOW, "1000", currency="JPY")
    q = quote_change(m, [plan(1, "1000"), plan(2, "3000")], Cart(plan_id=2), now=NOW)
    assert (q.credit, q.due_now, q.recurring_total) == (D("329"), D("2671"), D("3000"))
    assert devs(q) == [("credit", "328.54", "329"), ("due_now", "2671.46", "2671")]
    assert all(d.reason for d in q.deviations)
    main = quote_change(m, [plan(1, "1000"), plan(2, "3000")], Cart(plan_id=2), now=NOW, um_version=MAIN)
    assert (main.credit, main.due_now, main.deviations) == (D("329"), D("2671"), [])


def test_a_month_from_the_31st_is_clamped_not_spilled() -> None:
    jan31 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert php_add_period(jan31, 1, "month") == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # PHP strtotime
    q = quote_change(member(jan31), [plan(1, "10"), plan(2, "20")], Cart(plan_id=2), now=jan31)
    assert q.next_charge_at == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert devs(q) == [("next_charge_at", "2026-03-03T09:00:00Z", "2026-02-28T09:00:00Z")]


def test_a_lifetime_downgrade_is_not_dated_now() -> None:
    m = member(NOW, "100", recurring=False, date_expiration=None)
    q = quote_change(m, [plan(1, "100"), plan(2, "20")], Cart(plan_id=2), now=NOW)
    assert q.kind == "downgrade" and q.next_charge_at == datetime(2026, 12, 30, 12, 0, tzinfo=UTC)
    assert devs(q) == [("next_charge_at", "2026-11-30T12:00:00Z", "2026-12-30T12:00:00Z")]


def test_a_pending_membership_on_main_is_an_upgrade_not_a_new_signup() -> None:
    q = quote_change(member(NOW, status="pending"), [plan(1, "10"), plan(2, "20")], Cart(plan_id=2), now=NOW,
                     um_version=MAIN)
    assert (q.kind, q.due_now) == ("upgrade", D("20.00"))
    assert devs(q) == [("kind", "new", "upgrade")]


def test_main_addon_cart_bills_the_addon_at_the_membership_renewal() -> None:
    addon = Product.model_validate({"id": 5, "slug": "a", "name": "A", "type": "package", "amount": "5"})
    m = member(NOW, "10")
    q = quote_change(m, [plan(1, "10", available_addons=[5]), addon], Cart(addons={5: 2}), now=NOW, um_version=MAIN)
    assert (q.kind, q.due_now, q.recurring_total, q.next_charge_at) == ("addon", D("10.00"), D("20.00"),
                                                                       m.date_expiration)
    assert devs(q) == [("recurring_total", "10.00", "20.00"),
                       ("next_charge_at", "2026-12-30T12:00:00Z", "2026-12-10T13:00:00Z")]


def test_held_addons_are_kept_with_their_price() -> None:
    addon = Product.model_validate({"id": 5, "slug": "a", "name": "A", "type": "package", "amount": "5"})
    m = member(NOW, "20", addon_products={5: 2})
    q = quote_change(m, [plan(1, "10"), plan(2, "20"), addon], Cart(plan_id=2), now=NOW)
    assert q.recurring_total == D("30.00") and q.target is not None and q.target["addon_products"] == {5: 2}
    assert devs(q) == [("recurring_total", "20.00", "30.00")]


def test_no_deviation_when_um_is_right() -> None:
    q = quote_change(member(NOW), [plan(1, "10"), plan(2, "20")], Cart(plan_id=2), now=NOW)
    assert (q.kind, q.credit, q.due_now, q.deviations, q.um_version) == ("upgrade", D("3.29"), D("16.71"), [],
                                                                         "2.4.12")


def test_a_product_outside_the_change_form_is_refused_and_says_what_ums_cart_would_do() -> None:
    """wpbridge's offered-set refusal (force off) goes beyond UM's Cart, which prices the cart: declared, so the
    differential can run without force (issue 19: an expired membership's add-on UM's form does not offer)."""
    addon = Product.model_validate({"id": 3, "slug": "a", "name": "Addon", "type": "package", "amount": "5"})
    m = member(NOW, status="expired", date_expiration=NOW - timedelta(days=3))
    q = quote_change(m, [plan(1, "10"), plan(2, "20"), addon], Cart(addons={3: 1}), now=NOW)
    assert (q.kind, [e.code for e in q.errors]) == ("blocked", ["addon_not_offered"])
    assert devs(q) == [("kind", "addon", "blocked"), ("error", None, "addon_not_offered")]
    assert "Change form" in q.deviations[0].reason
    forced = quote_change(m, [plan(1, "10"), plan(2, "20"), addon], Cart(addons={3: 1}), now=NOW, force=True)
    assert (forced.kind, forced.deviations) == ("addon", [])


def test_a_refusal_both_make_is_a_deviation_of_the_error_only() -> None:
    addon = Product.model_validate({"id": 3, "slug": "a", "name": "Addon", "type": "package", "amount": "5",
                                    "duration": 1, "duration_unit": "year", "recurring": True})
    q = quote_change(member(NOW), [plan(1, "10"), plan(2, "20"), addon], Cart(addons={3: 1}), now=NOW)
    assert q.kind == "blocked" and q.errors[0].code == "addon_not_offered"
    assert devs(q) == [("error", "wrong", "addon_not_offered")]  # UM 2.4.12: the add-on's year is not the plan's month


def test_a_period_without_a_plan_declares_what_ums_cart_of_the_addons_alone_answers() -> None:
    """wpbridge reads a period alone as the current plan in that period; UM's Cart given the add-ons and the period
    (no plan) prices the add-ons: on 2.4.12 the yearly add-on beside the monthly plan put back is `wrong`."""
    yearly = [{"duration": 1, "duration_unit": "year", "amount": "100"}]
    addon = Product.model_validate({"id": 3, "slug": "a", "name": "Addon", "type": "package", "amount": "5",
                                    "price_variations": [{"duration": 1, "duration_unit": "year", "amount": "50"}]})
    catalog = [plan(1, "10", price_variations=yearly, available_addons=[3]), addon]
    q = quote_change(member(NOW), catalog, Cart(addons={3: 1}, duration=1, duration_unit="year"), now=NOW)
    assert q.kind == "upgrade"
    assert devs(q) == [("kind", "blocked", "upgrade"), ("error", "wrong", None)]
    assert "period alone" in q.deviations[0].reason
    named = quote_change(member(NOW), catalog, Cart(plan_id=1, addons={3: 1}, duration=1, duration_unit="year"),
                         now=NOW)
    assert (named.kind, named.due_now, devs(named)) == ("upgrade", q.due_now, [])


def test_a_period_alone_equal_to_the_memberships_is_a_2_4_12_addon_cart_with_the_plans_setup_fee() -> None:
    """Issue 19's first shape: on 2.4.12, the current plan named in its own period beside an add-on is an add-on
    cart whose plan line came with its setup fee (added before UM's `wu_apply_signup_fee` filter) and the fee's
    credit; UM's Cart of the add-on alone puts the plan back after that filter, without the fee or its credit."""
    addon = Product.model_validate({"id": 3, "slug": "a", "name": "Addon", "type": "package", "amount": "5"})
    catalog = [plan(1, "10", setup_fee="15", available_addons=[3]), addon]
    m = member(NOW, times_billed=1)
    q = quote_change(m, catalog, Cart(addons={3: 1}, duration=1, duration_unit="month"), now=NOW)
    alone = quote_change(m, catalog, Cart(addons={3: 1}), now=NOW)
    assert (q.kind, alone.kind) == ("addon", "addon")
    assert q.credit == alone.credit + 15 and q.due_now == alone.due_now
    assert devs(q) == [("credit", str(alone.credit), str(q.credit))]
