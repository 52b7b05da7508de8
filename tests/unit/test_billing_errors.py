"""Malformed input raises InputError naming the field or record, never a wrong number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wpbridge.billing import Cart, CatalogIndex, change_options, quote_change
from wpbridge.errors import InputError
from wpbridge.models import Membership, Product
from wpbridge.sandbox.example import example_catalog

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def member(**kw: Any) -> Membership:
    data: dict[str, Any] = {"id": 7, "customer_id": 1, "plan_id": 2, "amount": "15", "initial_amount": "15",
                            "status": "active", "date_expiration": NOW + timedelta(days=9)}
    data.update(kw)
    return Membership.model_validate(data)


@pytest.mark.parametrize(
    ("cart", "message"),
    [
        ({"duration_unit": "fortnight"}, "cart.duration_unit: .*unknown duration unit"),
        ({"duration": 0}, "cart.duration: .*must be at least 1"),
        ({"duration": -1}, "cart.duration: .*must be at least 1"),
        ({"addons": {5: 0}}, "cart.addons: .*add-on 5: quantity must be at least 1, got 0"),
        ({"addons": {5: -2}}, "cart.addons: .*quantity must be at least 1"),
        ({"plan_id": -3}, "cart.plan_id: .*positive product id"),
        ({"plan_id": "premium"}, "cart.plan_id: "),
        ({"colour": "red"}, "cart.colour: "),
        ({"discount_code": "SAVE10"}, "cart.discount_code: 'SAVE10' is a bare code"),
    ],
)
def test_bad_carts(cart: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Cart.model_validate(cart)


@pytest.mark.parametrize(
    ("cart", "message"),
    [
        (Cart(plan_id=12), r"cart.plan_id: product 12 is not in the catalog"),
        (Cart(plan_id=5), r"cart.plan_id: product 5 \(Extra storage\) is a package, not a plan"),
        (Cart(addons={99: 1}), r"cart.addons: product 99 is not in the catalog"),
        (Cart(addons={3: 1}), r"cart.addons: product 3 \(Premium\) is a plan"),
    ],
)
def test_unknown_or_wrong_products(cart: Cart, message: str) -> None:
    with pytest.raises(InputError, match=message):
        quote_change(member(), example_catalog(), cart, now=NOW)


def test_naive_now() -> None:
    with pytest.raises(InputError, match="now: naive datetime 2025-03-10T12:00:00"):
        quote_change(member(), example_catalog(), Cart(plan_id=3), now=datetime(2025, 3, 10, 12, 0))


def test_now_in_another_time_zone_is_converted_to_utc() -> None:
    from datetime import timezone

    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert quote_change(member(), example_catalog(), Cart(plan_id=3), now=paris) == quote_change(
        member(), example_catalog(), Cart(plan_id=3), now=NOW)


def test_unknown_policy() -> None:
    with pytest.raises(InputError, match="policy: unknown pricing policy 'stripe'"):
        quote_change(member(), example_catalog(), Cart(plan_id=3), now=NOW, policy="stripe")  # type: ignore[arg-type]


def test_membership_plan_missing_from_the_catalog() -> None:
    with pytest.raises(InputError, match="membership 7: plan_id: product 42 is not in the catalog"):
        quote_change(member(plan_id=42), example_catalog(), Cart(plan_id=3), now=NOW)
    with pytest.raises(InputError, match="membership 7: plan_id: product 42"):
        change_options(member(plan_id=42), example_catalog())


def test_owned_addon_missing_from_the_catalog() -> None:
    with pytest.raises(InputError, match="membership 7: addon_products: product 77 is not in the catalog"):
        quote_change(member(addon_products={77: 1}), example_catalog(), Cart(plan_id=3), now=NOW)


def test_negative_amount_on_an_unvalidated_membership() -> None:
    bad = member().model_copy(update={"amount": -5})
    with pytest.raises(InputError, match="membership 7: field 'amount' must be >= 0"):
        quote_change(bad, example_catalog(), Cart(plan_id=3), now=NOW)


def test_negative_amounts_never_reach_the_engine() -> None:
    from wpbridge.errors import DataError
    from wpbridge.models import parse

    with pytest.raises(DataError, match="Product 9: field 'amount'"):
        parse(Product, {"id": 9, "slug": "x", "amount": "-1"})
    with pytest.raises(DataError, match="Membership 7: field 'amount'"):
        parse(Membership, {"id": 7, "customer_id": 1, "plan_id": 1, "amount": "-1"})


def test_duplicate_product_ids_in_the_catalog() -> None:
    catalog = example_catalog()
    with pytest.raises(InputError, match="catalog: product id 1 appears twice"):
        quote_change(member(), [*catalog, catalog[0]], Cart(plan_id=3), now=NOW)


def test_catalog_of_something_else() -> None:
    with pytest.raises(InputError, match=r"catalog\[0\]: expected a Product, got dict"):
        CatalogIndex([{"id": 1}])  # type: ignore[list-item]


def test_a_prebuilt_index_prices_like_the_list() -> None:
    catalog = example_catalog()
    assert quote_change(member(), CatalogIndex(catalog), Cart(plan_id=3), now=NOW) == quote_change(
        member(), catalog, Cart(plan_id=3), now=NOW)


def test_now_must_be_a_datetime() -> None:
    with pytest.raises(InputError, match="now: expected a timezone-aware datetime, got str"):
        quote_change(member(), example_catalog(), Cart(plan_id=3), now="2025-03-10")  # type: ignore[arg-type]


def test_a_catalog_list_is_reindexed_when_it_changes() -> None:
    catalog = example_catalog()
    premium = catalog[2]
    assert quote_change(member(), catalog, Cart(plan_id=3), now=NOW).kind == "upgrade"
    catalog[2] = premium.model_copy(update={"id": 33})  # replaced: plan 3 is gone
    with pytest.raises(InputError, match=r"cart\.plan_id: product 3 is not in the catalog"):
        quote_change(member(), catalog, Cart(plan_id=3), now=NOW)
    catalog.append(premium)  # appended: plan 3 is back
    assert quote_change(member(), catalog, Cart(plan_id=3), now=NOW).kind == "upgrade"
    catalog.append(premium)  # appended twice: a duplicate id
    with pytest.raises(InputError, match="product id 3 appears twice"):
        quote_change(member(), catalog, Cart(plan_id=3), now=NOW)


def test_offered_sets_follow_the_products_of_a_reused_list() -> None:
    catalog = example_catalog()
    assert quote_change(member(plan_id=1, amount="0", recurring=False), catalog, Cart(plan_id=3), now=NOW).kind \
        == "upgrade"
    catalog[2] = catalog[2].model_copy(update={"active": False})
    assert quote_change(member(plan_id=1, amount="0", recurring=False), catalog, Cart(plan_id=3), now=NOW).kind \
        == "blocked"
