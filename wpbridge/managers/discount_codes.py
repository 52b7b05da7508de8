"""`net.discount_codes`: the network's discount codes, read with every field right (both flavors).

UM's REST reads a code's product restriction wrong (`allowed_products` null: UM keeps it in the code's meta), so
codes are read from plugin-stub's companion catalog (`GET /wpbridge/v1/catalog`, its `discount_codes`), which reads
UM's meta in UM mode and its own table in stub mode. A code is looked up as UM's Cart looks it up
(`Cart::set_discount_code`: upper-cased, then found by `code`; MySQL compares without case).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import NotFound
from ..models import DiscountCode
from ..rest.transport import route
from .base import COMPANION, Context


class DiscountCodeManager:
    """The discount codes of one network (`Network.discount_codes`)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def all(self) -> list[DiscountCode]:
        """Every code, by id, with its restrictions (`GET /wpbridge/v1/catalog`'s `discount_codes`)."""
        data = self._ctx.transport.get(route(COMPANION, "catalog")).data
        codes = data.get("discount_codes") if isinstance(data, dict) else None
        if not isinstance(codes, list):
            codes = []
        found = (self._ctx.tolerant(DiscountCode, item) for item in codes)
        return sorted((c for c in found if c is not None), key=lambda c: c.id or 0)

    def find(self, code: str) -> DiscountCode | None:
        """The code named `code` (compared without case, as UM's lookup), or None."""
        return find_code(self.all(), code)

    def get(self, ref: str | int) -> DiscountCode:
        """A code by id (digits) or by its code; NotFound when there is none."""
        return get_code(self.all(), ref)

    def list(self, **filters: Any) -> Iterator[DiscountCode]:
        """`wu/v2/discount_code`, paged (UM's REST: `allowed_products` reads null there; prefer `all()`)."""
        return self._ctx.um_list("discount_code", DiscountCode, filters)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /wu/v2/discount_code; after a try with an unknown outcome it is looked up by its code first."""
        return self._ctx.create("discount_code", body)


def find_code(codes: list[DiscountCode], code: str) -> DiscountCode | None:
    """The code of `codes` named `code`, compared upper-cased (UM's `strtoupper` and MySQL's collation)."""
    wanted = code.strip().upper()
    return next((c for c in codes if c.code.upper() == wanted), None)


def get_code(codes: list[DiscountCode], ref: str | int) -> DiscountCode:
    """A code of `codes` by id (an int or digits) or by its code; NotFound naming `ref` otherwise."""
    text = str(ref).strip()
    found = find_code(codes, text)
    if found is None and text.isdigit():
        found = next((c for c in codes if c.id == int(text)), None)
    if found is None:
        raise NotFound(f"discount code {text} does not exist")
    return found
