"""A read-only index over a catalog: products by id and plans in UM's display order.

Every public function accepts a plain sequence of `Product` or a prebuilt `CatalogIndex` (itself a sequence of
products), which callers that price many carts build once. A plain sequence is indexed on first use, and the index
is reused while the same sequence object comes back holding the same product objects (checked by identity on every
call), so pricing many carts against one catalog list does not re-index it each time. Products are values: do not
change one in place while it is being priced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from operator import attrgetter, is_
from typing import overload

from ..errors import InputError
from ..models import Product

_DISPLAY_ORDER = attrgetter("list_order", "id")


class CatalogIndex(Sequence[Product]):
    """Products by id, and the plans (`type == "plan"`, as `wu_get_plans`) ordered by `list_order`, then id.

    The offered sets derived from it are memoised per plan, so treat the products as immutable while it lives.
    """

    __slots__ = ("_by_id", "_memo", "_memoise", "_plans", "_products", "derived")

    def __init__(self, catalog: Iterable[Product], *, memoise: bool = True) -> None:
        self._products: tuple[Product, ...] = tuple(catalog)
        self._by_id: dict[int, Product] = {}
        with suppress(AttributeError):  # not a Product: explained below
            self._by_id = {p.id: p for p in self._products}
        if len(self._by_id) != len(self._products):
            self._explain()
        self._plans: tuple[Product, ...] | None = None
        self._memo: dict[tuple[str, int], tuple[Product, ...]] = {}
        self._memoise = memoise
        self.derived: dict[int, object] = {}
        """Per-product values derived by the pricing engine (umcart's Cart products), keyed by product id."""

    def _explain(self) -> None:
        """Raise InputError for what made the catalog unusable (not a Product, or a duplicate id)."""
        seen: set[int] = set()
        for i, product in enumerate(self._products):
            if not isinstance(product, Product):
                raise InputError(f"catalog[{i}]: expected a Product, got {type(product).__name__}", field="catalog")
            if product.id in seen:
                raise InputError(f"catalog: product id {product.id} appears twice", field="catalog",
                                 record_id=product.id)
            seen.add(product.id)

    @property
    def plans(self) -> tuple[Product, ...]:
        plans = self._plans
        if plans is None:
            plans = tuple(sorted([p for p in self._products if p.type == "plan"], key=_DISPLAY_ORDER))
            if self._memoise:
                self._plans = plans
        return plans

    def memo(self, kind: str, plan: Product, compute: Callable[[], tuple[Product, ...]]) -> tuple[Product, ...]:
        """`compute()` once per (kind, plan id) for the life of this index."""
        if not self._memoise:
            return compute()
        key = (kind, plan.id)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = compute()
        return found

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


_last: tuple[Sequence[Product], tuple[Product, ...], CatalogIndex] | None = None


def index_catalog(catalog: Sequence[Product]) -> CatalogIndex:
    """`catalog` itself when it is an index; else its index, reused for the same list of the same products."""
    global _last
    if isinstance(catalog, CatalogIndex):
        return catalog
    if not isinstance(catalog, list | tuple):
        return CatalogIndex(catalog)
    last = _last
    if last is not None and last[0] is catalog and len(catalog) == len(last[1]) and all(map(is_, catalog, last[1])):
        return last[2]
    idx = CatalogIndex(catalog, memoise=False)  # derived sets are recomputed: only ids are trusted to stay put
    _last = (catalog, idx._products, idx)
    return idx
