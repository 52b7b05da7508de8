"""Billing periods: UM's day counts, calendar arithmetic and prices per period (pure: `now` is always a parameter).

UM compares prices of different periods per day with fixed day counts (`wu_get_days_in_cycle`: month = 30.4375,
year = 365.25) but moves dates by calendar months (PHP `strtotime('+1 month')`; here dateutil `relativedelta`'s
rule, which keeps Jan 31 + 1 month on Feb 28/29 instead of spilling into March).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Final

from ..errors import InputError
from ..models import Product, is_recurring_price

DAYS_PER_UNIT: Final[dict[str, Decimal]] = {
    "day": Decimal(1),
    "week": Decimal(7),
    "month": Decimal("30.4375"),
    "year": Decimal("365.25"),
}
UNITS: Final = frozenset(DAYS_PER_UNIT)

Period = tuple[int, str]
"""(duration, duration_unit), e.g. (1, "month")."""

def check_unit(unit: str, where: str) -> str:
    """Refuse a unit UM does not know (UM would silently price it as 0 days)."""
    if unit not in DAYS_PER_UNIT:
        raise InputError(f"{where}: unknown duration unit {unit!r} (expected day, week, month or year)", field=where)
    return unit


def days_in_cycle(unit: str, duration: int) -> Decimal:
    """UM's `wu_get_days_in_cycle`: duration × {day 1, week 7, month 30.4375, year 365.25}."""
    return DAYS_PER_UNIT[check_unit(unit, "duration_unit")] * duration


def per_day(amount: Decimal, unit: str, duration: int) -> Decimal:
    """Price per day; UM uses the amount itself when the cycle has 0 days (duration 0)."""
    days = days_in_cycle(unit, duration)
    return amount / days if days else amount


def normalise_period(duration: int, unit: str) -> Period:
    """12 months == 1 year, as UM's `get_price_variation` treats them."""
    if unit == "month" and duration > 0 and duration % 12 == 0:
        return duration // 12, "year"
    return duration, unit


def price_in_period(product: Product, duration: int, unit: str) -> Decimal | None:
    """The product's price for (duration, unit): its base period or a price variation; None when it has neither.

    Non-recurring products (free, one-time, lifetime) have one price whatever the period, as UM's
    `get_as_variation` returns a free product unchanged and `add_product` only converts recurring ones.
    """
    amount = product.amount
    if not is_recurring_price(product.recurring, amount):  # one price in any period
        return amount
    if product.duration == duration and product.duration_unit == unit:
        return amount
    want = normalise_period(duration, unit)
    if normalise_period(product.duration, product.duration_unit) == want:
        return amount
    variations = product.price_variations
    for var in variations:
        if normalise_period(var.duration, var.duration_unit) == want:
            return var.amount
    return None


def list_amounts(plan_price: Decimal, addons: Iterable[tuple[Product, int]]) -> tuple[Decimal, Decimal]:
    """(recurring, one-time) amounts of a new membership at list prices: the plan's price for the period, plus each
    add-on × quantity, recurring add-ons renewing and the others charged once. How the example seed and a CSV import
    price a membership that names no amount."""
    recurring, one_time = plan_price, Decimal(0)
    for addon, quantity in addons:
        if addon.recurring:
            recurring += addon.amount * quantity
        else:
            one_time += addon.amount * quantity
    return recurring, one_time


def product_periods(product: Product) -> list[Period]:
    """Every period the product can be bought in: its own and its price variations' (normalised, in order)."""
    seen: list[Period] = [normalise_period(product.duration, product.duration_unit)]
    for var in product.price_variations:
        p = normalise_period(var.duration, var.duration_unit)
        if p not in seen:
            seen.append(p)
    return seen


def add_period(start: datetime, duration: int, unit: str) -> datetime:
    """`start` + duration units, by the calendar: dateutil's `relativedelta(months=n)` semantics (the day is kept,
    clamped to the target month's last day: Jan 31 + 1 month = Feb 28/29), computed directly because
    `relativedelta` costs more than a whole quote (tests check both agree on every day of a leap cycle)."""
    if start.tzinfo is UTC:  # cached only for UTC: equal instants in other zones can differ on the wall clock
        return _add_period_utc(start, duration, unit)
    return _add_period(start, duration, unit)


@lru_cache(maxsize=1024)  # pure, and batches price many carts at one `now`
def _add_period_utc(start: datetime, duration: int, unit: str) -> datetime:
    return _add_period(start, duration, unit)


def _add_period(start: datetime, duration: int, unit: str) -> datetime:
    if unit == "month":
        return _add_months(start, duration)
    if unit == "year":
        return _add_months(start, 12 * duration)
    if unit == "day":
        return start + timedelta(days=duration)
    if unit == "week":
        return start + timedelta(weeks=duration)
    raise InputError(f"duration_unit: unknown duration unit {unit!r} (expected day, week, month or year)",
                     field="duration_unit")


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _add_months(start: datetime, months: int) -> datetime:
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    last = _MONTH_DAYS[month0]
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return start.replace(year=year, month=month0 + 1, day=min(start.day, last))


def whole_days_until(now: datetime, end: datetime | None) -> int:
    """UM's `get_remaining_days_in_cycle` for a recurring membership: whole days left (floor), 0 when past/unknown."""
    if end is None or end <= now:
        return 0
    return (end - now).days


def fraction_left(now: datetime, start: datetime | None, end: datetime | None) -> Decimal:
    """The unused fraction of [start, end) at `now`, by the second (microsecond), clamped to [0, 1]."""
    if start is None or end is None or end <= start:
        return Decimal(0)
    if now <= start:
        return Decimal(1)
    if now >= end:
        return Decimal(0)
    return Decimal(_micros(end - now)) / Decimal(_micros(end - start))


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def check_aware(now: datetime, where: str = "now") -> datetime:
    """Refuse naive datetimes: every time in wpbridge is aware UTC."""
    if not isinstance(now, datetime):
        raise InputError(f"{where}: expected a timezone-aware datetime, got {type(now).__name__}", field=where)
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError(f"{where}: naive datetime {now.isoformat()}; pass an aware UTC datetime", field=where)
    return now
