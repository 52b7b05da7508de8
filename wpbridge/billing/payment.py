"""The money of a change: which changes leave a payment, its lines and totals, and what settling it does.

Pure (no I/O, no clock). The rules (docs/DESIGN.md §4.1):
- A change leaves a payment when it is carried out now (`upgrade`, `addon`) and its due now is above 0; a
  downgrade (scheduled, due 0), a fully credited change and `no_change` leave none.
- The payment's lines are the quote's lines as UM's `Cart::to_payment_data()` writes them (line subtotal =
  unit price x quantity; credits and discounts negative), its totals UM's: subtotal = the product and fee lines
  (credits and discounts excluded), total = the quote's due now, to the cent.
- The change key identifies a change: the membership, the state it had when the change was ordered and the state
  the change writes (their stable fields: not the dates the quote stamps with `now`). The same change asked again
  (a rerun, a retry after a crash) has the same key, so it finds its payment instead of making a second one.
- Settling makes the membership `active`; a membership that was not live when the change was ordered (expired,
  cancelled, on-hold, pending) starts a new period at settlement. Settling is done once: a completed payment is
  not settled again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..models import parse_utc
from ..money import round_money
from ..payment_models import PaymentChange, PaymentLine
from .periods import add_period
from .result import Quote

PAID_KINDS = frozenset({"upgrade", "addon"})
"""Quote kinds carried out at once, whose due now is collected when the change is applied."""

LIVE_STATUSES = frozenset({"active", "trialing"})
"""Statuses in which the customer had a running period when the change was ordered (settling keeps its dates)."""

KEY_FIELDS = ("plan_id", "addon_products", "duration", "duration_unit", "amount")
"""The fields of a target state that say what the change is (the quote also stamps dates, which move with now)."""

BEFORE_FIELDS = (*KEY_FIELDS, "status", "date_renewed", "date_expiration")
"""The fields of the membership before the change that tell one ordering of a change from a later one."""


@dataclass(frozen=True)
class PaymentTotals:
    """A payment's totals as UM stores them (each rounded to the currency's decimals)."""

    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def collects_money(quote: Quote) -> bool:
    """True when carrying out this quote now costs the customer money (a payment or a stated waiver)."""
    return quote.kind in PAID_KINDS and quote.due_now > 0


def _canonical(value: Any) -> Any:
    """A JSON value in one spelling: amounts as normalised decimals, maps with string keys sorted."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def change_key(membership_id: int, before: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    """sha256 (hex) of the membership, its state before (`BEFORE_FIELDS`) and the change's target (`KEY_FIELDS`).

    Values are compared in one spelling (`state_of`): an amount '39.00' and '39.0000', a date in UM's GMT form and
    in ISO 8601 give one key."""
    body = {"membership_id": membership_id, "before": state_of(before, BEFORE_FIELDS),
            "target": state_of(target, KEY_FIELDS)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def state_of(values: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """The canonical values of `keys` in `values` (a membership dump or a target state)."""
    out: dict[str, Any] = {}
    for key in keys:
        value = values.get(key)
        if key == "addon_products":
            value = {str(k): int(v) for k, v in (value or {}).items() if int(v) > 0}
        elif key == "amount" and value is not None:
            value = Decimal(str(value))
        elif key in ("plan_id", "duration") and value is not None:
            value = int(value)
        elif key.startswith("date_"):
            moment = parse_utc(value)
            value = moment.isoformat() if moment is not None else None
        out[key] = _canonical(value)
    return out


def payment_lines(quote: Quote) -> list[PaymentLine]:
    """The quote's lines as a payment's line items (UM's `Line_Item` fields; amounts unrounded, as UM keeps them).
    Each line carries its tax (`tax_rate`, `tax_total`); its `total` includes the tax where prices exclude it."""
    lines = []
    for line in quote.lines:
        subtotal = line.unit_price * line.quantity if line.type in ("product", "fee") else line.total
        lines.append(PaymentLine(
            type=line.type, product_id=line.product_id, title=line.title, quantity=line.quantity,
            unit_price=line.unit_price, subtotal=subtotal,
            discount_total=-line.total if line.type == "discount" else Decimal(0),
            tax_rate=line.tax_rate, tax_total=line.tax_total, total=line.total, recurring=line.recurring,
            duration=quote.duration if line.recurring else 0,
            duration_unit=quote.duration_unit if line.recurring else "",
        ))
    return lines


def payment_totals(lines: Sequence[PaymentLine], currency: str) -> PaymentTotals:
    """UM's `Cart::get_subtotal()` / `get_total()` over the lines: sums floored at 0, rounded to the currency."""
    subtotal = sum((li.subtotal for li in lines if li.type not in ("discount", "credit")), Decimal(0))
    discounts = sum((li.discount_total for li in lines), Decimal(0))
    taxes = sum((li.tax_total for li in lines), Decimal(0))
    total = sum((li.total for li in lines), Decimal(0))
    return PaymentTotals(
        subtotal=round_money(max(subtotal, Decimal(0)), currency),
        discount_total=round_money(discounts, currency),
        tax_total=round_money(taxes, currency),
        total=round_money(max(total, Decimal(0)), currency),
    )


def cart_products(plan_id: int | None, current_plan_id: int, addons: Mapping[int, int]) -> dict[str, int]:
    """What UM's checkout form sends for a change: the new plan (when it changes) and the add-ons bought."""
    products = {str(plan_id): 1} if plan_id is not None and plan_id != current_plan_id else {}
    for pid, qty in addons.items():
        if qty > 0:
            products[str(pid)] = products.get(str(pid), 0) + int(qty)
    return products


def settled_state(change: PaymentChange | None, *, duration: int, duration_unit: str, lifetime: bool,
                  settled_at: datetime) -> dict[str, Any]:
    """The membership keys settling a change's payment writes: `active`, and a new period from `settled_at` when the
    membership was not live when the change was ordered (`change.status_before`) and is not a lifetime one.

    Dates in UM's wire form (GMT 'YYYY-MM-DD HH:MM:SS')."""
    state: dict[str, Any] = {"status": "active"}
    before = change.status_before if change is not None else ""
    if before and before not in LIVE_STATUSES and not lifetime:
        state["date_renewed"] = _gmt(settled_at)
        state["date_expiration"] = _gmt(add_period(settled_at, duration, duration_unit))
    return state


def _gmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")
