"""The payment record as wpbridge reads it (Ultimate Multisite's `Payment`, and plugin-stub's of stub mode).

Read tolerantly like every wire model (`models.py`): amounts as strings, ints or floats, ids as strings, `""`
for none, PHP's `[]` for an empty map. A payment wpbridge made for a plan change carries `wpbridge` (UM's payment
meta `wpbridge_change`): the change it pays for, so a rerun finds it instead of making a second one, and
settlement knows what the membership was when the change was ordered. Shapes: docs/DESIGN.md §4.1 and
plugin-stub/README.md "Payments".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from .models import Money, OptionalStr, PhpBool, UtcDateTime, WireModel

PaymentStatus = Literal["pending", "completed", "refunded", "partially-refunded", "partially-paid", "failed",
                        "cancelled"]
"""UM's `Payment_Status` list (inc/database/payments/class-payment-status.php)."""

Collect = Literal["invoice", "paid", "none"]
"""How a change's due now is collected: a pending payment the customer pays from its link (`invoice`), money
received outside and recorded as a completed payment (`paid`), or waived on purpose (`none`: no payment)."""

OPEN_STATUSES: frozenset[str] = frozenset({"pending"})
"""A payment in these statuses still waits for money (a change it pays for is not settled)."""


def _falsy_id(value: Any) -> Any:
    return None if value in (None, "", False, 0, "0") else value


def _list_or_empty(value: Any) -> Any:
    if value in (None, False, "") or (isinstance(value, dict) and not value):
        return []
    if isinstance(value, dict):  # PHP serialises a list with string keys as an object
        return list(value.values())
    return value


def _map_or_empty(value: Any) -> Any:
    if value in (None, False, "") or (isinstance(value, list) and not value):
        return {}
    return value


OptionalId = Annotated[int | None, BeforeValidator(_falsy_id)]


class PaymentLine(WireModel):
    """One line of a payment (UM's `Line_Item::to_array()`): negative totals for credits and discounts."""

    id: OptionalStr = None
    type: str = "product"
    product_id: OptionalId = None
    title: str = ""
    description: str = ""
    quantity: int = 1
    unit_price: Money = Decimal(0)
    subtotal: Money = Decimal(0)
    discount_total: Money = Decimal(0)
    tax_rate: Money = Decimal(0)
    tax_total: Money = Decimal(0)
    total: Money = Decimal(0)
    recurring: PhpBool = False
    duration: int = 0
    duration_unit: str = ""


class PaymentChange(WireModel):
    """What wpbridge stored beside a payment it made for a plan change (UM payment meta `wpbridge_change`)."""

    change_key: str
    collect: Literal["invoice", "paid"] = "invoice"
    reference: str = ""
    status_before: str = ""
    """The membership's status when the change was ordered (settlement restarts the period unless it was live)."""
    before: Annotated[dict[str, Any], BeforeValidator(_map_or_empty)] = Field(default_factory=dict)
    """The membership's absolute state before the change (the keys of `target`)."""
    target: Annotated[dict[str, Any], BeforeValidator(_map_or_empty)] = Field(default_factory=dict)
    settled_at: UtcDateTime = None


class Payment(WireModel):
    """A payment of the network (UM's `wu_payments` row with its line items, invoice number, hash and pay link)."""

    id: int
    customer_id: int = 0
    membership_id: OptionalId = None
    parent_id: OptionalId = None
    status: PaymentStatus = "pending"
    currency: str = "USD"
    subtotal: Money = Decimal(0)
    discount_total: Money = Decimal(0)
    tax_total: Money = Decimal(0)
    total: Money = Decimal(0)
    refund_total: Money = Decimal(0)
    discount_code: OptionalStr = None
    gateway: OptionalStr = None
    gateway_payment_id: OptionalStr = None
    product_id: OptionalId = None
    line_items: Annotated[list[PaymentLine], BeforeValidator(_list_or_empty)] = Field(default_factory=list)
    invoice_number: OptionalStr = None
    hash: OptionalStr = None
    url: OptionalStr = None
    date_created: UtcDateTime = None
    date_modified: UtcDateTime = None
    wpbridge: PaymentChange | None = None

    @property
    def is_open(self) -> bool:
        """Still waiting for money."""
        return self.status in OPEN_STATUSES

    @property
    def reference(self) -> str | None:
        """What the money was received as (bank transfer, cash...): wpbridge's reference, else the gateway's id."""
        if self.wpbridge is not None and self.wpbridge.reference:
            return self.wpbridge.reference
        return self.gateway_payment_id
