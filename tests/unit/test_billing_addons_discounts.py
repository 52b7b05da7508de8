"""Add-on carts (reference §4.6) and discount codes (reference §4.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from wpbridge.billing import Cart, quote_change
from wpbridge.errors import InputError
from wpbridge.models import DiscountCode, Membership, Product
from wpbridge.sandbox.example import example_catalog

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
D = Decimal
FREE, BASIC, PREMIUM, VISITS, STORAGE, SETUP = 1, 2, 3, 4, 5, 6
EXPIRES = NOW + timedelta(days=18, hours=12)
MAIN = "2.4.13-beta.1"  # UM main's add-on carts: only the add-ons are charged


def member(plan_id: int = BASIC, amount: str = "15", **kw: Any) -> Membership:
    data: dict[str, Any] = {
        "id": 11, "customer_id": 3, "plan_id": plan_id, "amount": amount, "initial_amount": amount,
        "status": "active", "date_created": NOW - timedelta(days=40), "date_renewed": NOW - timedelta(days=12),
        "date_expiration": EXPIRES,
    }
    data.update(kw)
    return Membership.model_validate(data)


def code(**kw: Any) -> DiscountCode:
    return DiscountCode.model_validate({"id": 1, "code": "SAVE", "type": "percentage", "value": "10", **kw})


# --------------------------------------------------------------------------- add-on carts


def test_addon_cart_charges_only_the_addons_and_keeps_the_cycle() -> None:
    q = quote_change(member(), example_catalog(), Cart(addons={STORAGE: 2}), now=NOW, um_version=MAIN)
    assert (q.kind, q.credit, q.due_now, q.recurring_total) == ("addon", D("0.00"), D("10.00"), D("25.00"))
    assert [(ln.type, ln.product_id, ln.quantity, ln.unit_price, ln.total) for ln in q.lines] == [
        ("product", STORAGE, 2, D("5.00"), D("10.00"))]
    assert q.next_charge_at == EXPIRES and q.scheduled_for is None
    assert q.target == {"plan_id": BASIC, "addon_products": {STORAGE: 2}, "amount": "25.00",
                        "initial_amount": "15.00", "duration": 1, "duration_unit": "month", "recurring": True}
    # UM main's Cart reports the add-ons alone (10, next charge a month from now) but its swap keeps the amount
    # and dates: wpbridge says so
    assert [(d.field, d.ultimate_multisite, d.wpbridge) for d in q.deviations] == [
        ("recurring_total", "10.00", "25.00"), ("next_charge_at", "2025-04-10T12:00:00Z", "2025-03-29T00:00:00Z")]


def test_addon_cart_of_2_4_12_puts_the_plan_back_with_the_credit() -> None:
    # measured on the real Cart (reference §9.2): a €90/month plan, 14 whole days left, €5 package × 2
    catalog = [Product(id=1, slug="p", name="P", amount="90"),
               Product(id=2, slug="a", name="A", type="package", amount="5")]
    m = member(1, "90", currency="EUR", date_renewed=None, date_expiration=NOW + timedelta(days=14, hours=2))
    q = quote_change(m, catalog, Cart(addons={2: 2}), now=NOW, force=True)
    assert (q.kind, q.credit, q.due_now, q.recurring_total, q.deviations) == (
        "addon", D("41.40"), D("58.60"), D("100.00"), [])
    assert q.next_charge_at == datetime(2025, 4, 10, 12, 0, tzinfo=UTC)
    assert q.target is not None and q.target["addon_products"] == {2: 2} and q.target["amount"] == "100.00"


def test_addon_quantities_merge_with_those_owned() -> None:
    m = member(amount="20", addon_products={STORAGE: 1})
    q = quote_change(m, example_catalog(), Cart(plan_id=BASIC, addons={STORAGE: 2}), now=NOW, um_version=MAIN)
    assert (q.kind, q.due_now, q.recurring_total) == ("addon", D("10.00"), D("30.00"))
    assert q.target is not None and q.target["addon_products"] == {STORAGE: 3}


def test_one_time_addon_does_not_change_the_recurring_total() -> None:
    q = quote_change(member(), example_catalog(), Cart(addons={SETUP: 1}), now=NOW, um_version=MAIN)
    assert (q.kind, q.due_now, q.recurring_total) == ("addon", D("49.00"), D("15.00"))
    assert q.target is not None and q.target["addon_products"] == {SETUP: 1}


def test_addon_setup_fee_is_charged() -> None:
    catalog = [p if p.id != STORAGE else p.model_copy(update={"setup_fee": D("3")}) for p in example_catalog()]
    q = quote_change(member(), catalog, Cart(addons={STORAGE: 2}), now=NOW, um_version=MAIN)
    assert [(ln.type, ln.title, ln.total) for ln in q.lines] == [
        ("product", "Extra storage", D("10.00")), ("fee", "Signup Fee for Extra storage", D("6.00"))]
    assert (q.due_now, q.recurring_total) == (D("16.00"), D("25.00"))


def test_free_membership_buying_a_recurring_addon_starts_billing() -> None:
    m = member(FREE, "0", recurring=False, date_expiration=None, date_renewed=None)
    q = quote_change(m, example_catalog(), Cart(addons={VISITS: 1}), now=NOW)
    assert (q.kind, q.due_now, q.recurring_total) == ("addon", D("9.00"), D("9.00"))
    assert q.next_charge_at == datetime(2025, 4, 10, 12, 0, tzinfo=UTC)
    assert q.target is not None and q.target["recurring"] is True
    assert q.target["date_expiration"] == "2025-04-10 12:00:00"


def test_addon_of_another_period_than_the_plan_is_refused_by_2_4_12() -> None:
    # 2.4.12 puts the yearly plan back in a cart whose monthly add-on has another interval: UM's `wrong`
    m = member(PREMIUM, "390", duration_unit="year", date_expiration=NOW + timedelta(days=200))
    q = quote_change(m, example_catalog(), Cart(addons={STORAGE: 1}), now=NOW)
    assert (q.kind, [e.code for e in q.errors]) == ("blocked", ["wrong"])


@pytest.mark.parametrize(
    ("renewals", "due", "recurring", "applied"),
    [(True, "8.00", "23.00", "SAVE"), (False, "10.00", "25.00", None)],
)
def test_addon_cart_uses_the_membership_code_only_when_it_applies_to_renewals(
    renewals: bool, due: str, recurring: str, applied: str | None
) -> None:
    m = member(discount_code=code(value="20", apply_to_renewals=renewals).model_dump())
    q = quote_change(m, example_catalog(), Cart(addons={STORAGE: 2}), now=NOW, um_version=MAIN)
    assert (q.due_now, q.recurring_total, q.discount_code) == (D(due), D(recurring), applied)


def test_membership_code_is_its_own_quote_line_naming_it() -> None:
    """UM main's add-on cart discounts with the membership's code (class-cart.php 2.4.13-beta.1:927-950, the line's
    discount_label is the code): the quote shows it in its own line, naming the code and whose it is."""
    m = member(discount_code=code(value="20", apply_to_renewals=True).model_dump())
    q = quote_change(m, example_catalog(), Cart(addons={STORAGE: 2}), now=NOW, um_version=MAIN)
    discounts = [ln for ln in q.lines if ln.type == "discount"]
    assert [(ln.title, ln.total) for ln in discounts] == [
        ("Discount SAVE (the membership's own code) on Extra storage", D("-2.00"))]


def test_membership_code_replaces_the_carts_own_in_a_main_addon_cart() -> None:
    """UM main's add_discount_code replaces the code the cart was given (class-cart.php 2.4.13-beta.1:2234-2249)."""
    m = member(discount_code=code(value="20", apply_to_renewals=True).model_dump())
    given = DiscountCode.model_validate({"id": 2, "code": "OTHER", "type": "percentage", "value": "50"})
    q = quote_change(m, example_catalog(), Cart(addons={STORAGE: 2}, discount_code=given), now=NOW, um_version=MAIN)
    assert q.discount_code == "SAVE"
    assert [ln.title for ln in q.lines if ln.type == "discount"] == [
        "Discount SAVE (the membership's own code) on Extra storage"]


def test_addon_cart_of_2_4_12_never_uses_the_membership_code() -> None:
    """2.4.12 reads the membership's code only for a payment's retry cart (class-cart.php 2.4.12:637-646)."""
    m = member(discount_code=code(value="20", apply_to_renewals=True).model_dump())
    q = quote_change(m, example_catalog(), Cart(addons={STORAGE: 2}), now=NOW, um_version="2.4.12")
    assert (q.kind, q.discount_code, [ln for ln in q.lines if ln.type == "discount"]) == ("addon", None, [])


def test_addon_cart_ignores_an_expired_membership_code() -> None:
    expired = code(value="20", apply_to_renewals=True, date_expiration=NOW - timedelta(days=1)).model_dump()
    q = quote_change(member(discount_code=expired), example_catalog(), Cart(addons={STORAGE: 2}),
        now=NOW, um_version=MAIN)
    # UM main holds the code (add_discount_code checks nothing) but an invalid code discounts no line
    assert (q.kind, q.due_now) == ("addon", D("10.00"))


def test_addon_cart_with_an_unresolved_membership_code_is_an_input_error() -> None:
    with pytest.raises(InputError, match="membership 11: discount_code 'SAVE' is not resolved"):
        quote_change(member(discount_code="SAVE"), example_catalog(), Cart(addons={STORAGE: 1}),
            now=NOW, um_version=MAIN)


# --------------------------------------------------------------------------- discount codes


def plans() -> list[Product]:
    return [
        Product(id=1, slug="a", name="A", amount="10", setup_fee="15", product_group="g", list_order=1),
        Product(id=2, slug="b", name="B", amount="20", setup_fee="35", product_group="g", list_order=2),
    ]


def upgrade(discount: DiscountCode | None, **kw: Any) -> Any:
    m = member(1, "10", date_renewed=None, date_expiration=NOW + timedelta(days=15, hours=3), **kw)
    return quote_change(m, plans(), Cart(plan_id=2, discount_code=discount), now=NOW)


DISCOUNT_CASES = [
    # name, code fields, due now, recurring total, [line totals]
    ("10% on the plan only", {"value": "10"}, "33.07", "20.00", ["20.00", "-2.00", "35.00", "-19.93"]),
    ("10% that renews", {"value": "10", "apply_to_renewals": True}, "33.07", "18.00",
     ["20.00", "-2.00", "35.00", "-19.93"]),
    ("absolute 5", {"type": "absolute", "value": "5"}, "30.07", "20.00", ["20.00", "-5.00", "35.00", "-19.93"]),
    ("absolute capped at the line", {"type": "absolute", "value": "50"}, "15.07", "20.00",
     ["20.00", "-20.00", "35.00", "-19.93"]),
    ("setup fee 50% too", {"value": "10", "setup_fee_type": "percentage", "setup_fee_value": "50"}, "15.57",
     "20.00", ["20.00", "-2.00", "35.00", "-17.50", "-19.93"]),
    ("setup fee absolute 10", {"value": "0", "setup_fee_type": "absolute", "setup_fee_value": "10"}, "25.07",
     "20.00", ["20.00", "35.00", "-10.00", "-19.93"]),
    ("limited to the new plan", {"value": "10", "limit_products": True, "allowed_products": [2]}, "33.07",
     "20.00", ["20.00", "-2.00", "35.00", "-19.93"]),
]


@pytest.mark.parametrize(("name", "fields", "due", "recurring", "lines"), DISCOUNT_CASES,
                         ids=[c[0] for c in DISCOUNT_CASES])
def test_discount_codes(name: str, fields: dict[str, Any], due: str, recurring: str, lines: list[str]) -> None:
    # credit: 15 × 10 / 30.4375 = 4.93 + min(15, 35) = 19.93, never discounted
    q = upgrade(code(**fields))
    assert (q.kind, q.credit, q.due_now, q.recurring_total) == ("upgrade", D("19.93"), D(due), D(recurring))
    assert [str(ln.total) for ln in q.lines] == lines
    assert q.discount_code == "SAVE"


def test_discount_never_touches_the_credit_and_the_excess_credit_is_unused() -> None:
    q = upgrade(code(value="100", setup_fee_value="100"))
    assert (q.credit, q.due_now, q.unused_credit) == (D("19.93"), D("0.00"), D("19.93"))


def test_membership_code_does_not_apply_to_upgrades() -> None:
    q = upgrade(None, discount_code=code(value="50", apply_to_renewals=True).model_dump())
    assert (q.due_now, q.recurring_total, q.discount_code) == (D("35.07"), D("20.00"), None)


def test_discount_rounds_half_up_on_the_line() -> None:
    catalog = [Product(id=1, slug="a", name="A", amount="10", product_group="g", list_order=1),
               Product(id=2, slug="b", name="B", amount="20.05", product_group="g", list_order=2)]
    m = member(1, "10", status="trialing")
    q = quote_change(m, catalog, Cart(plan_id=2, discount_code=code(value="10")), now=NOW)
    # UM rounds the discount itself to cents (wu_get_tax_amount): 2.005 -> 2.01, so 20.05 - 2.01 = 18.04
    assert [str(ln.total) for ln in q.lines] == ["20.05", "-2.01"]
    assert q.due_now == D("18.04")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"active": False}, "The discount code SAVE is not active."),
        ({"date_start": NOW + timedelta(days=2)}, "The discount code SAVE is not valid yet (it starts on 2025-03-12)."),
        ({"date_expiration": NOW - timedelta(days=1)}, "The discount code SAVE expired on 2025-03-09."),
        ({"max_uses": 3, "uses": 3}, "The discount code SAVE was already used the maximum number of times allowed."),
    ],
)
def test_invalid_discount_code_blocks_the_cart(fields: dict[str, Any], message: str) -> None:
    q = upgrade(code(**fields))
    assert q.kind == "blocked"
    assert [(e.code, e.message) for e in q.errors] == [("discount_code", message)]  # UM's code


def test_code_for_other_products_just_does_not_apply() -> None:
    # UM checks a code's products per line: none of this cart's lines qualifies, so nothing is taken off
    q = upgrade(code(limit_products=True, allowed_products=[9]))
    assert (q.kind, q.due_now) == ("upgrade", D("35.07"))


def test_code_with_uses_left_is_valid() -> None:
    assert upgrade(code(max_uses=3, uses=2)).kind == "upgrade"


def test_a_bare_code_string_in_the_cart_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"cart\.discount_code: 'SAVE' is a bare code"):
        Cart.model_validate({"plan_id": 2, "discount_code": "SAVE"})
