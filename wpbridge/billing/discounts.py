"""Discount codes: whether one may be used now, and how much it takes off a line (reference §4.4, §4.6).

A code discounts product lines by `type`/`value`, and setup-fee lines by `setup_fee_type`/`setup_fee_value` only
when that value is > 0; never the credit. A `limit_products` code discounts only the lines of `allowed_products`.
An absolute discount is taken once per line and never exceeds the line [verify against UM's Line_Item].
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..models import DiscountCode

HUNDRED = Decimal(100)
ZERO = Decimal(0)


def invalid_reason(code: DiscountCode, now: datetime, product_ids: list[int]) -> str | None:
    """Why `code` cannot be used for a cart of `product_ids` at `now`, or None when it can."""
    name = code.code
    if not code.active:
        return f"The discount code {name} is not active."
    if code.date_start is not None and now < code.date_start:
        return f"The discount code {name} is not valid yet (it starts on {code.date_start:%Y-%m-%d})."
    if code.date_expiration is not None and now >= code.date_expiration:
        return f"The discount code {name} expired on {code.date_expiration:%Y-%m-%d}."
    if code.max_uses > 0 and code.uses >= code.max_uses:
        return f"The discount code {name} was already used the maximum number of times allowed."
    if code.limit_products and not any(pid in code.allowed_products for pid in product_ids):
        return f"The discount code {name} is not valid for the products in this cart."
    return None


def applies_to(code: DiscountCode, product_id: int) -> bool:
    return not code.limit_products or product_id in code.allowed_products


def _off(kind: str, value: Decimal, subtotal: Decimal) -> Decimal:
    if value <= 0 or subtotal <= 0:
        return ZERO
    off = subtotal * value / HUNDRED if kind == "percentage" else value
    return min(off, subtotal)


def product_discount(code: DiscountCode | None, product_id: int, subtotal: Decimal) -> Decimal:
    """What the code takes off a product line of `subtotal` (unrounded)."""
    if code is None or not applies_to(code, product_id):
        return ZERO
    return _off(code.type, code.value, subtotal)


def fee_discount(code: DiscountCode | None, product_id: int, subtotal: Decimal) -> Decimal:
    """What the code takes off a setup-fee line: only when `setup_fee_value` > 0."""
    if code is None or code.setup_fee_value <= 0 or not applies_to(code, product_id):
        return ZERO
    return _off(code.setup_fee_type, code.setup_fee_value, subtotal)


def code_refusal(code: DiscountCode, now: datetime) -> tuple[str, datetime | None] | None:
    """Why UM's `Discount_Code::is_valid()` (without a product, as `Cart::set_discount_code` calls it) refuses
    `code` at `now`, in UM's order: ("inactive" | "used_up" | "not_started" | "expired", the date concerned), or None.
    The one rule both the pricing port and the CLI's lookup word in their own way."""
    if not code.active:
        return "inactive", None
    if code.max_uses > 0 and code.uses >= code.max_uses:
        return "used_up", None
    if code.date_start is not None and now < code.date_start:
        return "not_started", code.date_start
    if code.date_expiration is not None and now > code.date_expiration:
        return "expired", code.date_expiration
    return None
