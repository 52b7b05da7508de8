"""`net.products` (the catalog: plans, packages, services with their limitations and price variations);
`net.discount_codes` is in `discount_codes.py`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..models import Product
from ..rest.transport import route
from .base import COMPANION, Context


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


    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /wu/v2/product; after a try with an unknown outcome it is looked up by its slug first."""
        return self._ctx.create("product", body)
