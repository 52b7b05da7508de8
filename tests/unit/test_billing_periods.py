"""Periods: UM's day counts, calendar months, whole days, fractions and prices per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

import pytest

from wpbridge.billing.periods import (
    add_period,
    check_aware,
    days_in_cycle,
    fraction_left,
    normalise_period,
    per_day,
    price_in_period,
    product_periods,
    whole_days_until,
)
from wpbridge.errors import InputError
from wpbridge.models import Product


@pytest.mark.parametrize(
    ("unit", "duration", "days"),
    [
        ("day", 1, "1"),
        ("day", 10, "10"),
        ("week", 1, "7"),
        ("week", 2, "14"),
        ("month", 1, "30.4375"),
        ("month", 3, "91.3125"),
        ("month", 12, "365.25"),
        ("year", 1, "365.25"),
        ("year", 2, "730.5"),
    ],
)
def test_days_in_cycle(unit: str, duration: int, days: str) -> None:
    assert days_in_cycle(unit, duration) == Decimal(days)


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(InputError, match="unknown duration unit 'fortnight'"):
        days_in_cycle("fortnight", 1)


@pytest.mark.parametrize(
    ("amount", "unit", "duration", "expected"),
    [
        ("240", "year", 1, "0.657"),  # DESIGN §4: 240 / 365.25 = 0.657...
        ("25", "month", 1, "0.821"),  # 25 / 30.4375 = 0.821...
        ("7", "week", 1, "1.000"),
        ("5", "day", 0, "5.000"),  # a 0-day cycle prices per cycle, as UM
    ],
)
def test_per_day(amount: str, unit: str, duration: int, expected: str) -> None:
    assert per_day(Decimal(amount), unit, duration).quantize(Decimal("0.001")) == Decimal(expected)


@pytest.mark.parametrize(
    ("start", "duration", "unit", "expected"),
    [
        (datetime(2025, 1, 31, 9, 30, tzinfo=UTC), 1, "month", datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
        (datetime(2024, 1, 31, 9, 30, tzinfo=UTC), 1, "month", datetime(2024, 2, 29, 9, 30, tzinfo=UTC)),
        (datetime(2025, 3, 31, tzinfo=UTC), 1, "month", datetime(2025, 4, 30, tzinfo=UTC)),
        (datetime(2025, 1, 31, tzinfo=UTC), 3, "month", datetime(2025, 4, 30, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), 1, "year", datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2025, 3, 10, tzinfo=UTC), 2, "week", datetime(2025, 3, 24, tzinfo=UTC)),
        (datetime(2025, 3, 10, tzinfo=UTC), 30, "day", datetime(2025, 4, 9, tzinfo=UTC)),
    ],
)
def test_add_period_is_calendar_arithmetic(start: datetime, duration: int, unit: str, expected: datetime) -> None:
    assert add_period(start, duration, unit) == expected


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("end", "days"),
    [
        (NOW + timedelta(days=15, hours=3), 15),
        (NOW + timedelta(days=15, hours=23, minutes=59), 15),  # floor, never rounded up
        (NOW + timedelta(hours=23), 0),
        (NOW - timedelta(days=2), 0),  # past
        (None, 0),  # unknown
    ],
)
def test_whole_days_until(end: datetime | None, days: int) -> None:
    assert whole_days_until(NOW, end) == days


@pytest.mark.parametrize(
    ("start", "end", "fraction"),
    [
        (NOW - timedelta(days=15), NOW + timedelta(days=15), "0.5"),
        (NOW - timedelta(days=10), NOW + timedelta(days=30), "0.75"),
        (NOW, NOW + timedelta(days=30), "1"),
        (NOW + timedelta(days=1), NOW + timedelta(days=30), "1"),  # not started yet: all of it
        (NOW - timedelta(days=30), NOW, "0"),
        (NOW - timedelta(days=30), NOW - timedelta(seconds=1), "0"),
        (None, NOW + timedelta(days=3), "0"),
        (NOW + timedelta(days=3), NOW + timedelta(days=3), "0"),  # empty period
    ],
)
def test_fraction_left(start: datetime | None, end: datetime | None, fraction: str) -> None:
    assert fraction_left(NOW, start, end) == Decimal(fraction)


def test_fraction_left_counts_seconds() -> None:
    start = NOW - timedelta(seconds=1)
    end = NOW + timedelta(seconds=3)
    assert fraction_left(NOW, start, end) == Decimal("0.75")


@pytest.mark.parametrize(
    ("period", "normal"),
    [((12, "month"), (1, "year")), ((24, "month"), (2, "year")), ((6, "month"), (6, "month")),
     ((1, "year"), (1, "year"))],
)
def test_twelve_months_are_a_year(period: tuple[int, str], normal: tuple[int, str]) -> None:
    assert normalise_period(*period) == normal


PREMIUM = Product(
    id=3, slug="premium", amount="39", duration=1, duration_unit="month",
    price_variations=[{"duration": 1, "duration_unit": "year", "amount": "390"},
                      {"duration": 3, "duration_unit": "month", "amount": "110"}],
)


@pytest.mark.parametrize(
    ("duration", "unit", "price"),
    [(1, "month", "39"), (1, "year", "390"), (12, "month", "390"), (3, "month", "110"), (1, "week", None)],
)
def test_price_in_period(duration: int, unit: str, price: str | None) -> None:
    assert price_in_period(PREMIUM, duration, unit) == (Decimal(price) if price else None)


def test_non_recurring_products_have_one_price_in_any_period() -> None:
    setup = Product(id=6, slug="setup", amount="49", recurring=False)
    free = Product(id=1, slug="free", amount="0", recurring=True)
    assert price_in_period(setup, 1, "year") == Decimal(49)
    assert price_in_period(free, 2, "week") == Decimal(0)


def test_product_periods_lists_base_then_variations() -> None:
    assert product_periods(PREMIUM) == [(1, "month"), (1, "year"), (3, "month")]


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(InputError, match="naive datetime"):
        check_aware(datetime(2025, 3, 10, 12, 0))


def test_month_arithmetic_agrees_with_relativedelta_on_every_day_of_a_leap_cycle() -> None:
    from dateutil.relativedelta import relativedelta

    day = datetime(2023, 1, 1, 23, 59, 59, tzinfo=UTC)
    while day.year < 2029:
        for months in (1, 2, 3, 6, 11, 12, 13, 24, 25):
            assert add_period(day, months, "month") == day + relativedelta(months=months), (day, months)
        for years in (1, 2, 4):
            assert add_period(day, years, "year") == day + relativedelta(years=years), (day, years)
        day += timedelta(days=1)


def test_add_period_refuses_an_unknown_unit() -> None:
    with pytest.raises(InputError, match="unknown duration unit 'fortnight'"):
        add_period(NOW, 1, "fortnight")


class _CentralEurope(tzinfo):
    """UTC+1, UTC+2 from 2025-03-30 02:00 (a DST zone without needing the system's tz database)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        summer = dt is not None and dt.replace(tzinfo=None) >= datetime(2025, 3, 30, 2, 0)
        return timedelta(hours=2 if summer else 1)

    def dst(self, dt: datetime | None) -> timedelta:
        return self.utcoffset(dt) - timedelta(hours=1)

    def tzname(self, dt: datetime | None) -> str:
        return "CEST" if self.dst(dt) else "CET"


def test_add_period_keeps_the_wall_clock_of_other_time_zones() -> None:
    zone = _CentralEurope()
    utc_start = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert add_period(utc_start, 1, "month") == datetime(2025, 4, 10, 12, 0, tzinfo=UTC)
    # the same instant at 13:00 CET + 1 month is 13:00 CEST, an hour earlier in UTC (not served from the UTC cache)
    local_start = utc_start.astimezone(zone)
    assert add_period(local_start, 1, "month") == datetime(2025, 4, 10, 11, 0, tzinfo=UTC)


def test_list_amounts_recurring_add_ons_renew_the_others_are_charged_once() -> None:
    from wpbridge.billing.periods import list_amounts
    from wpbridge.sandbox.example import example_catalog

    by_slug = {p.slug: p for p in example_catalog()}
    recurring, once = list_amounts(Decimal(15), [(by_slug["extra-storage"], 2), (by_slug["site-setup"], 1)])
    assert (recurring, once) == (Decimal(25), Decimal(49))  # Basic 15 + 2 x 5 a month; the 49 setup once
    assert list_amounts(Decimal(0), []) == (Decimal(0), Decimal(0))
