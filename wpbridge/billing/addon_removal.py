"""Removing add-ons (or holding fewer), priced as Ultimate Multisite prices it (docs/ultimate-multisite.md §4.6).

UM has no Cart for a removal: its change form only adds add-ons. Two screens remove one, both pricing it with
`wu_get_membership_product_price` (`inc/functions/membership.php:223`: a Cart of the add-on × quantity in the
membership's period, the membership's discount code, its one-time lines dropped):
- the customer's account page ("Cancel Product Subscription", `inc/ui/class-current-membership-element.php:510`):
  the amount is lowered by that price, but never below the plan's own price (`:570`), and the change is UM's
  scheduled swap at `date_expiration` (`:590`): the customer keeps what was paid for until the period ends. No
  refund, no credit, nothing due. Mode "period_end".
- the network admin's membership screen ("Remove Product", `inc/admin-pages/class-membership-edit-admin-page.php:
  1496`): removed now (`:1533`, the membership saved, its limits follow at once); with "Update Pricing" the amount is
  lowered by that price, uncapped (`:1522`; mode "now"), without it the amount stays (mode "now_keep_amount").

Pure: no I/O, no clock (`now` is a parameter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from ..errors import InputError
from ..models import DiscountCode, Membership, Product
from ..um_release import is_main
from .catalog import index_catalog
from .discounts import applies_to, code_refusal
from .lines import quantum, round_to
from .periods import check_aware, price_in_period
from .result import Quote, QuoteError
from .taxes import TaxLocation, TaxSettings, applicable_rate
from .umcart import UMLine

RemovalMode = Literal["period_end", "now", "now_keep_amount"]
RemovalTaxes = tuple[TaxSettings, TaxLocation, bool]
"""The network's tax settings, where the membership is billed (its billing address) and whether it is exempt."""
REMOVAL_MODES: tuple[RemovalMode, ...] = ("period_end", "now", "now_keep_amount")
ZERO = Decimal(0)
UM_SCHEDULE_DATE_INVALID = "Schedule date is invalid."


@dataclass(frozen=True, slots=True)
class RemovedAddon:
    """One add-on held fewer times: its product, how many were held, how many are kept, and what UM takes off the
    membership's amount for it (`amount_off`, unrounded; 0 when the amount is kept or the add-on is one-time)."""

    product: Product
    held: int
    keep: int
    amount_off: Decimal

    @property
    def removed(self) -> int:
        return self.held - self.keep


@dataclass(frozen=True, slots=True)
class RemovalQuote:
    """The quote (kind "downgrade": due now 0, the membership's new state in `target`; `scheduled_for` set for the
    period-end removal) and the add-ons removed, each with what UM takes off the amount."""

    quote: Quote
    removed: tuple[RemovedAddon, ...]
    mode: RemovalMode


def um_product_price(product: Product, quantity: int, m: Membership, now: datetime,
                     taxes: RemovalTaxes | None = None, main: bool = False) -> Decimal | None:
    """`wu_get_membership_product_price($membership, $product_id, $quantity)`: the recurring price of `quantity` ×
    `product` in the membership's period, less the membership's discount code where UM's Cart applies it to that
    line (`Cart::apply_discounts_to_item`: the code valid for the product); 0 for a one-time product (UM removes
    non-recurring lines); None when the product has no price in that period (UM's Cart error
    `missing-price-variations`). With `taxes`, the line's tax where prices exclude it (a taxable product, at the
    rate of its category at the membership's billing address). The line is totalled as UM's `Line_Item` (`umcart.
    UMLine`: the discount rounded to cents, then the tax on the discounted price)."""
    price = price_in_period(product, m.duration, m.duration_unit)
    if price is None:
        return None
    if not product.is_recurring:
        return ZERO
    line = UMLine("product", product.id, product.name, quantity, price, recurring=True, duration=m.duration,
                  duration_unit=m.duration_unit, discountable=True, taxable=product.taxable,
                  tax_category=product.tax_category)
    code = m.discount_code
    if isinstance(code, DiscountCode) and _code_valid(code, product, m, now):
        line.set_discount(code.value, code.type, code.apply_to_renewals, code.code)
    if taxes is not None and product.taxable and taxes[0].enabled:
        settings, location, exempt = taxes
        rate = applicable_rate(settings, product.tax_category, location, main)
        if rate is not None:
            line.set_tax(rate.rate, settings.inclusive, exempt)
    return line.total


def _code_valid(code: DiscountCode, product: Product, m: Membership, now: datetime) -> bool:
    """`Discount_Code::is_valid($product_id, $duration, $unit)` (`inc/models/class-discount-code.php:505`): active,
    uses left, started and not expired (`code_refusal`), the product allowed, the line's period allowed."""
    if code_refusal(code, now) is not None or not applies_to(code, product.id):
        return False
    return not code.limit_billing_periods or f"{m.duration}-{m.duration_unit}" in code.allowed_billing_periods


def quote_addon_removal(
    membership: Membership,
    catalog: Sequence[Product],
    keep: Mapping[int, int],
    *,
    now: datetime,
    mode: RemovalMode = "period_end",
    um_version: str | None = None,
    taxes: RemovalTaxes | None = None,
) -> RemovalQuote:
    """Price holding `keep` ({product_id: quantity to keep, 0 = remove}) of add-ons the membership holds more of.

    Refusals are quotes of kind "blocked" with UM's message: an add-on without a price in the membership's period
    (`missing-price-variations`), a period-end removal of a membership with no expiration date (UM's
    `schedule_swap` refuses it: "Schedule date is invalid."). Malformed input raises InputError."""
    now = check_aware(now).astimezone(UTC)
    if mode not in REMOVAL_MODES:
        raise InputError(f"removal mode {mode!r}: expected one of {', '.join(REMOVAL_MODES)}", field="mode")
    m, idx = membership, index_catalog(catalog)
    step = quantum(m.currency)[0]
    amount = m.amount
    plan = idx.require(m.plan_id, f"membership {m.id}: plan_id")
    main = is_main(um_version)
    plan_price = um_product_price(plan, 1, m, now, taxes, main)
    removed: list[RemovedAddon] = []
    errors: list[QuoteError] = []
    for pid, kept in keep.items():
        product, held = idx.require(pid, "addons"), m.addon_products.get(pid, 0)
        if not 0 <= kept < held:
            raise InputError(f"add-on {product.slug}: membership {m.id} holds {held}; keeping {kept} removes none",
                             field="addons", record_id=m.id)
        value = um_product_price(product, held - kept, m, now, taxes, main)
        if value is None:
            errors.append(QuoteError(code="missing-price-variations", message=(
                f"{product.name} does not have a valid price variation for that billing period (every "
                f"{m.duration} {m.duration_unit}(s)) and was not added to the cart.")))
            continue
        if mode == "now_keep_amount":
            value = ZERO
        elif mode == "period_end" and plan_price is not None and plan_price < value:
            value = max(amount - plan_price, ZERO)  # UM: "do not allow remove more than the plan price"
        amount -= value
        removed.append(RemovedAddon(product, held, kept, value))
    if mode == "period_end" and m.date_expiration is None:
        errors.append(QuoteError(code="invalid-date", message=UM_SCHEDULE_DATE_INVALID))
    return RemovalQuote(_quote(m, plan, removed, errors, max(amount, ZERO), step, mode, um_version), tuple(removed),
                        mode)


def _quote(m: Membership, plan: Product, removed: list[RemovedAddon], errors: list[QuoteError], amount: Decimal,
           step: Decimal, mode: RemovalMode, um_version: str | None) -> Quote:
    new_amount, zero = round_to(amount, step), quantum(m.currency)[1]
    base: dict[str, Any] = dict(
        policy="ultimate-multisite", membership_id=m.id, current_plan_id=m.plan_id, new_plan_id=plan.id,
        duration=m.duration, duration_unit=m.duration_unit, currency=m.currency, next_charge_at=m.date_expiration,
        um_version=um_version, credit=zero, due_now=zero, unused_credit=zero, setup_fee_credit=zero,
    )
    if errors:
        return Quote(kind="blocked", errors=errors, recurring_total=round_to(m.amount, step), **base)
    addons = dict(m.addon_products)
    for r in removed:
        if r.keep:
            addons[r.product.id] = r.keep
        else:
            addons.pop(r.product.id, None)
    target = {"plan_id": plan.id, "addon_products": addons, "amount": str(new_amount),
              "initial_amount": str(round_to(m.initial_amount, step)), "duration": m.duration,
              "duration_unit": m.duration_unit, "recurring": m.recurring}
    scheduled = m.date_expiration if mode == "period_end" else None
    return Quote(kind="downgrade", recurring_total=new_amount, scheduled_for=scheduled, target=target, **base)
