"""`net.taxes`: the network's tax settings and rates, and each customer's tax facts (billing address, IP country,
exemption), read through plugin-stub's `wpbridge/v1/taxes` and `wpbridge/v1/customers/{id}/tax` routes.

The same routes serve both flavors (UM mode: Ultimate Multisite's settings `enable_taxes` / `inclusive_tax`, its
rates in the network option `wp-ultimo_tax_rates`, its customer meta `wu_billing_address` and `ip_country` and its
filter `wu_cart_is_tax_exempt`, which UM's REST leaves out; stub mode: plugin-stub's own option and customer
table), so nothing here looks at the mode. The products' `taxable` and `tax_category` come with the catalog
(`net.products.catalog()`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..billing import TaxRate, TaxSettings
from ..errors import DataError
from ..rest.transport import route
from .base import COMPANION, Context, chunks, joined


@dataclass(frozen=True)
class CustomerTax:
    """What UM's Cart taxes a customer's change by: the billing address's country, else the IP country
    (`Customer::get_country`), and whether the customer is exempt."""

    customer_id: int
    billing_country: str = ""
    ip_country: str = ""
    tax_exempt: bool = False
    billing_address: Mapping[str, Any] = field(default_factory=dict)


class TaxManager:
    """The taxes of one network (`Network.taxes`)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def settings(self) -> TaxSettings:
        """`GET /wpbridge/v1/taxes`: collection on or off, prices inclusive or not, the rates in stored order."""
        return tax_settings(self._ctx.transport.get(route(COMPANION, "taxes")).data)

    def put(self, settings: TaxSettings, *, products: Mapping[int, tuple[bool, str]] | None = None,
            exempt_customers: Iterable[int] = ()) -> TaxSettings:
        """`PUT /wpbridge/v1/taxes` (stub mode; a UM network answers 409: UM's settings are UM's). `products`:
        {product id: (taxable, tax category)}."""
        body = {**settings_body(settings),
                "products": {str(pid): {"taxable": t, "tax_category": c} for pid, (t, c) in (products or {}).items()},
                "exempt_customers": [int(i) for i in exempt_customers]}
        where = route(COMPANION, "taxes")
        return tax_settings(self._ctx.transport.request("PUT", where, json_body=body, idempotent=True).data)

    def categories(self) -> dict[str, str]:
        """The tax categories' names by slug (`GET /wpbridge/v1/taxes`' `categories`: `default` first; UM: its
        categories as its tax editor names them)."""
        data = self._ctx.transport.get(route(COMPANION, "taxes")).data
        names = data.get("categories") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}

    def import_settings(self, settings: TaxSettings, *, exempt_customers: Iterable[int] = (),
                        categories: Mapping[str, str] | None = None) -> dict[str, Any]:
        """`PUT /wpbridge/v1/import/taxes` (`wpbridge import`, both flavors): the settings, the rates, the
        categories' names and the exempt customers (absolute); UM mode writes UM's own settings and rates, and
        answers 400 to exempt customers (UM keeps none). The settings read back, with `exempt_customers`."""
        body = {**settings_body(settings), "exempt_customers": sorted({int(i) for i in exempt_customers}),
                "categories": dict(categories or {})}
        where = route(COMPANION, "import", "taxes")
        data: dict[str, Any] = self._ctx.transport.request("PUT", where, json_body=body, idempotent=True).data
        return data

    def customer(self, customer_id: int) -> CustomerTax:
        """`GET /wpbridge/v1/customers/{id}/tax`; NotFound when there is no such customer."""
        return customer_tax(self._ctx.transport.get(route(COMPANION, "customers", customer_id, "tax")).data)

    def customers(self, customer_ids: Iterable[int]) -> dict[int, CustomerTax]:
        """The tax facts of many customers, by id (`GET /wpbridge/v1/customers/tax`, 100 ids a request); a
        customer that does not exist is left out."""
        out: dict[int, CustomerTax] = {}
        for chunk in chunks(sorted(set(customer_ids))):
            data = self._ctx.transport.get(route(COMPANION, "customers", "tax"), {"customer_ids": joined(chunk)}).data
            rows = data.get("customers") if isinstance(data, dict) else None
            for row in rows if isinstance(rows, list) else []:
                facts = customer_tax(row)
                out[facts.customer_id] = facts
        return out


def tax_settings(data: Any) -> TaxSettings:
    """The `wpbridge/v1/taxes` object as the engine's `TaxSettings` (DataError naming the field otherwise)."""
    if not isinstance(data, dict):
        raise DataError(f"taxes: expected an object, got {type(data).__name__}", field="taxes")
    rates = data.get("rates") or []
    if not isinstance(rates, list):
        raise DataError("taxes: rates must be a list", field="rates")
    return TaxSettings(bool(data.get("enabled")), bool(data.get("inclusive")),
                       tuple(_rate(r, i) for i, r in enumerate(rates)))


def _rate(row: Any, i: int) -> TaxRate:
    if not isinstance(row, dict):
        raise DataError(f"taxes: rates[{i}] must be an object", field=f"rates.{i}")
    try:
        rate = Decimal(str(row.get("rate", "0") or "0"))
    except InvalidOperation:
        raise DataError(f"taxes: rates[{i}].rate {row.get('rate')!r} is not a number",
                        field=f"rates.{i}.rate") from None
    return TaxRate(str(row.get("category") or "default"), str(row.get("country") or ""), str(row.get("state") or ""),
                   str(row.get("city") or ""), rate, str(row.get("title") or ""))


def settings_body(settings: TaxSettings) -> dict[str, Any]:
    return {"enabled": settings.enabled, "inclusive": settings.inclusive,
            "rates": [rate_body(r) for r in settings.rates]}


def rate_body(rate: TaxRate) -> dict[str, str]:
    return {"category": rate.category, "country": rate.country, "state": rate.state, "city": rate.city,
            "rate": str(rate.rate), "title": rate.title}


def customer_tax(data: Any) -> CustomerTax:
    if not isinstance(data, dict) or not str(data.get("customer_id", "")).isdigit():
        raise DataError("customer tax: expected an object with a customer_id", field="customer_id")
    address = data.get("billing_address")
    return CustomerTax(int(data["customer_id"]), str(data.get("billing_country") or ""),
                       str(data.get("ip_country") or ""), bool(data.get("tax_exempt")),
                       dict(address) if isinstance(address, dict) else {})


__all__: Sequence[str] = ["CustomerTax", "TaxManager", "customer_tax", "tax_settings"]
