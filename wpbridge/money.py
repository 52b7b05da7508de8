"""Money as `Decimal`: parsing without binary-float error, currency decimals and PHP-style half-up rounding.

Ultimate Multisite stores amounts as decimal(13,4) and rounds with PHP's `round()` (half away from zero) to the
currency's decimals, which are 2 except for its zero-decimal list. Everything here is pure.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF HUF ISK JPY KMF KRW IRR MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)

ZERO = Decimal(0)


def currency_decimals(currency: str) -> int:
    """Number of decimals Ultimate Multisite rounds `currency` to (0 for its zero-decimal list, else 2)."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up (PHP `round`, half away from zero) to the currency's decimals."""
    quantum = Decimal(1).scaleb(-currency_decimals(currency))
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal:
    """Parse an amount from JSON: str, int, float or Decimal, without binary-float error.

    Floats go through `repr`, so 19.99 becomes Decimal('19.99'), not the binary 19.98999999999999843...;
    Booleans, NaN and infinities are refused: they are never a valid amount.
    """
    if isinstance(value, bool):
        raise ValueError(f"an amount cannot be a boolean ({value!r})")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if text == "":
            return ZERO
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"an amount must be finite, got {value!r}")
    return result
