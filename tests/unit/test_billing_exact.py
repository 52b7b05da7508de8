"""Policy "exact" (DESIGN §4 last bullet): by the second over [renewed or created, expiration), anchor kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from wpbridge.billing import Cart, quote_change
from wpbridge.models import Membership, Product

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
D = Decimal


def plan(pid: int, amount: str, **kw: Any) -> Product:
    return Product.model_validate({"id": pid, "slug": f"p{pid}", "name": f"P{pid}", "amount": amount,
                                   "product_group": "g", "list_order": pid, **kw})


A = plan(1, "10", available_addons=[5])
B = plan(2, "20", available_addons=[5])
B_YEARLY = plan(3, "200", duration_unit="year")
STORAGE = Product(id=5, slug="storage", name="Storage", type="package", amount="5")
CATALOG = [A, B, B_YEARLY, STORAGE]


def member(**kw: Any) -> Membership:
    """A 30-day period, half of it used: renewed 15 days ago, expiring in 15 days."""
    data: dict[str, Any] = {
        "id": 3, "customer_id": 1, "plan_id": 1, "amount": "10", "initial_amount": "10", "status": "active",
        "date_created": NOW - timedelta(days=200), "date_renewed": NOW - timedelta(days=15),
        "date_expiration": NOW + timedelta(days=15),
    }
    data.update(kw)
    return Membership.model_validate(data)


def exact(m: Membership, cart: Cart) -> Any:
    return quote_change(m, CATALOG, cart, now=NOW, policy="exact")


def test_same_period_length_prorates_both_sides_and_keeps_the_anchor() -> None:
    m = member()
    q = exact(m, Cart(plan_id=2))
    # credit 10 × 0.5 = 5.00; charge 20 × 0.5 = 10.00
    assert (q.kind, q.policy, q.credit, q.due_now, q.recurring_total) == (
        "upgrade", "exact", D("5.00"), D("5.00"), D("20.00"))
    assert [(ln.type, ln.unit_price, ln.total) for ln in q.lines] == [
        ("product", D("10.00"), D("10.00")), ("credit", D("-5.00"), D("-5.00"))]
    assert q.next_charge_at == m.date_expiration
    assert q.target is not None and "date_expiration" not in q.target and q.target["amount"] == "20.00"


def test_fraction_is_counted_by_the_second() -> None:
    # period 30 days, 7 days 6 hours left: fraction 7.25 / 30 = 0.241666...
    m = member(date_renewed=NOW - timedelta(days=22, hours=18), date_expiration=NOW + timedelta(days=7, hours=6))
    q = exact(m, Cart(plan_id=2))
    # credit 2.4166 -> 2.42; charge 4.8333 -> 4.83
    assert (q.credit, q.lines[0].total, q.due_now) == (D("2.42"), D("4.83"), D("2.41"))


def test_without_date_renewed_the_period_starts_at_date_created() -> None:
    m = member(date_renewed=None, date_created=NOW - timedelta(days=10), date_expiration=NOW + timedelta(days=30))
    q = exact(m, Cart(plan_id=2))
    assert (q.credit, q.due_now) == (D("7.50"), D("7.50"))  # fraction 0.75


def test_period_change_charges_the_full_new_price_minus_the_credit_and_restarts() -> None:
    q = exact(member(), Cart(plan_id=3, duration=1, duration_unit="year"))
    assert (q.kind, q.credit, q.due_now, q.recurring_total) == ("upgrade", D("5.00"), D("195.00"), D("200.00"))
    assert q.next_charge_at == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert q.target is not None and q.target["date_renewed"] == "2025-03-10 12:00:00"
    assert q.target["date_expiration"] == "2026-03-10 12:00:00"


def test_trialing_pays_the_full_price_and_restarts() -> None:
    q = exact(member(status="trialing"), Cart(plan_id=2))
    assert (q.credit, q.due_now) == (D("0.00"), D("20.00"))
    assert q.next_charge_at == datetime(2025, 4, 10, 12, 0, tzinfo=UTC)


def test_period_over_charges_the_full_price() -> None:
    m = member(status="on-hold", date_renewed=NOW - timedelta(days=32), date_expiration=NOW - timedelta(days=2))
    q = exact(m, Cart(plan_id=2))
    assert (q.credit, q.due_now) == (D("0.00"), D("20.00"))


def test_exact_addons_are_prorated_to_the_anchor() -> None:
    q = exact(member(), Cart(addons={5: 2}))
    assert (q.kind, q.due_now, q.recurring_total, q.next_charge_at) == (
        "addon", D("5.00"), D("20.00"), NOW + timedelta(days=15))


def test_exact_downgrades_are_scheduled_as_under_um() -> None:
    m = member(plan_id=2, amount="20")
    q = exact(m, Cart(plan_id=1))
    assert (q.kind, q.due_now, q.scheduled_for, q.recurring_total) == (
        "downgrade", D("0.00"), m.date_expiration, D("10.00"))


def test_exact_differs_from_um_on_the_same_membership() -> None:
    # UM: 15 whole days × 10 / 30.4375 = 4.93, due 20 - 4.93; exact: 5.00 credit, 10.00 charge
    m = member(date_expiration=NOW + timedelta(days=15, hours=3))
    um = quote_change(m, CATALOG, Cart(plan_id=2), now=NOW)
    assert (um.credit, um.due_now) == (D("4.93"), D("15.07"))
    q = exact(m, Cart(plan_id=2))
    # fraction 15.125 / 30.125 = 0.50207...: credit 10 × f = 5.02, charge 20 × f = 10.04
    assert (q.credit, q.lines[0].total, q.due_now) == (D("5.02"), D("10.04"), D("5.02"))
