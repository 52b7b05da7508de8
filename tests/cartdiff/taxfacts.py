"""UM's tax facts (docs/ultimate-multisite.md §11) as hand-written `cart_batch.php` scenarios, each with the numbers
the real Cart answered on both builds (measured 2026-12-04 on 2.4.12 and 2.4.13-beta.1).

tests/unit/test_billing_taxes.py prices each with `quote_change` and checks these numbers; the differential test
(tests/integration/test_cart_differential.py) runs them on the real Cart and checks that UM still answers them.
`expect` holds per build (key "2.4.12", "2.4.13-beta.1", or "*" for both): `due_now`, `credit`, `recurring_total`,
`tax_total` and `line_taxes` ([(line type, product key, rate, tax)] of the lines with a rate), as strings.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

NOW = "2026-11-30 12:00:00"
BOTH = "*"


def base(**over: Any) -> dict[str, Any]:
    """$10/month plan "p0" held since 2026-11-15, active, expiring in 15 days and a few hours (15 whole days left:
    credit 4.93); a $20/month plan "p1" (same group); taxes on, exclusive, one 20 % FR rate; the cart asks for
    p1 and names no location; the customer has no address."""
    s: dict[str, Any] = {
        "now": NOW, "currency": "USD",
        "products": {
            "p0": {"type": "plan", "amount": 10.0, "setup_fee": 0.0, "product_group": "g", "list_order": 1},
            "p1": {"type": "plan", "amount": 20.0, "setup_fee": 0.0, "product_group": "g", "list_order": 2},
        },
        "membership": {"plan": "p0", "status": "active", "amount": 10.0, "initial_amount": 10.0, "duration": 1,
                       "duration_unit": "month", "recurring": True, "times_billed": 1,
                       "date_created": "2026-11-15 12:00:00", "date_expiration": "2026-12-15 15:00:00"},
        "cart": {"plan": "p1"},
        "tax": {"enable": True, "inclusive": False, "exempt": False,
                "rates": [{"category": "default", "country": "FR", "state": "", "city": "", "rate": "20",
                           "title": "FR VAT"}]},
    }
    for path, value in over.items():
        node = s
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return s


def rate(country: str, pct: str, state: str = "", city: str = "", category: str = "default",
         title: str = "") -> dict[str, str]:
    return {"category": category, "country": country, "state": state, "city": city, "rate": pct,
            "title": title or f"{country} {pct}"}


def line(kind: str, key: str | None, pct: str, tax: str) -> tuple[str, str | None, str, str]:
    return (kind, key, pct, tax)


FACTS: list[dict[str, Any]] = [
    # ---- the location
    {"id": "loc-cart-country", "fact": "the cart's country wins over the billing and IP countries",
     "scenario": base(cart__country="FR", customer={"billing_country": "DE", "ip_country": "US"},
                      tax__rates=[rate("FR", "20"), rate("DE", "19"), rate("US", "10")]),
     "expect": {BOTH: {"tax_total": "4.00", "due_now": "19.07", "line_taxes": [line("product", "p1", "20", "4.00")]}}},
    {"id": "loc-billing-country", "fact": "no cart country: the customer's billing country",
     "scenario": base(customer={"billing_country": "DE", "ip_country": "US"},
                      tax__rates=[rate("FR", "20"), rate("DE", "19"), rate("US", "10")]),
     "expect": {BOTH: {"tax_total": "3.80", "due_now": "18.87", "line_taxes": [line("product", "p1", "19", "3.80")]}}},
    {"id": "loc-ip-country", "fact": "no cart or billing country: the customer's IP country",
     "scenario": base(customer={"ip_country": "US"},
                      tax__rates=[rate("FR", "20"), rate("DE", "19"), rate("US", "10")]),
     "expect": {BOTH: {"tax_total": "2.00", "due_now": "17.07", "line_taxes": [line("product", "p1", "10", "2.00")]}}},
    {"id": "loc-zero-country", "fact": "a country \"0\" is no country (PHP `?:`): cart \"0\", billing \"0\", then "
                                       "the IP country",
     "scenario": base(cart__country="0", customer={"billing_country": "0", "ip_country": "US"},
                      tax__rates=[rate("FR", "20"), rate("US", "10")]),
     "expect": {BOTH: {"tax_total": "2.00", "line_taxes": [line("product", "p1", "10", "2.00")]}}},
    {"id": "loc-none", "fact": "no country anywhere: no tax",
     "scenario": base(cart__state="CA", tax__rates=[rate("FR", "20"), rate("US", "10", state="CA")]),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "15.07", "line_taxes": []}}},
    {"id": "loc-state-from-cart-only", "fact": "the billing state is not read: only the cart's state scores",
     "scenario": base(customer={"billing_country": "US", "billing_state": "CA"},
                      tax__rates=[rate("US", "10", state="CA"), rate("US", "5", state="NY")]),
     "expect": {BOTH: {"tax_total": "1.00", "line_taxes": [line("product", "p1", "5", "1.00")]}}},
    {"id": "loc-cart-state", "fact": "the cart's state scores (with the billing country)",
     "scenario": base(cart__state="CA", customer={"billing_country": "US"},
                      tax__rates=[rate("US", "10", state="CA"), rate("US", "5", state="NY")]),
     "expect": {BOTH: {"tax_total": "2.00", "line_taxes": [line("product", "p1", "10", "2.00")]}}},
    {"id": "loc-pending-main", "fact": "UM 2.4.13 prices a pending membership's cart as a new signup: only the "
                                       "cart's country counts",
     "scenario": base(membership__status="pending", customer={"billing_country": "FR"}),
     "expect": {"2.4.12": {"tax_total": "4.00", "line_taxes": [line("product", "p1", "20", "4.00")]},
                "2.4.13-beta.1": {"tax_total": "0.00", "due_now": "20.00", "line_taxes": []}}},
    # ---- the rate
    {"id": "rate-state-ties-wildcard", "fact": "a state match (11.5) ties a rate for any state and city (11) once "
                                               "cast to int: the later rate wins",
     "scenario": base(cart__country="US", cart__state="CA",
                      tax__rates=[rate("US", "10", state="CA"), rate("US", "5")]),
     "expect": {BOTH: {"tax_total": "1.00", "line_taxes": [line("product", "p1", "5", "1.00")]}}},
    {"id": "rate-state-ties-wildcard-reversed", "fact": "the same two rates the other way round",
     "scenario": base(cart__country="US", cart__state="CA",
                      tax__rates=[rate("US", "5"), rate("US", "10", state="CA")]),
     "expect": {BOTH: {"tax_total": "2.00", "line_taxes": [line("product", "p1", "10", "2.00")]}}},
    {"id": "rate-state-city-wins", "fact": "a state and city match (12) beats a rate for anywhere listed later",
     "scenario": base(cart__country="US", cart__state="CA", cart__city="Los Angeles",
                      tax__rates=[rate("US", "9.5", state="CA", city="Los Angeles"), rate("US", "5")]),
     "expect": {BOTH: {"tax_total": "1.90", "line_taxes": [line("product", "p1", "9.5", "1.90")]}}},
    {"id": "rate-specific-state-loses", "fact": "a rate for another state scores 10 (no half point): a rate for "
                                                "any state (11) wins even listed first",
     "scenario": base(cart__country="US", cart__state="TX",
                      tax__rates=[rate("US", "5"), rate("US", "10", state="CA")]),
     "expect": {BOTH: {"tax_total": "1.00", "line_taxes": [line("product", "p1", "5", "1.00")]}}},
    {"id": "rate-no-trim", "fact": "state lists are split on commas without trimming: 'NY, CA' does not hold 'CA'",
     "scenario": base(cart__country="US", cart__state="CA",
                      tax__rates=[rate("US", "7", state="NY, CA"), rate("US", "3", state="TX")]),
     "expect": {BOTH: {"tax_total": "0.60", "line_taxes": [line("product", "p1", "3", "0.60")]}}},
    {"id": "rate-no-trim-space", "fact": "... but holds ' CA' (a cart state with the space)",
     "scenario": base(cart__country="US", cart__state=" CA",
                      tax__rates=[rate("US", "7", state="NY, CA"), rate("US", "3", state="TX")]),
     "expect": {BOTH: {"tax_total": "1.40", "line_taxes": [line("product", "p1", "7", "1.40")]}}},
    {"id": "rate-case-sensitive", "fact": "states and countries compare case-sensitively",
     "scenario": base(cart__country="US", cart__state="CA",
                      tax__rates=[rate("US", "7", state="ca"), rate("us", "8"), rate("US", "3", state="TX")]),
     "expect": {BOTH: {"tax_total": "0.60", "line_taxes": [line("product", "p1", "3", "0.60")]}}},
    {"id": "rate-zero-wins", "fact": "a 0 % rate matches and, listed later, wins",
     "scenario": base(cart__country="FR", tax__rates=[rate("FR", "20"), rate("FR", "0")]),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "15.07", "line_taxes": []}}},
    {"id": "rate-category", "fact": "only the rates of the product's category apply",
     "scenario": base(cart__country="FR", products__p1__tax_category="reduced",
                      tax__rates=[rate("FR", "20"), rate("FR", "5.5", category="reduced")]),
     "expect": {BOTH: {"tax_total": "1.10", "line_taxes": [line("product", "p1", "5.5", "1.10")]}}},
    {"id": "rate-not-taxable", "fact": "a product that is not taxable gets no tax",
     "scenario": base(cart__country="FR", products__p1__taxable=False),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "15.07", "line_taxes": []}}},
    {"id": "rate-taxes-off", "fact": "taxes off: rates are ignored",
     "scenario": base(cart__country="FR", tax__enable=False),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "15.07", "line_taxes": []}}},
    {"id": "rate-wildcard-country", "fact": "a rate for all countries ('*'): UM 2.4.13's fallback, unknown to 2.4.12",
     "scenario": base(cart__country="US", tax__rates=[rate("*", "10"), rate("DE", "19")]),
     "expect": {"2.4.12": {"tax_total": "0.00", "line_taxes": []},
                "2.4.13-beta.1": {"tax_total": "2.00", "line_taxes": [line("product", "p1", "10", "2.00")]}}},
    {"id": "rate-wildcard-country-last", "fact": "UM 2.4.13's fallback never reads the category's last rate",
     "scenario": base(cart__country="US", tax__rates=[rate("DE", "19"), rate("*", "10")]),
     "expect": {BOTH: {"tax_total": "0.00", "line_taxes": []}}},
    {"id": "rate-wildcard-country-only", "fact": "... unless it is the only one",
     "scenario": base(cart__country="US", tax__rates=[rate("*", "10")]),
     "expect": {"2.4.12": {"tax_total": "0.00", "line_taxes": []},
                "2.4.13-beta.1": {"tax_total": "2.00", "line_taxes": [line("product", "p1", "10", "2.00")]}}},
    # ---- amounts
    {"id": "amount-exclusive", "fact": "exclusive: the tax is added to the line",
     "scenario": base(cart__country="FR"),
     "expect": {BOTH: {"tax_total": "4.00", "credit": "4.93", "due_now": "19.07", "recurring_total": "24.00",
                       "line_taxes": [line("product", "p1", "20", "4.00")]}}},
    {"id": "amount-inclusive", "fact": "inclusive: the price contains the tax",
     "scenario": base(cart__country="FR", tax__inclusive=True),
     "expect": {BOTH: {"tax_total": "3.33", "credit": "4.93", "due_now": "15.07", "recurring_total": "20.00",
                       "line_taxes": [line("product", "p1", "20", "3.33")]}}},
    {"id": "amount-each-line", "fact": "each line carries its own tax (plan 20 %, add-on 5.5 %, setup fee)",
     "scenario": base(cart__country="FR", products__p1__setup_fee=9.99,
                      products__a0={"type": "package", "amount": 7.77, "tax_category": "reduced"},
                      products__p1__available_addons=["a0"], cart__addons={"a0": 2},
                      tax__rates=[rate("FR", "20"), rate("FR", "5.5", category="reduced")]),
     "expect": {BOTH: {"tax_total": "6.85", "line_taxes": [
         line("fee", "p1", "20", "2.00"), line("product", "a0", "5.5", "0.85"), line("product", "p1", "20", "4.00")]}}},
    {"id": "amount-discount-first", "fact": "the tax is on the discounted price; a discount that does not renew is "
                                            "taxed away from the recurring total",
     "scenario": base(cart__country="FR", cart__discount={"code": "D", "type": "percentage", "value": 50,
                                                          "apply_to_renewals": False}),
     "expect": {BOTH: {"tax_total": "2.00", "due_now": "7.07", "recurring_total": "24.00",
                       "line_taxes": [line("product", "p1", "20", "2.00")]}}},
    {"id": "amount-fee-credit-old-plan-taxable", "fact": "the setup-fee credit is a fee line of the OLD plan, "
                                                         "taxed as it is (exclusive: 15 + 3)",
     "scenario": base(cart__country="FR", products__p0__setup_fee=15.0, products__p1__setup_fee=35.0),
     "expect": {BOTH: {"credit": "22.93", "tax_total": "11.00",
                       "line_taxes": [line("fee", "p1", "20", "7.00"), line("product", "p1", "20", "4.00")]}}},
    {"id": "amount-fee-credit-old-plan-untaxed", "fact": "... an old plan that is not taxable: 15 untaxed",
     "scenario": base(cart__country="FR", products__p0__setup_fee=15.0, products__p1__setup_fee=35.0,
                      products__p0__taxable=False),
     "expect": {BOTH: {"credit": "19.93", "tax_total": "11.00"}}},
    {"id": "amount-fee-credit-old-category", "fact": "... an old plan of another category: its rate",
     "scenario": base(cart__country="FR", products__p0__setup_fee=15.0, products__p1__setup_fee=35.0,
                      products__p0__tax_category="reduced",
                      tax__rates=[rate("FR", "20"), rate("FR", "5.5", category="reduced")]),
     "expect": {BOTH: {"credit": "20.76", "tax_total": "11.00"}}},
    {"id": "amount-float-half-cent", "fact": "5.43 at 20 % inclusive: the tax is 0.905 exactly, UM's floats give "
                                             "0.90 (decimal half-up would say 0.91)",
     "scenario": base(cart__country="FR", tax__inclusive=True, products__p1__amount=5.43,
                      membership__status="expired", membership__date_expiration="2026-11-01 00:00:00"),
     "expect": {BOTH: {"tax_total": "0.90", "due_now": "5.43", "line_taxes": [line("product", "p1", "20", "0.90")]}}},
    {"id": "amount-float-half-cent-exempt", "fact": "... and an exempt customer's inclusive price loses 0.90: 4.53",
     "scenario": base(cart__country="FR", tax__inclusive=True, tax__exempt=True, products__p1__amount=5.43,
                      membership__status="expired", membership__date_expiration="2026-11-01 00:00:00"),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "4.53", "line_taxes": [line("product", "p1", "20", "0.00")]}}},
    {"id": "amount-credit-covers", "fact": "the tax is reported even when the credit covers the whole line",
     "scenario": base(cart__country="FR", membership__recurring=False, membership__initial_amount=500.0,
                      membership__date_expiration=None),
     "expect": {BOTH: {"tax_total": "4.00", "due_now": "0.00", "credit": "500.00",
                       "line_taxes": [line("product", "p1", "20", "4.00")]}}},
    {"id": "amount-downgrade", "fact": "a scheduled downgrade: the tax is on the line, the swap credit takes it back",
     "scenario": base(cart__country="FR", products__p1__amount=5.0),
     "expect": {BOTH: {"tax_total": "1.00", "due_now": "0.00", "recurring_total": "6.00",
                       "line_taxes": [line("product", "p1", "20", "1.00")]}}},
    {"id": "amount-exempt", "fact": "an exempt customer: no tax on any line (exclusive)",
     "scenario": base(cart__country="FR", tax__exempt=True, products__p1__setup_fee=9.99),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "25.06", "recurring_total": "20.00",
                       "line_taxes": [line("fee", "p1", "20", "0.00"), line("product", "p1", "20", "0.00")]}}},
    {"id": "amount-exempt-inclusive", "fact": "an exempt customer, inclusive prices: each price less its tax",
     "scenario": base(cart__country="FR", tax__exempt=True, tax__inclusive=True),
     "expect": {BOTH: {"tax_total": "0.00", "due_now": "11.74", "recurring_total": "16.67"}}},
]


def fact_scenarios() -> list[dict[str, Any]]:
    out = []
    for f in FACTS:
        s = copy.deepcopy(f["scenario"])
        s["id"] = f["id"]
        out.append(s)
    return out


def expected(fact: dict[str, Any], version: str) -> dict[str, Any]:
    return dict(fact["expect"].get(version) or fact["expect"].get(BOTH) or {})


def mismatches(fact: dict[str, Any], version: str, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (value, expected)} where `values` (compare.um_values or quote_values) differ from the fact."""
    out: dict[str, tuple[Any, Any]] = {}
    for name, want in expected(fact, version).items():
        got = values.get(name)
        if name == "line_taxes":
            same = [tuple(x) for x in got or []] == sorted((tuple(x) for x in want), key=str)
        else:
            same = got is not None and Decimal(str(got)) == Decimal(want)
        if not same:
            out[name] = (got, want)
    return out
