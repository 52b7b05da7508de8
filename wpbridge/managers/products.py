"""`net.products` (the catalog: plans, packages, services with their limitations and price variations) and
`net.discount_codes`; and `create`, UM's create that never sends twice blindly."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..models import DiscountCode, Product
from ..rest.transport import route
from .base import COMPANION, UM, Context, as_dict

NATURAL_KEYS = {"product": "slug", "discount_code": "code"}
"""The field that identifies a record before it has an id: how `create()` finds out whether a create landed."""


class ProductManager:
    """The products of one network."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def catalog(self) -> list[Product]:
        """Every product with its limitations and price variations, in one call (`GET /wpbridge/v1/catalog`)."""
        data = self._ctx.transport.get(route(COMPANION, "catalog")).data
        products = data.get("products") if isinstance(data, dict) else None
        if not isinstance(products, list):
            products = []
        return [p for p in (self._ctx.tolerant(Product, item) for item in products) if p is not None]

    def list(self, **filters: Any) -> Iterator[Product]:
        """`wu/v2/product`, paged (the catalog without plugin-stub's additions)."""
        return self._ctx.um_list("product", Product, filters)

    def __call__(self, **filters: Any) -> Iterator[Product]:
        """`net.products(...)` is `net.products.list(...)` (kept while callers move to `.list`)."""
        return self.list(**filters)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return create(self._ctx, "product", body)


class DiscountCodeManager:
    """The discount codes of one network (`wu/v2/discount_code`)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list(self, **filters: Any) -> Iterator[DiscountCode]:
        return self._ctx.um_list("discount_code", DiscountCode, filters)

    def __call__(self, **filters: Any) -> Iterator[DiscountCode]:
        """`net.discount_codes(...)` is `net.discount_codes.list(...)` (kept while callers move to `.list`)."""
        return self.list(**filters)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return create(self._ctx, "discount_code", body)


def create(ctx: Context, slug: str, body: Mapping[str, Any], *, natural_key: str | None = None) -> dict[str, Any]:
    """POST /wu/v2/{slug}. After a try with an unknown outcome, the record is looked up by its natural key
    (`natural_key`, or the slug's default: product -> slug, discount_code -> code) before trying again."""
    key = natural_key or NATURAL_KEYS.get(slug)
    value = body.get(key) if key else None
    lookup = None
    if key and value not in (None, ""):
        def lookup() -> dict[str, Any] | None:
            return _find(ctx, slug, key, value)
    return as_dict(ctx.transport.create(route(UM, slug), dict(body), lookup=lookup))


def _find(ctx: Context, slug: str, key: str, value: Any) -> dict[str, Any] | None:
    reply = ctx.transport.get(route(UM, slug), {key: value, "per_page": 100, "number": 100})
    rows = reply.data if isinstance(reply.data, list) else []
    for row in rows:
        if isinstance(row, dict) and str(row.get(key)) == str(value):
            return row
    return None
