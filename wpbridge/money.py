"""Money as `Decimal`: parsing without binary-float error, currency decimals and PHP-style half-up rounding.

Ultimate Multisite stores amounts as decimal(13,4) and rounds with PHP's `round()` (half away from zero) to the
currency's decimals, which are 2 except for its zero-decimal list. Everything here is pure.
"""

from __future__ import annotations

import math
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


def shown_amount(amount: Decimal, currency: str | None = None) -> Decimal:
    """An amount as output shows it: the currency's decimals (2 without a currency) when that loses nothing
    (UM's stored `58.0000` is `58.00`), else every decimal it has (an unrounded credit `7.3912` stays)."""
    places = currency_decimals(currency) if currency else 2
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return rounded if rounded == amount else amount.normalize()


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


_POW10 = tuple(10.0 ** i for i in range(23))


def _pow10(power: int) -> float:
    return _POW10[power] if 0 <= power <= 22 else 10.0 ** power


def _round_helper(value: float) -> float:
    return float(math.floor(value + 0.5)) if value >= 0.0 else float(math.ceil(value - 0.5))


def php_round(value: float, places: int = 0) -> float:
    """PHP 8.2's `round($value, $places)` on a float, bit for bit (`_php_math_round`, ext/standard/math.c): the
    value is first pre-rounded to 15 significant digits, then rounded half away from zero. Ultimate Multisite
    computes taxes in floats and rounds them so (`wu_get_tax_amount`); Decimal half-up of the exact value agrees
    except where the float error survives the pre-rounding."""
    if value == 0.0 or not math.isfinite(value):
        return value
    precision_places = 14 - math.floor(math.log10(abs(value)))
    f1 = _pow10(abs(places))
    if places < precision_places <= places + 14:  # pre-round to the precision FP arithmetic guarantees
        use = max(-4 * 15, precision_places)
        basic = value * _pow10(use) if use >= 0 else value / _pow10(-use)
        tmp = _round_helper(basic)
        shift = max(-4 * 15, places - use)
        tmp = tmp / _pow10(abs(shift))
    else:
        tmp = value * f1 if places >= 0 else value / f1
        if abs(tmp) >= 1e15:
            return value
    tmp = _round_helper(tmp)
    return tmp / f1 if places > 0 else tmp * f1
