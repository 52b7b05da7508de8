"""Quote lines and their totals, rounded as UM rounds: half up, to the currency's decimals, once per line.

A product line and its discount are one UM line item (total = round(subtotal − discount)); the discount is shown
as its own line whose total is the difference, so the lines always add up to what UM charges.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import DiscountCode, Product
from ..money import round_money
from .discounts import fee_discount, product_discount
from .result import LineType, QuoteLine

ZERO = Decimal(0)


def _line(
    type_: LineType, product_id: int | None, title: str, quantity: int, unit_price: Decimal, total: Decimal,
    recurring: bool = False,
) -> QuoteLine:
    return QuoteLine.model_construct(
        type=type_, product_id=product_id, title=title, quantity=quantity, unit_price=unit_price, total=total,
        recurring=recurring,
    )


class LineBuilder:
    """Collects lines; `charges` is their running total, `recurring` the renewal total of the recurring items."""

    __slots__ = ("charges", "code", "currency", "lines", "recurring")

    def __init__(self, currency: str, code: DiscountCode | None) -> None:
        self.currency = currency
        self.code = code
        self.lines: list[QuoteLine] = []
        self.charges = ZERO
        self.recurring = ZERO

    def _round(self, amount: Decimal) -> Decimal:
        return round_money(amount, self.currency)

    def product(
        self, product: Product, quantity: int, unit_price: Decimal, recurring_price: Decimal | None,
        title: str | None = None,
    ) -> None:
        """A product line charged at `unit_price`; `recurring_price` is its full renewal price (None: one-time)."""
        title = title or product.name or product.slug
        subtotal = unit_price * quantity
        gross = self._round(subtotal)
        net = self._round(subtotal - product_discount(self.code, product.id, subtotal))
        self.lines.append(_line("product", product.id, title, quantity, self._round(unit_price), gross,
                                recurring_price is not None))
        self._discount_line(product.id, title, net - gross)
        self.charges += net
        if recurring_price is not None:
            full = recurring_price * quantity
            off = product_discount(self.code, product.id, full) if self.code and self.code.apply_to_renewals else ZERO
            self.recurring += self._round(full - off)

    def setup_fee(self, product: Product, quantity: int) -> None:
        """UM's "Signup Fee for %s" line, when the product has a setup fee."""
        if product.setup_fee <= 0:
            return
        title = f"Signup Fee for {product.name or product.slug}"
        subtotal = product.setup_fee * quantity
        gross = self._round(subtotal)
        net = self._round(subtotal - fee_discount(self.code, product.id, subtotal))
        self.lines.append(_line("fee", product.id, title, quantity, self._round(product.setup_fee), gross))
        self._discount_line(product.id, title, net - gross)
        self.charges += net

    def _discount_line(self, product_id: int, title: str, total: Decimal) -> None:
        if total and self.code is not None:
            self.lines.append(_line("discount", product_id, f"Discount {self.code.code} on {title}", 1, total, total))

    def credit(self, amount: Decimal, title: str = "Credit") -> Decimal:
        """A credit line of −round(amount) (not discountable); returns the rounded credit."""
        credit = self._round(amount)
        if credit > 0:
            self.lines.append(_line("credit", None, title, 1, -credit, -credit))
        return credit
