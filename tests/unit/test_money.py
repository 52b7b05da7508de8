from decimal import Decimal

import pytest

from wpbridge.money import currency_decimals, round_money, to_decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("15.0000", Decimal("15")), (19.99, Decimal("19.99")), (0.1, Decimal("0.1")), (7, Decimal(7)), ("", Decimal(0))],
)
def test_to_decimal_parses_without_binary_float_error(raw: object, expected: Decimal) -> None:
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("raw", [True, "abc", float("nan"), float("inf"), None])
def test_to_decimal_refuses_non_amounts(raw: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(raw)


def test_half_up_rounding_and_zero_decimal_currencies() -> None:
    assert round_money(Decimal("4.925"), "USD") == Decimal("4.93")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_money(Decimal("-4.925"), "USD") == Decimal("-4.93")
    assert currency_decimals("jpy") == 0 and currency_decimals("EUR") == 2
