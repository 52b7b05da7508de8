"""Taxes as Ultimate Multisite's Cart applies them (docs/ultimate-multisite.md §11): the settings and rates, the
location a cart is taxed at, the one rate a line gets, and the tax on a line, computed in floats as UM does.

Pure: no I/O. The records are the pinned API (`from wpbridge.billing import TaxRate, TaxSettings, TaxLocation`):
- `TaxSettings(enabled, inclusive, rates)`: UM's settings `enable_taxes` and `inclusive_tax` and its tax rates
  (network option `wp-ultimo_tax_rates`), in their stored order, each naming its category;
- `TaxRate(category, country, state, city, rate, title)`: `state` and `city` are UM's comma-separated lists, as
  stored (split on commas, never trimmed, compared case-sensitively; empty or `*` = any);
- `TaxLocation(country, state, city)`: where the cart is taxed; `source` says where the country came from
  ("cart": the checkout form, "billing": the customer's billing address, "ip": the customer's IP country).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from ..money import php_round

ZERO = Decimal(0)
LocationSource = Literal["cart", "billing", "ip", "renewal", "none"]


@dataclass(frozen=True, slots=True)
class TaxRate:
    """One of UM's tax rates (a row of its Tax Rates editor). `rate` is a percentage (20 = 20 %)."""

    category: str
    country: str
    state: str
    city: str
    rate: Decimal
    title: str


@dataclass(frozen=True, slots=True)
class TaxSettings:
    """UM's tax settings: collection on or off, prices with tax included or not, and the rates in stored order."""

    enabled: bool
    inclusive: bool
    rates: tuple[TaxRate, ...]
    _found: dict[tuple[str, TaxLocation, bool], TaxRate | None] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict)
    """The rate found per (category, location, release): settings are immutable, so it is found once."""


@dataclass(frozen=True, slots=True)
class TaxLocation:
    """The country, state and city a cart is taxed at; `source` says where the country came from."""

    country: str
    state: str = ""
    city: str = ""
    source: LocationSource = "cart"


def tax_location(cart: TaxLocation | None = None, billing_country: str = "", ip_country: str = "") -> TaxLocation:
    """Where UM's Cart of a membership change taxes (`Cart::build_from_membership`): the cart's (checkout form's)
    country, else the customer's billing country, else the customer's IP country (`Customer::get_country`); the
    state and city only ever come from the cart. PHP truthiness: a country "0" is no country."""
    state, city = (cart.state, cart.city) if cart is not None else ("", "")
    if cart is not None and _php_truthy(cart.country):  # PHP `?:`: "0" counts as no country
        return TaxLocation(cart.country, state, city, "cart")
    if _php_truthy(billing_country):
        return TaxLocation(billing_country, state, city, "billing")
    if ip_country:
        return TaxLocation(ip_country, state, city, "ip")
    return TaxLocation("", state, city, "none")


def renewal_tax_location(billing_country: str, billing_state: str = "", billing_city: str = "") -> TaxLocation:
    """Where UM taxes a renewal (`wu_get_membership_new_cart`): the membership's billing address, country, state and
    city (the membership's own address, else its customer's)."""
    return TaxLocation(billing_country, billing_state, billing_city, "renewal")


def _php_truthy(text: str) -> bool:
    return text not in ("", "0")


@lru_cache(maxsize=256)
def _split(values: str) -> tuple[str, ...]:
    """`array_filter(explode(',', $list))`: no trimming; empty and "0" entries dropped (PHP falsy)."""
    return tuple(v for v in values.split(",") if _php_truthy(v))


def _priority(rate: TaxRate, location: TaxLocation) -> float:
    """`wu_get_applicable_tax_rates`' score: 10 for the country, then for the state and for the city each 1 for a
    match, 0.5 when the rate's list is empty or holds `*` (a cart state or city of `*` scores neither)."""
    priority = 10.0 if rate.country == location.country else 0.0
    for wanted, listed in ((location.state, rate.state), (location.city, rate.city)):
        if wanted == "*":
            continue
        values = _split(listed)
        if wanted in values:
            priority += 1
        elif not values or "*" in values:
            priority += 0.5
    return priority


def applicable_rate(settings: TaxSettings, category: str, location: TaxLocation, main: bool) -> TaxRate | None:
    """The rate UM's Cart puts on a line of `category` (`Cart::apply_taxes_to_item`, `wu_get_applicable_tax_rates`):
    the category's rates scoring 10 or more, sorted by their score cast to an int (stable, ascending); the line
    keeps the LAST one, so a higher integer score wins and ties go to the later rate in the list. UM 2.4.13 falls
    back to the category's `*` rates when none matches the country, but its loop never reads the category's last
    rate there (a PHP by-reference foreach leaves that slot aliased). None: no tax."""
    key = (category, location, main)
    try:
        return settings._found[key]
    except KeyError:
        found = settings._found[key] = _applicable_rate(settings, category, location, main)
        return found


def _applicable_rate(settings: TaxSettings, category: str, location: TaxLocation, main: bool) -> TaxRate | None:
    if not _php_truthy(location.country) or not _php_truthy(category):
        return None
    rates = [r for r in settings.rates if r.category == category]
    best: TaxRate | None = None
    best_order = -1
    for rate in rates:
        priority = _priority(rate, location)
        if priority >= 10:
            order = int(priority)
            if order >= best_order:
                best, best_order = rate, order
    if best is None and main:
        candidates = rates[:-1] if len(rates) > 1 else rates
        for rate in candidates:
            if rate.country == "*":
                best = rate
    return best


@lru_cache(maxsize=4096)
def _rate_float(rate: Decimal) -> float:
    """PHP's `$amount / 100` of the stored rate string."""
    return float(rate) / 100


@lru_cache(maxsize=8192)
def line_tax(net: float, rate: Decimal, inclusive: bool) -> Decimal:
    """`wu_get_tax_amount($net, $rate, 'percentage', false, $inclusive)`: in PHP floats, rounded by PHP's
    `round($x, 2)` whatever the currency: exclusive `net * (rate / 100)`, inclusive `net - net / (1 + rate / 100)`.
    The float can land a half-cent below the exact value (5.43 at 20 % inclusive: 0.905 exactly, UM 0.90)."""
    r = _rate_float(rate)
    tax = net * r if not inclusive else net - net / (1 + r)
    return Decimal(repr(php_round(tax, 2))) + 0  # + 0: -0.0 becomes 0


def taxed_total(net: Decimal, net_float: float, rate: Decimal, inclusive: bool,
                exempt: bool) -> tuple[Decimal, Decimal]:
    """(line total, tax reported) of a line whose discounted subtotal is `net` (`Line_Item::recalculate_totals`):
    exclusive adds the tax, inclusive keeps the price; an exempt customer pays no tax, so an exclusive price stays
    and an inclusive one loses the tax it contained; the tax reported is then 0."""
    tax = line_tax(net_float, rate, inclusive)
    if exempt:
        return (net - tax if inclusive else net), ZERO
    return (net if inclusive else net + tax), tax
