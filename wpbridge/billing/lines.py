"""Quote lines and their totals, rounded as UM rounds: half up, to the currency's decimals, once per line.

A product line and its discount are one UM line item (total = round(subtotal − discount)); the discount is shown
as its own line whose total is the difference, so the lines always add up to what UM charges.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from ..models import DiscountCode, Product
from ..money import currency_decimals
from .discounts import fee_discount, product_discount
from .result import LineType, QuoteLine

ZERO = Decimal(0)


def _line(
    type_: LineType, product_id: int | None, title: str, quantity: int, unit_price: Decimal, total: Decimal,
    recurring: bool = False,
) -> QuoteLine:
    return QuoteLine(type=type_, product_id=product_id, title=title, quantity=quantity, unit_price=unit_price,
                     total=total, recurring=recurring)


@lru_cache(maxsize=256)
def quantum(currency: str) -> tuple[Decimal, Decimal]:
    """The rounding step of `currency` (0.01, or 1 for zero-decimal currencies: `wpbridge.money`'s rule) and zero
    at that step (so that a total of nothing prints as 0.00), cached."""
    step = Decimal(1).scaleb(-currency_decimals(currency))
    return step, ZERO.quantize(step)


def round_to(amount: Decimal, step: Decimal) -> Decimal:
    """Half up to `step`: the same result as `wpbridge.money.round_money` (PHP `round`)."""
    return amount.quantize(step, ROUND_HALF_UP)


_Row = tuple[LineType, int | None, str, int, Decimal, Decimal, bool]


class LineBuilder:
    """Collects lines; `charges` is their running total, `recurring` the renewal total of the recurring items.

    Lines are kept as plain rows and become `QuoteLine`s only when `lines` is read, so a pass that only needs the
    totals (classification, an exact quote's full-price pass) costs no model objects."""

    __slots__ = ("charges", "code", "recurring", "rows", "step")

    def __init__(self, currency: str, code: DiscountCode | None) -> None:
        self.step, zero = quantum(currency)
        self.code = code
        self.rows: list[_Row] = []
        self.charges = self.recurring = zero  # sums of rounded lines stay exact to the step

    @property
    def lines(self) -> list[QuoteLine]:
        return [_line(*row) for row in self.rows]

    def product(
        self, product: Product, quantity: int, unit_price: Decimal, recurring_price: Decimal | None,
        title: str | None = None,
    ) -> None:
        """A product line charged at `unit_price`; `recurring_price` is its full renewal price (None: one-time)."""
        pid = product.id
        title = title or product.name or product.slug
        step, code = self.step, self.code
        subtotal = unit_price if quantity == 1 else unit_price * quantity
        gross = subtotal.quantize(step, ROUND_HALF_UP)
        net = gross
        if code is not None:
            net = (subtotal - product_discount(code, pid, subtotal)).quantize(step, ROUND_HALF_UP)
        self.rows.append(("product", pid, title, quantity, unit_price.quantize(step, ROUND_HALF_UP), gross,
                          recurring_price is not None))
        if net != gross:
            self._discount_line(pid, title, net - gross)
        self.charges += net
        if recurring_price is not None:
            renews_discounted = code is not None and code.apply_to_renewals
            if recurring_price is unit_price:
                self.recurring += net if renews_discounted else gross
            else:
                full = recurring_price * quantity
                off = product_discount(code, pid, full) if renews_discounted else ZERO
                self.recurring += (full - off).quantize(step, ROUND_HALF_UP)

    def setup_fee(self, product: Product, quantity: int) -> None:
        """UM's "Signup Fee for %s" line, when the product has a setup fee."""
        fee = product.setup_fee
        if fee <= 0:
            return
        step, pid = self.step, product.id
        title = f"Signup Fee for {product.name or product.slug}"
        subtotal = fee * quantity
        gross = subtotal.quantize(step, ROUND_HALF_UP)
        net = gross
        if self.code is not None:
            net = (subtotal - fee_discount(self.code, pid, subtotal)).quantize(step, ROUND_HALF_UP)
        self.rows.append(("fee", pid, title, quantity, fee.quantize(step, ROUND_HALF_UP), gross, False))
        if net != gross:
            self._discount_line(pid, title, net - gross)
        self.charges += net

    def _discount_line(self, product_id: int, title: str, total: Decimal) -> None:
        if self.code is not None:
            self.rows.append(("discount", product_id, f"Discount {self.code.code} on {title}", 1, total, total, False))

    def credit(self, amount: Decimal, title: str = "Credit") -> Decimal:
        """A credit line of −round(amount) (not discountable); returns the rounded credit."""
        credit = amount.quantize(self.step, ROUND_HALF_UP)
        if credit > 0:
            self.rows.append(("credit", None, title, 1, -credit, -credit, False))
        return credit
