"""Taxes as UM's Cart applies them (docs/ultimate-multisite.md §11): the location, the rate, the amounts, exempt
customers, the payment of a change; each fact with the numbers the real Cart answered on 2.4.12 and 2.4.13-beta.1
(tests/cartdiff/taxfacts.py; the differential test checks UM still answers them)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.cartdiff.compare import quote_values
from tests.cartdiff.oracle import convert
from tests.cartdiff.taxfacts import FACTS, base, mismatches
from wpbridge.billing import (
    Cart,
    Quote,
    QuoteLine,
    TaxLocation,
    TaxRate,
    TaxSettings,
    quote_change,
    renewal_tax_location,
    tax_location,
)
from wpbridge.billing.payment import payment_lines, payment_totals
from wpbridge.billing.taxes import applicable_rate, line_tax, taxed_total
from wpbridge.errors import InputError
from wpbridge.models import Membership, Product
from wpbridge.money import php_round

BUILDS = ("2.4.12", "2.4.13-beta.1")
D = Decimal


def _quote(scenario: dict, version: str) -> tuple[Quote, object]:
    c = convert(scenario)
    q = quote_change(c.membership, c.catalog, c.cart, now=c.now, um_version=version, force=True, taxes=c.taxes,
                     location=c.location, tax_exempt=c.tax_exempt)
    return q, c


@pytest.mark.parametrize("version", BUILDS)
@pytest.mark.parametrize("fact", FACTS, ids=[f["id"] for f in FACTS])
def test_each_measured_fact(fact: dict, version: str) -> None:
    q, c = _quote(fact["scenario"], version)
    assert q.ok, q.errors
    assert mismatches(fact, version, quote_values(q, c.key_of)) == {}, fact["fact"]  # type: ignore[attr-defined]


# ---- the location

def test_location_precedence_cart_billing_ip() -> None:
    cart = TaxLocation("FR", "IDF", "Paris")
    assert tax_location(cart, "DE", "US") == TaxLocation("FR", "IDF", "Paris", "cart")
    assert tax_location(TaxLocation("", "CA", "LA"), "DE", "US") == TaxLocation("DE", "CA", "LA", "billing")
    assert tax_location(None, "", "US") == TaxLocation("US", "", "", "ip")
    assert tax_location(None) == TaxLocation("", "", "", "none")
    assert tax_location(TaxLocation("0"), "0", "US") == TaxLocation("US", "", "", "ip")  # "0" is falsy in PHP


def test_renewal_uses_the_membership_billing_address() -> None:
    assert renewal_tax_location("US", "CA", "Los Angeles") == TaxLocation("US", "CA", "Los Angeles", "renewal")


def test_quote_says_where_it_taxed() -> None:
    q, _ = _quote(base(customer={"ip_country": "FR"}), "2.4.12")
    assert q.tax_location == {"country": "FR", "state": "", "city": "", "source": "ip"}
    assert q.tax_inclusive is False


# ---- the rate

def _settings(*rates: TaxRate, inclusive: bool = False) -> TaxSettings:
    return TaxSettings(enabled=True, inclusive=inclusive, rates=rates)


def _r(country: str, pct: str, state: str = "", city: str = "", category: str = "default") -> TaxRate:
    return TaxRate(category=category, country=country, state=state, city=city, rate=D(pct), title=pct)


def test_rate_scores_cast_to_int_and_ties_go_to_the_later_rate() -> None:
    ca, anywhere = _r("US", "10", state="CA"), _r("US", "5")
    at_ca = TaxLocation("US", "CA")
    assert applicable_rate(_settings(ca, anywhere), "default", at_ca, False) is anywhere  # 11.5 and 11: a tie
    assert applicable_rate(_settings(anywhere, ca), "default", at_ca, False) is ca
    la = _r("US", "9.5", state="CA", city="Los Angeles")
    assert applicable_rate(_settings(la, anywhere), "default", TaxLocation("US", "CA", "Los Angeles"), False) is la


def test_rate_lists_split_without_trimming_case_sensitive() -> None:
    listed = _r("US", "7", state="NY, CA")
    assert applicable_rate(_settings(listed, _r("US", "3", state="TX")), "default", TaxLocation("US", "CA"),
                           False).rate == D(3)
    assert applicable_rate(_settings(listed, _r("US", "3", state="TX")), "default", TaxLocation("US", " CA"),
                           False) is listed
    assert applicable_rate(_settings(_r("us", "8")), "default", TaxLocation("US"), False) is None


def test_zero_rate_matches_and_wins() -> None:
    zero = _r("FR", "0")
    assert applicable_rate(_settings(_r("FR", "20"), zero), "default", TaxLocation("FR"), False) is zero


def test_wildcard_country_is_a_main_fallback_that_skips_the_last_rate() -> None:
    star, de = _r("*", "10"), _r("DE", "19")
    us = TaxLocation("US")
    assert applicable_rate(_settings(star, de), "default", us, False) is None  # 2.4.12: no such fallback
    assert applicable_rate(_settings(star, de), "default", us, True) is star
    assert applicable_rate(_settings(de, star), "default", us, True) is None  # the by-reference foreach
    assert applicable_rate(_settings(star), "default", us, True) is star


def test_no_country_or_falsy_category_no_rate() -> None:
    s = _settings(_r("FR", "20"), _r("FR", "5", category="0"))
    assert applicable_rate(s, "default", TaxLocation(""), False) is None
    assert applicable_rate(s, "default", TaxLocation("0"), False) is None
    assert applicable_rate(s, "0", TaxLocation("FR"), False) is None


# ---- amounts

def test_php_round_matches_php_82() -> None:
    assert php_round(1.005, 2) == 1.01  # PHP pre-rounds to 15 significant digits (Python's round says 1.0)
    assert php_round(-1.005, 2) == -1.01
    assert php_round(0.285, 2) == 0.29
    assert php_round(5.43 - 5.43 / 1.2, 2) == 0.9  # 0.905 exactly, 0.9049999999999994 in floats


def test_half_cent_in_floats_named_case() -> None:
    """5.43 at 20 % inclusive: the tax is exactly 0.905; decimal half-up says 0.91, UM's floats 0.90 (reproduced).
    An exempt customer's inclusive price is then 5.43 - 0.90 = 4.53."""
    assert (D("5.43") - D("5.43") / D("1.2")).quantize(D("0.01"), "ROUND_HALF_UP") == D("0.91")
    assert line_tax(5.43, D(20), inclusive=True) == D("0.90")
    assert taxed_total(D("5.43"), 5.43, D(20), True, True) == (D("4.53"), D(0))
    assert taxed_total(D("5.43"), 5.43, D(20), True, False) == (D("5.43"), D("0.90"))
    assert taxed_total(D(20), 20.0, D(20), False, False) == (D(24), D(4))
    assert taxed_total(D(20), 20.0, D(20), False, True) == (D(20), D(0))


def test_tax_total_and_lines_worked_numbers() -> None:
    """$10 -> $20/month, 15 whole days left, FR 20 % exclusive: line 20 + 4.00 tax, credit 4.93, due 19.07,
    recurring 24.00; inclusive: tax 3.33 inside the 20, due 15.07."""
    q, _ = _quote(base(cart__country="FR"), "2.4.12")
    product = next(ln for ln in q.lines if ln.type == "product")
    assert (product.total, product.tax_rate, product.tax_total) == (D(24), D(20), D(4))
    assert (q.credit, q.due_now, q.recurring_total, q.tax_total) == (D("4.93"), D("19.07"), D(24), D(4))
    q, _ = _quote(base(cart__country="FR", tax__inclusive=True), "2.4.12")
    assert (q.due_now, q.tax_total, q.tax_inclusive) == (D("15.07"), D("3.33"), True)
    assert sum((ln.total for ln in q.lines), D(0)) == q.due_now


def test_discount_line_keeps_lines_adding_up() -> None:
    q, _ = _quote(base(cart__country="FR", cart__discount={"code": "D", "type": "percentage", "value": 50}),
                  "2.4.13-beta.1")
    assert [ln.type for ln in q.lines] == ["product", "discount", "credit"]
    assert sum((ln.total for ln in q.lines), D(0)) == q.due_now == D("7.07")


# ---- no taxes given: today's quotes

@pytest.mark.parametrize("version", BUILDS)
def test_no_taxes_is_todays_quote(version: str) -> None:
    s = base(cart__country="FR", products__p1__setup_fee=9.99)
    c = convert(s)
    plain = quote_change(c.membership, c.catalog, c.cart, now=c.now, um_version=version)
    off = quote_change(c.membership, c.catalog, c.cart, now=c.now, um_version=version,
                       taxes=TaxSettings(enabled=False, inclusive=True, rates=c.taxes.rates),  # type: ignore[union-attr]
                       location=c.location, tax_exempt=True)
    assert plain == off
    assert plain.tax_total == 0 and plain.tax_location is None
    assert all(ln.tax_rate == 0 and ln.tax_total == 0 for ln in plain.lines)


def test_policy_exact_refuses_taxes() -> None:
    c = convert(base())
    with pytest.raises(InputError, match="taxes"):
        quote_change(c.membership, c.catalog, c.cart, now=c.now, policy="exact", taxes=c.taxes, location=c.location)


def test_product_tax_fields_default_and_read_tolerantly() -> None:
    p = Product(id=1, slug="p")
    assert (p.taxable, p.tax_category) == (True, "default")
    p = Product.model_validate({"id": 1, "slug": "p", "taxable": "0", "tax_category": None})
    assert (p.taxable, p.tax_category) == (False, "default")


def test_quote_dump_round_trips_the_tax_fields() -> None:
    q, _ = _quote(base(cart__country="FR"), "2.4.12")
    dumped = q.model_dump(mode="json")
    assert dumped["tax_total"] == "4.00" or D(dumped["tax_total"]) == 4
    assert Quote.from_dict(dumped) == q
    line = QuoteLine.from_dict({"type": "product", "product_id": 1, "title": "x", "quantity": 1, "unit_price": "20",
                                "total": "24", "tax_rate": "20", "tax_total": "4"})
    assert line.tax_total == D(4)


def test_held_addons_renewal_includes_their_tax() -> None:
    s = base(cart__country="FR", products__a0={"type": "package", "amount": 10.0},
             products__p0__available_addons=["a0"], membership__addon_products={"a0": 1})
    q, _ = _quote(s, "2.4.12")
    held = next(d for d in q.deviations if d.field == "recurring_total")
    assert (D(held.ultimate_multisite or "0"), q.recurring_total) == (D(24), D(36))  # 24 + 10 + 2.00 tax


# ---- the payment of a change carries the tax

def test_payment_lines_carry_the_tax_worked_numbers() -> None:
    """$10 -> $20 with 15 whole days left, FR 20 % exclusive: lines 24.00 (20 + tax 4.00 at 20 %) and -4.93;
    subtotal 20.00, tax 4.00, total 19.07 = due now. Inclusive: the 20.00 line holds 3.33; total 15.07."""
    q, _ = _quote(base(cart__country="FR"), "2.4.12")
    lines = payment_lines(q)
    product = next(li for li in lines if li.type == "product")
    assert (product.subtotal, product.tax_rate, product.tax_total, product.total) == (D(20), D(20), D(4), D(24))
    totals = payment_totals(lines, "USD")
    assert (totals.subtotal, totals.tax_total, totals.total) == (D("20.00"), D("4.00"), D("19.07"))
    assert totals.total == q.due_now
    q, _ = _quote(base(cart__country="FR", tax__inclusive=True), "2.4.12")
    totals = payment_totals(payment_lines(q), "USD")
    assert (totals.subtotal, totals.tax_total, totals.total) == (D("20.00"), D("3.33"), D("15.07"))


def test_payment_without_taxes_has_zero_tax() -> None:
    m = Membership(id=1, customer_id=1, plan_id=1, amount=D(10), initial_amount=D(10), duration=1,
                   duration_unit="month", status="active", date_created=datetime(2026, 1, 1, tzinfo=UTC),
                   date_expiration=datetime(2026, 12, 15, 15, tzinfo=UTC))
    catalog = [Product(id=1, slug="a", amount=D(10)), Product(id=2, slug="b", amount=D(20))]
    q = quote_change(m, catalog, Cart(plan_id=2), now=datetime(2026, 11, 30, 12, tzinfo=UTC) + timedelta(0))
    assert payment_totals(payment_lines(q), "USD").tax_total == D("0.00")


def test_php_round_bits() -> None:
    """A few doubles whose PHP round() was read from PHP 8.2 (hex of the IEEE double)."""
    for value, places, want in ((0.125, 2, 0.13), (1234567.125, 2, 1234567.13), (-0.005, 2, -0.01),
                                (2.5, 0, 3.0), (-2.5, 0, -3.0), (0.0049999999999999, 2, 0.0)):
        got = php_round(value, places)
        assert struct.pack("<d", got) == struct.pack("<d", want), (value, got, want)
