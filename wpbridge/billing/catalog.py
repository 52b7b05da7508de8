"""A read-only index over a catalog: products by id and plans in UM's display order.

Every public function accepts a plain sequence of `Product` (and indexes it per call) or a prebuilt
`CatalogIndex` (itself a sequence of products), which callers that price many carts build once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from ..errors import InputError
from ..models import Product


class CatalogIndex(Sequence[Product]):
    """Products by id, and the plans (`type == "plan"`, as `wu_get_plans`) ordered by `list_order`, then id."""

    __slots__ = ("_by_id", "_products", "plans")

    def __init__(self, catalog: Iterable[Product]) -> None:
        self._products: tuple[Product, ...] = tuple(catalog)
        self._by_id: dict[int, Product] = {}
        for i, product in enumerate(self._products):
            if not isinstance(product, Product):
                raise InputError(f"catalog[{i}]: expected a Product, got {type(product).__name__}", field="catalog")
            if product.id in self._by_id:
                raise InputError(f"catalog: product id {product.id} appears twice", field="catalog",
                                 record_id=product.id)
            self._by_id[product.id] = product
        self.plans: tuple[Product, ...] = tuple(
            sorted((p for p in self._products if p.type == "plan"), key=lambda p: (p.list_order, p.id))
        )

    def get(self, product_id: int) -> Product | None:
        return self._by_id.get(product_id)

    def require(self, product_id: int, where: str) -> Product:
        """The product, or InputError naming `where` (the field or record that referred to it)."""
        product = self._by_id.get(product_id)
        if product is None:
            raise InputError(f"{where}: product {product_id} is not in the catalog", field=where,
                             record_id=product_id)
        return product

    @overload
    def __getitem__(self, index: int) -> Product: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Product]: ...

    def __getitem__(self, index: int | slice) -> Product | Sequence[Product]:
        return self._products[index]

    def __len__(self) -> int:
        return len(self._products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products)


def index_catalog(catalog: Sequence[Product]) -> CatalogIndex:
    return catalog if isinstance(catalog, CatalogIndex) else CatalogIndex(catalog)
