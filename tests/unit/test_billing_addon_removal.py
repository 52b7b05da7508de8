"""Removing add-ons as Ultimate Multisite prices it (billing.addon_removal; docs/ultimate-multisite.md §4.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from wpbridge.billing.addon_removal import quote_addon_removal, um_product_price
from wpbridge.errors import InputError
from wpbridge.models import DiscountCode, Membership, Product
from wpbridge.sandbox.example import example_catalog

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
D = Decimal
FREE, BASIC, PREMIUM, VISITS, STORAGE, SETUP = 1, 2, 3, 4, 5, 6
EXPIRES = NOW + timedelta(days=18, hours=12)


def member(plan_id: int = BASIC, amount: str = "25", addons: dict[int, int] | None = None, **kw: Any) -> Membership:
    data: dict[str, Any] = {
        "id": 11, "customer_id": 3, "plan_id": plan_id, "amount": amount, "initial_amount": amount,
        "status": "active", "date_created": NOW - timedelta(days=40), "date_renewed": NOW - timedelta(days=12),
        "date_expiration": EXPIRES, "addon_products": addons if addons is not None else {STORAGE: 2},
    }
    data.update(kw)
    return Membership.model_validate(data)


def test_customer_removal_is_a_swap_at_the_period_end_lowering_the_amount_by_ums_price() -> None:
    r = quote_addon_removal(member(), example_catalog(), {STORAGE: 0}, now=NOW)
    q = r.quote
    assert (q.kind, q.due_now, q.credit, q.recurring_total, q.lines) == ("downgrade", D("0.00"), D("0.00"),
                                                                       D("15.00"), [])
    assert q.scheduled_for == EXPIRES and q.next_charge_at == EXPIRES
    assert q.target == {"plan_id": BASIC, "addon_products": {}, "amount": "15.00", "initial_amount": "25.00",
                        "duration": 1, "duration_unit": "month", "recurring": True}
    assert [(a.product.id, a.held, a.keep, a.removed, a.amount_off) for a in r.removed] == [(STORAGE, 2, 0, 2, D(10))]


def test_holding_fewer_removes_the_difference() -> None:
    q = quote_addon_removal(member(), example_catalog(), {STORAGE: 1}, now=NOW).quote
    assert q.target is not None and q.target["addon_products"] == {STORAGE: 1} and q.recurring_total == D("20.00")


def test_the_customer_page_never_lowers_the_amount_below_the_plans_price() -> None:
    # UM's account page (`:570`): when the add-on costs more than the plan, the amount falls to the plan's price
    m = member(addons={VISITS: 2}, amount="33")  # 15 + 2 x 9
    q = quote_addon_removal(m, example_catalog(), {VISITS: 0}, now=NOW).quote
    assert q.recurring_total == D("15.00")
    # a membership already below (a negotiated price): the amount falls to the plan's price, not below it
    cheap = member(addons={VISITS: 2}, amount="20")
    assert quote_addon_removal(cheap, example_catalog(), {VISITS: 0}, now=NOW).quote.recurring_total == D("15.00")
    # the admin screen does not cap: 20 - 18
    admin = quote_addon_removal(cheap, example_catalog(), {VISITS: 0}, now=NOW, mode="now").quote
    assert admin.recurring_total == D("2.00")


def test_admin_removal_is_now_with_or_without_the_price() -> None:
    now = quote_addon_removal(member(), example_catalog(), {STORAGE: 0}, now=NOW, mode="now").quote
    assert (now.kind, now.scheduled_for, now.due_now, now.recurring_total) == ("downgrade", None, D("0.00"),
                                                                               D("15.00"))
    kept = quote_addon_removal(member(), example_catalog(), {STORAGE: 0}, now=NOW, mode="now_keep_amount").quote
    assert kept.recurring_total == D("25.00") and kept.target is not None and kept.target["addon_products"] == {}


def test_a_one_time_addon_lowers_nothing_and_the_membership_code_is_taken_off() -> None:
    m = member(addons={SETUP: 1, STORAGE: 2})
    assert quote_addon_removal(m, example_catalog(), {SETUP: 0}, now=NOW).quote.recurring_total == D("25.00")
    code = DiscountCode.model_validate({"id": 1, "code": "SAVE", "type": "percentage", "value": "10"})
    storage = next(p for p in example_catalog() if p.id == STORAGE)
    assert um_product_price(storage, 2, member(discount_code=code), NOW) == D("9.0")
    expired = code.model_copy(update={"date_expiration": NOW - timedelta(days=1)})
    assert um_product_price(storage, 2, member(discount_code=expired), NOW) == D("10")


def test_refusals_in_ums_words() -> None:
    yearly = member(duration_unit="year", amount="200")
    q = quote_addon_removal(yearly, example_catalog(), {STORAGE: 0}, now=NOW).quote
    assert q.kind == "blocked" and q.errors[0].code == "missing-price-variations" and q.target is None
    lifetime = member(date_expiration=None)
    q = quote_addon_removal(lifetime, example_catalog(), {STORAGE: 0}, now=NOW).quote
    assert (q.kind, q.message) == ("blocked", "Schedule date is invalid.")
    assert quote_addon_removal(lifetime, example_catalog(), {STORAGE: 0}, now=NOW, mode="now").quote.ok
    with pytest.raises(InputError, match="holds 2; keeping 2 removes none"):
        quote_addon_removal(member(), example_catalog(), {STORAGE: 2}, now=NOW)


def test_zero_decimal_currency_rounds_to_whole_units() -> None:
    catalog = [Product(id=1, slug="p", name="P", amount="1000", currency="JPY"),
               Product(id=2, slug="a", name="A", type="package", amount="333.4", currency="JPY")]
    m = member(1, "1333.4", addons={2: 1}, currency="JPY")
    assert quote_addon_removal(m, catalog, {2: 0}, now=NOW).quote.recurring_total == D("1000")


def test_taxes_are_part_of_the_price_removed_where_prices_exclude_them() -> None:
    from wpbridge.billing.taxes import TaxLocation, TaxRate, TaxSettings
    rate = TaxRate(category="default", country="FR", state="", city="", rate=D("20"), title="VAT")
    exclusive = (TaxSettings(enabled=True, inclusive=False, rates=(rate,)), TaxLocation("FR", source="renewal"), False)
    m = member(amount="30")  # 15 + 2 x 5, +20 % tax
    q = quote_addon_removal(m, example_catalog(), {STORAGE: 0}, now=NOW, taxes=exclusive).quote
    assert q.recurring_total == D("18.00")  # 30 - 12 (10 + 2.00 tax)
    inclusive = (exclusive[0].__class__(enabled=True, inclusive=True, rates=(rate,)), exclusive[1], False)
    q = quote_addon_removal(member(), example_catalog(), {STORAGE: 0}, now=NOW, taxes=inclusive).quote
    assert q.recurring_total == D("15.00")  # the price holds its tax
    elsewhere = (exclusive[0], TaxLocation("DE", source="renewal"), False)
    assert quote_addon_removal(member(), example_catalog(), {STORAGE: 0}, now=NOW,
                               taxes=elsewhere).quote.recurring_total == D("15.00")


def test_the_code_must_be_valid_for_the_line_as_ums_is_valid_says() -> None:
    storage = next(p for p in example_catalog() if p.id == STORAGE)
    code = DiscountCode.model_validate({"id": 1, "code": "SAVE", "type": "percentage", "value": "10"})
    yearly_only = code.model_copy(update={"limit_billing_periods": True, "allowed_billing_periods": ["1-year"]})
    assert um_product_price(storage, 2, member(discount_code=yearly_only), NOW) == D("10")
    monthly = code.model_copy(update={"limit_billing_periods": True, "allowed_billing_periods": ["1-month"]})
    assert um_product_price(storage, 2, member(discount_code=monthly), NOW) == D("9.0")
    other = code.model_copy(update={"limit_products": True, "allowed_products": [PREMIUM]})
    assert um_product_price(storage, 2, member(discount_code=other), NOW) == D("10")
    # UM: expired only after its date (`$now > $expiration`)
    assert um_product_price(storage, 2, member(discount_code=code.model_copy(update={"date_expiration": NOW})),
                            NOW) == D("9.0")
